/* SPDX-License-Identifier: MIT */
/*
 * `subsel info`: version, kernels compiled in, supported and selected, the
 * BLIS sub-configuration, and the thread count calls would use, as one JSON
 * object.
 */
#include <string.h>

#include "cli.h"
#include "commands.h"

/* The value of field `key` of subsel_build_info() ("key=value" words), or
 * "unknown" when the library does not report it. */
static const char *build_field(const char *key, char *buf, size_t cap)
{
    const char *info = subsel_build_info(), *p = info;
    size_t n = strlen(key);
    while ((p = strstr(p, key)) != NULL) {
        if ((p == info || p[-1] == ' ') && p[n] == '=') {
            size_t len = strcspn(p + n + 1, " ");
            snprintf(buf, cap, "%.*s", (int)len, p + n + 1);
            return buf;
        }
        p += n;
    }
    return "unknown";
}

int cmd_info(const cli_command *self, int argc, char **argv)
{
    int64_t threads = 0;
    cli_option options[] = {
        {"threads", 't', CLI_INT, &threads, "threads to report for", 0,
         "0: as many as OpenMP gives; calls use at most the CPUs available", 0,
         SUBSEL_P_THREADS},
        {NULL, 0, 0, NULL, NULL, 0, NULL, 0, 0},
    };
    subsel_ctx *ctx;
    int rc = cli_parse(self, argc, argv, options, "[--threads T]");
    int isa;
    char blis_arch[64], blis_detected[64], bf16[8];
    if (rc != 0)
        return rc == 1 ? 0 : rc;
    if ((rc = cli_make_ctx(self, threads, 0, &ctx)) != 0)
        return rc;
    json_begin();
    for (isa = SUBSEL_ISA_SCALAR; isa <= SUBSEL_ISA_AVX512; isa++) {
        char key[32];
        snprintf(key, sizeof key, "kernel_%s", subsel_isa_name(isa));
        json_string(key, subsel_isa_supported(isa) ? "supported"
                         : subsel_isa_compiled(isa) ? "compiled, not supported by this cpu"
                                                    : "not compiled");
    }
    json_string("selected", subsel_isa_name(subsel_ctx_isa(ctx)));
    json_string("blis_arch", build_field("blis_arch", blis_arch, sizeof blis_arch));
    json_string("blis_detected",
                build_field("blis_detected", blis_detected, sizeof blis_detected));
    json_string("bf16_screen", build_field("bf16_screen", bf16, sizeof bf16));
    json_int("threads", subsel_ctx_threads(ctx));
    json_string("build", subsel_build_info());
    json_end();
    subsel_ctx_free(ctx);
    return 0;
}
