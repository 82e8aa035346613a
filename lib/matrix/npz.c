/* SPDX-License-Identifier: MIT */
/*
 * SciPy sparse .npz files: scipy.sparse.save_npz writes a CSR matrix as the
 * .npy members format, shape, indptr, indices and data of a zip archive.
 * Each array is streamed from its member straight into the buffer the
 * matrix then adopts, and checked as it comes (lengths against each other,
 * row pointers, column indices against the shape), so that memory peaks at
 * the CSR arrays plus fixed buffers and every message names the member at
 * fault. The writer produces what save_npz does.
 */
#include <stdatomic.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "core/alloc.h"
#include "core/ctx.h"
#include "core/error.h"
#include "matrix/mapping.h"
#include "matrix/matrix.h"
#include "matrix/npy.h"
#include "matrix/npz.h"
#include "matrix/zip.h"

/* ------------------------------------------------------------------------ */
/* Reading                                                                  */
/* ------------------------------------------------------------------------ */

/* One numeric member to read: a 1-D array of `count` values. */
typedef struct npz_array {
    const char *name;
    int type;           /* target type, SS_NPY_* */
    int64_t count;      /* the length the other members imply */
    const char *why;    /* where that length comes from, for messages */
    int64_t lo, hi;     /* accepted integer values */
    void *data;         /* destination; NULL: allocated on the context */
    int64_t bad;        /* out: position of a refused value, else -1 */
    int64_t bad_value;  /* out: that value */
    int keep_width;     /* an index array: type SS_NPY_I8 becomes SS_NPY_I4
                           when the file has int32 */
    int in_place;       /* out: data points into the mapped file */
    int defer_crc;      /* in place, the CRC may wait for the validation */
    uint32_t head_crc;  /* out, deferred: the CRC of the member's bytes
                           before the array (its .npy header) */
    uint32_t want_crc;  /* out, deferred: the directory's CRC */
    uint32_t *block_crc; /* deferred: the array's CRC per validation block */
} npz_array;

/* The five members save_npz writes, in the order they are read. */
static const char *const member_names[5] = {"format.npy", "shape.npy",
                                            "indptr.npy", "indices.npy",
                                            "data.npy"};

/* An archive being loaded: the members' uncompressed bytes count towards
 * progress stage "load", whose total is the sum of their sizes. */
typedef struct npz_load {
    ss_zip zip;
    ss_stage progress;
    ss_mapping *map; /* the file, when mapped */
    int mapped;      /* an array was read from the mapping */
    int methods[2];  /* of indices.npy and data.npy (big_member_methods) */
} npz_load;

/* Opens member `name` and parses its .npy header, its bytes counted on
 * `progress` (or not: NULL); on success the caller closes the member. */
static int open_member_with(npz_load *l, const char *name, ss_zip_member *m,
                            ss_npy_header *h, ss_stage *progress)
{
    ss_zip_entry e;
    int rc;
    SS_CHECK(ss_zip_find(&l->zip, name, &e));
    SS_CHECK(ss_zip_member_open(&l->zip, &e, m));
    m->base.progress = progress;
    rc = ss_npy_read_header(&m->base, h);
    if (rc < 0)
        ss_zip_member_close(m);
    return rc;
}

static int open_member(npz_load *l, const char *name, ss_zip_member *m,
                       ss_npy_header *h)
{
    return open_member_with(l, name, m, h, &l->progress);
}

/* Starts progress with the sum of the members' sizes (saturated: a lying
 * directory is caught when the member is read). */
static int begin_progress(npz_load *l)
{
    int64_t total = 0;
    int i;
    for (i = 0; i < 5; i++) {
        ss_zip_entry e;
        /* a missing member is reported, by name, when it is read */
        if (ss_zip_find(&l->zip, member_names[i], &e) == SUBSEL_OK)
            total = e.usize > INT64_MAX - total ? INT64_MAX : total + e.usize;
    }
    return ss_stage_begin(&l->progress, l->zip.ctx, "load", total);
}

/* Reads a stored member's array from the mapped file, when the file is
 * mapped and the array is already what the matrix holds (its type, host
 * order, the member's last bytes): in place when it is aligned (*in_place
 * 1; archives subsel writes), else copied to a new buffer on the way
 * through the CRC check (SciPy's members start at odd offsets); *read is
 * then 1 and the member's CRC has been checked. Anything else is streamed
 * by the caller. The range checks that streaming does on the fly are the
 * validation's for an array read here. */
static int read_mapped(npz_load *l, ss_zip_member *m, const ss_npy_header *h,
                       npz_array *a, int *read)
{
    subsel_ctx *ctx = l->zip.ctx;
    const int64_t at = ss_zip_member_offset(m);
    void *copy = NULL;
    int rc;
    *read = 0;
    if (l->map == NULL || a->data != NULL || SS_BIG_ENDIAN || at < 0 ||
        h->type != a->type || m->entry.usize - m->produced != h->data_bytes ||
        !ss_mapping_fits(l->map, at, h->data_bytes, 1))
        return SUBSEL_OK;
    a->in_place = ss_mapping_fits(l->map, at, h->data_bytes, h->itemsize);
    l->mapped = 1;
    if (a->in_place && a->defer_crc) {
        /* checked block by block in the validation's pass (check_crc) */
        a->head_crc = m->crc;
        a->want_crc = m->entry.crc;
        a->data = (void *)(l->map->data + at);
        *read = 1;
        return SUBSEL_OK;
    }
    a->defer_crc = 0;
    if (!a->in_place)
        SS_CHECK(ss_alloc_array(ctx, h->count, h->itemsize, &copy));
    rc = ss_zip_member_finish_in_place(m, l->map->data + at, copy);
    if (rc < 0) {
        ss_free(ctx, copy);
        a->in_place = 0;
        return rc;
    }
    a->data = a->in_place ? (void *)(l->map->data + at) : copy;
    *read = 1;
    return SUBSEL_OK;
}

static int read_array(npz_load *l, npz_array *a)
{
    ss_zip *z = &l->zip;
    subsel_ctx *ctx = z->ctx;
    ss_zip_member m;
    ss_npy_header h;
    ss_npy_target t;
    char shape[64];
    void *buf = a->data;
    int opened = 0, mapped = 0, rc = SUBSEL_OK;

    a->bad = -1;
    SS_TRY(open_member(l, a->name, &m, &h));
    opened = 1;
    /* index arrays stay in the file's width: no conversion, and an int32
     * file takes half the memory */
    if (a->keep_width && a->type == SS_NPY_I8 && h.type == SS_NPY_I4)
        a->type = SS_NPY_I4;
    if (!ss_npy_converts_to(&h, a->type))
        SS_TRY(ss_fail(ctx, SUBSEL_E_UNSUPPORTED,
                       "dtype '%s' is not supported here (%s are)", h.descr,
                       a->type == SS_NPY_F4 ? "float32, float64, int32 and "
                                              "int64"
                                            : "int32 and int64"));
    if (h.ndim != 1 || h.count != a->count)
        SS_TRY(ss_fail(ctx, SUBSEL_E_FORMAT,
                       "shape %s, expected (%lld,) from %s",
                       ss_npy_shape_text(&h, shape, sizeof shape),
                       (long long)a->count, a->why));
    SS_TRY(read_mapped(l, &m, &h, a, &mapped));
    if (mapped)
        goto cleanup;
    if (buf == NULL)
        SS_TRY(ss_alloc_array(ctx, a->count, ss_npy_type_size(a->type), &buf));
    ss_npy_target_init(&t, a->type, buf);
    t.lo = a->lo;
    t.hi = a->hi;
    rc = ss_npy_read_data(&m.base, &h, &t);
    a->bad = t.bad;
    a->bad_value = t.bad_value;
    SS_TRY(rc);
    SS_TRY(m.base.finish(&m.base));
    a->data = buf;
cleanup:
    if (opened)
        ss_zip_member_close(&m);
    if (rc < 0) {
        if (buf != a->data)
            ss_free(ctx, buf);
        rc = ss_fail_prefix(ctx, rc, "%s", a->name);
    }
    return rc;
}

/* The string's characters up to its first NUL, unprintable ones as '?'. */
static void decode_string(const unsigned char *raw, const ss_npy_header *h,
                          char *out, size_t cap)
{
    size_t step = h->type == SS_NPY_UNICODE ? 4 : 1, n = h->itemsize / step;
    size_t i, k = 0;
    for (i = 0; i < n && k + 1 < cap; i++) {
        uint32_t c = step == 4 ? ss_load_le32(raw + 4 * i) : raw[i];
        if (c == 0)
            break;
        out[k++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    out[k] = '\0';
}

/* format.npy holds the sparse format's name: b'csr' ('|S3') as save_npz
 * writes it, or 'csr' ('<U3') as some versions and tools do. */
static int read_format(npz_load *l)
{
    subsel_ctx *ctx = l->zip.ctx;
    ss_zip_member m;
    ss_npy_header h;
    unsigned char raw[64];
    char name[17], shape[64];
    int opened = 0, rc = SUBSEL_OK;

    SS_TRY(open_member(l, "format.npy", &m, &h));
    opened = 1;
    if ((h.type != SS_NPY_BYTES && h.type != SS_NPY_UNICODE) ||
        h.count != 1 || h.itemsize > sizeof raw)
        SS_TRY(ss_fail(ctx, SUBSEL_E_FORMAT,
                       "expected a short string, found dtype '%s' with "
                       "shape %s",
                       h.descr, ss_npy_shape_text(&h, shape, sizeof shape)));
    SS_TRY(ss_read_exact(&m.base, raw, h.itemsize, "array data"));
    SS_TRY(m.base.finish(&m.base));
    decode_string(raw, &h, name, sizeof name);
    if (strcmp(name, "csr") != 0)
        SS_TRY(ss_fail(ctx, SUBSEL_E_UNSUPPORTED,
                       "sparse format '%s' is not supported: convert the "
                       "matrix with .tocsr() before save_npz",
                       name));
cleanup:
    if (opened)
        ss_zip_member_close(&m);
    return rc < 0 ? ss_fail_prefix(ctx, rc, "format.npy") : rc;
}

static int read_shape(npz_load *l, int64_t shape[2])
{
    /* rows + 1 row pointers must be countable. */
    npz_array a = {"shape.npy", SS_NPY_I8, 2, "(rows, cols)", 0,
                   INT64_MAX - 1, shape, -1, 0, 0, 0, 0, 0, 0, NULL};
    int rc = read_array(l, &a);
    if (rc == SUBSEL_E_FORMAT && a.bad >= 0)
        return ss_fail(l->zip.ctx, rc, "shape.npy: dimension %lld is out of range",
                       (long long)a.bad_value);
    SS_CHECK(rc);
    if (shape[1] > INT32_MAX)
        return ss_fail(l->zip.ctx, SUBSEL_E_UNSUPPORTED,
                       "shape.npy: %lld columns do not fit int32 column "
                       "indices",
                       (long long)shape[1]);
    return SUBSEL_OK;
}

/* The methods (0 stored, 8 deflated, -1 missing) of the two big members,
 * indices and values. */
static void big_member_methods(ss_zip *z, int method[2])
{
    static const char *const names[2] = {"indices.npy", "data.npy"};
    int i;
    for (i = 0; i < 2; i++) {
        ss_zip_entry e;
        method[i] = ss_zip_find(z, names[i], &e) == SUBSEL_OK ? (int)e.method : -1;
    }
}

/* 1 when both big members are deflated and two threads can inflate them
 * at once (inflate_pair). */
static int pair_can_inflate(subsel_ctx *ctx, const int method[2])
{
    return method[0] == 8 && method[1] == 8 && !SS_BIG_ENDIAN &&
           ss_threads_for(ctx, 2) >= 2;
}

/* The column indices and the values, both deflated and of the matrix's
 * own types, inflated at once on two threads straight into their arrays,
 * from the mapped file (the caller's thread reports progress and can
 * cancel). *done is 0 when the pair does not qualify (nothing reported:
 * the caller reads the members one by one, which reports any fault of
 * their headers). A member that does not end as the directory says is
 * SUBSEL_E_FORMAT without its own words: the archive is then read again as
 * a stream (load_seekable), which says what is wrong. The range checks
 * that streaming does on the fly are the validation's here. */
static int inflate_pair(npz_load *l, npz_array *ix, npz_array *v, int *done)
{
    subsel_ctx *ctx = l->zip.ctx;
    npz_array *a[2];
    ss_zip_member m[2];
    ss_npy_header h[2];
    void *buf[2] = {NULL, NULL};
    int opened[2] = {0, 0}, ok[2] = {0, 0}, i, rc = SUBSEL_OK;
    atomic_int stop;

    *done = 0;
    a[0] = ix;
    a[1] = v;
    if (l->map == NULL || !pair_can_inflate(ctx, l->methods))
        return SUBSEL_OK;
    for (i = 0; i < 2; i++) {
        if (open_member_with(l, a[i]->name, &m[i], &h[i], NULL) != SUBSEL_OK)
            goto cleanup;
        opened[i] = 1;
        if (a[i]->keep_width && a[i]->type == SS_NPY_I8 && h[i].type == SS_NPY_I4)
            a[i]->type = SS_NPY_I4;
        if (h[i].type != a[i]->type || h[i].fortran_order || h[i].ndim != 1 ||
            h[i].count != a[i]->count ||
            m[i].entry.usize - m[i].produced != h[i].data_bytes)
            goto cleanup;
    }
    *done = 1;
    l->mapped = 1;
    for (i = 0; i < 2; i++) {
        SS_TRY(ss_stage_add(&l->progress, m[i].produced, m[i].produced));
        SS_TRY(ss_alloc_array(ctx, h[i].count, h[i].itemsize, &buf[i]));
    }
    atomic_init(&stop, 0);
#pragma omp parallel for num_threads(2) schedule(static, 1)
    for (i = 0; i < 2; i++) {
        /* thread 0 is the caller's: the one that may call back */
        int caller = 1;
#ifdef _OPENMP
        caller = omp_get_thread_num() == 0;
#endif
        ok[i] = ss_zip_member_inflate_rest(&m[i], l->map->data, buf[i],
                                           caller ? &l->progress : NULL,
                                           &stop);
    }
    if (atomic_load(&stop)) /* the progress callback's answer, on ctx */
        SS_TRY(SUBSEL_E_CANCELLED);
    if (!ok[0] || !ok[1])
        SS_TRY(ss_fail(ctx, SUBSEL_E_FORMAT, "a deflated member is damaged"));
    for (i = 0; i < 2; i++) {
        a[i]->data = buf[i];
        buf[i] = NULL;
    }
cleanup:
    for (i = 0; i < 2; i++) {
        if (opened[i])
            ss_zip_member_close(&m[i]);
        ss_free(ctx, buf[i]);
    }
    return rc;
}

/* The row pointers are checked as soon as they are read, so the message
 * names indptr.npy and the column checks below can name rows; ss_csr_adopt
 * checks the whole structure again. */
static int check_indptr(subsel_ctx *ctx, ss_index_array indptr, int ptr64,
                        int64_t rows)
{
    int rc = ss_csr_check_indptr(ctx, indptr, ptr64, rows);
    return rc < 0 ? ss_fail_prefix(ctx, rc, "indptr.npy") : rc;
}

/* The arrays in place whose CRC the validation's pass computes, block by
 * block while the block is in cache: the file's bytes are read from memory
 * once. */
typedef struct crc_hook {
    const subsel_ctx *ctx;
    npz_array *array[2];
    int count;
} crc_hook;

static void crc_of_block(void *arg, int64_t block, int64_t first,
                         int64_t last)
{
    const crc_hook *k = arg;
    int i;
    for (i = 0; i < k->count; i++) {
        const npz_array *a = k->array[i];
        const size_t size = ss_npy_type_size(a->type);
        a->block_crc[block] = ss_zip_crc32(
            k->ctx, (uint32_t)crc32(0, Z_NULL, 0),
            (const unsigned char *)a->data + (size_t)first * size,
            (size_t)(last - first) * size);
    }
}

/* The member's CRC from its header's and its blocks' (after a validation
 * that saw every block); SUBSEL_E_FORMAT when it is not the directory's
 * (load_seekable then reads the archive again as a stream, whose message
 * names the member). */
static int check_crc(subsel_ctx *ctx, const npz_array *a, ss_index_array ip,
                     int ptr64, int64_t rows)
{
    const size_t size = ss_npy_type_size(a->type);
    uint32_t crc = a->head_crc;
    int64_t b, begin;
    for (b = 0, begin = 0; begin < rows; b++, begin += SS_VALIDATE_BLOCK_ROWS) {
        int64_t end = rows - begin < SS_VALIDATE_BLOCK_ROWS
                          ? rows
                          : begin + SS_VALIDATE_BLOCK_ROWS;
        int64_t n = ptr64 ? ip.i64[end] - ip.i64[begin]
                          : (int64_t)ip.i32[end] - ip.i32[begin];
        crc = (uint32_t)crc32_combine(crc, a->block_crc[b],
                                      (z_off_t)(n * (int64_t)size));
    }
    if (crc != a->want_crc)
        return ss_fail(ctx, SUBSEL_E_FORMAT, "%s: CRC-32 mismatch", a->name);
    return SUBSEL_OK;
}

/* The archive in a seekable FILE, mapped when `map` and the context allow;
 * *mapped says whether an array was read from the mapping. */
static int load_archive(subsel_ctx *ctx, FILE *f, int map, int *mapped,
                        subsel_csr **out)
{
    npz_load l;
    crc_hook hook;
    int64_t shape[2] = {0, 0}, nnz;
    npz_array ip = {"indptr.npy", SS_NPY_I8, 0, "rows + 1 (shape.npy)",
                    INT64_MIN, INT64_MAX, NULL, -1, 0, 1, 0, 0, 0, 0, NULL};
    npz_array ix = {"indices.npy", SS_NPY_I8, 0, "the last row pointer",
                    0, 0, NULL, -1, 0, 1, 0, 1, 0, 0, NULL};
    ss_index_array ipa;
    int ptr64;
    npz_array v = {"data.npy", SS_NPY_F4, 0, "the last row pointer",
                   INT64_MIN, INT64_MAX, NULL, -1, 0, 0, 0, 1, 0, 0, NULL};
    int zip_open = 0, pair = 0, i, rc = SUBSEL_OK;

    l.map = NULL;
    l.mapped = 0;
    hook.ctx = ctx;
    hook.count = 0;
    SS_TRY(ss_zip_open(&l.zip, ctx, f));
    zip_open = 1;
    /* mapped only where it pays: a stored big member (used in place or
     * copied in its CRC pass), or a deflated pair inflated at once */
    big_member_methods(&l.zip, l.methods);
    if (map && (l.methods[0] == 0 || l.methods[1] == 0 ||
                pair_can_inflate(ctx, l.methods)))
        SS_TRY(ss_mapping_open(ctx, f, &l.map));
    SS_TRY(begin_progress(&l));
    SS_TRY(read_format(&l));
    SS_TRY(read_shape(&l, shape));
    ip.count = shape[0] + 1;
    SS_TRY(read_array(&l, &ip));
    ipa.any = ip.data;
    ptr64 = ip.type == SS_NPY_I8;
    SS_TRY(check_indptr(ctx, ipa, ptr64, shape[0]));
    nnz = ptr64 ? ipa.i64[shape[0]] : ipa.i32[shape[0]];
    ix.count = v.count = nnz;
    ix.hi = shape[1] - 1;
    SS_TRY(inflate_pair(&l, &ix, &v, &pair));
    if (!pair)
        rc = read_array(&l, &ix);
    if (rc == SUBSEL_E_FORMAT && ix.bad >= 0)
        rc = ss_fail(ctx, rc,
                     "indices.npy: column index %lld out of range [0, %lld) "
                     "in row %lld (entry %lld)",
                     (long long)ix.bad_value, (long long)shape[1],
                     (long long)ss_csr_row_of_entry(ipa, ptr64, shape[0],
                                                    ix.bad),
                     (long long)ix.bad);
    SS_TRY(rc);
    if (!pair)
        SS_TRY(read_array(&l, &v));
    SS_TRY(ss_stage_end(&l.progress));
    if (ix.in_place && ix.defer_crc)
        hook.array[hook.count++] = &ix;
    if (v.in_place && v.defer_crc)
        hook.array[hook.count++] = &v;
    for (i = 0; i < hook.count; i++)
        SS_TRY(ss_alloc_array(ctx, shape[0] / SS_VALIDATE_BLOCK_ROWS + 1,
                              sizeof(uint32_t), &hook.array[i]->block_crc));
    {
        /* the arrays in the file are the mapping's, the others ours */
        void *const owned[3] = {ip.in_place ? NULL : ip.data,
                                ix.in_place ? NULL : ix.data,
                                v.in_place ? NULL : v.data};
        rc = ss_csr_adopt_kept(ctx, shape[0], shape[1], ip.data, ptr64,
                               ix.data, ix.type == SS_NPY_I8, v.data, owned,
                               l.map, ss_mapping_release,
                               hook.count > 0 ? crc_of_block : NULL, &hook, out);
    }
    ip.data = ix.data = v.data = NULL; /* adopted, or freed by ss_csr_adopt */
    for (i = 0; i < hook.count && rc == SUBSEL_OK; i++)
        rc = check_crc(ctx, hook.array[i], ipa, ptr64, shape[0]);
    if (rc < 0 && *out != NULL) {
        subsel_csr_free(*out);
        *out = NULL;
    }
    /* With lengths, row pointers and index ranges checked above, what is
     * left to fail is the order of the indices or the values' finiteness. */
    if (rc == SUBSEL_E_FORMAT)
        rc = ss_fail_prefix(ctx, rc, "indices.npy");
    else if (rc == SUBSEL_E_NUMERIC)
        rc = ss_fail_prefix(ctx, rc, "data.npy");
cleanup:
    if (zip_open)
        ss_zip_close(&l.zip);
    if (!ip.in_place)
        ss_free(ctx, ip.data);
    if (!ix.in_place)
        ss_free(ctx, ix.data);
    if (!v.in_place)
        ss_free(ctx, v.data);
    ss_free(ctx, ix.block_crc);
    ss_free(ctx, v.block_crc);
    ss_mapping_release(l.map); /* the matrix holds its own reference */
    *mapped = l.mapped;
    return rc;
}

/* A damaged archive read from its mapping is read again as a stream, so
 * that the fault reported is the one streaming meets first (a column out
 * of range, a CRC, the order of the indices), with the same message,
 * whichever way the bytes came. */
static int load_seekable(subsel_ctx *ctx, FILE *f, subsel_csr **out)
{
    int mapped = 0;
    int rc = load_archive(ctx, f, 1, &mapped, out);
    if (mapped && (rc == SUBSEL_E_FORMAT || rc == SUBSEL_E_NUMERIC))
        rc = load_archive(ctx, f, 0, &mapped, out);
    return rc;
}

/* A zip's directory sits at its end, so a stream (a pipe, /dev/stdin) is
 * read into memory first, through the context's allocator, and the
 * archive parsed from there. */
static int load_stream(subsel_ctx *ctx, FILE *f, subsel_csr **out)
{
    unsigned char *data = NULL;
    int64_t size = 0;
    FILE *mem = NULL;
    int rc = SUBSEL_OK;

    SS_TRY(ss_read_stream(ctx, f, &data, &size));
    if (size == 0) /* fmemopen refuses empty buffers */
        SS_TRY(ss_fail(ctx, SUBSEL_E_FORMAT,
                       "not a zip file: the stream is empty"));
    mem = fmemopen(data, (size_t)size, "rb");
    if (mem == NULL)
        SS_TRY(ss_fail(ctx, SUBSEL_E_NOMEM,
                       "cannot open the stream's %lld bytes as a file",
                       (long long)size));
    rc = load_seekable(ctx, mem, out);
cleanup:
    if (mem != NULL)
        fclose(mem);
    ss_free(ctx, data);
    return rc;
}

int ss_npz_load_csr(subsel_ctx *ctx, FILE *f, subsel_csr **out)
{
    *out = NULL;
    return ss_file_size(f) < 0 ? load_stream(ctx, f, out)
                               : load_seekable(ctx, f, out);
}

static int load_cb(subsel_ctx *ctx, FILE *f, void *out)
{
    return ss_npz_load_csr(ctx, f, out);
}

int subsel_csr_load_npz(subsel_ctx *ctx, const char *path, subsel_csr **out)
{
    SS_REQUIRE_CTX(ctx);
    SS_REQUIRE_NONNULL(ctx, out);
    *out = NULL;
    SS_REQUIRE_NONNULL(ctx, path);
    return ss_read_file(ctx, path, load_cb, out);
}

/* Only format.npy and shape.npy of a seekable archive: a shard's row
 * count without its arrays. */
static int shape_cb(subsel_ctx *ctx, FILE *f, void *arg)
{
    npz_load l;
    int rc;
    l.map = NULL; /* only the directory and two small members are read */
    if (ss_file_size(f) < 0)
        return ss_fail(ctx, SUBSEL_E_UNSUPPORTED,
                       "reading only the shape of an .npz needs a seekable file");
    SS_CHECK(ss_zip_open(&l.zip, ctx, f));
    rc = begin_progress(&l);
    if (rc == SUBSEL_OK)
        rc = read_format(&l);
    if (rc == SUBSEL_OK)
        rc = read_shape(&l, arg);
    ss_zip_close(&l.zip);
    return rc;
}

int subsel_csr_npz_shape(subsel_ctx *ctx, const char *path, int64_t *rows,
                         int64_t *cols)
{
    int64_t shape[2] = {0, 0};
    SS_REQUIRE_CTX(ctx);
    SS_REQUIRE_NONNULL(ctx, path);
    SS_REQUIRE_NONNULL(ctx, rows);
    SS_REQUIRE_NONNULL(ctx, cols);
    SS_CHECK(ss_read_file(ctx, path, shape_cb, shape));
    *rows = shape[0];
    *cols = shape[1];
    return SUBSEL_OK;
}

/* ------------------------------------------------------------------------ */
/* Writing                                                                  */
/* ------------------------------------------------------------------------ */

typedef struct npz_job {
    const subsel_csr *csr;
    int compressed, force_zip64;
} npz_job;

int ss_npz_write_member(ss_zip_writer *w, const char *name, const char *descr,
                        int ndim, const int64_t *shape, const void *data,
                        int64_t count, size_t itemsize)
{
    SS_CHECK(ss_zip_writer_begin(w, name));
    SS_CHECK(ss_npy_write_header(&w->base, descr, ndim, shape));
    SS_CHECK(ss_write_le(&w->base, data, count, itemsize));
    return ss_zip_writer_end(w);
}

/* Writes n index values, value(m, first + i) - base, as int32 when
 * `narrow` else int64, through a fixed buffer. */
static int write_indices(ss_zip_writer *w, const subsel_csr *m, int64_t first,
                         int64_t n, int64_t base, int narrow,
                         int64_t (*value)(const subsel_csr *, int64_t))
{
    union {
        int32_t i32[SS_IO_CHUNK / sizeof(int32_t)];
        int64_t i64[SS_IO_CHUNK / sizeof(int64_t)];
    } buf;
    const int64_t per = narrow ? (int64_t)(sizeof buf.i32 / sizeof buf.i32[0])
                               : (int64_t)(sizeof buf.i64 / sizeof buf.i64[0]);
    int64_t done = 0;
    while (done < n) {
        int64_t k = n - done < per ? n - done : per, i;
        for (i = 0; i < k; i++) {
            int64_t v = value(m, first + done + i) - base;
            if (narrow)
                buf.i32[i] = (int32_t)v;
            else
                buf.i64[i] = v;
        }
        SS_CHECK(ss_write_le(&w->base, &buf, k, narrow ? 4 : 8));
        done += k;
    }
    return SUBSEL_OK;
}

/* Row pointers relative to the first (a row view's start at an offset in
 * its parent's arrays), as int32 when nnz allows, as save_npz does for
 * matrices that fit, else int64. */
static int write_indptr(ss_zip_writer *w, const subsel_csr *m)
{
    const int64_t n = m->rows + 1;
    const int narrow = m->nnz <= INT32_MAX;
    SS_CHECK(ss_zip_writer_begin(w, "indptr.npy"));
    SS_CHECK(ss_npy_write_header(&w->base, narrow ? "<i4" : "<i8", 1, &n));
    SS_CHECK(write_indices(w, m, 0, n, ss_csr_ptr(m, 0), narrow, ss_csr_ptr));
    return ss_zip_writer_end(w);
}

/* Column indices as int32 (every column fits): those of an int64 matrix
 * narrowed through the buffer. */
static int write_columns(ss_zip_writer *w, const subsel_csr *m)
{
    const int64_t first = ss_csr_ptr(m, 0);
    SS_CHECK(ss_zip_writer_begin(w, "indices.npy"));
    SS_CHECK(ss_npy_write_header(&w->base, "<i4", 1, &m->nnz));
    if (m->idx64)
        SS_CHECK(write_indices(w, m, first, m->nnz, 0, 1, ss_csr_col));
    else
        SS_CHECK(ss_write_le(&w->base, m->nnz > 0 ? m->indices.i32 + first : NULL,
                             m->nnz, sizeof(int32_t)));
    return ss_zip_writer_end(w);
}

/* The members in save_npz's order. */
static int write_npz(subsel_ctx *ctx, FILE *f, void *arg)
{
    const npz_job *job = arg;
    const subsel_csr *m = job->csr;
    const int64_t shape[2] = {m->rows, m->cols}, two = 2;
    /* A row view's entries start at its first row pointer in its parent's
     * arrays. */
    const float *values = m->nnz > 0 ? m->values + ss_csr_ptr(m, 0) : NULL;
    ss_zip_writer w;
    int rc = SUBSEL_OK;

    ss_zip_writer_init(&w, ctx, f, job->compressed, job->force_zip64);
    SS_TRY(write_columns(&w, m));
    SS_TRY(write_indptr(&w, m));
    SS_TRY(ss_npz_write_member(&w, "format.npy", "|S3", 0, NULL, "csr", 3, 1));
    SS_TRY(ss_npz_write_member(&w, "shape.npy", "<i8", 1, &two, shape, 2,
                               sizeof(int64_t)));
    SS_TRY(ss_npz_write_member(&w, "data.npy", "<f4", 1, &m->nnz, values, m->nnz,
                               sizeof(float)));
    SS_TRY(ss_zip_writer_finish(&w));
cleanup:
    ss_zip_writer_release(&w);
    return rc;
}

int ss_npz_save_csr(subsel_ctx *ctx, const subsel_csr *csr, const char *path,
                    int compressed, int force_zip64)
{
    npz_job job;
    SS_REQUIRE_CTX(ctx);
    SS_REQUIRE_KIND(ctx, csr, SS_KIND_CSR);
    SS_REQUIRE_NONNULL(ctx, path);
    job.csr = csr;
    job.compressed = compressed != 0;
    job.force_zip64 = force_zip64 != 0;
    return ss_write_atomic(ctx, path, write_npz, &job);
}

int subsel_csr_save_npz(subsel_ctx *ctx, const subsel_csr *csr,
                        const char *path, int compressed)
{
    return ss_npz_save_csr(ctx, csr, path, compressed, 0);
}
