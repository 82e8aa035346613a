/* SPDX-License-Identifier: MIT */
/*
 * The kernel tables and the once-per-process choice among them.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ctx.h"
#include "dispatch/dispatch.h"
#include "subsel_config.h"

static const ss_kernels *const compiled[3] = {
    &ss_kernels_scalar,
#if SUBSEL_HAVE_AVX2
    &ss_kernels_avx2,
#else
    NULL,
#endif
#if SUBSEL_HAVE_AVX512
    &ss_kernels_avx512,
#else
    NULL,
#endif
};

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int selected_isa = SUBSEL_ISA_SCALAR;

int subsel_isa_compiled(int isa)
{
    return isa >= 0 && isa <= SUBSEL_ISA_AVX512 && compiled[isa] != NULL;
}

const char *subsel_isa_name(int isa)
{
    switch (isa) {
    case SUBSEL_ISA_SCALAR: return "scalar";
    case SUBSEL_ISA_AVX2: return "avx2";
    case SUBSEL_ISA_AVX512: return "avx512";
    default: return "unknown";
    }
}

int subsel_isa_supported(int isa)
{
    return subsel_isa_compiled(isa) && isa <= ss_cpu_best_isa();
}

static int best_supported(void)
{
    int isa = ss_cpu_best_isa();
    while (isa > SUBSEL_ISA_SCALAR && compiled[isa] == NULL)
        isa--;
    return isa;
}

static void select_once(void)
{
    const char *env = getenv("SUBSEL_ISA");
    const char *debug = getenv("SUBSEL_ISA_DEBUG");
    int best = best_supported();
    int isa = best;

    if (env != NULL && env[0] != '\0') {
        int wanted = -1, i;
        for (i = SUBSEL_ISA_SCALAR; i <= SUBSEL_ISA_AVX512; i++)
            if (strcmp(env, subsel_isa_name(i)) == 0)
                wanted = i;
        if (wanted < 0)
            fprintf(stderr,
                    "subsel: warning: SUBSEL_ISA=%s is not one of "
                    "scalar, avx2, avx512; ignored\n",
                    env);
        else if (wanted > best)
            fprintf(stderr,
                    "subsel: warning: SUBSEL_ISA=%s is not available here; "
                    "using %s\n",
                    env, subsel_isa_name(best));
        else
            isa = wanted;
    }
    selected_isa = isa;
    if (debug != NULL && debug[0] != '\0' && strcmp(debug, "0") != 0)
        fprintf(stderr, "subsel: cpu supports %s, SUBSEL_ISA=%s, selected %s\n",
                subsel_isa_name(ss_cpu_best_isa()), env ? env : "(unset)",
                subsel_isa_name(isa));
}

int subsel_isa_selected(void)
{
    pthread_once(&once, select_once);
    return selected_isa;
}

const ss_kernels *ss_kernels_for(const subsel_ctx *ctx)
{
    return compiled[subsel_ctx_isa(ctx)];
}

const ss_kernels *ss_kernels_level(int isa)
{
    if (!subsel_isa_supported(isa))
        return NULL;
    return compiled[isa];
}
