/* SPDX-License-Identifier: MIT */
/*
 * Option parsing, errors, outputs and JSON for the subsel program.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "progress.h"
#include "stages.h"

/* What the summary's common fields say (json_begin): the command, whether
 * it made a context (a run, not `info`), the seed it was given and the
 * inputs it read. */
#define MAX_INPUTS 16
static const char *summary_command = "";
static int summary_run;
static int64_t summary_seed;
static struct {
    const char *option;
    int64_t rows, cols;
    char dtype[SUBSEL_IDS_DTYPE_MAX];
} inputs[MAX_INPUTS];
static int input_count;

static void vreport(const cli_command *cmd, const char *fmt, va_list ap)
{
    progress_break();
    fprintf(stderr, "subsel %s: ", cmd->name);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

int cli_fail(const cli_command *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(cmd, fmt, ap);
    va_end(ap);
    return CLI_FAILED;
}

int cli_usage(const cli_command *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(cmd, fmt, ap);
    va_end(ap);
    return CLI_USAGE;
}

/* The library names its C function in front of some messages
 * ("subsel_tarot_folds: folds 1 outside ..."); a shell user has no use for
 * it. */
static const char *without_function(const char *msg)
{
    size_t n = strspn(msg, "abcdefghijklmnopqrstuvwxyz0123456789_");
    if (n > 7 && strncmp(msg, "subsel_", 7) == 0 && strncmp(msg + n, ": ", 2) == 0)
        return msg + n + 2;
    return msg;
}

/* Why a library call failed, for a user: its message without the C
 * function's name (without a context, the message the library left for
 * this thread), or the status's name when it left none. */
static const char *library_reason(subsel_ctx *ctx, int status)
{
    const char *msg = subsel_ctx_last_error(ctx);
    return msg[0] ? without_function(msg) : subsel_status_string(status);
}

int cli_fail_status(const cli_command *cmd, subsel_ctx *ctx, int status,
                    const char *what)
{
    return cli_fail(cmd, "%s: %s", what, library_reason(ctx, status));
}

void cli_warn_status(const cli_command *cmd, subsel_ctx *ctx, int status,
                     const char *what)
{
    progress_break();
    fprintf(stderr, "subsel %s: warning: %s: %s\n", cmd->name, what,
            library_reason(ctx, status));
}

int cli_option_status(const cli_command *cmd, subsel_ctx *ctx, int status,
                      const char *option)
{
    cli_fail_status(cmd, ctx, status, option);
    return status == SUBSEL_E_INVALID ? CLI_USAGE : CLI_FAILED;
}

/* ---- options that are library parameters ------------------------------- */

/* A parameter's range as a shell user reads it: "in [0, 1024]",
 * "in (0, 1)", ">= 1" (up to the largest int64), "> 0" (a real without an
 * upper bound). */
static void param_range(int param, char *buf, size_t cap)
{
    int type = 0, open = 0;
    subsel_param_info(param, NULL, &type, NULL, NULL);
    if (type == SUBSEL_TYPE_INT) {
        int64_t lo = 0, hi = 0;
        subsel_param_int_bounds(param, &lo, &hi, NULL);
        if (hi == INT64_MAX)
            snprintf(buf, cap, ">= %lld", (long long)lo);
        else
            snprintf(buf, cap, "in [%lld, %lld]", (long long)lo, (long long)hi);
    } else {
        double lo = 0, hi = 0;
        subsel_param_real_bounds(param, &lo, &hi, NULL, &open);
        if (isinf(hi))
            snprintf(buf, cap, "%s %g", open & SUBSEL_BOUND_OPEN_MIN ? ">" : ">=", lo);
        else
            snprintf(buf, cap, "in %c%g, %g%c", open & SUBSEL_BOUND_OPEN_MIN ? '(' : '[', lo, hi,
                     open & SUBSEL_BOUND_OPEN_MAX ? ')' : ']');
    }
}

/* Puts the library's default of every parameter option in its dest. The
 * CLI kind must be the parameter's type: a mismatch is a bug of the
 * program, reported as a failure. */
static int param_defaults(const cli_command *cmd, cli_option *options)
{
    cli_option *o;
    for (o = options; o->name != NULL; o++) {
        int type = 0;
        if (o->param == 0)
            continue;
        if (subsel_param_info(o->param, NULL, &type, NULL, NULL) != SUBSEL_OK ||
            (type == SUBSEL_TYPE_INT) != (o->kind == CLI_INT) ||
            (type == SUBSEL_TYPE_REAL) != (o->kind == CLI_DOUBLE))
            return cli_fail(cmd, "--%s: internal error: not a library parameter of its type",
                            o->name);
        if (type == SUBSEL_TYPE_INT)
            subsel_param_int_bounds(o->param, NULL, NULL, (int64_t *)o->dest);
        else
            subsel_param_real_bounds(o->param, NULL, NULL, (double *)o->dest, NULL);
    }
    return 0;
}

/* CLI_USAGE unless the value just parsed into a parameter option's dest is
 * within the library's bounds. */
static int param_check(const cli_command *cmd, const cli_option *o, const char *text)
{
    char range[96];
    int type = 0, open = 0, inside;
    if (o->param == 0)
        return 0;
    subsel_param_info(o->param, NULL, &type, NULL, NULL);
    if (type == SUBSEL_TYPE_INT) {
        int64_t lo = 0, hi = 0, v = *(const int64_t *)o->dest;
        subsel_param_int_bounds(o->param, &lo, &hi, NULL);
        inside = v >= lo && v <= hi;
    } else {
        double lo = 0, hi = 0, v = *(const double *)o->dest;
        subsel_param_real_bounds(o->param, &lo, &hi, NULL, &open);
        inside = (open & SUBSEL_BOUND_OPEN_MIN ? v > lo : v >= lo) &&
                 (open & SUBSEL_BOUND_OPEN_MAX ? v < hi : v <= hi);
    }
    if (inside)
        return 0;
    param_range(o->param, range, sizeof range);
    return cli_usage(cmd, "--%s %s is not %s", o->name, text, range);
}

/* The default as --help shows it: the text given, or the value in dest. */
static void default_of(const cli_option *o, char *buf, size_t cap)
{
    if (o->default_text != NULL) {
        snprintf(buf, cap, "%s", o->default_text);
        return;
    }
    switch (o->kind) {
    case CLI_STRING: {
        const char *v = *(const char *const *)o->dest;
        snprintf(buf, cap, "%s", v ? v : "none");
        break;
    }
    case CLI_INT: snprintf(buf, cap, "%lld", (long long)*(const int64_t *)o->dest); break;
    case CLI_DOUBLE: snprintf(buf, cap, "%g", *(const double *)o->dest); break;
    default: buf[0] = '\0';
    }
}

/* ---- help and the man page --------------------------------------------- */

static int help_as_man;

void cli_set_man(int on)
{
    help_as_man = on;
}

int cli_man(void)
{
    return help_as_man;
}

int cli_run_help(const cli_command *cmd)
{
    char name[64], help[] = "--help";
    char *argv[] = {name, help, NULL};
    snprintf(name, sizeof name, "%s", cmd->name);
    return cmd->run(cmd, 2, argv);
}

void cli_man_text(const char *text)
{
    const char *p;
    for (p = text; *p; p++) {
        if ((p == text || p[-1] == '\n') && (*p == '.' || *p == '\''))
            fputs("\\&", stdout);
        if (*p == '\\')
            fputs("\\e", stdout);
        else if (*p == '-')
            fputs("\\-", stdout);
        else
            putchar(*p);
    }
}

/* What --help says of an option after its name: its help (a library
 * parameter's own description when it has none), its range, and
 * "(required)" or its default. */
static void option_text(const cli_option *o, char *buf, size_t cap)
{
    char def[256], range[96];
    const char *help = o->help;
    size_t n;
    if (o->param != 0 && help == NULL)
        subsel_param_info(o->param, NULL, NULL, NULL, &help);
    n = (size_t)snprintf(buf, cap, "%s", help);
    if (o->param != 0 && n < cap) {
        param_range(o->param, range, sizeof range);
        n += (size_t)snprintf(buf + n, cap - n, ", %s", range);
    }
    default_of(o, def, sizeof def);
    if (o->required && n < cap)
        snprintf(buf + n, cap - n, " (required)");
    else if (o->kind != CLI_FLAG && n < cap)
        snprintf(buf + n, cap - n, " (default: %s)", def);
}

/* What the help of --help and --quiet (options of every command, which
 * cli_parse takes itself) says. */
static const char help_help[] = "print the options with their defaults, and exit";
static const char quiet_help[] = "no progress on standard error";

/* The command's section of the man page: the synopsis, summary and option
 * texts of its --help, set in roff. */
static void print_man_section(const cli_command *cmd, const cli_option *options,
                              const char *usage)
{
    const cli_option *o;
    char text[1024];
    fputs(".SS \"subsel ", stdout);
    cli_man_text(cmd->name);
    fputs("\"\n\\fBsubsel ", stdout);
    cli_man_text(cmd->name);
    fputs("\\fR ", stdout);
    cli_man_text(usage);
    fputs("\n.PP\n", stdout);
    cli_man_text(cmd->summary);
    putchar('\n');
    for (o = options; o->name != NULL; o++) {
        fputs(".TP\n", stdout);
        if (o->short_name)
            printf("\\fB\\-%c\\fR, ", o->short_name);
        fputs("\\fB\\-\\-", stdout);
        cli_man_text(o->name);
        printf("\\fR%s\n", o->kind == CLI_FLAG ? "" : " \\fIX\\fR");
        option_text(o, text, sizeof text);
        cli_man_text(text);
        putchar('\n');
    }
    printf(".TP\n\\fB\\-\\-quiet\\fR\n");
    cli_man_text(quiet_help);
    printf("\n.TP\n\\fB\\-h\\fR, \\fB\\-\\-help\\fR\n");
    cli_man_text(help_help);
    putchar('\n');
}

static void print_help(const cli_command *cmd, const cli_option *options,
                       const char *usage)
{
    const cli_option *o;
    if (help_as_man) {
        print_man_section(cmd, options, usage);
        return;
    }
    printf("usage: subsel %s %s\n\n%s\n\noptions:\n", cmd->name, usage, cmd->summary);
    for (o = options; o->name != NULL; o++) {
        char tag[64], text[1024];
        const char *value = o->kind == CLI_FLAG ? "" : " X";
        if (o->short_name)
            snprintf(tag, sizeof tag, "-%c, --%s%s", o->short_name, o->name, value);
        else
            snprintf(tag, sizeof tag, "--%s%s", o->name, value);
        option_text(o, text, sizeof text);
        printf("  %-28s %s\n", tag, text);
    }
    printf("  %-28s %s\n", "--quiet", quiet_help);
    printf("  %-28s %s\n", "-h, --help", help_help);
    printf("\nFlags are off unless given; an option may be given once. Exit status:\n"
           "0 done, 1 failed (files, data, computation), 2 usage error.\n");
}

static int parse_value(const cli_command *cmd, const cli_option *o,
                       const char *text)
{
    char *end = NULL;
    errno = 0;
    switch (o->kind) {
    case CLI_STRING:
        *(const char **)o->dest = text;
        return 0;
    case CLI_INT: {
        long long v = strtoll(text, &end, 10);
        if (errno != 0 || end == text || *end != '\0')
            return cli_usage(cmd, "--%s: expected an integer, got '%s'", o->name, text);
        *(int64_t *)o->dest = v;
        return 0;
    }
    case CLI_DOUBLE: {
        double v = strtod(text, &end);
        if (errno != 0 || end == text || *end != '\0' || !isfinite(v))
            return cli_usage(cmd, "--%s: expected a finite number, got '%s'", o->name, text);
        *(double *)o->dest = v;
        return 0;
    }
    default:
        return CLI_USAGE;
    }
}

static cli_option *find_option(cli_option *options, const char *arg)
{
    cli_option *o;
    if (arg[1] == '-') {
        const char *eq = strchr(arg + 2, '=');
        size_t len = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
        for (o = options; o->name != NULL; o++)
            if (strlen(o->name) == len && strncmp(o->name, arg + 2, len) == 0)
                return o;
    } else if (arg[2] == '\0') {
        for (o = options; o->name != NULL; o++)
            if (o->short_name != 0 && o->short_name == arg[1])
                return o;
    }
    return NULL;
}

/* --quiet, which every command has (cli_parse takes it) */
static int quiet;

int cli_quiet(void)
{
    return quiet;
}

int cli_parse(const cli_command *cmd, int argc, char **argv,
              cli_option *options, const char *usage)
{
    cli_option *o;
    int i;
    quiet = 0;
    summary_command = cmd->name;

    for (o = options; o->name != NULL; o++)
        o->given = 0;
    if (param_defaults(cmd, options) != 0)
        return CLI_FAILED;
    for (i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *value = NULL;
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            print_help(cmd, options, usage);
            return 1;
        }
        if (arg[0] != '-' || arg[1] == '\0')
            return cli_usage(cmd, "unexpected argument '%s' (see --help)", arg);
        if (strncmp(arg, "--quiet", 7) == 0 && (arg[7] == '\0' || arg[7] == '=')) {
            if (arg[7] == '=')
                return cli_usage(cmd, "--quiet takes no value");
            if (quiet)
                return cli_usage(cmd, "--quiet is given twice");
            quiet = 1;
            continue;
        }
        o = find_option(options, arg);
        if (o == NULL && arg[1] != '-')
            return cli_usage(cmd, "unknown option '%s': the short options are -k, -o, -t "
                                  "and -h, the others are long (see --help)", arg);
        if (o == NULL)
            return cli_usage(cmd, "unknown option '%s' (see --help)", arg);
        if (o->given)
            return cli_usage(cmd, "--%s is given twice", o->name);
        o->given = 1;
        if (arg[1] == '-' && strchr(arg, '=') != NULL)
            value = strchr(arg, '=') + 1;
        if (o->kind == CLI_FLAG) {
            if (value != NULL)
                return cli_usage(cmd, "--%s takes no value", o->name);
            *(int *)o->dest = 1;
            continue;
        }
        if (value == NULL) {
            if (i + 1 >= argc)
                return cli_usage(cmd, "--%s needs a value", o->name);
            value = argv[++i];
        }
        if (parse_value(cmd, o, value) != 0 || param_check(cmd, o, value) != 0)
            return CLI_USAGE;
    }
    for (o = options; o->name != NULL; o++)
        if (o->required && !o->given)
            return cli_usage(cmd, "--%s is required (see --help)", o->name);
    progress_start(cmd, quiet);
    return 0;
}

int cli_given(const cli_option *options, const char *name)
{
    for (; options->name != NULL; options++)
        if (strcmp(options->name, name) == 0)
            return options->given;
    return 0;
}


int cli_make_ctx(const cli_command *cmd, int64_t threads, int64_t seed,
                 subsel_ctx **out)
{
    subsel_ctx *ctx = NULL;
    const char *map, *gains;
    int rc;
    rc = subsel_ctx_create(&ctx);
    if (rc != SUBSEL_OK)
        return cli_fail_status(cmd, NULL, rc, "creating a context");
    if ((rc = subsel_ctx_set_int(ctx, SUBSEL_P_THREADS, threads)) != SUBSEL_OK) {
        rc = cli_option_status(cmd, ctx, rc, "--threads");
        subsel_ctx_free(ctx);
        return rc;
    }
    if ((rc = subsel_ctx_set_int(ctx, SUBSEL_P_SEED, seed)) != SUBSEL_OK) {
        rc = cli_option_status(cmd, ctx, rc, "--seed");
        subsel_ctx_free(ctx);
        return rc;
    }
    /* SUBSEL_MAP_FILES=0: copy input files instead of mapping them (for
     * inputs that another process may rewrite in place meanwhile) */
    map = getenv("SUBSEL_MAP_FILES");
    if (map != NULL && map[0] != '\0') {
        if (strcmp(map, "0") != 0 && strcmp(map, "1") != 0) {
            subsel_ctx_free(ctx);
            return cli_usage(cmd, "SUBSEL_MAP_FILES must be 0 or 1, not '%s'", map);
        }
        subsel_ctx_set_int(ctx, SUBSEL_P_MAP_FILES, map[0] == '1');
    }
    /* SUBSEL_PARALLEL_GAINS=auto|never|always|pipeline: the context's
     * parallel_gains (pipeline: lazy greedy overlaps its heap with its
     * gains) */
    gains = getenv("SUBSEL_PARALLEL_GAINS");
    if (gains != NULL && gains[0] != '\0') {
        static const char *const modes[4] = {"auto", "never", "always", "pipeline"};
        int mode = 0;
        while (mode < 4 && strcmp(gains, modes[mode]) != 0)
            mode++;
        if (mode == 4) {
            subsel_ctx_free(ctx);
            return cli_usage(cmd, "SUBSEL_PARALLEL_GAINS must be auto, never, always or "
                                  "pipeline, not '%s'", gains);
        }
        subsel_ctx_set_int(ctx, SUBSEL_P_PARALLEL_GAINS, mode);
    }
    summary_seed = seed;
    summary_run = 1;
    /* what a command does first with its context is read its inputs */
    stages_set_progress(ctx, NULL, NULL);
    stages_begin("load");
    *out = ctx;
    return 0;
}

int cli_set_params(const cli_command *cmd, subsel_ctx *ctx, void *handle,
                   const cli_option *options, int given_only)
{
    const cli_option *o;
    int kind = subsel_handle_kind(handle);
    for (o = options; o->name != NULL; o++) {
        int pkind = 0, rc;
        char option[64];
        if (o->param == 0 || (given_only && !o->given) ||
            subsel_param_info(o->param, &pkind, NULL, NULL, NULL) != SUBSEL_OK ||
            pkind != kind)
            continue;
        rc = o->kind == CLI_INT
                 ? subsel_param_set_int(ctx, handle, o->param, *(const int64_t *)o->dest)
                 : subsel_param_set_real(ctx, handle, o->param, *(const double *)o->dest);
        if (rc != SUBSEL_OK) {
            snprintf(option, sizeof option, "--%s", o->name);
            return cli_option_status(cmd, ctx, rc, option);
        }
    }
    return 0;
}

/* ---- outputs ----------------------------------------------------------- */

static int json_on_stderr;

/* 1 if path is "-" or names the file standard output is. */
static int is_stdout(const char *path)
{
    struct stat out, st;
    if (strcmp(path, "-") == 0)
        return 1;
    return fstat(STDOUT_FILENO, &out) == 0 && stat(path, &st) == 0 &&
           out.st_dev == st.st_dev && out.st_ino == st.st_ino;
}

/* The absolute name a path would have as a new file: its folder resolved,
 * then its last component ("" when the folder does not exist). */
static void new_file_name(const char *path, char *buf, size_t cap)
{
    char dir[PATH_MAX], real[PATH_MAX];
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    size_t n = slash ? (size_t)(slash - path) : 0;
    if (slash == NULL)
        snprintf(dir, sizeof dir, ".");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(n > 0 ? n : 1), path);
    if (realpath(dir, real) == NULL)
        buf[0] = '\0';
    else
        snprintf(buf, cap, "%s/%s", real, base);
}

/* 1 if writing a and b would write one file. Devices other than standard
 * output (/dev/null) can take both. */
static int same_output(const char *a, const char *b)
{
    struct stat sa, sb;
    char na[2 * PATH_MAX], nb[2 * PATH_MAX];
    int ea, eb;
    if (is_stdout(a) || is_stdout(b))
        return is_stdout(a) && is_stdout(b);
    ea = stat(a, &sa) == 0;
    eb = stat(b, &sb) == 0;
    if (ea && eb)
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino &&
               !S_ISCHR(sa.st_mode);
    if (ea != eb)
        return 0;
    new_file_name(a, na, sizeof na);
    new_file_name(b, nb, sizeof nb);
    return strcmp(a, b) == 0 || (na[0] != '\0' && strcmp(na, nb) == 0);
}

int cli_check_outputs(const cli_command *cmd, int count,
                      const char *const *options, const char *const *paths)
{
    int i, j;
    for (i = 0; i < count; i++) {
        if (paths[i] == NULL)
            continue;
        for (j = i + 1; j < count; j++)
            if (paths[j] != NULL && same_output(paths[i], paths[j]))
                return cli_usage(cmd, "%s and %s name the same file ('%s', '%s')",
                                 options[i], options[j], paths[i], paths[j]);
        if (is_stdout(paths[i]))
            json_on_stderr = 1;
    }
    return 0;
}

const char *cli_output_path(const char *value)
{
    return strcmp(value, "-") == 0 ? "/dev/stdout" : value;
}

/* ---- interruptions ----------------------------------------------------- */

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

void cli_catch_interrupts(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

int cli_interrupted(void)
{
    return interrupted != 0;
}

/* ---- vector inputs ----------------------------------------------------- */

/* ---- inputs ------------------------------------------------------------ */

/* The slot of a noted input, input_count if it has none. */
static int input_slot(const char *option)
{
    int i;
    for (i = 0; i < input_count && strcmp(inputs[i].option, option) != 0; i++)
        ;
    return i;
}

void cli_note_input(const char *option, int64_t rows, int64_t cols, const char *dtype)
{
    int i = input_slot(option);
    if (i == MAX_INPUTS)
        return;
    input_count += i == input_count;
    inputs[i].option = option;
    inputs[i].rows = rows;
    inputs[i].cols = cols;
    snprintf(inputs[i].dtype, sizeof inputs[i].dtype, "%s", dtype);
}

void cli_note_rows(const char *option, int64_t rows)
{
    int i = input_slot(option);
    if (i < input_count)
        inputs[i].rows = rows;
}

void cli_note_dense(const char *option, const subsel_dense *m)
{
    cli_note_input(option, subsel_dense_rows(m), subsel_dense_cols(m), "float32");
}

void cli_note_csr(const char *option, const subsel_csr *m)
{
    cli_note_input(option, subsel_csr_rows(m), subsel_csr_cols(m),
                   subsel_csr_index_type(m) == SUBSEL_DTYPE_INT32 ? "float32 (int32 indices)"
                                                                  : "float32 (int64 indices)");
}

int cli_load_dense(const cli_command *cmd, subsel_ctx *ctx, const char *option,
                   const char *path, subsel_dense **out)
{
    int rc = subsel_dense_load_npy(ctx, path, out);
    if (rc != SUBSEL_OK)
        return cli_fail_status(cmd, ctx, rc, option);
    cli_note_dense(option, *out);
    return 0;
}

int cli_load_csr(const cli_command *cmd, subsel_ctx *ctx, const char *option,
                 const char *path, subsel_csr **out)
{
    int rc = subsel_csr_load_npz(ctx, path, out);
    if (rc != SUBSEL_OK)
        return cli_fail_status(cmd, ctx, rc, option);
    cli_note_csr(option, *out);
    return 0;
}

int cli_read_f64(const cli_command *cmd, subsel_ctx *ctx, const char *option,
                 const char *path, double **values, int64_t *count)
{
    int rc = subsel_npy_load_f64(ctx, path, values, count);
    if (rc != SUBSEL_OK)
        return cli_fail_status(cmd, ctx, rc, option);
    cli_note_input(option, *count, -1, "float64");
    return 0;
}

int cli_read_i64(const cli_command *cmd, subsel_ctx *ctx, const char *option,
                 const char *path, int64_t **values, int64_t *count)
{
    int rc = subsel_npy_load_i64(ctx, path, values, count);
    if (rc != SUBSEL_OK)
        return cli_fail_status(cmd, ctx, rc, option);
    cli_note_input(option, *count, -1, "int64");
    return 0;
}

/* ---- JSON -------------------------------------------------------------- */

static int json_fields;

static FILE *json_stream(void)
{
    return json_on_stderr ? stderr : stdout;
}

static void json_key(const char *key)
{
    fprintf(json_stream(), "%s\"%s\": ", json_fields++ ? ", " : "", key);
}

void json_begin(void)
{
    int i;
    progress_break();
    json_fields = 0;
    fputc('{', json_stream());
    json_string("command", summary_command);
    json_string("version", subsel_version_string());
    if (!summary_run)
        return;
    json_int("seed", summary_seed);
    json_object_begin("input_arrays");
    for (i = 0; i < input_count; i++) {
        int64_t shape[2] = {inputs[i].rows, inputs[i].cols};
        json_object_begin(inputs[i].option + 2);
        json_int_array("shape", shape, inputs[i].cols < 0 ? 1 : 2);
        json_string("dtype", inputs[i].dtype);
        json_object_end();
    }
    json_object_end();
}

void json_int(const char *key, int64_t value)
{
    json_key(key);
    fprintf(json_stream(), "%lld", (long long)value);
}

/* A number as json_double writes it, without its key. */
static void json_number(double value)
{
    if (!isfinite(value)) {
        fputs("null", json_stream());
    } else {
        /* the shortest of %.15g / %.17g that reads back as the same double */
        char text[32];
        snprintf(text, sizeof text, "%.15g", value);
        if (strtod(text, NULL) != value)
            snprintf(text, sizeof text, "%.17g", value);
        fputs(text, json_stream());
    }
}

void json_double(const char *key, double value)
{
    json_key(key);
    json_number(value);
}

void json_string(const char *key, const char *value)
{
    const char *p;
    FILE *f = json_stream();
    json_key(key);
    fputc('"', f);
    for (p = value; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if ((unsigned char)*p < 0x20)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

void json_int_array(const char *key, const int64_t *values, int64_t count)
{
    int64_t i;
    FILE *f = json_stream();
    json_key(key);
    fputc('[', f);
    for (i = 0; i < count; i++)
        fprintf(f, "%s%lld", i ? ", " : "", (long long)values[i]);
    fputc(']', f);
}

void json_double_array(const char *key, const double *values, int64_t count)
{
    int64_t i;
    json_key(key);
    fputc('[', json_stream());
    for (i = 0; i < count; i++) {
        if (i)
            fputs(", ", json_stream());
        json_number(values[i]);
    }
    fputc(']', json_stream());
}

/* json_fields of the enclosing objects while nested ones are written */
#define JSON_DEPTH 4
static int json_outer_fields[JSON_DEPTH];
static int json_depth;

void json_object_begin(const char *key)
{
    json_key(key);
    fputc('{', json_stream());
    if (json_depth < JSON_DEPTH)
        json_outer_fields[json_depth] = json_fields;
    json_depth++;
    json_fields = 0;
}

void json_object_end(void)
{
    fputc('}', json_stream());
    json_depth--;
    if (json_depth < JSON_DEPTH)
        json_fields = json_outer_fields[json_depth];
}

void json_end(void)
{
    fprintf(json_stream(), "}\n");
    fflush(json_stream());
}

double cli_now(void)
{
    return stages_now();
}

void json_stages(void)
{
    int i, count = stages_count();
    json_object_begin("stages");
    for (i = 0; i < count; i++)
        json_double(stages_name(i), stages_seconds(i));
    json_object_end();
    json_object_begin("stages_peak_rss_bytes");
    for (i = 0; i < count; i++)
        json_int(stages_name(i), stages_peak_rss(i));
    json_object_end();
    json_int("peak_rss_bytes", stages_peak_rss_now());
}
