// SPDX-License-Identifier: MIT
// The C side of the progress callback: the library calls this with the
// cgo.Handle number as its user pointer, and it hands over to Go
// (goProgress in context.go). It lives here because a Go file with
// //export may only declare C functions in its preamble, not define them.
#include <stdint.h>
#include "_cgo_export.h"

int subselGoProgressTrampoline(void *user, const char *stage, int64_t done,
                               int64_t total)
{
    return goProgress((uintptr_t)user, (char *)stage, done, total);
}
