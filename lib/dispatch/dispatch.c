/* SPDX-License-Identifier: MIT */
/*
 * The kernel tables and the once-per-process choice among them.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
static int cpu_best = SUBSEL_ISA_SCALAR;
static int selected_isa = SUBSEL_ISA_SCALAR;

/* The tables as this CPU runs them (select_once): the compiled ones, but
 * the AVX-512 table without its bfloat16 product on CPUs without
 * AVX512_BF16. */
static const ss_kernels *here[3];
#if SUBSEL_HAVE_AVX512
static ss_kernels avx512_without_bf16;
#endif

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

/* ss_isa_usable() once the CPU is known. A middle level may be compiled out
 * while a higher one is in (-Disa_avx2=false), so this walks down level by
 * level rather than clamping to one bound. */
static int round_down(int wanted)
{
    int isa = wanted < cpu_best ? wanted : cpu_best;
    if (isa > SUBSEL_ISA_AVX512)
        isa = SUBSEL_ISA_AVX512;
    while (isa > SUBSEL_ISA_SCALAR && compiled[isa] == NULL)
        isa--;
    return isa < SUBSEL_ISA_SCALAR ? SUBSEL_ISA_SCALAR : isa;
}

static void select_once(void)
{
    const char *env = getenv("SUBSEL_ISA");
    const char *debug = getenv("SUBSEL_ISA_DEBUG");
    int isa;

    cpu_best = ss_cpu_best_isa();
    memcpy(here, compiled, sizeof here);
#if SUBSEL_HAVE_AVX512
    if (ss_kernels_avx512.gemm_bf16 != NULL && !ss_cpu_has_bf16()) {
        avx512_without_bf16 = ss_kernels_avx512;
        avx512_without_bf16.gemm_bf16 = NULL;
        here[SUBSEL_ISA_AVX512] = &avx512_without_bf16;
    }
#endif
    isa = round_down(SUBSEL_ISA_AVX512);
    if (env != NULL && env[0] != '\0') {
        int wanted = -1, i;
        for (i = SUBSEL_ISA_SCALAR; i <= SUBSEL_ISA_AVX512; i++)
            if (strcmp(env, subsel_isa_name(i)) == 0)
                wanted = i;
        if (wanted < 0) {
            fprintf(stderr,
                    "subsel: warning: SUBSEL_ISA=%s is not one of "
                    "scalar, avx2, avx512; ignored\n",
                    env);
        } else {
            isa = round_down(wanted);
            if (isa != wanted)
                fprintf(stderr,
                        "subsel: warning: SUBSEL_ISA=%s is %s; using %s\n",
                        env,
                        subsel_isa_compiled(wanted)
                            ? "not supported by this CPU"
                            : "not compiled into this build",
                        subsel_isa_name(isa));
        }
    }
    selected_isa = isa;
    if (debug != NULL && debug[0] != '\0' && strcmp(debug, "0") != 0)
        fprintf(stderr, "subsel: cpu supports %s, SUBSEL_ISA=%s, selected %s\n",
                subsel_isa_name(cpu_best), env ? env : "(unset)",
                subsel_isa_name(isa));
}

int subsel_isa_selected(void)
{
    pthread_once(&once, select_once);
    return selected_isa;
}

int ss_isa_usable(int wanted)
{
    pthread_once(&once, select_once);
    return round_down(wanted);
}

const ss_kernels *ss_kernels_at(int usable_isa)
{
    pthread_once(&once, select_once);
    return here[usable_isa];
}

const ss_kernels *ss_kernels_level(int isa)
{
    if (!subsel_isa_supported(isa))
        return NULL;
    pthread_once(&once, select_once);
    return here[isa];
}
