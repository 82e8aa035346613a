/* SPDX-License-Identifier: MIT */
/*
 * Option parsing, errors and JSON output for the subsel program.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

int cli_fail(const cli_command *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "subsel %s: ", cmd->name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 1;
}

int cli_fail_status(const cli_command *cmd, subsel_ctx *ctx, int status,
                    const char *what)
{
    const char *msg = ctx ? subsel_ctx_last_error(ctx) : "";
    return cli_fail(cmd, "%s: %s", what, msg[0] ? msg : subsel_status_string(status));
}

static void print_help(const cli_command *cmd, const cli_option *options,
                       const char *usage)
{
    const cli_option *o;
    printf("usage: subsel %s %s\n\n%s\n\noptions:\n", cmd->name, usage, cmd->summary);
    for (o = options; o->name != NULL; o++) {
        char left[64];
        snprintf(left, sizeof left, "%s%c%s--%s%s", o->short_name ? "-" : "",
                 o->short_name ? o->short_name : ' ', o->short_name ? ", " : " ",
                 o->name, o->kind == CLI_FLAG ? "" : " X");
        printf("  %-28s %s%s\n", left + (o->short_name ? 0 : 2), o->help,
               o->required ? " (required)" : "");
    }
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
            return cli_fail(cmd, "--%s: expected an integer, got '%s'", o->name, text) + 1;
        *(int64_t *)o->dest = v;
        return 0;
    }
    case CLI_DOUBLE: {
        double v = strtod(text, &end);
        if (errno != 0 || end == text || *end != '\0' || !isfinite(v))
            return cli_fail(cmd, "--%s: expected a finite number, got '%s'", o->name, text) + 1;
        *(double *)o->dest = v;
        return 0;
    }
    default:
        return 2;
    }
}

int cli_parse(const cli_command *cmd, int argc, char **argv,
              const cli_option *options, const char *usage)
{
    const cli_option *o;
    int i, k, n = 0;
    unsigned char seen[64] = {0};

    for (o = options; o->name != NULL && n < 64; o++)
        n++;
    for (i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *value = NULL;
        size_t len;
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            print_help(cmd, options, usage);
            return 1;
        }
        if (arg[0] != '-' || arg[1] == '\0')
            return cli_fail(cmd, "unexpected argument '%s' (see --help)", arg) + 1;
        o = NULL;
        if (arg[1] == '-') {
            const char *eq = strchr(arg + 2, '=');
            len = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
            value = eq ? eq + 1 : NULL;
            for (k = 0; k < n; k++)
                if (strlen(options[k].name) == len &&
                    strncmp(options[k].name, arg + 2, len) == 0)
                    o = &options[k];
        } else if (arg[2] == '\0') {
            for (k = 0; k < n; k++)
                if (options[k].short_name == arg[1])
                    o = &options[k];
        }
        if (o == NULL)
            return cli_fail(cmd, "unknown option '%s' (see --help)", arg) + 1;
        seen[o - options] = 1;
        if (o->kind == CLI_FLAG) {
            if (value != NULL)
                return cli_fail(cmd, "--%s takes no value", o->name) + 1;
            *(int *)o->dest = 1;
            continue;
        }
        if (value == NULL) {
            if (i + 1 >= argc)
                return cli_fail(cmd, "--%s needs a value", o->name) + 1;
            value = argv[++i];
        }
        if (parse_value(cmd, o, value) != 0)
            return 2;
    }
    for (k = 0; k < n; k++)
        if (options[k].required && !seen[k])
            return cli_fail(cmd, "--%s is required (see --help)", options[k].name) + 1;
    return 0;
}

int cli_make_ctx(const cli_command *cmd, int64_t threads, int64_t seed,
                 subsel_ctx **out)
{
    subsel_ctx *ctx = NULL;
    int rc = subsel_ctx_create(&ctx);
    if (rc != SUBSEL_OK)
        return cli_fail_status(cmd, NULL, rc, "creating a context");
    if ((rc = subsel_ctx_set_int(ctx, SUBSEL_CTX_THREADS, threads)) != SUBSEL_OK ||
        (rc = subsel_ctx_set_int(ctx, SUBSEL_CTX_SEED, seed)) != SUBSEL_OK) {
        cli_fail_status(cmd, ctx, rc, "options");
        subsel_ctx_free(ctx);
        return 1;
    }
    *out = ctx;
    return 0;
}

static int json_fields;

static void json_key(const char *key)
{
    printf("%s\"%s\": ", json_fields++ ? ", " : "", key);
}

void json_begin(void)
{
    json_fields = 0;
    fputc('{', stdout);
}

void json_int(const char *key, int64_t value)
{
    json_key(key);
    printf("%lld", (long long)value);
}

void json_double(const char *key, double value)
{
    json_key(key);
    if (isnan(value))
        printf("\"nan\"");
    else if (isinf(value))
        printf(value > 0 ? "\"inf\"" : "\"-inf\"");
    else {
        /* the shortest of %.15g / %.17g that reads back as the same double */
        char text[32];
        snprintf(text, sizeof text, "%.15g", value);
        if (strtod(text, NULL) != value)
            snprintf(text, sizeof text, "%.17g", value);
        fputs(text, stdout);
    }
}

void json_string(const char *key, const char *value)
{
    const char *p;
    json_key(key);
    fputc('"', stdout);
    for (p = value; *p; p++) {
        if (*p == '"' || *p == '\\')
            printf("\\%c", *p);
        else if ((unsigned char)*p < 0x20)
            printf("\\u%04x", *p);
        else
            fputc(*p, stdout);
    }
    fputc('"', stdout);
}

void json_int_array(const char *key, const int64_t *values, int64_t count)
{
    int64_t i;
    json_key(key);
    fputc('[', stdout);
    for (i = 0; i < count; i++)
        printf("%s%lld", i ? ", " : "", (long long)values[i]);
    fputc(']', stdout);
}

void json_end(void)
{
    printf("}\n");
    fflush(stdout);
}

double cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
