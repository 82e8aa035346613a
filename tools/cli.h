/* SPDX-License-Identifier: MIT */
/*
 * Shared pieces of the subsel command-line program: a declarative option
 * parser, one-line errors, and a JSON writer for the summary every
 * subcommand prints on standard output.
 */
#ifndef SUBSEL_CLI_H
#define SUBSEL_CLI_H

#include <stdint.h>
#include <stdio.h>

#include "subsel.h"

enum cli_kind { CLI_STRING, CLI_INT, CLI_DOUBLE, CLI_FLAG };

typedef struct cli_option {
    const char *name; /* long name without dashes: "budget" */
    char short_name;  /* optional single letter: 'k', or 0 */
    int kind;
    void *dest;       /* const char **, int64_t *, double *, int * */
    const char *help;
    int required;
} cli_option;

typedef struct cli_command {
    const char *name;
    const char *summary;
    int (*run)(const struct cli_command *self, int argc, char **argv);
} cli_command;

/* Parses argv[1..argc) against `options`; prints a one-line error (or the
 * help, for --help) and returns nonzero when the command must stop: 2 for a
 * usage error, 1 for --help (the caller then exits 0). */
int cli_parse(const cli_command *cmd, int argc, char **argv,
              const cli_option *options, const char *usage);

/* Prints "subsel <cmd>: <message>" on stderr; returns 1 (the exit code). */
int cli_fail(const cli_command *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Reports a failed library call: "subsel <cmd>: <what>: <last error>". */
int cli_fail_status(const cli_command *cmd, subsel_ctx *ctx, int status,
                    const char *what);

/* A context configured from the common --threads / --seed options. */
int cli_make_ctx(const cli_command *cmd, int64_t threads, int64_t seed,
                 subsel_ctx **out);

/* Minimal JSON object writer on stdout: json_begin(); json_int("k", 1); ...
 * json_end(). Doubles that are not finite print as the strings "inf",
 * "-inf" or "nan" (JSON has no literal for them). */
void json_begin(void);
void json_int(const char *key, int64_t value);
void json_double(const char *key, double value);
void json_string(const char *key, const char *value);
void json_int_array(const char *key, const int64_t *values, int64_t count);
void json_end(void);

/* Monotonic wall-clock seconds, for the "seconds" field. */
double cli_now(void);

#endif
