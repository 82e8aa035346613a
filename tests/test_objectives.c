/* SPDX-License-Identifier: MIT */
/* Placeholder suite (being written). */
#include "tests/helpers.h"
#include "tests/suites.h"

Suite *objectives_suite(void)
{
    return suite_create("objectives");
}
