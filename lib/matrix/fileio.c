/* SPDX-License-Identifier: MIT */
/*
 * Byte plumbing for the file formats: FILE-backed readers and writers,
 * little-endian helpers, stdio calls with errors recorded on the context,
 * and the one write path behind every writer: a temporary file renamed over
 * the real file (symbolic links followed), or a direct write to what cannot
 * be renamed over (devices, FIFOs, the /proc/self/fd links behind
 * /dev/stdout).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/vfs.h>
#endif

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
    return base->progress
               ? ss_stage_add(base->progress, (int64_t)k, (int64_t)k)
               : SUBSEL_OK;
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
    r->base.progress = NULL;
    r->f = f;
}


int ss_read_stream(subsel_ctx *ctx, FILE *f, unsigned char **data,
                   int64_t *size)
{
    unsigned char *buf = NULL, *bigger = NULL;
    int64_t cap = SS_GROW_START_BYTES, n = 0;
    ss_stage p;
    int rc = SUBSEL_OK;

    *data = NULL;
    *size = 0;
    SS_TRY(ss_stage_begin(&p, ctx, "read", 0));
    SS_TRY(ss_alloc_array(ctx, cap, 1, &buf));
    for (;;) {
        size_t k = fread(buf + n, 1, (size_t)(cap - n), f);
        n += (int64_t)k;
        if (k == 0) {
            if (ferror(f))
                SS_TRY(fail_errno(ctx, errno, "read failed"));
            break;
        }
        SS_TRY(ss_stage_add(&p, (int64_t)k, (int64_t)k));
        if (n < cap)
            continue;
        if (cap > INT64_MAX / 2)
            SS_TRY(ss_fail(ctx, SUBSEL_E_NOMEM, "the stream is too long"));
        SS_TRY(ss_alloc_array(ctx, cap * 2, 1, &bigger));
        memcpy(bigger, buf, (size_t)n);
        ss_free(ctx, buf);
        buf = bigger;
        bigger = NULL;
        cap *= 2;
    }
    SS_TRY(ss_stage_end(&p));
    *data = buf;
    *size = n;
    return SUBSEL_OK;
cleanup:
    ss_free(ctx, buf);
    return rc;
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

/* ------------------------------------------------------------------------ */
/* Writing a file                                                           */
/* ------------------------------------------------------------------------ */

/* Links followed before giving up, as the kernel's own limit (ELOOP). */
#define MAX_LINK_HOPS 40
/* Temporary files are named ".subsel-<pid>-<n>.tmp": short, so any valid
 * file name can be written, and recognisable, so stale ones can be found. */
#define TEMP_PREFIX ".subsel-"
#define TEMP_SUFFIX ".tmp"
/* A temporary file nobody has locked or written for this long is left by a
 * writer that died (kill -9, power loss): the lock covers live writers on
 * this machine, the age the moment between creating and locking a file,
 * and writers on other machines sharing the folder. */
#define STALE_SECONDS 60

/* Where and how a path is written. */
enum write_mode {
    WRITE_RENAME, /* temporary file in the folder of `real`, renamed over it */
    WRITE_DIRECT  /* opened and written in place, not atomically */
};

/* Length of the folder part of path ("a/b/c" -> 2, "c" -> 0, "/c" -> 1). */
static size_t folder_length(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL)
        return 0;
    return slash == path ? 1 : (size_t)(slash - path);
}

/* A copy of the folder part of path on ctx ("." when there is none). */
static int folder_of(subsel_ctx *ctx, const char *path, char **out)
{
    size_t n = folder_length(path);
    SS_CHECK(ss_alloc_array(ctx, (int64_t)(n > 0 ? n : 1) + 1, 1, out));
    if (n == 0)
        memcpy(*out, ".", 2);
    else {
        memcpy(*out, path, n);
        (*out)[n] = '\0';
    }
    return SUBSEL_OK;
}

/* 1 if the link at path lives on procfs, whose links (/proc/self/fd/1
 * behind /dev/stdout, /dev/fd/N) name open files rather than paths: their
 * text may be "pipe:[123]" or a deleted file, and renaming over the path
 * it shows would replace a file the shell opened, not write to it. */
static int on_procfs(subsel_ctx *ctx, const char *path)
{
#ifdef __linux__
    struct statfs sf;
    char *dir = NULL;
    int proc = 0;
    if (folder_of(ctx, path, &dir) != SUBSEL_OK)
        return 0;
    proc = statfs(dir, &sf) == 0 && sf.f_type == 0x9fa0; /* PROC_SUPER_MAGIC */
    ss_free(ctx, dir);
    return proc;
#else
    (void)ctx;
    (void)path;
    return 0;
#endif
}

/* The text of the link at path, resolved against the link's folder, in a
 * new buffer on ctx. */
static int follow_link(subsel_ctx *ctx, const char *path, char **out)
{
    char *text = NULL;
    size_t cap = 256, dir;
    ssize_t n;
    int rc = SUBSEL_OK;
    for (;;) {
        SS_TRY(ss_alloc_array(ctx, (int64_t)cap, 1, &text));
        n = readlink(path, text, cap);
        if (n < 0)
            SS_TRY(fail_errno(ctx, errno, "cannot read the symbolic link"));
        if ((size_t)n < cap)
            break;
        ss_free(ctx, text);
        text = NULL;
        cap *= 2;
    }
    text[n] = '\0';
    dir = text[0] == '/' ? 0 : folder_length(path);
    SS_TRY(ss_alloc_array(ctx, (int64_t)(dir + (size_t)n) + 2, 1, out));
    if (dir > 0) /* "//x" for a link in "/" is still that path */
        snprintf(*out, dir + (size_t)n + 2, "%.*s/%s", (int)dir, path, text);
    else
        memcpy(*out, text, (size_t)n + 1);
cleanup:
    ss_free(ctx, text);
    return rc;
}

/* Decides how to write path. A regular file (or a new one) is replaced
 * through a rename at the end of its chain of symbolic links, so the links
 * stay and their target gets the data; anything else that exists (a
 * device, a FIFO, a terminal), and any file reached through a procfs link,
 * is written in place. For a rename, *real gets the path to rename over (a
 * new buffer on ctx); for a write in place, NULL. */
static int plan_write(subsel_ctx *ctx, const char *path, int *mode,
                      char **real)
{
    struct stat st;
    char *p = NULL, *next = NULL;
    int hops, exists, rc = SUBSEL_OK;
    size_t len = strlen(path);

    exists = stat(path, &st) == 0;
    if (!exists && errno != ENOENT)
        return fail_errno(ctx, errno, "cannot write");
    if (exists && S_ISDIR(st.st_mode))
        return fail_errno(ctx, EISDIR, "cannot write");
    SS_TRY(ss_alloc_array(ctx, (int64_t)len + 1, 1, &p));
    memcpy(p, path, len + 1);
    *mode = exists && !S_ISREG(st.st_mode) ? WRITE_DIRECT : WRITE_RENAME;
    for (hops = 0; *mode == WRITE_RENAME; hops++) {
        struct stat lst;
        if (lstat(p, &lst) != 0) {
            if (errno == ENOENT)
                break; /* a new file (through a dangling link) */
            SS_TRY(fail_errno(ctx, errno, "cannot write"));
        }
        if (!S_ISLNK(lst.st_mode))
            break;
        if (hops == MAX_LINK_HOPS)
            SS_TRY(fail_errno(ctx, ELOOP, "cannot write"));
        if (on_procfs(ctx, p)) {
            if (!exists)
                SS_TRY(fail_errno(ctx, ENOENT, "cannot write"));
            *mode = WRITE_DIRECT;
            break;
        }
        SS_TRY(follow_link(ctx, p, &next));
        ss_free(ctx, p);
        p = next;
        next = NULL;
    }
    if (*mode == WRITE_DIRECT) {
        ss_free(ctx, p);
        p = NULL;
    }
    *real = p;
    return SUBSEL_OK;
cleanup:
    ss_free(ctx, p);
    return rc;
}

/* 1 if name is TEMP_PREFIX digits '-' digits TEMP_SUFFIX. */
static int is_temp_name(const char *name)
{
    const size_t pre = sizeof TEMP_PREFIX - 1, suf = sizeof TEMP_SUFFIX - 1;
    size_t n = strlen(name), digits;
    const char *p = name + pre;
    if (n <= pre + suf || strncmp(name, TEMP_PREFIX, pre) != 0 ||
        strcmp(name + n - suf, TEMP_SUFFIX) != 0)
        return 0;
    digits = strspn(p, "0123456789");
    if (digits == 0 || p[digits] != '-')
        return 0;
    p += digits + 1;
    digits = strspn(p, "0123456789");
    return digits > 0 && p + digits == name + n - suf;
}

/* Removes the temporary files of writers that died in folder `dir`: ours
 * by name, owned by this user, unlocked and untouched for STALE_SECONDS.
 * Best effort: anything unexpected leaves the file alone. */
static void remove_stale_temps(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int dfd;
    if (d == NULL)
        return;
    dfd = dirfd(d);
    while ((e = readdir(d)) != NULL) {
        struct stat st;
        int fd;
        if (!is_temp_name(e->d_name))
            continue;
        fd = openat(dfd, e->d_name,
                    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
            continue;
        if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
            st.st_uid == geteuid() &&
            time(NULL) - st.st_mtime >= STALE_SECONDS &&
            flock(fd, LOCK_EX | LOCK_NB) == 0)
            unlinkat(dfd, e->d_name, 0);
        close(fd);
    }
    closedir(d);
}

/* Creates and locks a new temporary file in folder `dir`; *tmp gets its
 * path (a new buffer on ctx). O_EXCL makes a clash with another writer
 * fail instead of overwrite; we then try the next name. */
static int create_temp(subsel_ctx *ctx, const char *dir, char **tmp, int *fd)
{
    static atomic_uint counter;
    size_t cap = strlen(dir) + sizeof TEMP_PREFIX + sizeof TEMP_SUFFIX + 48;
    int attempt;
    SS_CHECK(ss_alloc_array(ctx, (int64_t)cap, 1, tmp));
    for (attempt = 0; attempt < 100; attempt++) {
        unsigned n = atomic_fetch_add(&counter, 1u);
        snprintf(*tmp, cap, "%s/" TEMP_PREFIX "%ld-%u" TEMP_SUFFIX, dir,
                 (long)getpid(), n);
        *fd = open(*tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (*fd >= 0) {
            /* The lock tells remove_stale_temps() this writer is alive. */
            (void)flock(*fd, LOCK_EX | LOCK_NB);
            return SUBSEL_OK;
        }
        if (errno != EEXIST)
            break;
    }
    {
        int err = errno;
        ss_free(ctx, *tmp);
        *tmp = NULL;
        return err == EEXIST
                   ? ss_fail(ctx, SUBSEL_E_IO,
                             "cannot create a temporary file: 100 names "
                             "were taken")
                   : fail_errno(ctx, err, "cannot create a temporary file");
    }
}

/* Runs `write` on f, then flushes and closes it (syncing it first when
 * `sync`). Closes f whatever happens. */
static int write_and_close(subsel_ctx *ctx, FILE *f, ss_write_fn write,
                           void *arg, int sync)
{
    int rc = write(ctx, f, arg);
    if (rc == SUBSEL_OK && fflush(f) != 0)
        rc = fail_errno(ctx, errno, "write failed");
    /* Data must be on disk before a rename makes it visible, or a crash
     * could leave an empty file under the final name. */
    if (rc == SUBSEL_OK && sync && fsync(fileno(f)) != 0)
        rc = fail_errno(ctx, errno, "write failed");
    if (fclose(f) != 0 && rc == SUBSEL_OK)
        rc = fail_errno(ctx, errno, "write failed");
    return rc;
}

/* Copies what was written to `spool` (from its start) to descriptor fd. */
static int copy_spool(subsel_ctx *ctx, FILE *spool, int fd)
{
    unsigned char buf[SS_IO_CHUNK];
    size_t n;
    rewind(spool);
    while ((n = fread(buf, 1, sizeof buf, spool)) > 0) {
        size_t done = 0;
        while (done < n) {
            ssize_t k = write(fd, buf + done, n - done);
            if (k < 0 && errno == EINTR)
                continue;
            if (k < 0)
                return fail_errno(ctx, errno, "write failed");
            done += (size_t)k;
        }
    }
    return ferror(spool) ? fail_errno(ctx, errno, "read failed") : SUBSEL_OK;
}

/* Devices, FIFOs, terminals and files behind procfs links: opened as
 * fopen(path, "wb") would (truncating a regular file, creating nothing).
 * Writers may seek back (the zip writer patches its headers), which a pipe
 * cannot: what cannot seek gets the bytes from an anonymous temporary file
 * (tmpfile()) once they are complete. */
static int write_direct(subsel_ctx *ctx, const char *path, ss_write_fn write,
                        void *arg)
{
    struct stat st;
    FILE *f, *spool;
    int rc, fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return fail_errno(ctx, errno, "cannot open");
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && ftruncate(fd, 0) != 0) {
        rc = fail_errno(ctx, errno, "cannot truncate");
        close(fd);
        return rc;
    }
    if (lseek(fd, 0, SEEK_CUR) < 0) {
        spool = tmpfile();
        if (spool == NULL) {
            rc = fail_errno(ctx, errno, "cannot create a temporary file");
            close(fd);
            return rc;
        }
        rc = write(ctx, spool, arg);
        if (rc == SUBSEL_OK && fflush(spool) != 0)
            rc = fail_errno(ctx, errno, "write failed");
        if (rc == SUBSEL_OK)
            rc = copy_spool(ctx, spool, fd);
        fclose(spool);
        if (close(fd) != 0 && rc == SUBSEL_OK)
            rc = fail_errno(ctx, errno, "write failed");
        return rc;
    }
    f = fdopen(fd, "wb");
    if (f == NULL) {
        rc = fail_errno(ctx, errno, "cannot open");
        close(fd);
        return rc;
    }
    return write_and_close(ctx, f, write, arg, 0);
}

static int write_renamed(subsel_ctx *ctx, const char *real, ss_write_fn write,
                         void *arg)
{
    char *dir = NULL, *tmp = NULL;
    FILE *f = NULL;
    int fd = -1, rc = SUBSEL_OK;

    SS_TRY(folder_of(ctx, real, &dir));
    remove_stale_temps(dir);
    SS_TRY(create_temp(ctx, dir, &tmp, &fd));
    f = fdopen(fd, "wb");
    if (f == NULL)
        SS_TRY(fail_errno(ctx, errno, "cannot open the temporary file"));
    fd = -1;
    rc = write_and_close(ctx, f, write, arg, 1);
    f = NULL;
    SS_TRY(rc);
    if (rename(tmp, real) != 0)
        SS_TRY(fail_errno(ctx, errno, "cannot rename the temporary file"));
    ss_free(ctx, tmp);
    tmp = NULL;
cleanup:
    if (fd >= 0)
        close(fd);
    if (tmp != NULL)
        unlink(tmp);
    ss_free(ctx, tmp);
    ss_free(ctx, dir);
    return rc;
}

int ss_write_atomic(subsel_ctx *ctx, const char *path, ss_write_fn write,
                    void *arg)
{
    char *real = NULL;
    int mode = WRITE_RENAME, rc = SUBSEL_OK;

    SS_TRY(plan_write(ctx, path, &mode, &real));
    if (mode == WRITE_DIRECT)
        rc = write_direct(ctx, path, write, arg);
    else
        rc = write_renamed(ctx, real, write, arg);
cleanup:
    ss_free(ctx, real);
    return rc < 0 ? ss_fail_prefix(ctx, rc, "%s", path) : rc;
}

int ss_path_join(subsel_ctx *ctx, const char *dir, const char *name,
                 char *buf, size_t cap)
{
    size_t len = strlen(dir);
    int n = snprintf(buf, cap, "%s%s%s", dir,
                     len > 0 && dir[len - 1] == '/' ? "" : "/", name);
    if (n < 0 || (size_t)n >= cap)
        return ss_fail(ctx, SUBSEL_E_INVALID, "the path %s/%s is too long",
                       dir, name);
    return SUBSEL_OK;
}

int ss_make_dir(subsel_ctx *ctx, const char *dir)
{
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return ss_fail(ctx, SUBSEL_E_IO, "%s: %s", dir, strerror(errno));
    return SUBSEL_OK;
}
