/* SPDX-License-Identifier: MIT */
/*
 * Byte plumbing for the file formats: FILE-backed readers and writers,
 * little-endian helpers, stdio calls with errors recorded on the context,
 * and the atomic write (temporary file, fsync, rename) behind every writer.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/error.h"
#include "matrix/fileio.h"

/* The errno text, from the thread-safe (XSI) strerror_r. */
static const char *errno_text(int err, char *buf, size_t cap)
{
    if (strerror_r(err, buf, cap) != 0)
        snprintf(buf, cap, "error %d", err);
    return buf;
}

static int fail_errno(subsel_ctx *ctx, int err, const char *what)
{
    char text[128];
    return ss_fail(ctx, SUBSEL_E_IO, "%s: %s", what,
                   errno_text(err, text, sizeof text));
}

uint16_t ss_load_le16(const unsigned char *p)
{
    return (uint16_t)(p[0] | (unsigned)p[1] << 8);
}

uint32_t ss_load_le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

uint64_t ss_load_le64(const unsigned char *p)
{
    return (uint64_t)ss_load_le32(p) | (uint64_t)ss_load_le32(p + 4) << 32;
}

void ss_store_le16(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}

void ss_store_le32(unsigned char *p, uint32_t v)
{
    ss_store_le16(p, (uint16_t)v);
    ss_store_le16(p + 2, (uint16_t)(v >> 16));
}

void ss_store_le64(unsigned char *p, uint64_t v)
{
    ss_store_le32(p, (uint32_t)v);
    ss_store_le32(p + 4, (uint32_t)(v >> 32));
}

void ss_le_to_host(void *data, size_t count, size_t itemsize)
{
#if SS_BIG_ENDIAN
    unsigned char *p = data;
    size_t i, j;
    for (i = 0; i < count; i++, p += itemsize)
        for (j = 0; j < itemsize / 2; j++) {
            unsigned char t = p[j];
            p[j] = p[itemsize - 1 - j];
            p[itemsize - 1 - j] = t;
        }
#else
    (void)data;
    (void)count;
    (void)itemsize;
#endif
}

int64_t ss_file_size(FILE *f)
{
    struct stat st;
    int fd = fileno(f);
    off_t pos, end;
    if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
        return (int64_t)st.st_size;
    /* Memory streams (fmemopen) have no descriptor but can seek. */
    pos = ftello(f);
    if (pos < 0 || fseeko(f, 0, SEEK_END) != 0)
        return -1;
    end = ftello(f);
    if (fseeko(f, pos, SEEK_SET) != 0)
        return -1;
    return (int64_t)end;
}

int ss_seek(subsel_ctx *ctx, FILE *f, int64_t offset)
{
    if (offset < 0 || fseeko(f, (off_t)offset, SEEK_SET) != 0)
        return fail_errno(ctx, errno, "seek failed");
    return SUBSEL_OK;
}

int ss_tell(subsel_ctx *ctx, FILE *f, int64_t *offset)
{
    off_t pos = ftello(f);
    if (pos < 0)
        return fail_errno(ctx, errno, "cannot tell the file position");
    *offset = (int64_t)pos;
    return SUBSEL_OK;
}

int ss_fread_exact(subsel_ctx *ctx, FILE *f, void *buf, size_t n,
                   const char *what)
{
    size_t got = fread(buf, 1, n, f);
    if (got == n)
        return SUBSEL_OK;
    if (ferror(f))
        return fail_errno(ctx, errno, "read failed");
    return ss_fail(ctx, SUBSEL_E_FORMAT,
                   "truncated %s: %zu of %zu bytes before the end of the file",
                   what, got, n);
}

int ss_fwrite_all(subsel_ctx *ctx, FILE *f, const void *buf, size_t n)
{
    if (n > 0 && fwrite(buf, 1, n, f) != n)
        return fail_errno(ctx, errno, "write failed");
    return SUBSEL_OK;
}

static int file_read(ss_reader *base, void *buf, size_t n, size_t *got)
{
    ss_file_reader *r = (ss_file_reader *)base;
    size_t k = fread(buf, 1, n, r->f);
    if (k < n && ferror(r->f))
        return fail_errno(base->ctx, errno, "read failed");
    *got = k;
    if (base->available != INT64_MAX)
        base->available = (int64_t)k < base->available
                              ? base->available - (int64_t)k
                              : 0;
    return SUBSEL_OK;
}

static int file_finish(ss_reader *base)
{
    ss_file_reader *r = (ss_file_reader *)base;
    unsigned char extra;
    size_t k;
    if (base->available != INT64_MAX && base->available > 0)
        return ss_fail(base->ctx, SUBSEL_E_FORMAT,
                       "%lld bytes follow the array data",
                       (long long)base->available);
    /* The size may be unknown (a pipe), or the file may have grown. */
    k = fread(&extra, 1, 1, r->f);
    if (k == 0 && ferror(r->f))
        return fail_errno(base->ctx, errno, "read failed");
    if (k != 0)
        return ss_fail(base->ctx, SUBSEL_E_FORMAT,
                       "unexpected bytes follow the array data");
    return SUBSEL_OK;
}

void ss_file_reader_init(ss_file_reader *r, subsel_ctx *ctx, FILE *f)
{
    int64_t size = ss_file_size(f);
    off_t pos = ftello(f);
    r->base.read = file_read;
    r->base.finish = file_finish;
    r->base.ctx = ctx;
    r->base.available = size >= 0 && pos >= 0 && size >= (int64_t)pos
                            ? size - (int64_t)pos
                            : INT64_MAX;
    r->f = f;
}

int ss_read_exact(ss_reader *r, void *buf, size_t n, const char *what)
{
    size_t got = 0;
    SS_CHECK(r->read(r, buf, n, &got));
    if (got < n)
        return ss_fail(r->ctx, SUBSEL_E_FORMAT,
                       "truncated %s: the data ends after %zu of %zu bytes",
                       what, got, n);
    return SUBSEL_OK;
}

static int file_write(ss_writer *base, const void *buf, size_t n)
{
    return ss_fwrite_all(base->ctx, ((ss_file_writer *)base)->f, buf, n);
}

void ss_file_writer_init(ss_file_writer *w, subsel_ctx *ctx, FILE *f)
{
    w->base.write = file_write;
    w->base.ctx = ctx;
    w->f = f;
}

int ss_write_le(ss_writer *w, const void *data, int64_t count,
                size_t itemsize)
{
    size_t bytes;
    if (!ss_mul_size(count, itemsize, &bytes))
        return ss_fail(w->ctx, SUBSEL_E_INVALID,
                       "%lld items of %zu bytes overflow", (long long)count,
                       itemsize);
#if SS_BIG_ENDIAN
    {
        unsigned char buf[SS_IO_CHUNK];
        const unsigned char *p = data;
        while (bytes > 0) {
            size_t n = bytes < sizeof buf ? bytes : sizeof buf;
            n -= n % itemsize;
            memcpy(buf, p, n);
            ss_le_to_host(buf, n / itemsize, itemsize);
            SS_CHECK(w->write(w, buf, n));
            p += n;
            bytes -= n;
        }
        return SUBSEL_OK;
    }
#else
    return w->write(w, data, bytes);
#endif
}

int ss_open_read(subsel_ctx *ctx, const char *path, FILE **out)
{
    struct stat st;
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return fail_errno(ctx, errno, "cannot open");
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(f);
        return fail_errno(ctx, EISDIR, "cannot read");
    }
    *out = f;
    return SUBSEL_OK;
}

int ss_read_file(subsel_ctx *ctx, const char *path, ss_read_fn read,
                 void *arg)
{
    FILE *f = NULL;
    int rc = ss_open_read(ctx, path, &f);
    if (rc == SUBSEL_OK) {
        rc = read(ctx, f, arg);
        fclose(f);
    }
    return rc < 0 ? ss_fail_prefix(ctx, rc, "%s", path) : rc;
}

/* Creates a new file next to path. The name mixes the process id with a
 * process-wide counter; O_EXCL makes a clash (another process, a stale file)
 * fail instead of overwrite, and we then try the next name. */
static int create_temp(subsel_ctx *ctx, const char *path, char *tmp,
                       size_t cap, int *fd)
{
    static atomic_uint counter;
    int attempt;
    for (attempt = 0; attempt < 100; attempt++) {
        unsigned n = atomic_fetch_add(&counter, 1u);
        snprintf(tmp, cap, "%s.tmp-%ld-%u", path, (long)getpid(), n);
        *fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (*fd >= 0)
            return SUBSEL_OK;
        if (errno != EEXIST)
            return fail_errno(ctx, errno, "cannot create a temporary file");
    }
    return ss_fail(ctx, SUBSEL_E_IO,
                   "cannot create a temporary file: 100 names were taken");
}

int ss_write_atomic(subsel_ctx *ctx, const char *path, ss_write_fn write,
                    void *arg)
{
    size_t cap = strlen(path) + 48;
    char *tmp = NULL;
    FILE *f = NULL;
    int fd = -1, created = 0, rc = SUBSEL_OK;

    SS_TRY(ss_alloc_array(ctx, (int64_t)cap, 1, &tmp));
    SS_TRY(create_temp(ctx, path, tmp, cap, &fd));
    created = 1;
    f = fdopen(fd, "wb");
    if (f == NULL)
        SS_TRY(fail_errno(ctx, errno, "cannot open the temporary file"));
    fd = -1;
    SS_TRY(write(ctx, f, arg));
    /* Data must be on disk before the rename makes it visible, or a crash
     * could leave an empty file under the final name. */
    if (fflush(f) != 0 || fsync(fileno(f)) != 0)
        SS_TRY(fail_errno(ctx, errno, "write failed"));
    if (fclose(f) != 0) {
        f = NULL;
        SS_TRY(fail_errno(ctx, errno, "write failed"));
    }
    f = NULL;
    if (rename(tmp, path) != 0)
        SS_TRY(fail_errno(ctx, errno, "cannot rename the temporary file"));
    created = 0;
cleanup:
    if (f != NULL)
        fclose(f);
    if (fd >= 0)
        close(fd);
    if (created)
        remove(tmp);
    ss_free(ctx, tmp);
    return rc < 0 ? ss_fail_prefix(ctx, rc, "%s", path) : rc;
}
