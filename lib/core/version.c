/* SPDX-License-Identifier: MIT */
/*
 * Version and build information.
 */
#include <pthread.h>
#include <stdio.h>

#include <blis.h>
#include <zlib.h>

#include "core/blis_arch.h"
#include "dispatch/dispatch.h"
#include "subsel.h"
#include "subsel_config.h"

int subsel_version_number(void)
{
    return SUBSEL_VERSION_NUMBER;
}

const char *subsel_version_string(void)
{
    return SUBSEL_VERSION_STRING;
}

static char build_info[320];
static pthread_once_t build_info_once = PTHREAD_ONCE_INIT;

/* How BLIS runs its own threads: it decides whether a forked child can
 * use them (see lib/core/cpus.h). */
static const char *blis_threading(void)
{
    if (bli_info_get_enable_openmp())
        return "openmp";
    if (bli_info_get_enable_pthreads())
        return "pthreads";
    return "none";
}

static void make_build_info(void)
{
    char kernels[64] = "";
    size_t len = 0;
    int isa;
    for (isa = SUBSEL_ISA_SCALAR; isa <= SUBSEL_ISA_AVX512; isa++)
        if (subsel_isa_compiled(isa))
            len += (size_t)snprintf(kernels + len, sizeof kernels - len, "%s%s",
                                    len ? "," : "", subsel_isa_name(isa));
    /* blis_arch is the sub-configuration whose kernels round every product
     * (lib/core/blis_arch.c); blis_detected the one BLIS chose for this CPU
     * by itself (or that BLIS_ARCH_TYPE forced). */
    snprintf(build_info, sizeof build_info,
             "subsel %s kernels=%s selected=%s blis=%s blis_arch=%s "
             "blis_detected=%s blis_threads=%s lapacke=yes openmp=%s zlib=%s "
             "bf16_screen=%s",
             SUBSEL_VERSION_STRING, kernels,
             subsel_isa_name(subsel_isa_selected()), bli_info_get_version_str(),
             ss_blis_arch_name(), ss_blis_arch_detected(), blis_threading(),
#ifdef _OPENMP
             "yes",
#else
             "no",
#endif
             zlibVersion(),
             /* TAROT's neighbour search screens in bfloat16 (lib/tarot/topk.c) */
             ss_kernels_at(subsel_isa_selected())->gemm_bf16 != NULL ? "yes" : "no");
}

const char *subsel_build_info(void)
{
    pthread_once(&build_info_once, make_build_info);
    return build_info;
}
