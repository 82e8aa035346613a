/* SPDX-License-Identifier: MIT */
/*
 * Which BLIS kernels run subsel's products.
 *
 * BLIS picks a sub-configuration for the CPU when it starts. A BLIS older
 * than the CPU does not recognise it and picks "generic", whose kernels are
 * portable C: Debian's BLIS 0.9 on AMD Zen 5 runs sgemm at 33 GFLOP/s per
 * core that way, against 170 with its skx kernels. So when BLIS settles on
 * generic and the user did not ask for it (BLIS_ARCH_TYPE unset), subsel
 * runs its products with the kernels of a sub-configuration this CPU can
 * execute, by the same CPU test as subsel's own kernel dispatch:
 *     AVX-512 F, DQ, BW, VL  ->  skx      (the fastest here: 170 GFLOP/s
 *                                          sgemm, 93 dgemm; haswell and
 *                                          zen3 reach 108 and 53)
 *     AVX2 and FMA           ->  haswell
 * Every other case keeps BLIS's choice.
 *
 * The contexts are BLIS's own: bli_gks_lookup_id() returns the one BLIS
 * built at start-up for any sub-configuration compiled into it. The shared
 * libblis does not export that function, so subsel links BLIS statically
 * when it can (meson.build, its symbols stay hidden inside libsubsel) and
 * declares it weak here: linked against a shared BLIS, it is absent and
 * BLIS's choice stands.
 */
#include <pthread.h>
#include <stdlib.h>

#include <blis.h>

#include "core/blis_arch.h"
#include "dispatch/dispatch.h"
#include "subsel.h"

#pragma weak bli_gks_lookup_id

static pthread_once_t chosen_once = PTHREAD_ONCE_INIT;
static cntx_t *chosen_cntx;
static cntx_t tuned_cntx; /* chosen_cntx when its cache blocks are retuned */
static arch_t chosen_arch;
static arch_t detected_arch;

/* The sub-configuration for a CPU BLIS does not know, or BLIS_NUM_ARCHS
 * when none is better than generic. */
static arch_t arch_for_this_cpu(void)
{
    switch (ss_cpu_best_isa()) {
    case SUBSEL_ISA_AVX512:
        return BLIS_ARCH_SKX;
    case SUBSEL_ISA_AVX2:
        return BLIS_ARCH_HASWELL;
    default:
        return BLIS_NUM_ARCHS;
    }
}

/* skx's cache blocks fit Skylake-X. The CPUs that reach this path are
 * newer ones BLIS 0.9 does not know (AMD Zen 5, for one), with larger
 * and faster caches per core, where sgemm on every core runs faster with
 * bigger blocks of A (MC x KC): on the 2-core Zen 5 development machine,
 * MC 960 and KC 768 (its last block stretching to 960, the ratio skx
 * keeps) instead of 480 and 384 (480) make sgemm on 2 threads 10-17 %
 * faster on 3000^3 and 3-8 % on UniPROT's similarity (10000 x 4999 x 784),
 * default and retuned alternated in one run; the same within noise on 1
 * thread. dgemm is already at 0.77 of its peak and keeps its blocks. The
 * copy is BLIS's own context with those two block sizes changed. */
static void retune_skx_sgemm(void)
{
    blksz_t *mc, *kc;
    tuned_cntx = *chosen_cntx;
    mc = bli_cntx_get_blksz(BLIS_MC, &tuned_cntx);
    kc = bli_cntx_get_blksz(BLIS_KC, &tuned_cntx);
    bli_blksz_set_def(960, BLIS_FLOAT, mc);
    bli_blksz_set_max(960, BLIS_FLOAT, mc);
    bli_blksz_set_def(768, BLIS_FLOAT, kc);
    bli_blksz_set_max(960, BLIS_FLOAT, kc);
    chosen_cntx = &tuned_cntx;
}

static void choose(void)
{
    const char *forced;
    arch_t want;
    cntx_t **contexts;
    /* BLIS must be initialised before its arch id is asked for: with
     * BLIS_ARCH_TYPE set, BLIS 0.9 aborts otherwise. */
    bli_init();
    detected_arch = bli_arch_query_id();
    chosen_arch = detected_arch;
    chosen_cntx = NULL;
    forced = getenv("BLIS_ARCH_TYPE");
    if (detected_arch != BLIS_ARCH_GENERIC || (forced != NULL && *forced != '\0') ||
        bli_gks_lookup_id == NULL)
        return;
    want = arch_for_this_cpu();
    if (want == BLIS_NUM_ARCHS)
        return;
    /* NULL when this BLIS was built without that sub-configuration */
    contexts = bli_gks_lookup_id(want);
    if (contexts == NULL || contexts[BLIS_NAT] == NULL)
        return;
    chosen_cntx = contexts[BLIS_NAT];
    chosen_arch = want;
    if (want == BLIS_ARCH_SKX)
        retune_skx_sgemm();
}

void *ss_blis_cntx(void)
{
    pthread_once(&chosen_once, choose);
    return chosen_cntx;
}

int ss_blis_arch_id(void)
{
    pthread_once(&chosen_once, choose);
    return (int)chosen_arch;
}

const char *ss_blis_arch_name(void)
{
    pthread_once(&chosen_once, choose);
    return bli_arch_string(chosen_arch);
}

const char *ss_blis_arch_detected(void)
{
    pthread_once(&chosen_once, choose);
    return bli_arch_string(detected_arch);
}
