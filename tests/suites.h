/* SPDX-License-Identifier: MIT */
/*
 * The declarations of the test suites: one Suite *<name>_suite(void) per
 * test file. The list itself, SS_SUITES (SS_SUITE(core) SS_SUITE(dispatch)
 * ...), is generated from suite_names in tests/meson.build, the one place a
 * suite is registered: add its name there and write tests/test_<name>.c.
 */
#ifndef SS_TESTS_SUITES_H
#define SS_TESTS_SUITES_H

#include <check.h>

#include "suite_list.h"

#define SS_SUITE(name) Suite *name##_suite(void);
SS_SUITES
#undef SS_SUITE

#endif
