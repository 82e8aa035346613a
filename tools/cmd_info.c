/* SPDX-License-Identifier: MIT */
/*
 * `subsel info`: version, kernels compiled in, supported and selected, and
 * the default thread count, as one JSON object.
 */
#include "cli.h"
#include "commands.h"

int cmd_info(const cli_command *self, int argc, char **argv)
{
    int64_t threads = 0;
    cli_option options[] = {
        {"threads", 't', CLI_INT, &threads, "threads to report for", 0, "0: as many as OpenMP gives", 0},
        {NULL, 0, 0, NULL, NULL, 0, NULL, 0},
    };
    subsel_ctx *ctx;
    int rc = cli_parse(self, argc, argv, options, "[--threads T]");
    int isa;
    if (rc != 0)
        return rc == 1 ? 0 : rc;
    if ((rc = cli_make_ctx(self, threads, 0, &ctx)) != 0)
        return rc;
    json_begin();
    json_string("version", subsel_version_string());
    for (isa = SUBSEL_ISA_SCALAR; isa <= SUBSEL_ISA_AVX512; isa++) {
        char key[32];
        snprintf(key, sizeof key, "kernel_%s", subsel_isa_name(isa));
        json_string(key, subsel_isa_supported(isa) ? "supported"
                         : subsel_isa_compiled(isa) ? "compiled, not supported by this cpu"
                                                    : "not compiled");
    }
    json_string("selected", subsel_isa_name(subsel_ctx_isa(ctx)));
    json_int("threads", subsel_ctx_threads(ctx));
    json_string("build", subsel_build_info());
    json_end();
    subsel_ctx_free(ctx);
    return 0;
}
