/* SPDX-License-Identifier: MIT */
/*
 * The BLIS sub-configuration (micro-kernels and block sizes) that runs
 * subsel's products: BLIS's own choice for the CPU, unless BLIS does not
 * know the CPU (see blis_arch.c).
 */
#ifndef SS_CORE_BLIS_ARCH_H
#define SS_CORE_BLIS_ARCH_H

/* The BLIS context (a cntx_t *) to pass to every bli_*_ex call, or NULL
 * for BLIS's own choice. Initialises BLIS. Thread-safe. */
void *ss_blis_cntx(void);

/* BLIS's arch id (arch_t) of the sub-configuration ss_blis_cntx() runs. */
int ss_blis_arch_id(void);

/* Its name ("skx", "haswell", ...), and the name of the one BLIS chose for
 * this CPU by itself (or that BLIS_ARCH_TYPE named). */
const char *ss_blis_arch_name(void);
const char *ss_blis_arch_detected(void);

#endif
