/* SPDX-License-Identifier: MIT */
/*
 * Shared pieces of the subsel command-line program: a declarative option
 * parser with one rule for short options, one-line errors with the two exit
 * codes (1: the run failed, 2: the command line is wrong), the outputs of a
 * command (files, or "-" for standard output), and a JSON writer for the
 * summary every subcommand prints.
 */
#ifndef SUBSEL_CLI_H
#define SUBSEL_CLI_H

#include <stdint.h>
#include <stdio.h>

#include "subsel.h"

enum cli_kind { CLI_STRING, CLI_INT, CLI_DOUBLE, CLI_FLAG };

/* Exit codes. */
#define CLI_FAILED 1 /* a file, the data or the computation failed */
#define CLI_USAGE 2  /* a bad, missing, repeated or out-of-range option */

/* The only short options, with one meaning in every command that has
 * them: -k (the k of the method: items to select, or codes per row for
 * encode), -o (--out), -t (--threads); -h is --help. */
#define CLI_SHORT_OPTIONS "kot"

typedef struct cli_option {
    const char *name; /* long name without dashes: "budget" */
    char short_name;  /* one of CLI_SHORT_OPTIONS, or 0 */
    int kind;
    void *dest;       /* const char **, int64_t *, double *, int * */
    const char *help; /* without the default: --help adds it (and the
                         range, for a library parameter); NULL for a
                         library parameter's own description */
    int required;
    const char *default_text; /* the default as --help shows it, when the
                                 value in dest does not say it well */
    int given;        /* set by cli_parse: the option was given */
    int param;        /* the library parameter (SUBSEL_P_*) the option
                         sets, or 0. Its default, bounds and description
                         are the library's (subsel_param_*()), written
                         once: cli_parse puts the default in dest, shows
                         range and default in --help, and refuses a value
                         outside the bounds. CLI_INT or CLI_DOUBLE, as
                         the parameter's type. */
} cli_option;

typedef struct cli_command {
    const char *name;
    const char *summary;
    int (*run)(const struct cli_command *self, int argc, char **argv);
} cli_command;

/* Parses argv[1..argc) against `options` (a table ended by a NULL name,
 * whose dest variables hold the defaults; those of library parameters are
 * set here). Prints a one-line error (or the help, with every default, for
 * --help) and returns nonzero when the command must stop: CLI_USAGE for a
 * usage error (also a library parameter's value out of its bounds), 1 for
 * --help (the caller then exits 0). An option given twice is a usage
 * error. */
int cli_parse(const cli_command *cmd, int argc, char **argv,
              cli_option *options, const char *usage);

/* The man page (`subsel --man`, which the build installs as subsel.1) is
 * made from the same tables as --help: while cli_set_man(1) is in force,
 * --help of a command prints the command's section of the page in roff
 * instead (cli_parse does; a command with subcommands prints theirs). */
void cli_set_man(int on);
int cli_man(void);

/* Runs a command as `subsel <name> --help`: its help, or its section of
 * the man page. Returns the command's exit code. */
int cli_run_help(const cli_command *cmd);

/* Prints text on standard output as roff text: backslashes and minus signs
 * escaped, and a line that would start with a control character (. or ')
 * made plain. */
void cli_man_text(const char *text);

/* 1 if the option `name` of a parsed table was given. */
int cli_given(const cli_option *options, const char *name);

/* Prints "subsel <cmd>: <message>" on stderr; returns CLI_FAILED. */
int cli_fail(const cli_command *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* As cli_fail, for a usage error; returns CLI_USAGE. */
int cli_usage(const cli_command *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Reports a failed library call: "subsel <cmd>: <what>: <last error>" (of
 * ctx; with ctx NULL, the message the library left for this thread),
 * without the C function name the library puts in front of some messages.
 * Returns CLI_FAILED. */
int cli_fail_status(const cli_command *cmd, subsel_ctx *ctx, int status,
                    const char *what);

/* As cli_fail_status, for a failure the command survives: one warning line
 * on stderr ("subsel CMD: warning: WHAT: reason"); the exit status is the
 * caller's. */
void cli_warn_status(const cli_command *cmd, subsel_ctx *ctx, int status,
                     const char *what);

/* As cli_fail_status, for a library call that set an option's value: an
 * out-of-range value (SUBSEL_E_INVALID) is a usage error (CLI_USAGE). */
int cli_option_status(const cli_command *cmd, subsel_ctx *ctx, int status,
                      const char *option);

/* A context configured from the common --threads / --seed options (their
 * values, checked against the library's bounds by cli_parse when they are
 * options; a value out of bounds is CLI_USAGE) and SUBSEL_MAP_FILES, with
 * the stage clock (stages.h) started at "load": what a command does first
 * with its context is read its inputs. */
int cli_make_ctx(const cli_command *cmd, int64_t threads, int64_t seed,
                 subsel_ctx **out);

/* Sets on `handle` every option of `options` that is a library parameter
 * of the handle's kind (all of them, or with given_only only those given
 * on the command line). A value the library refuses is reported naming the
 * option (cli_option_status). Returns 0 or an exit code. */
int cli_set_params(const cli_command *cmd, subsel_ctx *ctx, void *handle,
                   const cli_option *options, int given_only);

/* Checks the output files of a command: `count` pairs of an option name
 * ("--out") and its value (NULL when not given). "-" is standard output;
 * an output that is standard output (also as /dev/stdout or its file)
 * sends the JSON summary to standard error instead. Two outputs naming the
 * same file (also through links or other spellings of an existing file)
 * are a usage error. Returns 0 or CLI_USAGE. */
int cli_check_outputs(const cli_command *cmd, int count,
                      const char *const *options, const char *const *paths);

/* The path to hand the library for an output: "/dev/stdout" for "-". */
const char *cli_output_path(const char *value);

/* Ctrl-C and SIGTERM set a flag instead of ending the program, so that a
 * long library call stops at its next progress report (the command's
 * callback returns nonzero once cli_interrupted()) and what was done can
 * be saved. */
void cli_catch_interrupts(void);
int cli_interrupted(void);

/* Reads a dense matrix (.npy) or a CSR matrix (.npz), reporting a failure
 * as `option`, and notes it as an input of the summary. Returns 0 or an
 * exit code. */
int cli_load_dense(const cli_command *cmd, subsel_ctx *ctx, const char *option,
                   const char *path, subsel_dense **out);
int cli_load_csr(const cli_command *cmd, subsel_ctx *ctx, const char *option,
                 const char *path, subsel_csr **out);

/* Notes an input for the summary's "input_arrays": its option ("--source"; the
 * key is the name without dashes), shape (rows, and cols, or cols < 0 for
 * a vector) and the dtype it is held in. A second note of one option
 * replaces the first. */
void cli_note_input(const char *option, int64_t rows, int64_t cols, const char *dtype);
void cli_note_dense(const char *option, const subsel_dense *m);
void cli_note_csr(const char *option, const subsel_csr *m);
/* Sets the rows of a noted input: those of the whole input when a process
 * read only its part of it (a rank under mpirun). */
void cli_note_rows(const char *option, int64_t rows);

/* 1 when --quiet was given: no progress on standard error. */
int cli_quiet(void);

/* Reads a whole vector .npy (one call: pipes and /dev/stdin work) into an
 * array to release with subsel_array_free(). Returns 0 or an exit code;
 * on failure *values is NULL. */
int cli_read_f64(const cli_command *cmd, subsel_ctx *ctx, const char *option,
                 const char *path, double **values, int64_t *count);
int cli_read_i64(const cli_command *cmd, subsel_ctx *ctx, const char *option,
                 const char *path, int64_t **values, int64_t *count);

/* Minimal JSON object writer: json_begin(); json_int("k", 1); ...
 * json_end(), on standard output (standard error when an output is "-").
 * Numbers that are not finite are written as null, which JSON has.
 * json_begin() writes the fields every summary starts with (the schema in
 * docs/summary.schema.json): "command", "version", and for a command that
 * made a context (cli_make_ctx) "seed" and "input_arrays" (cli_note_input). */
void json_begin(void);
void json_int(const char *key, int64_t value);
void json_double(const char *key, double value);
void json_string(const char *key, const char *value);
void json_int_array(const char *key, const int64_t *values, int64_t count);
void json_double_array(const char *key, const double *values, int64_t count);
/* A nested object "key": {...} (one level), its fields written between. */
void json_object_begin(const char *key);
void json_object_end(void);
/* Ends the running stage (stages.h) and writes "stages": {...}, the
 * seconds of each, "stages_peak_rss_bytes": {...}, the process's peak
 * resident memory when each ended, and "peak_rss_bytes" (getrusage). */
void json_stages(void);
void json_end(void);

/* Monotonic wall-clock seconds, for the "seconds" field. */
double cli_now(void);

#endif
