/* SPDX-License-Identifier: MIT */
/*
 * The test runner: every suite of the library (SS_SUITES, generated from
 * tests/meson.build's suite_names), or the ones named on the command line;
 * --list prints their names.
 * meson runs it once per suite and per instruction set
 * (SUBSEL_ISA=scalar|avx2|avx512), so the whole suite runs on every kernel.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/suites.h"

typedef struct {
    const char *name;
    Suite *(*make)(void);
} suite_entry;

static const suite_entry suites[] = {
#define SS_SUITE(name) {#name, name##_suite},
    SS_SUITES
#undef SS_SUITE
};

int main(int argc, char **argv)
{
    SRunner *runner = NULL;
    size_t i;
    int failed, k;

    if (argc == 2 && strcmp(argv[1], "--list") == 0) {
        for (i = 0; i < sizeof suites / sizeof suites[0]; i++)
            printf("%s\n", suites[i].name);
        return EXIT_SUCCESS;
    }
    for (i = 0; i < sizeof suites / sizeof suites[0]; i++) {
        int wanted = argc < 2;
        for (k = 1; k < argc; k++)
            wanted |= strcmp(argv[k], suites[i].name) == 0;
        if (!wanted)
            continue;
        if (runner == NULL)
            runner = srunner_create(suites[i].make());
        else
            srunner_add_suite(runner, suites[i].make());
    }
    if (runner == NULL) {
        fprintf(stderr, "no such suite:");
        for (k = 1; k < argc; k++)
            fprintf(stderr, " %s", argv[k]);
        fprintf(stderr, "\n");
        return 2;
    }
    srunner_run_all(runner, CK_NORMAL);
    failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
