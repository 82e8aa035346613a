/* SPDX-License-Identifier: MIT */
/*
 * ZIP archives for .npz files. Reading trusts nothing in the archive: every
 * offset and size is checked against the file and against the central
 * directory before it is used, deflated sizes are bounded by what deflate
 * can produce, and each member's CRC-32 is verified. Writing mirrors
 * NumPy's savez (a ZIP64 extra field in each local header, patched once the
 * member's sizes are known; ZIP64 end records only when needed).
 */
#include <stddef.h>
#include <string.h>

#include "core/alloc.h"
#include "core/ctx.h"
#include "core/error.h"
#include "core/sweep.h"
#include "matrix/zip.h"

#define SIG_LOCAL 0x04034b50u
#define SIG_CENTRAL 0x02014b50u
#define SIG_EOCD 0x06054b50u
#define SIG_EOCD64 0x06064b50u
#define SIG_LOCATOR64 0x07064b50u
#define LOCAL_SIZE 30
#define CENTRAL_SIZE 46
#define EOCD_SIZE 22
#define EOCD64_SIZE 56
#define LOCATOR64_SIZE 20
#define MAX_COMMENT 65535
#define U16_MAX 0xFFFFu
#define U32_MAX 0xFFFFFFFFu
/* Deflate cannot expand data more than about 1032:1 (a 258-byte match in
 * two bits); a bit of slack covers block headers of tiny streams. */
#define DEFLATE_MAX_RATIO 1032
#define DEFLATE_SLACK 1024
/* Version 4.5 (ZIP64), made on Unix; DOS date 1980-01-01 00:00 as NumPy
 * writes, so output is reproducible; mode 0600 like NumPy's members. */
#define ZIP_VERSION 45
#define ZIP_MADE_BY (0x0300 | ZIP_VERSION)
#define DOS_DATE_1980 0x0021
#define EXTERNAL_ATTR (0600u << 16)
/* Largest piece handed to zlib at once (its lengths are 32-bit). */
#define ZLIB_PIECE (1u << 30)

/* zlib allocates through the context, so the user's hooks see it too. */
static voidpf zip_zalloc(voidpf opaque, uInt items, uInt size)
{
    void *p = NULL;
    if (ss_alloc_array(opaque, (int64_t)items, size, &p) < 0)
        return Z_NULL;
    return p;
}

static void zip_zfree(voidpf opaque, voidpf ptr) { ss_free(opaque, ptr); }

static void zlib_hooks(z_stream *zs, subsel_ctx *ctx)
{
    zs->zalloc = zip_zalloc;
    zs->zfree = zip_zfree;
    zs->opaque = ctx;
}

uint32_t ss_zip_crc32(const subsel_ctx *ctx, uint32_t crc,
                      const unsigned char *p, size_t n)
{
    const ss_kernels *kern = ss_kernels_for(ctx);
    if (kern->crc32 != NULL)
        return kern->crc32(crc, p, (int64_t)n);
    while (n > 0) {
        uInt k = n > ZLIB_PIECE ? ZLIB_PIECE : (uInt)n;
        crc = (uint32_t)crc32(crc, p, k);
        p += k;
        n -= k;
    }
    return crc;
}

/* ------------------------------------------------------------------------ */
/* End records                                                              */
/* ------------------------------------------------------------------------ */

/* What the end records say, widened to 64 bits. */
typedef struct end_record {
    uint64_t disk, cd_disk, entries_disk, entries, cd_size, cd_offset;
    int64_t limit; /* the central directory must end before this offset */
} end_record;

/* Scans the last 64 KiB for the end of central directory record. */
static int find_eocd(ss_zip *z, int64_t *pos, unsigned char rec[EOCD_SIZE])
{
    int64_t tail, i;
    unsigned char *buf = NULL;
    int rc = SUBSEL_OK;

    if (z->file_size < EOCD_SIZE)
        return ss_fail(z->ctx, SUBSEL_E_FORMAT,
                       "not a zip file: %lld bytes is too short",
                       (long long)z->file_size);
    tail = z->file_size < EOCD_SIZE + MAX_COMMENT ? z->file_size
                                                  : EOCD_SIZE + MAX_COMMENT;
    SS_TRY(ss_alloc_array(z->ctx, tail, 1, &buf));
    SS_TRY(ss_seek(z->ctx, z->f, z->file_size - tail));
    SS_TRY(ss_fread_exact(z->ctx, z->f, buf, (size_t)tail, "zip end record"));
    /* The last signature whose comment fits in what follows it. */
    for (i = tail - EOCD_SIZE; i >= 0; i--)
        if (ss_load_le32(buf + i) == SIG_EOCD &&
            ss_load_le16(buf + i + 20) <= tail - i - EOCD_SIZE)
            break;
    if (i < 0)
        SS_TRY(ss_fail(z->ctx, SUBSEL_E_FORMAT,
                       "not a zip file: no end of central directory record "
                       "(is the file truncated?)"));
    memcpy(rec, buf + i, EOCD_SIZE);
    *pos = z->file_size - tail + i;
cleanup:
    ss_free(z->ctx, buf);
    return rc;
}

/* Replaces e with the ZIP64 end record when a locator precedes the EOCD. */
static int read_zip64_end(ss_zip *z, int64_t eocd_pos, end_record *e)
{
    unsigned char loc[LOCATOR64_SIZE], rec[EOCD64_SIZE];
    uint64_t off;
    if (eocd_pos < LOCATOR64_SIZE)
        return SUBSEL_OK;
    SS_CHECK(ss_seek(z->ctx, z->f, eocd_pos - LOCATOR64_SIZE));
    SS_CHECK(ss_fread_exact(z->ctx, z->f, loc, sizeof loc, "ZIP64 locator"));
    if (ss_load_le32(loc) != SIG_LOCATOR64)
        return SUBSEL_OK;
    if (ss_load_le32(loc + 4) != 0 || ss_load_le32(loc + 16) > 1)
        return ss_fail(z->ctx, SUBSEL_E_UNSUPPORTED,
                       "multi-disk (split) zip archives are not supported");
    off = ss_load_le64(loc + 8);
    if (eocd_pos - LOCATOR64_SIZE < EOCD64_SIZE ||
        off > (uint64_t)(eocd_pos - LOCATOR64_SIZE - EOCD64_SIZE))
        return ss_fail(z->ctx, SUBSEL_E_FORMAT,
                       "the ZIP64 end record offset %llu lies outside the "
                       "file",
                       (unsigned long long)off);
    SS_CHECK(ss_seek(z->ctx, z->f, (int64_t)off));
    SS_CHECK(ss_fread_exact(z->ctx, z->f, rec, sizeof rec, "ZIP64 end record"));
    if (ss_load_le32(rec) != SIG_EOCD64)
        return ss_fail(z->ctx, SUBSEL_E_FORMAT,
                       "bad ZIP64 end record at offset %llu",
                       (unsigned long long)off);
    e->disk = ss_load_le32(rec + 16);
    e->cd_disk = ss_load_le32(rec + 20);
    e->entries_disk = ss_load_le64(rec + 24);
    e->entries = ss_load_le64(rec + 32);
    e->cd_size = ss_load_le64(rec + 40);
    e->cd_offset = ss_load_le64(rec + 48);
    e->limit = (int64_t)off;
    return SUBSEL_OK;
}

static int read_end_records(ss_zip *z, end_record *e)
{
    unsigned char rec[EOCD_SIZE];
    int64_t pos = 0;
    SS_CHECK(find_eocd(z, &pos, rec));
    e->disk = ss_load_le16(rec + 4);
    e->cd_disk = ss_load_le16(rec + 6);
    e->entries_disk = ss_load_le16(rec + 8);
    e->entries = ss_load_le16(rec + 10);
    e->cd_size = ss_load_le32(rec + 12);
    e->cd_offset = ss_load_le32(rec + 16);
    e->limit = pos;
    SS_CHECK(read_zip64_end(z, pos, e));
    if (e->disk != 0 || e->cd_disk != 0 || e->entries_disk != e->entries)
        return ss_fail(z->ctx, SUBSEL_E_UNSUPPORTED,
                       "multi-disk (split) zip archives are not supported");
    if (e->cd_offset > (uint64_t)e->limit ||
        e->cd_size > (uint64_t)e->limit - e->cd_offset)
        return ss_fail(z->ctx, SUBSEL_E_FORMAT,
                       "the central directory (%llu bytes at offset %llu) "
                       "lies outside the file",
                       (unsigned long long)e->cd_size,
                       (unsigned long long)e->cd_offset);
    if (e->entries > e->cd_size / CENTRAL_SIZE)
        return ss_fail(z->ctx, SUBSEL_E_FORMAT,
                       "%llu entries cannot fit in a central directory of "
                       "%llu bytes",
                       (unsigned long long)e->entries,
                       (unsigned long long)e->cd_size);
    return SUBSEL_OK;
}

int ss_zip_open(ss_zip *z, subsel_ctx *ctx, FILE *f)
{
    end_record e;
    int rc = SUBSEL_OK;

    memset(z, 0, sizeof *z);
    z->ctx = ctx;
    z->f = f;
    z->file_size = ss_file_size(f);
    if (z->file_size < 0)
        return ss_fail(ctx, SUBSEL_E_IO, "a zip file must be seekable");
    SS_CHECK(read_end_records(z, &e));
    z->cd_offset = (int64_t)e.cd_offset;
    z->cd_size = (int64_t)e.cd_size;
    z->entries = (int64_t)e.entries;
    SS_TRY(ss_alloc_array(ctx, z->cd_size, 1, &z->cd));
    SS_TRY(ss_seek(ctx, f, z->cd_offset));
    SS_TRY(ss_fread_exact(ctx, f, z->cd, (size_t)z->cd_size,
                          "central directory"));
    return SUBSEL_OK;
cleanup:
    ss_zip_close(z);
    return rc;
}

void ss_zip_close(ss_zip *z)
{
    ss_free(z->ctx, z->cd);
    z->cd = NULL;
}

/* ------------------------------------------------------------------------ */
/* Central directory                                                        */
/* ------------------------------------------------------------------------ */

/* The 64-bit values of the fields saturated in the directory entry, from
 * the ZIP64 extra field, in the order the format fixes. */
static int apply_zip64_extra(subsel_ctx *ctx, const unsigned char *x,
                             size_t len, uint64_t *fields[3], unsigned *disk)
{
    size_t pos = 0;
    while (pos + 4 <= len) {
        unsigned id = ss_load_le16(x + pos), size = ss_load_le16(x + pos + 2);
        const unsigned char *q = x + pos + 4;
        int i;
        if (size > len - pos - 4)
            return ss_fail(ctx, SUBSEL_E_FORMAT,
                           "malformed extra field in the central directory");
        pos += 4 + size;
        if (id != 1)
            continue;
        for (i = 0; i < 3; i++) {
            if (*fields[i] != U32_MAX)
                continue;
            if (size < 8)
                return ss_fail(ctx, SUBSEL_E_FORMAT,
                               "the ZIP64 extra field is too short");
            *fields[i] = ss_load_le64(q);
            q += 8;
            size -= 8;
        }
        if (*disk == U16_MAX) {
            if (size < 4)
                return ss_fail(ctx, SUBSEL_E_FORMAT,
                               "the ZIP64 extra field is too short");
            *disk = (unsigned)ss_load_le32(q);
        }
        return SUBSEL_OK;
    }
    return ss_fail(ctx, SUBSEL_E_FORMAT,
                   "a ZIP64 size is missing from the central directory");
}

static int parse_entry(ss_zip *z, const unsigned char *p, ss_zip_entry *e)
{
    uint64_t usize = ss_load_le32(p + 24), csize = ss_load_le32(p + 20),
             local = ss_load_le32(p + 42);
    uint64_t *fields[3] = {&usize, &csize, &local};
    unsigned disk = ss_load_le16(p + 34);
    size_t name_len = ss_load_le16(p + 28), extra_len = ss_load_le16(p + 30);

    if (usize == U32_MAX || csize == U32_MAX || local == U32_MAX ||
        disk == U16_MAX)
        SS_CHECK(apply_zip64_extra(z->ctx, p + CENTRAL_SIZE + name_len,
                                   extra_len, fields, &disk));
    if (disk != 0)
        return ss_fail(z->ctx, SUBSEL_E_UNSUPPORTED,
                       "multi-disk (split) zip archives are not supported");
    if (usize > INT64_MAX || csize > INT64_MAX || local > INT64_MAX)
        return ss_fail(z->ctx, SUBSEL_E_FORMAT,
                       "the central directory gives impossible sizes");
    e->flags = ss_load_le16(p + 8);
    e->method = ss_load_le16(p + 10);
    e->crc = ss_load_le32(p + 16);
    e->csize = (int64_t)csize;
    e->usize = (int64_t)usize;
    e->local_offset = (int64_t)local;
    return SUBSEL_OK;
}

int ss_zip_find(ss_zip *z, const char *name, ss_zip_entry *e)
{
    size_t want = strlen(name), pos = 0, size = (size_t)z->cd_size;
    int64_t k;
    int found = 0;

    if (want >= SS_ZIP_NAME_MAX)
        return ss_fail(z->ctx, SUBSEL_E_INVALID,
                       "member name '%s' is too long", name);
    for (k = 0; k < z->entries; k++) {
        const unsigned char *p = z->cd + pos;
        size_t len;
        if (size - pos < CENTRAL_SIZE || ss_load_le32(p) != SIG_CENTRAL)
            return ss_fail(z->ctx, SUBSEL_E_FORMAT,
                           "central directory entry %lld is malformed",
                           (long long)k);
        len = CENTRAL_SIZE + (size_t)ss_load_le16(p + 28) +
              ss_load_le16(p + 30) + ss_load_le16(p + 32);
        if (len > size - pos)
            return ss_fail(z->ctx, SUBSEL_E_FORMAT,
                           "central directory entry %lld runs past the end "
                           "of the directory",
                           (long long)k);
        if (ss_load_le16(p + 28) == want &&
            memcmp(p + CENTRAL_SIZE, name, want) == 0) {
            if (found)
                return ss_fail(z->ctx, SUBSEL_E_FORMAT,
                               "appears twice in the archive");
            SS_CHECK(parse_entry(z, p, e));
            found = 1;
        }
        pos += len;
    }
    if (!found)
        return ss_fail(z->ctx, SUBSEL_E_FORMAT, "missing from the archive");
    snprintf(e->name, sizeof e->name, "%s", name);
    return SUBSEL_OK;
}

/* ------------------------------------------------------------------------ */
/* Reading a member                                                         */
/* ------------------------------------------------------------------------ */

static int zlib_error(subsel_ctx *ctx, int ret, const z_stream *zs)
{
    if (ret == Z_MEM_ERROR)
        return ss_fail_prefix(ctx, SUBSEL_E_NOMEM, "zlib");
    return ss_fail(ctx, SUBSEL_E_FORMAT, "corrupt deflate stream (%s)",
                   zs->msg != NULL ? zs->msg : "zlib error");
}

/* Inflates up to n bytes into buf, refilling input from the file. */
static int inflate_some(ss_zip_member *m, unsigned char *buf, size_t n,
                        size_t *got)
{
    subsel_ctx *ctx = m->base.ctx;
    size_t left = n;
    while (left > 0 && !m->stream_end) {
        uInt piece = left > ZLIB_PIECE ? ZLIB_PIECE : (uInt)left;
        int ret;
        if (m->zs.avail_in == 0 && m->cleft > 0) {
            size_t k = m->cleft < (int64_t)sizeof m->in ? (size_t)m->cleft
                                                        : sizeof m->in;
            SS_CHECK(ss_fread_exact(ctx, m->zip->f, m->in, k, "zip member"));
            m->cleft -= (int64_t)k;
            m->zs.next_in = m->in;
            m->zs.avail_in = (uInt)k;
        }
        m->zs.next_out = buf + (n - left);
        m->zs.avail_out = piece;
        ret = inflate(&m->zs, Z_NO_FLUSH);
        left -= piece - m->zs.avail_out;
        if (ret == Z_STREAM_END)
            m->stream_end = 1;
        else if (ret == Z_BUF_ERROR && m->zs.avail_in == 0 && m->cleft == 0)
            return ss_fail(ctx, SUBSEL_E_FORMAT,
                           "the deflate stream is truncated");
        else if (ret != Z_OK && ret != Z_BUF_ERROR)
            return zlib_error(ctx, ret, &m->zs);
    }
    *got = n - left;
    return SUBSEL_OK;
}

static int member_read(ss_reader *base, void *buf, size_t n, size_t *got)
{
    ss_zip_member *m = (ss_zip_member *)base;
    int64_t left = m->entry.usize - m->produced;
    size_t done = 0;
    if ((uint64_t)n > (uint64_t)left)
        n = (size_t)left;
    if (m->inflating) {
        SS_CHECK(inflate_some(m, buf, n, &done));
    } else {
        SS_CHECK(ss_fread_exact(base->ctx, m->zip->f, buf, n, "zip member"));
        m->cleft -= (int64_t)n;
        done = n;
    }
    m->crc = ss_zip_crc32(base->ctx, m->crc, buf, done);
    m->produced += (int64_t)done;
    base->available = m->entry.usize - m->produced;
    if (done < n)
        return ss_fail(base->ctx, SUBSEL_E_FORMAT,
                       "the member inflates to %lld bytes, the zip "
                       "directory declares %lld",
                       (long long)m->produced, (long long)m->entry.usize);
    *got = done;
    return base->progress
               ? ss_stage_add(base->progress, (int64_t)done, (int64_t)done)
               : SUBSEL_OK;
}

/* The member was read to its declared end: the deflate stream must end
 * there, use all the compressed bytes, and the CRC-32 must match. */
static int member_finish(ss_reader *base)
{
    ss_zip_member *m = (ss_zip_member *)base;
    if (m->produced < m->entry.usize) {
        /* Trailing bytes, or a stream shorter than declared (which the
         * read reports). */
        int64_t left = m->entry.usize - m->produced;
        unsigned char extra[64];
        size_t got = 0;
        SS_CHECK(member_read(base, extra, sizeof extra, &got));
        return ss_fail(base->ctx, SUBSEL_E_FORMAT,
                       "%lld bytes follow the array data", (long long)left);
    }
    while (m->inflating && !m->stream_end) {
        unsigned char extra[64];
        size_t got = 0;
        SS_CHECK(inflate_some(m, extra, sizeof extra, &got));
        if (got > 0)
            return ss_fail(base->ctx, SUBSEL_E_FORMAT,
                           "the member inflates to more than the %lld bytes "
                           "the zip directory declares",
                           (long long)m->entry.usize);
    }
    if (m->cleft > 0 || (m->inflating && m->zs.avail_in > 0))
        return ss_fail(base->ctx, SUBSEL_E_FORMAT,
                       "compressed data continues after the end of the "
                       "deflate stream");
    if (m->crc != m->entry.crc)
        return ss_fail(base->ctx, SUBSEL_E_FORMAT,
                       "CRC-32 mismatch: the zip directory says %08lx, the "
                       "data gives %08lx",
                       (unsigned long)m->entry.crc, (unsigned long)m->crc);
    return SUBSEL_OK;
}

/* Bytes per block of the parallel CRC: large enough that combining the
 * blocks' CRCs costs nothing next to computing them. */
#define CRC_BLOCK ((int64_t)1 << 20)

typedef struct crc_job {
    const subsel_ctx *ctx;
    const unsigned char *data;
    unsigned char *copy; /* or NULL */
    uint32_t *block_crc;
} crc_job;

/* The CRC of one block, of the copy when there is one (just written, so
 * in cache: the file's bytes are read from memory once). */
static int64_t crc_block(void *arg, int64_t begin, int64_t end)
{
    const crc_job *j = arg;
    const unsigned char *p = j->data + begin;
    if (j->copy != NULL) {
        memcpy(j->copy + begin, p, (size_t)(end - begin));
        p = j->copy + begin;
    }
    j->block_crc[begin / CRC_BLOCK] =
        ss_zip_crc32(j->ctx, (uint32_t)crc32(0, Z_NULL, 0), p,
                     (size_t)(end - begin));
    return -1;
}

int64_t ss_zip_member_offset(const ss_zip_member *m)
{
    return m->inflating ? -1 : m->data_offset + m->produced;
}

int ss_zip_member_finish_in_place(ss_zip_member *m, const unsigned char *rest,
                                  void *copy)
{
    subsel_ctx *ctx = m->base.ctx;
    const int64_t n = m->entry.usize - m->produced;
    const int64_t blocks = n > 0 ? (n - 1) / CRC_BLOCK + 1 : 0;
    crc_job job;
    int64_t b, bad;
    int rc = SUBSEL_OK;

    job.ctx = ctx;
    job.data = rest;
    job.copy = copy;
    SS_CHECK(ss_alloc_array(ctx, blocks > 0 ? blocks : 1, sizeof(uint32_t),
                            &job.block_crc));
    SS_TRY(ss_sweep(ctx, m->base.progress, n, CRC_BLOCK, 1, 1, crc_block, &job,
                    &bad));
    for (b = 0; b < blocks; b++) {
        const int64_t len = b + 1 < blocks ? CRC_BLOCK : n - b * CRC_BLOCK;
        m->crc = (uint32_t)crc32_combine(m->crc, job.block_crc[b], (z_off_t)len);
    }
    /* what a read to the end would have left */
    m->produced = m->entry.usize;
    m->cleft = 0;
    m->base.available = 0;
    SS_TRY(member_finish(&m->base));
cleanup:
    ss_free(ctx, job.block_crc);
    return rc;
}

/* Output per inflate call of ss_zip_member_inflate_rest: between pieces
 * the stop flag is read and progress reported. */
#define INFLATE_PIECE ((size_t)1 << 20)

int ss_zip_member_inflate_rest(ss_zip_member *m, const unsigned char *file,
                               unsigned char *out, ss_stage *progress,
                               atomic_int *stop)
{
    const subsel_ctx *ctx = m->base.ctx;
    const int64_t want = m->entry.usize - m->produced;
    unsigned char extra[64]; /* past the declared size: must stay empty */
    int64_t done = 0;
    int ret = Z_OK;

    if (!m->inflating)
        return 0;
    /* until the stream's end, which may come only after the last byte
     * (zlib reads the end code when asked for more) */
    while (!m->stream_end) {
        size_t piece = (uint64_t)(want - done) < INFLATE_PIECE
                           ? (size_t)(want - done)
                           : INFLATE_PIECE;
        unsigned char *to = done < want ? out + done : extra;
        size_t made;
        if (done == want)
            piece = sizeof extra;
        if (atomic_load(stop))
            return 0;
        if (m->zs.avail_in == 0 && m->cleft > 0) {
            /* the member's next compressed bytes, where they lie */
            uInt k = m->cleft > (int64_t)ZLIB_PIECE ? ZLIB_PIECE : (uInt)m->cleft;
            m->zs.next_in = file + m->data_offset + (m->entry.csize - m->cleft);
            m->zs.avail_in = k;
            m->cleft -= k;
        }
        m->zs.next_out = to;
        m->zs.avail_out = (uInt)piece;
        ret = inflate(&m->zs, Z_NO_FLUSH);
        made = piece - m->zs.avail_out;
        if (to == extra && made > 0)
            return 0; /* more than the directory declares */
        m->crc = ss_zip_crc32(ctx, m->crc, to, made);
        done += (int64_t)made;
        if (ret == Z_STREAM_END)
            m->stream_end = 1;
        else if (ret != Z_OK && !(ret == Z_BUF_ERROR && made > 0))
            return 0; /* corrupt or truncated: the stream reader says which */
        if (progress != NULL &&
            ss_stage_add(progress, (int64_t)made, (int64_t)made) != SUBSEL_OK) {
            atomic_store(stop, 1);
            return 0;
        }
    }
    m->produced += done;
    m->base.available = m->entry.usize - m->produced;
    /* the member's end exactly: its size, its CRC, no bytes after it */
    return done == want && m->stream_end && m->cleft == 0 && m->zs.avail_in == 0 &&
           m->crc == m->entry.crc;
}

static const char *method_name(unsigned method)
{
    switch (method) {
    case 9: return " (deflate64)";
    case 12: return " (bzip2)";
    case 14: return " (lzma)";
    case 93: return " (zstd)";
    case 95: return " (xz)";
    default: return "";
    }
}

/* Directory values that make no sense before touching the file. */
static int check_entry(subsel_ctx *ctx, const ss_zip *z, const ss_zip_entry *e)
{
    if (e->flags & 0x41)
        return ss_fail(ctx, SUBSEL_E_UNSUPPORTED,
                       "encrypted zip members are not supported");
    if (e->method != 0 && e->method != 8)
        return ss_fail(ctx, SUBSEL_E_UNSUPPORTED,
                       "compression method %u%s is not supported (stored "
                       "and deflate are)",
                       e->method, method_name(e->method));
    if (e->method == 0 && e->csize != e->usize)
        return ss_fail(ctx, SUBSEL_E_FORMAT,
                       "a stored member of %lld bytes declares %lld "
                       "compressed bytes",
                       (long long)e->usize, (long long)e->csize);
    if (e->method == 8 && e->usize > DEFLATE_SLACK &&
        (e->usize - DEFLATE_SLACK) / DEFLATE_MAX_RATIO > e->csize)
        return ss_fail(ctx, SUBSEL_E_FORMAT,
                       "the member declares %lld bytes, more than deflate "
                       "can produce from %lld",
                       (long long)e->usize, (long long)e->csize);
    if (z->cd_offset < LOCAL_SIZE || e->local_offset > z->cd_offset - LOCAL_SIZE)
        return ss_fail(ctx, SUBSEL_E_FORMAT,
                       "the local header offset %lld lies outside the "
                       "archive's data",
                       (long long)e->local_offset);
    return SUBSEL_OK;
}

/* Reads the local header and returns the offset of the member's data. */
static int read_local_header(ss_zip *z, const ss_zip_entry *e, int64_t *data)
{
    unsigned char h[LOCAL_SIZE], name[SS_ZIP_NAME_MAX];
    size_t name_len, want = strlen(e->name);
    SS_CHECK(ss_seek(z->ctx, z->f, e->local_offset));
    SS_CHECK(ss_fread_exact(z->ctx, z->f, h, sizeof h, "zip local header"));
    if (ss_load_le32(h) != SIG_LOCAL)
        return ss_fail(z->ctx, SUBSEL_E_FORMAT,
                       "no local header at offset %lld",
                       (long long)e->local_offset);
    name_len = ss_load_le16(h + 26);
    if (name_len == want)
        SS_CHECK(ss_fread_exact(z->ctx, z->f, name, want, "zip local header"));
    if (name_len != want || memcmp(name, e->name, want) != 0)
        return ss_fail(z->ctx, SUBSEL_E_FORMAT,
                       "the local header names another member than the "
                       "central directory");
    *data = e->local_offset + LOCAL_SIZE + (int64_t)name_len +
            ss_load_le16(h + 28);
    if (*data > z->cd_offset || e->csize > z->cd_offset - *data)
        return ss_fail(z->ctx, SUBSEL_E_FORMAT,
                       "the member's data (%lld bytes at offset %lld) runs "
                       "into the central directory",
                       (long long)e->csize, (long long)*data);
    return SUBSEL_OK;
}

int ss_zip_member_open(ss_zip *z, const ss_zip_entry *e, ss_zip_member *m)
{
    int64_t data = 0;
    int ret;

    memset(m, 0, offsetof(ss_zip_member, in));
    SS_CHECK(check_entry(z->ctx, z, e));
    SS_CHECK(read_local_header(z, e, &data));
    SS_CHECK(ss_seek(z->ctx, z->f, data));
    m->base.read = member_read;
    m->base.finish = member_finish;
    m->base.ctx = z->ctx;
    m->base.available = e->usize;
    m->zip = z;
    m->entry = *e;
    m->cleft = e->csize;
    m->data_offset = data;
    m->crc = (uint32_t)crc32(0, Z_NULL, 0);
    if (e->method == 8) {
        zlib_hooks(&m->zs, z->ctx);
        ret = inflateInit2(&m->zs, -MAX_WBITS); /* raw deflate */
        if (ret != Z_OK)
            return zlib_error(z->ctx, ret, &m->zs);
        m->inflating = 1;
    }
    return SUBSEL_OK;
}

void ss_zip_member_close(ss_zip_member *m)
{
    if (m->inflating)
        inflateEnd(&m->zs);
    m->inflating = 0;
}

/* ------------------------------------------------------------------------ */
/* Writing                                                                  */
/* ------------------------------------------------------------------------ */

static uint32_t field32(uint64_t v, int force)
{
    return force || v >= U32_MAX ? U32_MAX : (uint32_t)v;
}

/* Member data starts at a multiple of this in the files we write, so that
 * a reader can use an array in place (the .npy header inside pads the
 * array itself to a multiple of 64 from the member's start). */
#define DATA_ALIGN 64
/* The padding extra field: Android zipalign's (id, size, alignment, then
 * zeros), which zip readers skip. */
#define ALIGN_ID 0xD935u
#define ALIGN_FIXED 6
/* Longest local header we write: name, ZIP64 field, padding field. */
#define LOCAL_MAX (LOCAL_SIZE + SS_ZIP_NAME_MAX + 20 + ALIGN_FIXED + DATA_ALIGN)

/* The local header with the member's current sizes and CRC; always with a
 * ZIP64 extra field, so patching it never changes its length, and with
 * padding that puts the data at a multiple of DATA_ALIGN. */
static size_t local_header(unsigned char *h, const ss_zip_written *mw,
                           int force)
{
    size_t n = strlen(mw->name);
    size_t fixed = LOCAL_SIZE + n + 20 + ALIGN_FIXED;
    size_t pad = (DATA_ALIGN - ((uint64_t)mw->offset + fixed) % DATA_ALIGN) %
                 DATA_ALIGN;
    unsigned char *x = h + LOCAL_SIZE + n;
    ss_store_le32(h, SIG_LOCAL);
    ss_store_le16(h + 4, ZIP_VERSION);
    ss_store_le16(h + 6, 0);
    ss_store_le16(h + 8, (uint16_t)mw->method);
    ss_store_le16(h + 10, 0);
    ss_store_le16(h + 12, DOS_DATE_1980);
    ss_store_le32(h + 14, mw->crc);
    ss_store_le32(h + 18, field32((uint64_t)mw->csize, force));
    ss_store_le32(h + 22, field32((uint64_t)mw->usize, force));
    ss_store_le16(h + 26, (uint16_t)n);
    ss_store_le16(h + 28, (uint16_t)(20 + ALIGN_FIXED + pad));
    memcpy(h + LOCAL_SIZE, mw->name, n);
    ss_store_le16(x, 1);
    ss_store_le16(x + 2, 16);
    ss_store_le64(x + 4, (uint64_t)mw->usize);
    ss_store_le64(x + 12, (uint64_t)mw->csize);
    ss_store_le16(x + 20, ALIGN_ID);
    ss_store_le16(x + 22, (uint16_t)(2 + pad));
    ss_store_le16(x + 24, DATA_ALIGN);
    memset(x + 26, 0, pad);
    return fixed + pad;
}

/* Runs deflate over the pending input and writes what it produces. */
static int deflate_out(ss_zip_writer *w, int flush)
{
    ss_zip_written *mw = &w->members[w->count - 1];
    int ret;
    do {
        size_t produced;
        w->zs.next_out = w->out;
        w->zs.avail_out = sizeof w->out;
        ret = deflate(&w->zs, flush);
        if (ret == Z_STREAM_ERROR)
            return ss_fail(w->base.ctx, SUBSEL_E_IO, "deflate failed");
        produced = sizeof w->out - w->zs.avail_out;
        SS_CHECK(ss_fwrite_all(w->base.ctx, w->f, w->out, produced));
        mw->csize += (int64_t)produced;
    } while (w->zs.avail_out == 0 || (flush == Z_FINISH && ret != Z_STREAM_END));
    return SUBSEL_OK;
}

static int member_write(ss_writer *base, const void *buf, size_t n)
{
    ss_zip_writer *w = (ss_zip_writer *)base;
    ss_zip_written *mw = &w->members[w->count - 1];
    const unsigned char *p = buf;
    mw->crc = ss_zip_crc32(base->ctx, mw->crc, p, n);
    mw->usize += (int64_t)n;
    if (!w->deflating) {
        mw->csize += (int64_t)n;
        return ss_fwrite_all(base->ctx, w->f, p, n);
    }
    while (n > 0) {
        uInt piece = n > ZLIB_PIECE ? ZLIB_PIECE : (uInt)n;
        w->zs.next_in = p;
        w->zs.avail_in = piece;
        SS_CHECK(deflate_out(w, Z_NO_FLUSH));
        p += piece;
        n -= piece;
    }
    return SUBSEL_OK;
}

void ss_zip_writer_init(ss_zip_writer *w, subsel_ctx *ctx, FILE *f,
                        int compress, int force_zip64)
{
    memset(w, 0, offsetof(ss_zip_writer, out));
    w->base.write = member_write;
    w->base.ctx = ctx;
    w->f = f;
    w->compress = compress;
    w->force_zip64 = force_zip64;
}

int ss_zip_writer_begin(ss_zip_writer *w, const char *name)
{
    unsigned char h[LOCAL_MAX];
    subsel_ctx *ctx = w->base.ctx;
    ss_zip_written *mw;
    int64_t pos = 0;
    int ret;

    if (w->open || w->count == SS_ZIP_WRITER_MAX ||
        strlen(name) >= SS_ZIP_NAME_MAX)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "zip writer: cannot begin member '%s'", name);
    SS_CHECK(ss_tell(ctx, w->f, &pos));
    mw = &w->members[w->count++];
    memset(mw, 0, sizeof *mw);
    snprintf(mw->name, sizeof mw->name, "%s", name);
    mw->method = w->compress ? 8 : 0;
    mw->offset = pos;
    mw->crc = (uint32_t)crc32(0, Z_NULL, 0);
    w->open = 1;
    SS_CHECK(ss_fwrite_all(ctx, w->f, h, local_header(h, mw, w->force_zip64)));
    if (w->compress) {
        zlib_hooks(&w->zs, ctx);
        ret = deflateInit2(&w->zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED,
                           -MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
        if (ret != Z_OK)
            return ret == Z_MEM_ERROR
                       ? ss_fail_prefix(ctx, SUBSEL_E_NOMEM, "zlib")
                       : ss_fail(ctx, SUBSEL_E_IO, "deflateInit2 failed");
        w->deflating = 1;
    }
    return SUBSEL_OK;
}

int ss_zip_writer_end(ss_zip_writer *w)
{
    unsigned char h[LOCAL_MAX];
    ss_zip_written *mw = &w->members[w->count - 1];
    int64_t end = 0;

    if (w->deflating) {
        SS_CHECK(deflate_out(w, Z_FINISH));
        deflateEnd(&w->zs);
        w->deflating = 0;
    }
    SS_CHECK(ss_tell(w->base.ctx, w->f, &end));
    SS_CHECK(ss_seek(w->base.ctx, w->f, mw->offset));
    SS_CHECK(ss_fwrite_all(w->base.ctx, w->f, h,
                           local_header(h, mw, w->force_zip64)));
    SS_CHECK(ss_seek(w->base.ctx, w->f, end));
    w->open = 0;
    return SUBSEL_OK;
}

static int write_central_entry(ss_zip_writer *w, const ss_zip_written *mw)
{
    unsigned char h[CENTRAL_SIZE + SS_ZIP_NAME_MAX + 28], *x;
    size_t n = strlen(mw->name), xlen = 0;
    /* usize, csize, offset: the order of the ZIP64 extra field. */
    const int64_t values[3] = {mw->usize, mw->csize, mw->offset};
    uint32_t fields[3];
    int i;

    x = h + CENTRAL_SIZE + n;
    for (i = 0; i < 3; i++) {
        fields[i] = field32((uint64_t)values[i], w->force_zip64);
        if (fields[i] != U32_MAX)
            continue;
        xlen = xlen == 0 ? 4 : xlen;
        ss_store_le64(x + xlen, (uint64_t)values[i]);
        xlen += 8;
    }
    if (xlen > 0) {
        ss_store_le16(x, 1);
        ss_store_le16(x + 2, (uint16_t)(xlen - 4));
    }
    ss_store_le32(h, SIG_CENTRAL);
    ss_store_le16(h + 4, ZIP_MADE_BY);
    ss_store_le16(h + 6, ZIP_VERSION);
    ss_store_le16(h + 8, 0);
    ss_store_le16(h + 10, (uint16_t)mw->method);
    ss_store_le16(h + 12, 0);
    ss_store_le16(h + 14, DOS_DATE_1980);
    ss_store_le32(h + 16, mw->crc);
    ss_store_le32(h + 20, fields[1]);
    ss_store_le32(h + 24, fields[0]);
    ss_store_le16(h + 28, (uint16_t)n);
    ss_store_le16(h + 30, (uint16_t)xlen);
    ss_store_le16(h + 32, 0);
    ss_store_le16(h + 34, 0);
    ss_store_le16(h + 36, 0);
    ss_store_le32(h + 38, EXTERNAL_ATTR);
    ss_store_le32(h + 42, fields[2]);
    memcpy(h + CENTRAL_SIZE, mw->name, n);
    return ss_fwrite_all(w->base.ctx, w->f, h, CENTRAL_SIZE + n + xlen);
}

/* ZIP64 end record and its locator, written at offset `pos`. */
static int write_zip64_end(ss_zip_writer *w, int64_t pos, int64_t cd_offset,
                           int64_t cd_size)
{
    unsigned char r[EOCD64_SIZE + LOCATOR64_SIZE], *loc = r + EOCD64_SIZE;
    ss_store_le32(r, SIG_EOCD64);
    ss_store_le64(r + 4, EOCD64_SIZE - 12);
    ss_store_le16(r + 12, ZIP_MADE_BY);
    ss_store_le16(r + 14, ZIP_VERSION);
    ss_store_le32(r + 16, 0);
    ss_store_le32(r + 20, 0);
    ss_store_le64(r + 24, (uint64_t)w->count);
    ss_store_le64(r + 32, (uint64_t)w->count);
    ss_store_le64(r + 40, (uint64_t)cd_size);
    ss_store_le64(r + 48, (uint64_t)cd_offset);
    ss_store_le32(loc, SIG_LOCATOR64);
    ss_store_le32(loc + 4, 0);
    ss_store_le64(loc + 8, (uint64_t)pos);
    ss_store_le32(loc + 16, 1);
    return ss_fwrite_all(w->base.ctx, w->f, r, sizeof r);
}

int ss_zip_writer_finish(ss_zip_writer *w)
{
    unsigned char r[EOCD_SIZE];
    int64_t cd_offset = 0, end = 0;
    int i, zip64;

    SS_CHECK(ss_tell(w->base.ctx, w->f, &cd_offset));
    for (i = 0; i < w->count; i++)
        SS_CHECK(write_central_entry(w, &w->members[i]));
    SS_CHECK(ss_tell(w->base.ctx, w->f, &end));
    zip64 = w->force_zip64 || (uint64_t)cd_offset >= U32_MAX ||
            (uint64_t)(end - cd_offset) >= U32_MAX;
    if (zip64)
        SS_CHECK(write_zip64_end(w, end, cd_offset, end - cd_offset));
    ss_store_le32(r, SIG_EOCD);
    ss_store_le16(r + 4, 0);
    ss_store_le16(r + 6, 0);
    ss_store_le16(r + 8, (uint16_t)(zip64 ? U16_MAX : (unsigned)w->count));
    ss_store_le16(r + 10, (uint16_t)(zip64 ? U16_MAX : (unsigned)w->count));
    ss_store_le32(r + 12, field32((uint64_t)(end - cd_offset), zip64));
    ss_store_le32(r + 16, field32((uint64_t)cd_offset, zip64));
    ss_store_le16(r + 20, 0);
    return ss_fwrite_all(w->base.ctx, w->f, r, sizeof r);
}

void ss_zip_writer_release(ss_zip_writer *w)
{
    if (w->deflating)
        deflateEnd(&w->zs);
    w->deflating = 0;
}
