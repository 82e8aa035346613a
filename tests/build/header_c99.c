/* SPDX-License-Identifier: MIT */
/* Build-only check: subsel.h compiles as strict C99 with -pedantic -Werror. */
#include "subsel.h"

int main(void)
{
    /* Name a few types and constants so the compiler sees them used. */
    subsel_ctx *ctx = 0;
    subsel_csr *csr = 0;
    subsel_dense *dense = 0;
    (void)ctx;
    (void)csr;
    (void)dense;
    return SUBSEL_VERSION_NUMBER > 0 ? 0 : 1;
}
