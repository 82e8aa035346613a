/* SPDX-License-Identifier: MIT */
/*
 * What the fuzzers share to reach the stream paths of the readers: a FILE
 * over the input that cannot seek (as a pipe), and a progress callback that
 * cancels on a call chosen by the input, so that cancellation at every
 * point of a load is tried too; and the input as a regular file (a memfd),
 * which the loaders memory-map and use in place.
 */
#ifndef SS_FUZZ_STREAM_H
#define SS_FUZZ_STREAM_H

#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <unistd.h>

#include "subsel.h"

typedef struct fuzz_stream {
    const uint8_t *data;
    size_t size, pos;
} fuzz_stream;

static inline ssize_t fuzz_stream_read(void *cookie, char *buf, size_t n)
{
    fuzz_stream *s = cookie;
    size_t k = s->size - s->pos < n ? s->size - s->pos : n;
    memcpy(buf, s->data + s->pos, k);
    s->pos += k;
    return (ssize_t)k;
}

/* A read-only FILE over data with no seek function: ftello fails, so the
 * readers take it for a pipe of unknown length. */
static inline FILE *fuzz_stream_open(fuzz_stream *s, const uint8_t *data, size_t size)
{
    cookie_io_functions_t io = {fuzz_stream_read, NULL, NULL, NULL};
    s->data = data;
    s->size = size;
    s->pos = 0;
    return fopencookie(s, "rb", io);
}

typedef struct fuzz_cancel {
    int calls, at;
} fuzz_cancel;

static inline int fuzz_cancel_progress(void *user, const char *stage, int64_t done,
                                int64_t total)
{
    fuzz_cancel *c = user;
    (void)stage;
    /* every stage goes forward: done never negative, never past a known
     * total */
    if (done < 0 || total < 0 || (total > 0 && done > total))
        __builtin_trap();
    return ++c->calls == c->at;
}

/* Cancels on call data[0] % 8 (0: never) of the next loads on ctx. */
static inline void fuzz_cancel_install(subsel_ctx *ctx, fuzz_cancel *c,
                                const uint8_t *data, size_t size)
{
    c->calls = 0;
    c->at = size > 0 ? data[0] % 8 : 0;
    subsel_ctx_set_progress(ctx, fuzz_cancel_progress, c);
}

/* A status the readers may return: 0, or an error other than
 * SUBSEL_E_INVALID (the fuzzers pass valid arguments), with a message. */
/* The input as a regular file read from its start, or NULL. */
static inline FILE *fuzz_file_open(const uint8_t *data, size_t size)
{
    int fd = memfd_create("fuzz", 0);
    FILE *f = NULL;
    if (fd < 0)
        return NULL;
    if (write(fd, data, size) == (ssize_t)size && lseek(fd, 0, SEEK_SET) == 0)
        f = fdopen(fd, "rb");
    if (f == NULL)
        close(fd);
    return f;
}

static inline int fuzz_status_ok(subsel_ctx *ctx, int rc)
{
    if (rc > 0 || rc < SUBSEL_E_CANCELLED || rc == SUBSEL_E_INVALID)
        return 0;
    return rc == 0 || subsel_ctx_last_error(ctx)[0] != '\0';
}

#endif
