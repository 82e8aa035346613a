/* SPDX-License-Identifier: MIT */
/* Placeholder suite (being written). */
#include "tests/helpers.h"
#include "tests/suites.h"

Suite *ot_suite(void)
{
    return suite_create("ot");
}
