// SPDX-License-Identifier: MIT
// Build-only check: subsel.h is valid C++ (extern "C", no C-only constructs).
#include "subsel.h"

int main()
{
    subsel_ctx *ctx = nullptr;
    subsel_csr *csr = nullptr;
    (void)ctx;
    (void)csr;
    return SUBSEL_VERSION_NUMBER > 0 ? 0 : 1;
}
