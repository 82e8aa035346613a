/* SPDX-License-Identifier: MIT */
/* Build-only check: with SUBSEL_NO_DEPRECATED the header compiles as strict
 * C99 and defines none of the names that predate one prefix per concept
 * (docs/abi.md), so a binding generator grouping constants by prefix finds
 * one group per concept. */
#define SUBSEL_NO_DEPRECATED
#include "subsel.h"

#if defined(SUBSEL_OPT_BUDGET) || defined(SUBSEL_OPT_LAZY) || defined(SUBSEL_OT_TOL) ||      \
    defined(SUBSEL_TAROT_PROJ_DIM) || defined(SUBSEL_TAROT_MAX_WEIGHT_TOTAL) ||              \
    defined(SUBSEL_CTX_THREADS) || defined(SUBSEL_CLIPCOV_INTRA) ||                         \
    defined(SUBSEL_CLIPCOV_TERMS) || defined(SUBSEL_COPY) || defined(SUBSEL_BORROW)
#error "a deprecated name is defined under SUBSEL_NO_DEPRECATED"
#endif

int main(void)
{
    /* the new names, one of each group */
    static const int numbers[] = {
        SUBSEL_P_THREADS, SUBSEL_P_BUDGET, SUBSEL_P_OT_TOL, SUBSEL_P_TAROT_PROJ_DIM,
        SUBSEL_P_SDM_LAMBDA, SUBSEL_P_UNIPROT_TOL, SUBSEL_P_CLIPCOV_ALPHA,
        SUBSEL_ALGORITHM_LAZY, SUBSEL_KIND_SAE, SUBSEL_TYPE_REAL, SUBSEL_BOUND_OPEN_MAX,
        SUBSEL_CLIPCOV_TERM_COUNT, SUBSEL_OWN_BORROW,
    };
    return numbers[0] == SUBSEL_P_THREADS && SUBSEL_LIMIT_TAROT_WEIGHT_TOTAL > 0 ? 0 : 1;
}
