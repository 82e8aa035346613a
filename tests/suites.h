/* SPDX-License-Identifier: MIT */
/*
 * The list of test suites: one Suite *<name>_suite(void) per test file.
 * Add a line here and the file to tests/meson.build.
 */
#ifndef SS_TESTS_SUITES_H
#define SS_TESTS_SUITES_H

#include <check.h>

#define SS_SUITES                                                              \
    SS_SUITE(core)                                                             \
    SS_SUITE(dispatch)                                                         \
    SS_SUITE(matrix)                                                           \
    SS_SUITE(io)                                                               \
    SS_SUITE(allocfail)                                                        \
    SS_SUITE(objectives)                                                       \
    SS_SUITE(optim)                                                            \
    SS_SUITE(sae)                                                              \
    SS_SUITE(ot)                                                               \
    SS_SUITE(uniprot)                                                          \
    SS_SUITE(tarot)                                                            \
    SS_SUITE(clipcov)                                                          \
    SS_SUITE(inputs)

#define SS_SUITE(name) Suite *name##_suite(void);
SS_SUITES
#undef SS_SUITE

#endif
