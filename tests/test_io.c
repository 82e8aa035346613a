/* SPDX-License-Identifier: MIT */
/*
 * File I/O: .npy and .npz readers checked against an independent reference
 * (tests/data/reference.txt, written by NumPy/SciPy, read here with plain
 * stdio), the valid-but-unusual files of tests/data/variants, a table of
 * deliberately broken files (tests/data/malformed) with the status and
 * message each must give, round trips through the writers, atomic writes
 * (and writes through links, to FIFOs, devices and /proc/self/fd, long
 * names, stale temporary files), argument checks, the internal header
 * parser and readers on memory streams and pipes (as the fuzzers use them),
 * stream reads (growing buffers, lying headers, one-call vectors),
 * progress and cancellation of loads, and peak memory against the
 * matrix's own bytes.
 */
#include <dirent.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/ctx.h"
#include "matrix/matrix.h"
#include "matrix/npy.h"
#include "matrix/npz.h"
#include "matrix/zip.h"
#include "tests/helpers.h"
#include "tests/suites.h"

/* The matrix of the variant files (see tests/data/make_malformed.py). */
static const float base_dense[3][4] = {{1, 0, 2, 0}, {0, 0, 0, 0}, {0, 3, 0, 4}};

static subsel_ctx *new_ctx(void)
{
    subsel_ctx *ctx;
    ck_assert_int_eq(subsel_ctx_create(&ctx), SUBSEL_OK);
    return ctx;
}

static int has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

static void assert_message_has(subsel_ctx *ctx, const char *part)
{
    ck_assert_msg(strstr(subsel_ctx_last_error(ctx), part) != NULL,
                  "message '%s' lacks '%s'", subsel_ctx_last_error(ctx), part);
}

static void assert_base_csr(const subsel_csr *m)
{
    int64_t r, c, k, n;
    ck_assert_int_eq(subsel_csr_rows(m), 3);
    ck_assert_int_eq(subsel_csr_cols(m), 4);
    ck_assert_int_eq(subsel_csr_nnz(m), 4);
    for (r = 0; r < 3; r++) {
        const int32_t *ix;
        const float *v;
        float row[4] = {0, 0, 0, 0};
        ck_assert_int_eq(subsel_csr_row(m, r, &ix, &v, &n), SUBSEL_OK);
        for (k = 0; k < n; k++)
            row[ix[k]] = v[k];
        for (c = 0; c < 4; c++)
            ck_assert_float_eq(row[c], base_dense[r][c]);
    }
}

static void assert_base_dense(const subsel_dense *d)
{
    int64_t r, c;
    ck_assert_int_eq(subsel_dense_rows(d), 3);
    ck_assert_int_eq(subsel_dense_cols(d), 4);
    for (r = 0; r < 3; r++)
        for (c = 0; c < 4; c++)
            ck_assert_float_eq(subsel_dense_row(d, r)[c], base_dense[r][c]);
}

/* ------------------------------------------------------------------------ */
/* Fixtures against the NumPy / SciPy reference                             */
/* ------------------------------------------------------------------------ */

/* The next whitespace-separated word of at most 63 bytes. */
static void next_word(FILE *f, char buf[64])
{
    ck_assert_int_eq(fscanf(f, "%63s", buf), 1);
}

static void expect_word(FILE *f, const char *want)
{
    char buf[64];
    next_word(f, buf);
    ck_assert_str_eq(buf, want);
}

static int64_t next_i64(FILE *f)
{
    char buf[64];
    next_word(f, buf);
    return strtoll(buf, NULL, 10);
}

static double next_f64(FILE *f)
{
    char buf[64];
    next_word(f, buf);
    return strtod(buf, NULL);
}

static float next_f32(FILE *f)
{
    char buf[64];
    next_word(f, buf);
    return strtof(buf, NULL);
}

static void check_npz_record(FILE *f, const char *path)
{
    subsel_ctx *ctx = new_ctx();
    subsel_csr *m;
    int64_t rows = next_i64(f), cols = next_i64(f), nnz = next_i64(f), k;
    ck_assert_ok(ctx, subsel_csr_load_npz(ctx, path, &m));
    ck_assert_int_eq(m->rows, rows);
    ck_assert_int_eq(m->cols, cols);
    ck_assert_int_eq(m->nnz, nnz);
    expect_word(f, "indptr");
    for (k = 0; k <= rows; k++)
        ck_assert_int_eq(ss_csr_ptr(m, k), next_i64(f));
    expect_word(f, "indices");
    for (k = 0; k < nnz; k++)
        ck_assert_int_eq(ss_csr_col(m, k), next_i64(f));
    expect_word(f, "data");
    for (k = 0; k < nnz; k++)
        ck_assert_float_eq(m->values[k], next_f32(f));
    subsel_csr_free(m);
    subsel_ctx_free(ctx);
}

/* A 1-D array: every reader gives the reference values exactly. */
static void check_npy_vector(FILE *f, const char *path, int is_int, int64_t n)
{
    subsel_ctx *ctx = new_ctx();
    subsel_dense *d;
    double *want = malloc((size_t)(n + 1) * sizeof *want);
    int64_t *want_i = malloc((size_t)(n + 1) * sizeof *want_i);
    int64_t count, k;
    double *got;

    ck_assert_ptr_nonnull(want);
    ck_assert_ptr_nonnull(want_i);
    expect_word(f, "values");
    for (k = 0; k < n; k++) {
        char buf[64];
        next_word(f, buf);
        want_i[k] = is_int ? strtoll(buf, NULL, 10) : 0;
        want[k] = is_int ? (double)want_i[k] : strtod(buf, NULL);
    }
    got = read_f64(path, &count);
    ck_assert_int_eq(count, n);
    for (k = 0; k < n; k++)
        ck_assert_double_eq(got[k], want[k]);
    free(got);
    if (is_int) {
        int64_t *gi = read_i64(path, &count);
        ck_assert_int_eq(count, n);
        for (k = 0; k < n; k++)
            ck_assert_int_eq(gi[k], want_i[k]);
        free(gi);
    } else {
        ck_assert_status(ctx, subsel_npy_read_i64(ctx, path, NULL, 0, &count), SUBSEL_E_UNSUPPORTED);
    }
    ck_assert_ok(ctx, subsel_dense_load_npy(ctx, path, &d));
    ck_assert_int_eq(subsel_dense_rows(d), n);
    ck_assert_int_eq(subsel_dense_cols(d), 1);
    for (k = 0; k < n; k++)
        ck_assert_float_eq(subsel_dense_data(d)[k], (float)want[k]);
    subsel_dense_free(d);
    free(want);
    free(want_i);
    subsel_ctx_free(ctx);
}

/* A 2-D array: checksums over all values in row-major order, and samples. */
static void check_npy_matrix(FILE *f, const char *path, int64_t rows, int64_t cols)
{
    subsel_ctx *ctx = new_ctx();
    subsel_dense *d;
    double sum = 0, abssum = 0, wsum = 0, wabssum = 0, ref[4];
    int64_t k, n = rows * cols, samples, count;
    const float *x;

    ck_assert_ok(ctx, subsel_dense_load_npy(ctx, path, &d));
    ck_assert_int_eq(subsel_dense_rows(d), rows);
    ck_assert_int_eq(subsel_dense_cols(d), cols);
    x = subsel_dense_data(d);
    for (k = 0; k < n; k++) {
        sum += x[k];
        abssum += fabs(x[k]);
        wsum += (double)(k + 1) * x[k];
        wabssum += (double)(k + 1) * fabs(x[k]);
    }
    expect_word(f, "sums");
    for (k = 0; k < 4; k++)
        ref[k] = next_f64(f);
    ck_assert_double_eq_tol(sum, ref[0], 1e-9 * ref[1] + 1e-300);
    ck_assert_double_eq_tol(abssum, ref[1], 1e-9 * ref[1] + 1e-300);
    ck_assert_double_eq_tol(wsum, ref[2], 1e-9 * ref[3] + 1e-300);
    ck_assert_double_eq_tol(wabssum, ref[3], 1e-9 * ref[3] + 1e-300);
    expect_word(f, "samples");
    samples = next_i64(f);
    for (k = 0; k < samples; k++) {
        int64_t r = next_i64(f), c = next_i64(f);
        ck_assert_float_eq(subsel_dense_row(d, r)[c], next_f32(f));
    }
    /* Not a vector (unless a dimension is 1). */
    if (rows != 1 && cols != 1)
        ck_assert_status(ctx, subsel_npy_read_f64(ctx, path, NULL, 0, &count), SUBSEL_E_UNSUPPORTED);
    subsel_dense_free(d);
    subsel_ctx_free(ctx);
}

static void check_npy_record(FILE *f, const char *path)
{
    char dtype[64];
    int64_t ndim, shape[2] = {0, 1};
    next_word(f, dtype);
    ndim = next_i64(f);
    ck_assert(ndim == 1 || ndim == 2);
    shape[0] = next_i64(f);
    if (ndim == 2)
        shape[1] = next_i64(f);
    if (ndim == 1)
        check_npy_vector(f, path, dtype[1] == 'i', shape[0]);
    else
        check_npy_matrix(f, path, shape[0], shape[1]);
}

static int count_fixture_files(void)
{
    char top[512];
    DIR *d;
    struct dirent *e;
    int n = 0;
    snprintf(top, sizeof top, "%s", fixture_path(""));
    d = opendir(top);
    ck_assert_ptr_nonnull(d);
    while ((e = readdir(d)) != NULL) {
        char sub[1024];
        DIR *s;
        struct dirent *g;
        if (e->d_name[0] == '.')
            continue;
        snprintf(sub, sizeof sub, "%s/%s", top, e->d_name);
        if ((s = opendir(sub)) == NULL)
            continue;
        while ((g = readdir(s)) != NULL)
            n += has_suffix(g->d_name, ".npy") || has_suffix(g->d_name, ".npz");
        closedir(s);
    }
    closedir(d);
    return n;
}

START_TEST(fixtures_match_reference)
{
    FILE *f = fopen(data_path("reference.txt"), "r");
    char line[256], kind[8], rel[200], path[512];
    int records = 0;
    ck_assert_ptr_nonnull(f);
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f)); /* the comment */
    while (fscanf(f, "%7s %199s", kind, rel) == 2) {
        snprintf(path, sizeof path, "%s", fixture_path(rel));
        if (strcmp(kind, "npz") == 0)
            check_npz_record(f, path);
        else if (strcmp(kind, "npy") == 0)
            check_npy_record(f, path);
        else
            ck_abort_msg("unknown record '%s' in reference.txt", kind);
        records++;
    }
    fclose(f);
    ck_assert_int_ge(records, 40);
    ck_assert_int_eq(records, count_fixture_files());
}
END_TEST

START_TEST(compressed_and_stored_fixtures_agree)
{
    static const char *const pairs[][2] = {
        {"fb/Z.npz", "fb/Z_uncompressed.npz"},
        {"sdm/source.npz", "sdm/source_uncompressed.npz"},
        {"sdm/target.npz", "sdm/target_uncompressed.npz"},
    };
    subsel_ctx *ctx = new_ctx();
    size_t i;
    for (i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        subsel_csr *a, *b;
        char pa[512];
        snprintf(pa, sizeof pa, "%s", fixture_path(pairs[i][0]));
        ck_assert_ok(ctx, subsel_csr_load_npz(ctx, pa, &a));
        ck_assert_ok(ctx, subsel_csr_load_npz(ctx, fixture_path(pairs[i][1]), &b));
        assert_csr_equal(a, b);
        subsel_csr_free(a);
        subsel_csr_free(b);
    }
    subsel_ctx_free(ctx);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Files used in place (SUBSEL_P_MAP_FILES)                                 */
/* ------------------------------------------------------------------------ */

static unsigned char *slurp(const char *path, size_t *size);
static void write_bytes(const char *path, const unsigned char *bytes, size_t size);
static void write_big_files(subsel_ctx *ctx, const char *npy, const char *npz,
                            const char *vec);

/* 1 when the matrix's arrays lie in a mapped file it keeps. */
static int csr_in_place(const subsel_csr *m)
{
    return ss_handle_is(m->keeper.handle, SS_KIND_MAPPING);
}

static int dense_in_place(const subsel_dense *m)
{
    return ss_handle_is(m->keeper.handle, SS_KIND_MAPPING);
}

/* The same matrices mapped and copied: in place for the archives subsel
 * writes (aligned members) and NumPy's .npy files, copied through the CRC
 * check for SciPy's stored members (odd offsets), streamed for deflated
 * ones; the mapping outlives the file's name. */
START_TEST(mapped_loads_match_copies)
{
    static const char *const scipy_files[] = {"fb/Z_uncompressed.npz", "fb/Z.npz",
                                              "sdm/source_uncompressed.npz"};
    subsel_ctx *ctx = new_ctx();
    char npy[512], npz[512];
    subsel_csr *a, *b;
    subsel_dense *d, *e;
    size_t i;

    snprintf(npy, sizeof npy, "%s", temp_path("mapped.npy"));
    snprintf(npz, sizeof npz, "%s", temp_path("mapped.npz"));
    write_big_files(ctx, npy, npz, NULL);
    ck_assert_ok(ctx, subsel_ctx_set_int(ctx, SUBSEL_P_MAP_FILES, 0));
    ck_assert_ok(ctx, subsel_csr_load_npz(ctx, npz, &a));
    ck_assert_ok(ctx, subsel_dense_load_npy(ctx, npy, &d));
    ck_assert(!csr_in_place(a) && !dense_in_place(d));
    ck_assert_ok(ctx, subsel_ctx_set_int(ctx, SUBSEL_P_MAP_FILES, 1));
    ck_assert_ok(ctx, subsel_csr_load_npz(ctx, npz, &b));
    ck_assert_ok(ctx, subsel_dense_load_npy(ctx, npy, &e));
    ck_assert(csr_in_place(b) && dense_in_place(e));
    ck_assert_int_eq(unlink(npz), 0);
    ck_assert_int_eq(unlink(npy), 0);
    assert_csr_equal(a, b);
    ck_assert_int_eq(subsel_dense_rows(d), subsel_dense_rows(e));
    ck_assert_int_eq(memcmp(subsel_dense_data(d), subsel_dense_data(e),
                            sizeof(float) * (size_t)(subsel_dense_rows(d) * subsel_dense_cols(d))),
                     0);
    subsel_csr_free(a);
    subsel_csr_free(b);
    subsel_dense_free(d);
    subsel_dense_free(e);

    for (i = 0; i < sizeof scipy_files / sizeof scipy_files[0]; i++) {
        ck_assert_ok(ctx, subsel_ctx_set_int(ctx, SUBSEL_P_MAP_FILES, 0));
        ck_assert_ok(ctx, subsel_csr_load_npz(ctx, fixture_path(scipy_files[i]), &a));
        ck_assert_ok(ctx, subsel_ctx_set_int(ctx, SUBSEL_P_MAP_FILES, 1));
        ck_assert_ok(ctx, subsel_csr_load_npz(ctx, fixture_path(scipy_files[i]), &b));
        ck_assert(!csr_in_place(b)); /* SciPy's members are not aligned */
        assert_csr_equal(a, b);
        subsel_csr_free(a);
        subsel_csr_free(b);
    }
    subsel_ctx_free(ctx);
}
END_TEST

/* A deflated archive mapped has its two arrays inflated at once (two
 * threads): the same matrix as streamed, and a damaged deflate stream or
 * CRC in either member the same status and message. */
START_TEST(mapped_deflated_pairs_match_streams)
{
    subsel_ctx *ctx = new_ctx();
    char stored[512], deflated[512], bad[512], first[512];
    subsel_csr *a, *b, *m;
    unsigned char *bytes;
    size_t size;
    int member, where, map;

    snprintf(stored, sizeof stored, "%s", temp_path("pair_stored.npz"));
    snprintf(deflated, sizeof deflated, "%s", temp_path("pair_deflated.npz"));
    snprintf(bad, sizeof bad, "%s", temp_path("pair_bad.npz"));
    write_big_files(ctx, temp_path("pair_unused.npy"), stored, NULL);
    ck_assert_ok(ctx, subsel_ctx_set_int(ctx, SUBSEL_P_THREADS, 2));
    ck_assert_ok(ctx, subsel_csr_load_npz(ctx, stored, &a));
    ck_assert_ok(ctx, subsel_csr_save_npz(ctx, a, deflated, 1));
    ck_assert_ok(ctx, subsel_csr_load_npz(ctx, deflated, &b));
    assert_csr_equal(a, b);
    subsel_csr_free(a);
    subsel_csr_free(b);
    for (member = 0; member < 2; member++)
        for (where = 0; where < 2; where++) {
            FILE *f = fopen(deflated, "rb");
            ss_zip z;
            ss_zip_entry e;
            ss_zip_member mem;
            size_t at;
            ck_assert_ok(ctx, ss_zip_open(&z, ctx, f));
            ck_assert_ok(ctx, ss_zip_find(&z, member ? "data.npy" : "indices.npy", &e));
            ck_assert_ok(ctx, ss_zip_member_open(&z, &e, &mem));
            /* the middle of the compressed data, or its last byte (the
             * stream's end) */
            at = (size_t)(mem.data_offset + (where ? e.csize - 1 : e.csize / 2));
            ss_zip_member_close(&mem);
            ss_zip_close(&z);
            fclose(f);
            bytes = slurp(deflated, &size);
            bytes[at] ^= 0x5a;
            write_bytes(bad, bytes, size);
            free(bytes);
            for (map = 0; map < 2; map++) {
                ck_assert_ok(ctx, subsel_ctx_set_int(ctx, SUBSEL_P_MAP_FILES, map));
                m = (subsel_csr *)ctx;
                ck_assert_int_eq(subsel_csr_load_npz(ctx, bad, &m), SUBSEL_E_FORMAT);
                ck_assert_ptr_null(m);
                if (map == 0)
                    snprintf(first, sizeof first, "%s", subsel_ctx_last_error(ctx));
                else
                    ck_assert_str_eq(subsel_ctx_last_error(ctx), first);
            }
        }
    subsel_ctx_free(ctx);
}
END_TEST

/* Rewrites the CRC-32 of member `name` in the archive bytes (local header
 * and central directory) after the test changed the member's data. */
static void fix_member_crc(subsel_ctx *ctx, const char *path, unsigned char *bytes,
                           size_t size, const char *name)
{
    FILE *f = fopen(path, "rb");
    ss_zip z;
    ss_zip_entry e;
    ss_zip_member m;
    unsigned char old[4];
    uint32_t crc;
    size_t k;
    ck_assert_ptr_nonnull(f);
    ck_assert_ok(ctx, ss_zip_open(&z, ctx, f));
    ck_assert_ok(ctx, ss_zip_find(&z, name, &e));
    ck_assert_ok(ctx, ss_zip_member_open(&z, &e, &m));
    crc = (uint32_t)crc32(0, bytes + m.data_offset, (uInt)e.usize);
    ss_zip_member_close(&m);
    ss_zip_close(&z);
    fclose(f);
    ss_store_le32(old, e.crc);
    for (k = 0; k + 4 <= size; k++)
        if (memcmp(bytes + k, old, 4) == 0)
            ss_store_le32(bytes + k, crc);
}

static void write_bytes(const char *path, const unsigned char *bytes, size_t size)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(bytes, 1, size, f), size);
    ck_assert_int_eq(fclose(f), 0);
}

/* A damaged archive used in place fails as a copied one does: a changed
 * byte is a CRC mismatch (also in a value that stays valid, which only
 * the CRC can catch: in place, it is computed in the validation's pass),
 * a bad column index or value (with a matching CRC) the validation's
 * message, for aligned (in place) and SciPy's (copied) members alike. */
START_TEST(mapped_loads_check_crc_and_values)
{
    subsel_ctx *ctx = new_ctx();
    char npz[512], bad[512], first[512];
    const char *sources[2];
    unsigned char *bytes;
    size_t size, at;
    int s, map, damage;
    subsel_csr *m;

    snprintf(npz, sizeof npz, "%s", temp_path("damaged_source.npz"));
    snprintf(bad, sizeof bad, "%s", temp_path("damaged.npz"));
    write_big_files(ctx, temp_path("damaged_unused.npy"), npz, NULL);
    sources[0] = npz;
    sources[1] = fixture_path("fb/Z_uncompressed.npz");
    for (s = 0; s < 2; s++) {
        for (damage = 0; damage < 4; damage++) {
            FILE *f;
            ss_zip z;
            ss_zip_entry e;
            ss_zip_member mem;
            const char *member = damage >= 2 ? "data.npy" : "indices.npy";
            bytes = slurp(sources[s], &size);
            /* the last element of the member: past any .npy header */
            f = fopen(sources[s], "rb");
            ck_assert_ok(ctx, ss_zip_open(&z, ctx, f));
            ck_assert_ok(ctx, ss_zip_find(&z, member, &e));
            ck_assert_ok(ctx, ss_zip_member_open(&z, &e, &mem));
            at = (size_t)(mem.data_offset + e.usize - 4);
            ss_zip_member_close(&mem);
            ss_zip_close(&z);
            fclose(f);
            if (damage == 0 || damage == 3) {
                bytes[at] ^= 1; /* the CRC no longer matches (3: a value's
                                   last mantissa bit) */
            } else if (damage == 1) {
                ss_store_le32(bytes + at, 0x7fffffffu); /* column past the end */
                fix_member_crc(ctx, sources[s], bytes, size, member);
            } else {
                ss_store_le32(bytes + at, 0x7fc00000u); /* NaN */
                fix_member_crc(ctx, sources[s], bytes, size, member);
            }
            write_bytes(bad, bytes, size);
            free(bytes);
            for (map = 0; map < 2; map++) {
                ck_assert_ok(ctx, subsel_ctx_set_int(ctx, SUBSEL_P_MAP_FILES, map));
                m = (subsel_csr *)ctx;
                ck_assert_int_eq(subsel_csr_load_npz(ctx, bad, &m),
                                 damage == 2 ? SUBSEL_E_NUMERIC : SUBSEL_E_FORMAT);
                ck_assert_ptr_null(m);
                assert_message_has(ctx, damage == 1   ? "out of range"
                                        : damage == 2 ? "is not finite"
                                                      : "CRC-32 mismatch");
                if (map == 0)
                    snprintf(first, sizeof first, "%s", subsel_ctx_last_error(ctx));
                else /* the same words, whichever way the bytes came */
                    ck_assert_str_eq(subsel_ctx_last_error(ctx), first);
            }
        }
    }
    subsel_ctx_free(ctx);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Valid files in less common forms                                         */
/* ------------------------------------------------------------------------ */

static const char *variant(const char *name)
{
    static char path[512];
    snprintf(path, sizeof path, "%s", data_path("variants"));
    snprintf(path + strlen(path), sizeof path - strlen(path), "/%s", name);
    return path;
}

START_TEST(variant_dense_files)
{
    static const char *const names[] = {
        "dense_f4.npy", "dense_f8.npy", "dense_i4.npy", "dense_i8.npy",
        "dense_fortran.npy", "dense_v2.npy", "dense_v3.npy",
        "dense_odd_header.npy", "dense_python2_long.npy", "dense_align16.npy",
    };
    subsel_ctx *ctx = new_ctx();
    size_t i;
    for (i = 0; i < sizeof names / sizeof names[0]; i++) {
        subsel_dense *d;
        ck_assert_ok(ctx, subsel_dense_load_npy(ctx, variant(names[i]), &d));
        assert_base_dense(d);
        subsel_dense_free(d);
    }
    subsel_ctx_free(ctx);
}
END_TEST

START_TEST(variant_vector_files)
{
    subsel_ctx *ctx = new_ctx();
    subsel_dense *d;
    int64_t n, k, *iv;
    double *v;

    v = read_f64(variant("vector_f8.npy"), &n);
    ck_assert_int_eq(n, 4);
    ck_assert_double_eq(v[0], 1.5);
    ck_assert_double_eq(v[1], -2.25);
    ck_assert_double_eq(v[2], 1e300);
    ck_assert(isinf(v[3]) && v[3] > 0);
    free(v);
    /* 1e300 does not fit a float matrix */
    ck_assert_status(ctx, subsel_dense_load_npy(ctx, variant("vector_f8.npy"), &d), SUBSEL_E_NUMERIC);
    assert_message_has(ctx, "float32 range");

    iv = read_i64(variant("vector_i4.npy"), &n);
    ck_assert_int_eq(n, 3);
    ck_assert_int_eq(iv[0], 7);
    ck_assert_int_eq(iv[1], -8);
    ck_assert_int_eq(iv[2], 9);
    free(iv);
    iv = read_i64(variant("vector_i8.npy"), &n);
    ck_assert_int_eq(n, 3);
    ck_assert_int_eq(iv[0], INT64_C(1) << 40);
    ck_assert_int_eq(iv[1], -5);
    free(iv);

    /* (1, 5) and, in Fortran order, (5, 1): both vectors of 1..5 */
    v = read_f64(variant("vector_row.npy"), &n);
    ck_assert_int_eq(n, 5);
    for (k = 0; k < 5; k++)
        ck_assert_double_eq(v[k], (double)(k + 1));
    free(v);
    v = read_f64(variant("vector_column_fortran.npy"), &n);
    ck_assert_int_eq(n, 5);
    for (k = 0; k < 5; k++)
        ck_assert_double_eq(v[k], (double)(k + 1));
    free(v);
    ck_assert_ok(ctx, subsel_dense_load_npy(ctx, variant("vector_row.npy"), &d));
    ck_assert_int_eq(subsel_dense_rows(d), 1);
    ck_assert_int_eq(subsel_dense_cols(d), 5);
    subsel_dense_free(d);
    ck_assert_ok(ctx, subsel_dense_load_npy(ctx, variant("vector_column_fortran.npy"), &d));
    ck_assert_int_eq(subsel_dense_rows(d), 5);
    ck_assert_float_eq(subsel_dense_row(d, 4)[0], 5.0f);
    subsel_dense_free(d);

    /* empty arrays */
    v = read_f64(variant("vector_empty.npy"), &n);
    ck_assert_int_eq(n, 0);
    free(v);
    ck_assert_ok(ctx, subsel_dense_load_npy(ctx, variant("vector_empty.npy"), &d));
    ck_assert_int_eq(subsel_dense_rows(d), 0);
    ck_assert_int_eq(subsel_dense_cols(d), 1);
    subsel_dense_free(d);
    ck_assert_ok(ctx, subsel_dense_load_npy(ctx, variant("empty_2d.npy"), &d));
    ck_assert_int_eq(subsel_dense_rows(d), 0);
    ck_assert_int_eq(subsel_dense_cols(d), 5);
    subsel_dense_free(d);

    /* a 0-d array is neither a matrix nor a vector */
    ck_assert_status(ctx, subsel_dense_load_npy(ctx, variant("scalar_0d.npy"), &d), SUBSEL_E_UNSUPPORTED);
    ck_assert_status(ctx, subsel_npy_read_f64(ctx, variant("scalar_0d.npy"), NULL, 0, &n), SUBSEL_E_UNSUPPORTED);
    subsel_ctx_free(ctx);
}
END_TEST

START_TEST(variant_npz_files)
{
    static const char *const names[] = {
        "csr_deflate.npz", "csr_stored.npz", "csr_mixed_methods.npz",
        "csr_int64_arrays.npz", "csr_int_data.npz", "csr_unicode_format.npz",
        "csr_comment.npz", "csr_zip64.npz", "csr_descriptor.npz",
        "csr_shuffled_extra.npz",
    };
    subsel_ctx *ctx = new_ctx();
    subsel_csr *m;
    size_t i;
    for (i = 0; i < sizeof names / sizeof names[0]; i++) {
        ck_assert_ok(ctx, subsel_csr_load_npz(ctx, variant(names[i]), &m));
        assert_base_csr(m);
        subsel_csr_free(m);
    }
    ck_assert_ok(ctx, subsel_csr_load_npz(ctx, variant("csr_empty_rows.npz"), &m));
    ck_assert_int_eq(subsel_csr_rows(m), 3);
    ck_assert_int_eq(subsel_csr_cols(m), 4);
    ck_assert_int_eq(subsel_csr_nnz(m), 0);
    subsel_csr_free(m);
    ck_assert_ok(ctx, subsel_csr_load_npz(ctx, variant("csr_0x0.npz"), &m));
    ck_assert_int_eq(subsel_csr_rows(m), 0);
    ck_assert_int_eq(subsel_csr_cols(m), 0);
    subsel_csr_free(m);
    subsel_ctx_free(ctx);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Broken files                                                             */
/* ------------------------------------------------------------------------ */

typedef struct malformed_case {
    const char *file;
    int status;
    const char *message; /* a part of the message, after the path */
} malformed_case;

#define FMT SUBSEL_E_FORMAT
#define UNSUP SUBSEL_E_UNSUPPORTED
#define NUM SUBSEL_E_NUMERIC

/* Every file of tests/data/malformed, with what loading it must give
 * (subsel_dense_load_npy for .npy, subsel_csr_load_npz for .npz). */
static const malformed_case malformed[] = {
    /* .npy: preamble */
    {"bad_magic.npy", FMT, "not a .npy file (bad magic string)"},
    {"empty.npy", FMT, "truncated .npy header: the data ends after 0 of 8 bytes"},
    {"truncated_preamble.npy", FMT, "truncated .npy header: the data ends after 7 of 8"},
    {"version_9.npy", UNSUP, "format version 9.0 is not supported"},
    {"header_too_long.npy", FMT, "header length 2147483648 exceeds the limit"},
    {"header_len_past_eof.npy", FMT, "truncated .npy header: it declares 4000 bytes"},
    {"truncated_header.npy", FMT, "truncated .npy header: it declares 118 bytes, the data ends after 30"},
    /* .npy: header dict */
    {"missing_comma.npy", FMT, "expected ',' or '}' after a value at byte 16"},
    {"missing_key.npy", FMT, "no 'shape' key"},
    {"unknown_key.npy", FMT, "unexpected key 'order'"},
    {"duplicate_key.npy", FMT, "key 'descr' appears twice"},
    {"shape_not_tuple.npy", FMT, "the shape is not a tuple"},
    {"bad_bool.npy", FMT, "expected True or False at byte 34"},
    {"unterminated_dict.npy", FMT, "expected a quoted string at byte 118"},
    {"unterminated_string.npy", FMT, "expected a plain string character"},
    {"garbage_after_dict.npy", FMT, "expected only spaces after the header dict"},
    {"nul_in_header.npy", FMT, "bad header dict"},
    {"negative_shape.npy", FMT, "negative dimension"},
    {"bigint_shape.npy", FMT, "does not fit in 64 bits"},
    {"overflow_shape.npy", FMT, "shape (4294967296, 4294967296) has more elements than fit in 64 bits"},
    {"bytes_overflow.npy", FMT, "needs more than 2^63 bytes"},
    /* .npy: dtypes and shapes we do not read */
    {"complex_dtype.npy", UNSUP, "dtype '<c16' is not supported"},
    {"big_endian.npy", UNSUP, "big-endian dtype '>f8' is not supported"},
    {"object_dtype.npy", UNSUP, "dtype '|O' is not supported"},
    {"unsigned_dtype.npy", UNSUP, "dtype '<u4' is not supported"},
    {"structured_dtype.npy", UNSUP, "structured dtypes"},
    {"string_dtype.npy", UNSUP, "dtype '<U3' is not a number type"},
    {"fortran_3d.npy", UNSUP, "a 3-D array is not a matrix"},
    /* .npy: data */
    {"truncated_data.npy", FMT, "truncated array data: shape (10,) of '<f8' needs 80 bytes, 24 follow"},
    {"huge_shape.npy", FMT, "needs 17592186044416 bytes, 24 follow the header"},
    {"shape_too_small.npy", FMT, "8 bytes follow the array data"},
    {"nan.npy", NUM, "value at row 1, column 0 is not finite (nan)"},
    {"inf_f8.npy", NUM, "value at row 1, column 1 is not finite (inf)"},
    {"f8_overflow.npy", NUM, "element 1 (1e+300) is outside the float32 range"},
    /* .npz: zip structure */
    {"empty.npz", FMT, "not a zip file: 0 bytes is too short"},
    {"not_a_zip.npz", FMT, "not a zip file: no end of central directory record"},
    {"truncated.npz", FMT, "no end of central directory record (is the file truncated?)"},
    {"eocd_offset_garbage.npz", FMT, "the central directory (278 bytes at offset 2147483392) lies outside the file"},
    {"eocd_entries_garbage.npz", FMT, "500 entries cannot fit in a central directory of 278 bytes"},
    {"multi_disk.npz", UNSUP, "multi-disk"},
    {"zip64_locator_garbage.npz", FMT, "the ZIP64 end record offset 1099511627776 lies outside the file"},
    {"zip64_missing_extra.npz", FMT, "indices.npy: a ZIP64 size is missing"},
    {"missing_member.npz", FMT, "indices.npy: missing from the archive"},
    {"duplicate_member.npz", FMT, "indices.npy: appears twice in the archive"},
    {"local_offset_past_eof.npz", FMT, "indptr.npy: the local header offset 1073741824 lies outside"},
    {"local_header_missing.npz", FMT, "indptr.npy: no local header at offset 7"},
    {"local_name_mismatch.npz", FMT, "indptr.npy: the local header names another member"},
    {"encrypted.npz", UNSUP, "indices.npy: encrypted zip members are not supported"},
    {"bzip2_method.npz", UNSUP, "indices.npy: compression method 12 (bzip2) is not supported"},
    {"stored_size_mismatch.npz", FMT, "data.npy: a stored member of 144 bytes declares 10 compressed bytes"},
    {"deflate_bomb_size.npz", FMT, "data.npy: the member declares 1099511627776 bytes, more than deflate can produce"},
    {"bad_crc.npz", FMT, "data.npy: CRC-32 mismatch: the zip directory says 12345678"},
    {"deflate_corrupt.npz", FMT, "data.npy: corrupt deflate stream (invalid block type)"},
    {"deflate_truncated.npz", FMT, "data.npy: the deflate stream is truncated"},
    {"deflate_trailing.npz", FMT, "data.npy: compressed data continues after the end of the deflate stream"},
    {"declared_size_too_big.npz", FMT, "data.npy: the member inflates to 144 bytes, the zip directory declares 152"},
    {"trailing_in_member.npz", FMT, "data.npy: 4 bytes follow the array data"},
    {"member_header_garbage.npz", FMT, "indptr.npy: bad header dict: expected a quoted string at byte 1"},
    /* .npz: the CSR arrays */
    {"csc_format.npz", UNSUP, "format.npy: sparse format 'csc' is not supported: convert the matrix with .tocsr()"},
    {"coo_format.npz", UNSUP, "format.npy: sparse format 'coo' is not supported"},
    {"format_not_string.npz", FMT, "format.npy: expected a short string, found dtype '<i8'"},
    {"shape_three.npz", FMT, "shape.npy: shape (3,), expected (2,)"},
    {"shape_negative.npz", FMT, "shape.npy: dimension -3 is out of range"},
    {"shape_float.npz", UNSUP, "shape.npy: dtype '<f8' is not supported here"},
    {"shape_too_wide.npz", UNSUP, "shape.npy: 8589934592 columns do not fit int32 column indices"},
    {"indptr_length.npz", FMT, "indptr.npy: shape (5,), expected (4,) from rows + 1"},
    {"indptr_start_nonzero.npz", FMT, "indptr.npy: row pointers must start at 0, not 1"},
    {"decreasing_indptr.npz", FMT, "indptr.npy: row pointers decrease at row 1 (3 then 2)"},
    {"indices_length.npz", FMT, "indices.npy: shape (3,), expected (4,) from the last row pointer"},
    {"index_out_of_range.npz", FMT, "indices.npy: column index 60 out of range [0, 50) in row 3 (entry 17)"},
    {"negative_index.npz", FMT, "indices.npy: column index -1 out of range [0, 4) in row 2 (entry 2)"},
    {"index_int64_overflow.npz", FMT, "indices.npy: column index 2147483648 out of range [0, 4) in row 2 (entry 3)"},
    {"unsorted_indices.npz", FMT, "indices.npy: column indices of row 0 are unsorted at entry 1"},
    {"duplicate_indices.npz", FMT, "indices.npy: column indices of row 0 are duplicated at entry 1"},
    {"data_length.npz", FMT, "data.npy: shape (5,), expected (4,)"},
    {"nan_data.npz", NUM, "data.npy: value at row 2, column 1 (entry 2) is not finite (nan)"},
    {"data_f8_overflow.npz", NUM, "data.npy: element 1 (1e+300) is outside the float32 range"},
    {"big_endian_data.npz", UNSUP, "data.npy: big-endian dtype '>f4' is not supported"},
};

#define N_MALFORMED ((int)(sizeof malformed / sizeof malformed[0]))

static const char *malformed_path(const char *name)
{
    static char path[512];
    snprintf(path, sizeof path, "%s", data_path("malformed"));
    snprintf(path + strlen(path), sizeof path - strlen(path), "/%s", name);
    return path;
}

/* Loads a file with the reader its extension names. */
static int load_any(subsel_ctx *ctx, const char *path)
{
    int rc;
    if (has_suffix(path, ".npz")) {
        subsel_csr *m = (subsel_csr *)ctx; /* must be reset to NULL */
        rc = subsel_csr_load_npz(ctx, path, &m);
        ck_assert_ptr_null(m);
    } else {
        subsel_dense *d = (subsel_dense *)ctx;
        rc = subsel_dense_load_npy(ctx, path, &d);
        ck_assert_ptr_null(d);
    }
    return rc;
}

START_TEST(malformed_file_fails_as_listed)
{
    const malformed_case *c = &malformed[_i];
    subsel_ctx *ctx = new_ctx();
    char path[512], prefix[600];
    int rc;

    snprintf(path, sizeof path, "%s", malformed_path(c->file));
    rc = load_any(ctx, path);
    ck_assert_msg(rc == c->status, "%s: status %d, wanted %d (%s)", c->file,
                  rc, c->status, subsel_ctx_last_error(ctx));
    assert_message_has(ctx, c->message);
    snprintf(prefix, sizeof prefix, "%s: ", path);
    ck_assert_msg(strncmp(subsel_ctx_last_error(ctx), prefix, strlen(prefix)) == 0,
                  "message '%s' does not start with the path",
                  subsel_ctx_last_error(ctx));
    if (has_suffix(path, ".npy")) {
        /* The vector readers share the parser: they fail or succeed,
         * never crash, and name the file when they fail. */
        double buf[16];
        int64_t count = -1;
        rc = subsel_npy_read_f64(ctx, path, NULL, 0, &count);
        if (rc == SUBSEL_OK && count <= 16)
            rc = subsel_npy_read_f64(ctx, path, buf, 16, &count);
        if (rc < 0)
            ck_assert(strncmp(subsel_ctx_last_error(ctx), prefix, strlen(prefix)) == 0);
    }
    subsel_ctx_free(ctx);
}
END_TEST

START_TEST(malformed_table_lists_every_file)
{
    DIR *d = opendir(data_path("malformed"));
    struct dirent *e;
    int files = 0, i;
    ck_assert_ptr_nonnull(d);
    while ((e = readdir(d)) != NULL) {
        int found = 0;
        if (e->d_name[0] == '.')
            continue;
        for (i = 0; i < N_MALFORMED; i++)
            found |= strcmp(malformed[i].file, e->d_name) == 0;
        ck_assert_msg(found, "%s is not in the table of test_io.c", e->d_name);
        files++;
    }
    closedir(d);
    ck_assert_int_eq(files, N_MALFORMED);
}
END_TEST

/* The internal readers on a memory stream (as the fuzzers call them) give
 * the same status as through a path. */
START_TEST(malformed_file_same_from_memory)
{
    const malformed_case *c = &malformed[_i];
    subsel_ctx *ctx = new_ctx();
    FILE *f = fopen(malformed_path(c->file), "rb");
    unsigned char *buf;
    long size;
    FILE *mem;
    int rc;

    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    size = ftell(f);
    rewind(f);
    buf = malloc((size_t)size + 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(fread(buf, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    if (size > 0) {
        mem = fmemopen(buf, (size_t)size, "rb");
        ck_assert_ptr_nonnull(mem);
        if (has_suffix(c->file, ".npz")) {
            subsel_csr *m = NULL;
            rc = ss_npz_load_csr(ctx, mem, &m);
            ck_assert_ptr_null(m);
        } else {
            subsel_dense *dm = NULL;
            rc = ss_npy_load_dense(ctx, mem, &dm);
            ck_assert_ptr_null(dm);
        }
        ck_assert_int_eq(rc, c->status);
        assert_message_has(ctx, c->message);
        fclose(mem);
    }
    free(buf);
    subsel_ctx_free(ctx);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Round trips through the writers                                          */
/* ------------------------------------------------------------------------ */

static long file_size(const char *path)
{
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    return (long)st.st_size;
}

static int folder_has_temp_files(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int found = 0;
    ck_assert_ptr_nonnull(d);
    while ((e = readdir(d)) != NULL)
        found |= strstr(e->d_name, ".tmp-") != NULL ||
                 strncmp(e->d_name, ".subsel-", 8) == 0;
    closedir(d);
    return found;
}

static const char *temp_dir(void)
{
    static char dir[512];
    char *slash;
    snprintf(dir, sizeof dir, "%s", temp_path("x"));
    slash = strrchr(dir, '/');
    *slash = '\0';
    return dir;
}

START_TEST(dense_save_load_round_trip)
{
    subsel_ctx *ctx = new_ctx();
    subsel_dense *a, *b;
    float data[5 * 7];
    unsigned char head[10];
    char path[512];
    FILE *f;
    size_t hlen;
    int i;

    for (i = 0; i < 5 * 7; i++)
        data[i] = (float)((i * 37) % 11) * (i % 2 ? -1.0f : 1.0f) * powf(10.0f, (float)(i % 9 - 4));
    data[3] = FLT_MAX;
    data[4] = -FLT_MIN;
    data[5] = 1e-45f; /* subnormal */
    snprintf(path, sizeof path, "%s", temp_path("dense.npy"));
    ck_assert_ok(ctx, subsel_dense_create(ctx, 5, 7, data, SUBSEL_BORROW, &a));
    ck_assert_ok(ctx, subsel_dense_save_npy(ctx, a, path));
    /* overwriting an existing file works too */
    ck_assert_ok(ctx, subsel_dense_save_npy(ctx, a, path));
    ck_assert_ok(ctx, subsel_dense_load_npy(ctx, path, &b));
    ck_assert_int_eq(subsel_dense_rows(b), 5);
    ck_assert_int_eq(subsel_dense_cols(b), 7);
    ck_assert_mem_eq(subsel_dense_data(b), data, sizeof data);
    /* format 1.0, data aligned to 64 bytes, nothing after it */
    f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fread(head, 1, 10, f), 10);
    fclose(f);
    ck_assert_mem_eq(head, "\x93NUMPY\x01\x00", 8);
    hlen = (size_t)head[8] | (size_t)head[9] << 8;
    ck_assert_uint_eq((10 + hlen) % 64, 0);
    ck_assert_int_eq(file_size(path), (long)(10 + hlen + sizeof data));
    ck_assert(!folder_has_temp_files(temp_dir()));
    subsel_dense_free(a);
    subsel_dense_free(b);
    subsel_ctx_free(ctx);
}
END_TEST

START_TEST(vector_write_read_round_trip)
{
    const double fv[] = {0.0, -0.0, 1.5, NAN, INFINITY, -INFINITY, DBL_MAX,
                         DBL_MIN, 4.9e-324, -1e-300};
    const int64_t iv[] = {0, -1, 1, INT64_MIN, INT64_MAX, INT64_C(1) << 53};
    subsel_ctx *ctx = new_ctx();
    char pf[512], pi[512], pe[512];
    double *gf;
    int64_t *gi, n;

    snprintf(pf, sizeof pf, "%s", temp_path("v.npy"));
    snprintf(pi, sizeof pi, "%s", temp_path("i.npy"));
    snprintf(pe, sizeof pe, "%s", temp_path("e.npy"));
    ck_assert_ok(ctx, subsel_npy_write_f64(ctx, pf, fv, 10));
    ck_assert_ok(ctx, subsel_npy_write_i64(ctx, pi, iv, 6));
    ck_assert_ok(ctx, subsel_npy_write_f64(ctx, pe, NULL, 0));
    gf = read_f64(pf, &n);
    ck_assert_int_eq(n, 10);
    ck_assert_mem_eq(gf, fv, sizeof fv); /* bit for bit: -0, NaN, ... */
    free(gf);
    gi = read_i64(pi, &n);
    ck_assert_int_eq(n, 6);
    ck_assert_mem_eq(gi, iv, sizeof iv);
    free(gi);
    /* int64 values read as doubles */
    gf = read_f64(pi, &n);
    ck_assert_double_eq(gf[4], (double)INT64_MAX);
    free(gf);
    gf = read_f64(pe, &n);
    ck_assert_int_eq(n, 0);
    free(gf);
    /* int64 to float32 rounds once, as C's conversion (and NumPy's astype)
     * do: through double, 2^60 + 2^36 + 1 would become 2^60 + 2^36, then
     * 2^60 (a tie). (Not compared with a constant: valgrind emulates the
     * conversion through double.) */
    {
        volatile int64_t big[2] = {(INT64_C(1) << 60) + (INT64_C(1) << 36) + 1, -3};
        const int64_t copy[2] = {big[0], big[1]};
        subsel_dense *d;
        ck_assert_ok(ctx, subsel_npy_write_i64(ctx, pi, copy, 2));
        ck_assert_ok(ctx, subsel_dense_load_npy(ctx, pi, &d));
        ck_assert_float_eq(subsel_dense_data(d)[0], (float)big[0]);
        ck_assert_float_eq(subsel_dense_data(d)[1], -3.0f);
        subsel_dense_free(d);
    }
    /* a float file is not an integer vector */
    ck_assert_status(ctx, subsel_npy_read_i64(ctx, pf, NULL, 0, &n), SUBSEL_E_UNSUPPORTED);
    assert_message_has(ctx, "cannot be read as int64");
    subsel_ctx_free(ctx);
}
END_TEST

/* ---- ids ---------------------------------------------------------------- */

/* A 1-D .npy of `count` items of `descr` (itemsize bytes each, as given). */
static void write_npy_vector(const char *path, const char *descr, int64_t count,
                             const void *data, size_t itemsize)
{
    char dict[128];
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 0, 0};
    size_t len, total;
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (%lld,), }",
             descr, (long long)count);
    len = strlen(dict);
    total = (10 + len + 1 + 63) / 64 * 64;
    pre[8] = (unsigned char)((total - 10) & 0xff);
    pre[9] = (unsigned char)((total - 10) >> 8);
    fwrite(pre, 1, 10, f);
    fwrite(dict, 1, len, f);
    for (len += 10; len + 1 < total; len++)
        fputc(' ', f);
    fputc('\n', f);
    fwrite(data, itemsize, (size_t)count, f);
    fclose(f);
}

/* The data of a .npy file (after its header) and the header text. */
static unsigned char *npy_payload(const char *path, size_t *size, char *header, size_t cap)
{
    FILE *f = fopen(path, "rb");
    unsigned char pre[10], *data;
    size_t hlen, n;
    long end;
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fread(pre, 1, 10, f), 10);
    hlen = pre[8] | (size_t)pre[9] << 8;
    ck_assert_uint_lt(hlen, cap);
    ck_assert_uint_eq(fread(header, 1, hlen, f), hlen);
    header[hlen] = '\0';
    fseek(f, 0, SEEK_END);
    end = ftell(f);
    n = (size_t)end - 10 - hlen;
    fseek(f, (long)(10 + hlen), SEEK_SET);
    data = malloc(n > 0 ? n : 1);
    ck_assert_uint_eq(fread(data, 1, n, f), n);
    fclose(f);
    *size = n;
    return data;
}

START_TEST(ids_keep_their_dtype_order_and_sort)
{
    const uint16_t u2[5] = {500, 7, 65535, 7, 42};
    const int8_t i1[4] = {-3, 100, -128, 5};
    const char bytes[4][4] = {{'b', 'a', 0, 0}, {'a', 'b', 'c', 'd'}, {'a', 'b', 0, 0}, {'b', 0, 0, 0}};
    const int64_t pos[4] = {2, 0, 3, 1}, all[5] = {4, 3, 2, 1, 0};
    subsel_ctx *ctx = new_ctx();
    char in[512], out[512], dtype[SUBSEL_IDS_DTYPE_MAX], header[256];
    void *ids = NULL;
    int64_t count;
    size_t itemsize, n;
    unsigned char *got;

    snprintf(in, sizeof in, "%s", temp_path("ids_u2.npy"));
    snprintf(out, sizeof out, "%s", temp_path("ids_out.npy"));
    write_npy_vector(in, "<u2", 5, u2, 2);
    ck_assert_ok(ctx, subsel_ids_load_npy(ctx, in, &ids, &count, &itemsize, dtype));
    ck_assert_int_eq(count, 5);
    ck_assert_uint_eq(itemsize, 2);
    ck_assert_str_eq(dtype, "<u2");
    /* in the order given, the dtype kept */
    ck_assert_ok(ctx, subsel_ids_save_npy(ctx, out, ids, count, dtype, pos, 3, 0));
    got = npy_payload(out, &n, header, sizeof header);
    ck_assert_ptr_nonnull(strstr(header, "'descr': '<u2'"));
    ck_assert_ptr_nonnull(strstr(header, "'shape': (3,)"));
    ck_assert_uint_eq(n, 6);
    ck_assert_int_eq(got[0] | got[1] << 8, 65535);
    ck_assert_int_eq(got[2] | got[3] << 8, 500);
    ck_assert_int_eq(got[4] | got[5] << 8, 7);
    free(got);
    /* sorted by value (not by bytes: 500 > 42 though its low byte is
     * smaller), the repeated 7 once */
    ck_assert_ok(ctx, subsel_ids_save_npy(ctx, out, ids, count, dtype, all, 5, SUBSEL_IDS_SORTED));
    got = npy_payload(out, &n, header, sizeof header);
    ck_assert_ptr_nonnull(strstr(header, "'shape': (4,)"));
    ck_assert_uint_eq(n, 8);
    ck_assert_int_eq(got[0] | got[1] << 8, 7);
    ck_assert_int_eq(got[2] | got[3] << 8, 42);
    ck_assert_int_eq(got[4] | got[5] << 8, 500);
    ck_assert_int_eq(got[6] | got[7] << 8, 65535);
    free(got);
    /* a position outside the ids */
    {
        const int64_t bad = 5;
        ck_assert_status(ctx, subsel_ids_save_npy(ctx, out, ids, count, dtype, &bad, 1, 0),
                         SUBSEL_E_INVALID);
        assert_message_has(ctx, "position 5 is outside the 5 ids");
    }
    subsel_array_free(ids);

    /* signed bytes sort as numbers */
    write_npy_vector(in, "|i1", 4, i1, 1);
    ck_assert_ok(ctx, subsel_ids_load_npy(ctx, in, &ids, &count, &itemsize, dtype));
    ck_assert_str_eq(dtype, "|i1");
    ck_assert_ok(ctx, subsel_ids_save_npy(ctx, out, ids, count, dtype, all + 1, 4,
                                          SUBSEL_IDS_SORTED));
    got = npy_payload(out, &n, header, sizeof header);
    ck_assert_uint_eq(n, 4);
    ck_assert_int_eq((int8_t)got[0], -128);
    ck_assert_int_eq((int8_t)got[1], -3);
    ck_assert_int_eq((int8_t)got[2], 5);
    ck_assert_int_eq((int8_t)got[3], 100);
    free(got);
    subsel_array_free(ids);

    /* bytes sort as NumPy sorts them: "ab" < "abcd" < "b" < "ba" */
    write_npy_vector(in, "|S4", 4, bytes, 4);
    ck_assert_ok(ctx, subsel_ids_load_npy(ctx, in, &ids, &count, &itemsize, dtype));
    ck_assert_str_eq(dtype, "|S4");
    ck_assert_ok(ctx, subsel_ids_save_npy(ctx, out, ids, count, dtype, pos, 4,
                                          SUBSEL_IDS_SORTED));
    got = npy_payload(out, &n, header, sizeof header);
    ck_assert_ptr_nonnull(strstr(header, "'descr': '|S4'"));
    ck_assert_uint_eq(n, 16);
    ck_assert_mem_eq(got, "ab\0\0abcdb\0\0\0ba\0\0", 16);
    free(got);
    subsel_array_free(ids);
    subsel_ctx_free(ctx);
}
END_TEST

START_TEST(ids_as_datacomp_subset_file)
{
    const char uids[3][32] = {
        {'f','f','0','0','0','0','0','0','0','0','0','0','0','0','0','1',
         '0','0','0','0','0','0','0','0','0','0','0','0','0','0','0','2'},
        {'0','0','0','0','0','0','0','0','0','0','0','0','0','0','0','1',
         'F','F','F','F','F','F','F','F','F','F','F','F','F','F','F','F'},
        {'0','0','0','0','0','0','0','0','0','0','0','0','0','0','0','1',
         '0','0','0','0','0','0','0','0','0','0','0','0','0','0','0','3'},
    };
    const int64_t pos[4] = {0, 1, 2, 1};
    subsel_ctx *ctx = new_ctx();
    char in[512], out[512], dtype[SUBSEL_IDS_DTYPE_MAX], header[256];
    void *ids = NULL;
    int64_t count;
    size_t itemsize, n;
    unsigned char *got;
    uint64_t pair[6];

    snprintf(in, sizeof in, "%s", temp_path("uids.npy"));
    snprintf(out, sizeof out, "%s", temp_path("subset.npy"));
    write_npy_vector(in, "|S32", 3, uids, 32);
    ck_assert_ok(ctx, subsel_ids_load_npy(ctx, in, &ids, &count, &itemsize, dtype));
    ck_assert_ok(ctx, subsel_ids_save_npy(ctx, out, ids, count, dtype, pos, 4,
                                          SUBSEL_IDS_DATACOMP));
    got = npy_payload(out, &n, header, sizeof header);
    ck_assert_ptr_nonnull(strstr(header, "'descr': [('f0', '<u8'), ('f1', '<u8')]"));
    ck_assert_ptr_nonnull(strstr(header, "'shape': (3,)"));
    ck_assert_uint_eq(n, 48);
    for (n = 0; n < 6; n++) {
        int b;
        pair[n] = 0;
        for (b = 7; b >= 0; b--)
            pair[n] = pair[n] << 8 | got[8 * n + (size_t)b];
    }
    /* (1, 3) < (1, 2^64 - 1) < (0xff00...01, 2): sorted as pairs */
    ck_assert_uint_eq(pair[0], 1);
    ck_assert_uint_eq(pair[1], 3);
    ck_assert_uint_eq(pair[2], 1);
    ck_assert_uint_eq(pair[3], UINT64_MAX);
    ck_assert_uint_eq(pair[4], UINT64_C(0xff00000000000001));
    ck_assert_uint_eq(pair[5], 2);
    free(got);
    subsel_array_free(ids);
    /* not hex */
    {
        char bad[32];
        memset(bad, 'g', sizeof bad);
        write_npy_vector(in, "|S32", 1, bad, 32);
        ck_assert_ok(ctx, subsel_ids_load_npy(ctx, in, &ids, &count, &itemsize, dtype));
        ck_assert_status(ctx, subsel_ids_save_npy(ctx, out, ids, count, dtype, pos, 1,
                                                  SUBSEL_IDS_DATACOMP),
                         SUBSEL_E_INVALID);
        assert_message_has(ctx, "is not 32 hex digits");
        subsel_array_free(ids);
    }
    subsel_ctx_free(ctx);
}
END_TEST

START_TEST(ids_refuse_other_dtypes)
{
    const float f[2] = {1, 2};
    const uint16_t u2[2] = {1, 2};
    subsel_ctx *ctx = new_ctx();
    char in[512], dtype[SUBSEL_IDS_DTYPE_MAX];
    void *ids = NULL;
    int64_t count, *values = NULL;
    size_t itemsize;
    subsel_dense *d = NULL;

    snprintf(in, sizeof in, "%s", temp_path("ids_f4.npy"));
    write_npy_vector(in, "<f4", 2, f, 4);
    ck_assert_status(ctx, subsel_ids_load_npy(ctx, in, &ids, &count, &itemsize, dtype),
                     SUBSEL_E_UNSUPPORTED);
    assert_message_has(ctx, "dtype '<f4' is not an id type");
    ck_assert_ptr_null(ids);
    /* the integer dtypes ids take are still no numbers to the other readers */
    write_npy_vector(in, "<u2", 2, u2, 2);
    ck_assert_status(ctx, subsel_npy_load_i64(ctx, in, &values, &count), SUBSEL_E_UNSUPPORTED);
    ck_assert_status(ctx, subsel_dense_load_npy(ctx, in, &d), SUBSEL_E_UNSUPPORTED);
    assert_message_has(ctx, "dtype '<u2' is not supported");
    subsel_ctx_free(ctx);
}
END_TEST

START_TEST(vector_capacity_and_size_query)
{
    subsel_ctx *ctx = new_ctx();
    const double fv[3] = {1, 2, 3};
    double buf[3] = {-7, -7, -7};
    char path[512];
    int64_t n = -1;

    snprintf(path, sizeof path, "%s", temp_path("cap.npy"));
    ck_assert_ok(ctx, subsel_npy_write_f64(ctx, path, fv, 3));
    ck_assert_ok(ctx, subsel_npy_read_f64(ctx, path, NULL, 0, &n));
    ck_assert_int_eq(n, 3);
    n = -1;
    ck_assert_status(ctx, subsel_npy_read_f64(ctx, path, buf, 2, &n), SUBSEL_E_INVALID);
    ck_assert_int_eq(n, 3); /* the count is still reported */
    ck_assert_double_eq(buf[0], -7); /* and nothing written */
    assert_message_has(ctx, "capacity 2 is smaller than the 3 values");
    ck_assert_ok(ctx, subsel_npy_read_f64(ctx, path, buf, 3, &n));
    ck_assert_double_eq(buf[2], 3);
    subsel_ctx_free(ctx);
}
END_TEST

/* A CSR matrix with empty first, middle and last rows. */
static subsel_csr *sample_csr(subsel_ctx *ctx, int64_t rows, int64_t cols)
{
    int64_t *ip = malloc((size_t)(rows + 1) * sizeof *ip), r, k = 0;
    int32_t *ix = malloc((size_t)(rows * cols + 1) * sizeof *ix);
    float *v = malloc((size_t)(rows * cols + 1) * sizeof *v);
    subsel_csr *m;
    ck_assert(ip && ix && v);
    ip[0] = 0;
    for (r = 0; r < rows; r++) {
        int64_t c;
        for (c = 0; c < cols && r > 0 && r < rows - 1 && r != rows / 2; c++)
            if ((r * 7 + c * 3) % 5 == 0) {
                ix[k] = (int32_t)c;
                v[k++] = (float)(r + 1) / (float)(c + 3);
            }
        ip[r + 1] = k;
    }
    ck_assert_ok(ctx, subsel_csr_create(ctx, rows, cols, ip, ix, v, SUBSEL_COPY, &m));
    free(ip);
    free(ix);
    free(v);
    return m;
}

START_TEST(csr_save_load_round_trip)
{
    subsel_ctx *ctx = new_ctx();
    subsel_csr *a = sample_csr(ctx, 300, 200), *b, *fixture;
    char path[512];
    long stored_size = 0;
    int mode;

    snprintf(path, sizeof path, "%s", temp_path("m.npz"));
    for (mode = 0; mode < 4; mode++) {
        /* stored, deflate, and both with forced ZIP64 records */
        ck_assert_ok(ctx, ss_npz_save_csr(ctx, a, path, mode & 1, mode >> 1));
        ck_assert_ok(ctx, subsel_csr_load_npz(ctx, path, &b));
        assert_csr_equal(a, b);
        subsel_csr_free(b);
        if (mode == 0)
            stored_size = file_size(path);
        if (mode == 1)
            ck_assert_int_lt(file_size(path), stored_size);
    }
    /* fixtures survive a write and a read */
    ck_assert_ok(ctx, subsel_csr_load_npz(ctx, fixture_path("fb/Z.npz"), &fixture));
    ck_assert_ok(ctx, subsel_csr_save_npz(ctx, fixture, path, 1));
    ck_assert_ok(ctx, subsel_csr_load_npz(ctx, path, &b));
    assert_csr_equal(fixture, b);
    subsel_csr_free(b);
    subsel_csr_free(fixture);
    ck_assert(!folder_has_temp_files(temp_dir()));
    subsel_csr_free(a);
    subsel_ctx_free(ctx);
}
END_TEST

START_TEST(csr_save_empty_and_row_view)
{
    subsel_ctx *ctx = new_ctx();
    subsel_csr *a = sample_csr(ctx, 40, 30), *view, *b, *empty;
    const int64_t zero = 0;
    char path[512];
    int64_t r;

    snprintf(path, sizeof path, "%s", temp_path("view.npz"));
    /* a view's row pointers start inside its parent's arrays */
    ck_assert_ok(ctx, subsel_csr_view_rows(ctx, a, 5, 20, &view));
    ck_assert_int_gt(ss_csr_ptr(view, 0), 0);
    ck_assert_ok(ctx, subsel_csr_save_npz(ctx, view, path, 1));
    ck_assert_ok(ctx, subsel_csr_load_npz(ctx, path, &b));
    ck_assert_int_eq(ss_csr_ptr(b, 0), 0);
    assert_csr_equal(view, b);
    for (r = 0; r < 20; r++)
        ck_assert_int_eq(ss_csr_ptr(b, r + 1) - ss_csr_ptr(b, r), ss_csr_ptr(a, r + 6) - ss_csr_ptr(a, r + 5));
    subsel_csr_free(b);
    subsel_csr_free(view);
    /* 0 x 0, with no index or value arrays at all */
    ck_assert_ok(ctx, subsel_csr_create(ctx, 0, 0, &zero, NULL, NULL, SUBSEL_BORROW, &empty));
    ck_assert_ok(ctx, subsel_csr_save_npz(ctx, empty, path, 0));
    ck_assert_ok(ctx, subsel_csr_load_npz(ctx, path, &b));
    assert_csr_equal(empty, b);
    subsel_csr_free(b);
    subsel_csr_free(empty);
    subsel_csr_free(a);
    subsel_ctx_free(ctx);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Atomic writes                                                            */
/* ------------------------------------------------------------------------ */

START_TEST(writes_respect_umask)
{
    subsel_ctx *ctx = new_ctx();
    const double v[2] = {1, 2};
    char path[512];
    struct stat st;
    mode_t old = umask(027);
    snprintf(path, sizeof path, "%s", temp_path("mode.npy"));
    ck_assert_ok(ctx, subsel_npy_write_f64(ctx, path, v, 2));
    umask(old);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0640);
    subsel_ctx_free(ctx);
}
END_TEST

START_TEST(write_errors_leave_no_file)
{
    subsel_ctx *ctx = new_ctx();
    subsel_dense *d;
    struct rlimit old, small;
    char path[512], missing[600];
    float *data = calloc(64 * 1024, sizeof *data);
    void (*old_handler)(int);

    ck_assert_ptr_nonnull(data);
    ck_assert_ok(ctx, subsel_dense_create(ctx, 1024, 64, data, SUBSEL_BORROW, &d));
    /* a folder that does not exist */
    snprintf(missing, sizeof missing, "%s/no/such/dir/x.npy", temp_dir());
    ck_assert_status(ctx, subsel_dense_save_npy(ctx, d, missing), SUBSEL_E_IO);
    assert_message_has(ctx, missing);
    assert_message_has(ctx, strerror(ENOENT));
    /* the disk "fills up" half way: EFBIG past a 64 KiB file size limit */
    snprintf(path, sizeof path, "%s", temp_path("big.npy"));
    ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
    small = old;
    small.rlim_cur = 65536;
    old_handler = signal(SIGXFSZ, SIG_IGN);
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &small), 0);
    ck_assert_status(ctx, subsel_dense_save_npy(ctx, d, path), SUBSEL_E_IO);
    setrlimit(RLIMIT_FSIZE, &old);
    signal(SIGXFSZ, old_handler);
    assert_message_has(ctx, "write failed");
    ck_assert_int_ne(access(path, F_OK), 0);
    ck_assert(!folder_has_temp_files(temp_dir()));
    subsel_dense_free(d);
    free(data);
    subsel_ctx_free(ctx);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Arguments                                                                */
/* ------------------------------------------------------------------------ */

START_TEST(null_arguments_are_invalid)
{
    subsel_ctx *ctx = new_ctx();
    const char *npy = fixture_path("fb/w.npy");
    char p[512];
    subsel_dense *d = (subsel_dense *)ctx;
    subsel_csr *m = (subsel_csr *)ctx;
    double v[1];
    int64_t n;

    snprintf(p, sizeof p, "%s", npy);
    ck_assert_int_eq(subsel_dense_load_npy(NULL, p, &d), SUBSEL_E_INVALID);
    ck_assert_int_eq(subsel_dense_load_npy(ctx, NULL, &d), SUBSEL_E_INVALID);
    ck_assert_ptr_null(d);
    ck_assert_int_eq(subsel_dense_load_npy(ctx, p, NULL), SUBSEL_E_INVALID);
    ck_assert_int_eq(subsel_csr_load_npz(NULL, p, &m), SUBSEL_E_INVALID);
    ck_assert_int_eq(subsel_csr_load_npz(ctx, NULL, &m), SUBSEL_E_INVALID);
    ck_assert_ptr_null(m);
    ck_assert_int_eq(subsel_csr_load_npz(ctx, p, NULL), SUBSEL_E_INVALID);
    ck_assert_int_eq(subsel_npy_read_f64(NULL, p, v, 1, &n), SUBSEL_E_INVALID);
    ck_assert_int_eq(subsel_npy_read_f64(ctx, NULL, v, 1, &n), SUBSEL_E_INVALID);
    ck_assert_int_eq(subsel_npy_read_f64(ctx, p, v, 1, NULL), SUBSEL_E_INVALID);
    ck_assert_int_eq(subsel_npy_read_i64(ctx, NULL, NULL, 0, &n), SUBSEL_E_INVALID);
    ck_assert_int_eq(subsel_npy_write_f64(NULL, p, v, 1), SUBSEL_E_INVALID);
    ck_assert_int_eq(subsel_npy_write_f64(ctx, NULL, v, 1), SUBSEL_E_INVALID);
    ck_assert_int_eq(subsel_npy_write_f64(ctx, temp_path("n.npy"), NULL, 1), SUBSEL_E_INVALID);
    ck_assert_int_eq(subsel_npy_write_i64(ctx, temp_path("n.npy"), NULL, -1), SUBSEL_E_INVALID);
    ck_assert_int_eq(subsel_dense_save_npy(ctx, NULL, temp_path("n.npy")), SUBSEL_E_INVALID);
    ck_assert_int_eq(subsel_csr_save_npz(ctx, NULL, temp_path("n.npz"), 1), SUBSEL_E_INVALID);
    ck_assert_int_eq(subsel_csr_save_npz(NULL, NULL, NULL, 1), SUBSEL_E_INVALID);
    subsel_ctx_free(ctx);
}
END_TEST

START_TEST(unreadable_paths_are_io_errors)
{
    subsel_ctx *ctx = new_ctx();
    subsel_dense *d;
    subsel_csr *m;
    char missing[600], dir[512];
    snprintf(missing, sizeof missing, "%s/none.npy", temp_dir());
    snprintf(dir, sizeof dir, "%s", temp_dir());
    ck_assert_status(ctx, subsel_dense_load_npy(ctx, missing, &d), SUBSEL_E_IO);
    assert_message_has(ctx, missing);
    assert_message_has(ctx, strerror(ENOENT));
    ck_assert_status(ctx, subsel_csr_load_npz(ctx, dir, &m), SUBSEL_E_IO);
    assert_message_has(ctx, strerror(EISDIR));
    subsel_ctx_free(ctx);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Internals: the header parser, memory streams, pipes                      */
/* ------------------------------------------------------------------------ */

START_TEST(header_parser_accepts_numpy_spellings)
{
    static const struct {
        const char *text;
        int ndim;
        int64_t d0, d1, count;
        int type, fortran;
    } cases[] = {
        {"{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }", 2, 3, 4, 12, SS_NPY_F8, 0},
        {"{'shape': (5,), 'descr': '<i4', 'fortran_order': True}", 1, 5, 0, 5, SS_NPY_I4, 1},
        {"{\"descr\":\"<i8\",\"fortran_order\":False,\"shape\":()}   \n", 0, 0, 0, 1, SS_NPY_I8, 0},
        {" {\t'fortran_order' : False ,'shape':( 2 , 0 , ),'descr':'<f4' , }\r\n", 2, 2, 0, 0, SS_NPY_F4, 0},
        {"{'descr': '|S3', 'fortran_order': False, 'shape': ()}", 0, 0, 0, 1, SS_NPY_BYTES, 0},
        {"{'descr': '<U7', 'fortran_order': False, 'shape': (2,)}", 1, 2, 0, 2, SS_NPY_UNICODE, 0},
        {"{'descr': '<f8', 'fortran_order': False, 'shape': (0, 99999999999)}", 2, 0, 99999999999, 0, SS_NPY_F8, 0},
    };
    subsel_ctx *ctx = new_ctx();
    size_t i;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ss_npy_header h;
        ck_assert_ok(ctx, ss_npy_parse_dict(ctx, cases[i].text, strlen(cases[i].text), &h));
        ck_assert_int_eq(h.ndim, cases[i].ndim);
        ck_assert_int_eq(h.count, cases[i].count);
        ck_assert_int_eq(h.type, cases[i].type);
        ck_assert_int_eq(h.fortran_order, cases[i].fortran);
        if (h.ndim > 0)
            ck_assert_int_eq(h.shape[0], cases[i].d0);
        if (h.ndim > 1)
            ck_assert_int_eq(h.shape[1], cases[i].d1);
    }
    {
        ss_npy_header h;
        ck_assert_ok(ctx, ss_npy_parse_dict(ctx, cases[5].text, strlen(cases[5].text), &h));
        ck_assert_uint_eq(h.itemsize, 28);
    }
    subsel_ctx_free(ctx);
}
END_TEST

START_TEST(header_parser_rejects_bad_dicts)
{
    static const struct {
        const char *text;
        int status;
        const char *message;
    } cases[] = {
        {"", SUBSEL_E_FORMAT, "'{' starting"},
        {"{", SUBSEL_E_FORMAT, "a quoted string"},
        {"{'descr': '<f8', 'fortran_order': False}", SUBSEL_E_FORMAT, "no 'shape' key"},
        {"{'descr': '<f8', 'shape': (1,)}", SUBSEL_E_FORMAT, "no 'fortran_order' key"},
        {"{'descr': '<f8', 'fortran_order': False, 'shape': (1,),,}", SUBSEL_E_FORMAT, "a quoted string"},
        {"{'descr': '<f8', 'fortran_order': 0, 'shape': (1,)}", SUBSEL_E_FORMAT, "True or False"},
        {"{'descr': '<f8', 'fortran_order': False, 'shape': [1]}", SUBSEL_E_FORMAT, "'(' starting the shape"},
        {"{'descr': '<f8', 'fortran_order': False, 'shape': (1 2)}", SUBSEL_E_FORMAT, "',' or ')'"},
        {"{'descr': '<f8', 'fortran_order': False, 'shape': (1,", SUBSEL_E_FORMAT, "a dimension"},
        {"{'descr': '<f8', 'fortran_order': False, 'shape': (9223372036854775808,)}", SUBSEL_E_FORMAT, "64 bits"},
        {"{'descr': '<f8', 'fortran_order': False, 'shape': (3037000500, 3037000500)}", SUBSEL_E_FORMAT, "more elements"},
        {"{'descr': '<f8', 'fortran_order': False, 'shape': (1152921504606846976,)}", SUBSEL_E_FORMAT, "2^63 bytes"},
        {"{'descr': 'f8', 'fortran_order': False, 'shape': (1,)}", SUBSEL_E_UNSUPPORTED, "dtype 'f8'"},
        {"{'descr': '<f16', 'fortran_order': False, 'shape': (1,)}", SUBSEL_E_UNSUPPORTED, "dtype '<f16'"},
        /* '<i2' and the other integer widths parse (ids read them); the
         * number readers refuse them (ids_refuse_other_dtypes) */
        {"{'descr': '<i16', 'fortran_order': False, 'shape': (1,)}", SUBSEL_E_UNSUPPORTED, "dtype '<i16'"},
        {"{'descr': '<u3', 'fortran_order': False, 'shape': (1,)}", SUBSEL_E_UNSUPPORTED, "dtype '<u3'"},
        {"{'descr': '>u2', 'fortran_order': False, 'shape': (1,)}", SUBSEL_E_UNSUPPORTED, "big-endian"},
        {"{'descr': '<f8x', 'fortran_order': False, 'shape': (1,)}", SUBSEL_E_UNSUPPORTED, "dtype '<f8x'"},
        {"{'descr': '|S0', 'fortran_order': False, 'shape': (1,)}", SUBSEL_E_UNSUPPORTED, "dtype '|S0'"},
        {"{'descr': '>U3', 'fortran_order': False, 'shape': (1,)}", SUBSEL_E_UNSUPPORTED, "big-endian"},
        {"{'descr': '<M8[ns]', 'fortran_order': False, 'shape': (1,)}", SUBSEL_E_UNSUPPORTED, "dtype '<M8[ns]'"},
        {"{'descr': '<f8', 'fortran_order': False, 'shape': (1,)} }", SUBSEL_E_FORMAT, "only spaces"},
        {"{'a_very_long_key_name_that_goes_on_and_on': 1}", SUBSEL_E_FORMAT, "unexpected key"},
    };
    subsel_ctx *ctx = new_ctx();
    size_t i;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ss_npy_header h;
        int rc = ss_npy_parse_dict(ctx, cases[i].text, strlen(cases[i].text), &h);
        ck_assert_msg(rc == cases[i].status, "case %zu: %d (%s)", i, rc, subsel_ctx_last_error(ctx));
        assert_message_has(ctx, cases[i].message);
    }
    subsel_ctx_free(ctx);
}
END_TEST

/* A FILE reading `size` bytes of `data` through a pipe: no size known. */
static FILE *pipe_of(const void *data, size_t size)
{
    int fds[2];
    FILE *f;
    ck_assert_int_eq(pipe(fds), 0);
    ck_assert(size < 60000); /* fits the pipe buffer */
    ck_assert_int_eq((long)write(fds[1], data, size), (long)size);
    close(fds[1]);
    f = fdopen(fds[0], "rb");
    ck_assert_ptr_nonnull(f);
    return f;
}

static unsigned char *slurp(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf;
    long n;
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    rewind(f);
    buf = malloc((size_t)n + 16);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *size = (size_t)n;
    return buf;
}

START_TEST(readers_work_on_pipes_and_memory)
{
    subsel_ctx *ctx = new_ctx();
    size_t size;
    unsigned char *npy = slurp(variant("dense_fortran.npy"), &size);
    unsigned char *npz;
    subsel_dense *d;
    subsel_csr *m;
    FILE *f;

    /* unknown size: the data is read until it ends */
    f = pipe_of(npy, size);
    ck_assert_ok(ctx, ss_npy_load_dense(ctx, f, &d));
    fclose(f);
    assert_base_dense(d);
    subsel_dense_free(d);
    f = pipe_of(npy, size - 1);
    ck_assert_status(ctx, ss_npy_load_dense(ctx, f, &d), SUBSEL_E_FORMAT);
    assert_message_has(ctx, "truncated array data: the data ends after 95 of 96 bytes");
    fclose(f);
    memcpy(npy + size, "xyz", 3);
    f = pipe_of(npy, size + 3);
    ck_assert_status(ctx, ss_npy_load_dense(ctx, f, &d), SUBSEL_E_FORMAT);
    assert_message_has(ctx, "unexpected bytes follow the array data");
    fclose(f);
    /* memory streams, as the fuzzers use */
    f = fmemopen(npy, size, "rb");
    ck_assert_ok(ctx, ss_npy_load_dense(ctx, f, &d));
    fclose(f);
    assert_base_dense(d);
    subsel_dense_free(d);

    npz = slurp(variant("csr_zip64.npz"), &size);
    f = fmemopen(npz, size, "rb");
    ck_assert_ok(ctx, ss_npz_load_csr(ctx, f, &m));
    fclose(f);
    assert_base_csr(m);
    subsel_csr_free(m);
    /* a zip from a pipe is read into memory first */
    f = pipe_of(npz, size);
    ck_assert_ok(ctx, ss_npz_load_csr(ctx, f, &m));
    fclose(f);
    assert_base_csr(m);
    subsel_csr_free(m);
    f = pipe_of(npz, 0);
    ck_assert_status(ctx, ss_npz_load_csr(ctx, f, &m), SUBSEL_E_FORMAT);
    assert_message_has(ctx, "the stream is empty");
    fclose(f);
    free(npz);
    free(npy);
    subsel_ctx_free(ctx);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Streams: pipes, FIFOs, /dev/stdin                                        */
/* ------------------------------------------------------------------------ */

/* A .npy file in memory: format 1.0 with the dict padded to 64 bytes,
 * then `data_bytes` bytes of data (which may be fewer than the dict says). */
static unsigned char *make_npy(const char *dict, const void *data,
                               size_t data_bytes, size_t *size)
{
    size_t len = strlen(dict), header = (10 + len + 1 + 63) / 64 * 64;
    unsigned char *buf = malloc(header + data_bytes + 1);
    ck_assert_ptr_nonnull(buf);
    memcpy(buf, "\x93NUMPY\x01\x00", 8);
    buf[8] = (unsigned char)((header - 10) & 0xff);
    buf[9] = (unsigned char)((header - 10) >> 8);
    memcpy(buf + 10, dict, len);
    memset(buf + 10 + len, ' ', header - 10 - len - 1);
    buf[header - 1] = '\n';
    if (data_bytes > 0)
        memcpy(buf + header, data, data_bytes);
    *size = header + data_bytes;
    return buf;
}

/* A pipe fed by a child process, for data larger than a pipe's buffer;
 * *child is reaped with waitpid by the caller. */
static int pipe_from_child(const void *data, size_t size, pid_t *child)
{
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    *child = fork();
    ck_assert_int_ge(*child, 0);
    if (*child == 0) {
        const unsigned char *p = data;
        close(fds[0]);
        while (size > 0) {
            ssize_t n = write(fds[1], p, size);
            if (n <= 0)
                _exit(1);
            p += n;
            size -= (size_t)n;
        }
        _exit(0);
    }
    close(fds[1]);
    return fds[0];
}

static void reap(pid_t child)
{
    int status;
    ck_assert_int_eq(waitpid(child, &status, 0), child);
}

/* A header claiming 800 GB followed by 10 bytes: from a stream the claim
 * cannot be checked against a size, and must not be allocated either. */
START_TEST(stream_claims_are_not_allocated_before_the_data)
{
    subsel_ctx *ctx = new_ctx();
    const char *dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (100000000000,), }";
    size_t size;
    unsigned char *npy = make_npy(dict, "0123456789", 10, &size);
    char path[64];
    subsel_dense *d = NULL;
    double *v = (double *)npy;
    int64_t n = -1;
    FILE *f;
    int fds[2];

    f = pipe_of(npy, size);
    ck_assert_status(ctx, ss_npy_load_dense(ctx, f, &d), SUBSEL_E_FORMAT);
    assert_message_has(ctx, "the data ends after 10 of 800000000000 bytes");
    ck_assert_ptr_null(d);
    fclose(f);
    /* the same through the public one-call vector reader, by path */
    ck_assert_int_eq(pipe(fds), 0);
    ck_assert_int_eq((long)write(fds[1], npy, size), (long)size);
    close(fds[1]);
    snprintf(path, sizeof path, "/dev/fd/%d", fds[0]);
    ck_assert_status(ctx, subsel_npy_load_f64(ctx, path, &v, &n), SUBSEL_E_FORMAT);
    close(fds[0]);
    assert_message_has(ctx, "the data ends after 10 of 800000000000 bytes");
    ck_assert_ptr_null(v);
    ck_assert_int_eq(n, 100000000000);
    free(npy);
    subsel_ctx_free(ctx);
}
END_TEST

/* Arrays larger than a pipe buffer and than the first buffer of a growing
 * read, C and Fortran order, come out as from a file. */
START_TEST(streams_grow_to_large_arrays)
{
    enum { ROWS = 700, COLS = 300 };
    subsel_ctx *ctx = new_ctx();
    double *col_major = malloc(sizeof(double) * ROWS * COLS);
    int64_t *ints = malloc(sizeof(int64_t) * ROWS * COLS), *got = NULL, n = 0, i;
    char dict[128], path[64];
    unsigned char *npy;
    subsel_dense *d;
    size_t size;
    pid_t child;
    FILE *f;
    int fd;

    ck_assert(col_major && ints);
    for (i = 0; i < ROWS * COLS; i++) {
        col_major[i] = (double)(i % 1013) - 500.25;
        ints[i] = i * 7919 - 3;
    }
    snprintf(dict, sizeof dict,
             "{'descr': '<f8', 'fortran_order': True, 'shape': (%d, %d), }", ROWS, COLS);
    npy = make_npy(dict, col_major, sizeof(double) * ROWS * COLS, &size);
    f = fdopen(pipe_from_child(npy, size, &child), "rb");
    ck_assert_ok(ctx, ss_npy_load_dense(ctx, f, &d));
    fclose(f);
    reap(child);
    ck_assert_int_eq(subsel_dense_rows(d), ROWS);
    ck_assert_int_eq(subsel_dense_cols(d), COLS);
    for (i = 0; i < ROWS * COLS; i++) /* element (r, c) is col_major[c * ROWS + r] */
        ck_assert_float_eq(subsel_dense_data(d)[i],
                           (float)col_major[(i % COLS) * ROWS + i / COLS]);
    subsel_dense_free(d);
    free(npy);
    /* a vector in one call, through a path, from a child's pipe */
    snprintf(dict, sizeof dict, "{'descr': '<i8', 'fortran_order': False, 'shape': (%d,), }",
             ROWS * COLS);
    npy = make_npy(dict, ints, sizeof(int64_t) * ROWS * COLS, &size);
    fd = pipe_from_child(npy, size, &child);
    snprintf(path, sizeof path, "/dev/fd/%d", fd);
    ck_assert_ok(ctx, subsel_npy_load_i64(ctx, path, &got, &n));
    close(fd);
    reap(child);
    ck_assert_int_eq(n, ROWS * COLS);
    ck_assert_mem_eq(got, ints, sizeof(int64_t) * ROWS * COLS);
    subsel_array_free(got);
    free(npy);
    free(ints);
    free(col_major);
    subsel_ctx_free(ctx);
}
END_TEST

START_TEST(vectors_load_in_one_call)
{
    counting_allocator counts = {0, 0, 0};
    subsel_ctx *ctx;
    const double fv[3] = {1.5, -2, 1e300};
    double *v = (double *)fv;
    int64_t *iv = (int64_t *)fv, n = -1;
    char pf[512], pd[512];
    subsel_dense *d;

    ck_assert_int_eq(subsel_ctx_create_with_allocator(&ctx, counting_allocator_alloc,
                                                      counting_allocator_free, &counts),
                     SUBSEL_OK);
    snprintf(pf, sizeof pf, "%s", temp_path("one_call.npy"));
    snprintf(pd, sizeof pd, "%s", temp_path("one_call_2d.npy"));
    ck_assert_ok(ctx, subsel_npy_write_f64(ctx, pf, fv, 3));
    ck_assert_ok(ctx, subsel_npy_load_f64(ctx, pf, &v, &n));
    ck_assert_int_eq(n, 3);
    ck_assert_mem_eq(v, fv, sizeof fv);
    subsel_array_free(v);
    /* a float file is not an integer vector: *count still written */
    n = -1;
    ck_assert_status(ctx, subsel_npy_load_i64(ctx, pf, &iv, &n), SUBSEL_E_UNSUPPORTED);
    ck_assert_ptr_null(iv);
    ck_assert_int_eq(n, 3);
    /* a matrix is not a vector */
    ck_assert_ok(ctx, subsel_dense_load_npy(ctx, fixture_path("fb/w.npy"), &d));
    ck_assert_ok(ctx, subsel_dense_save_npy(ctx, d, pd));
    subsel_dense_free(d);
    ck_assert_ok(ctx, subsel_dense_load_npy(ctx, variant("dense_fortran.npy"), &d));
    ck_assert_ok(ctx, subsel_dense_save_npy(ctx, d, pd));
    subsel_dense_free(d);
    n = -1;
    ck_assert_status(ctx, subsel_npy_load_f64(ctx, pd, &v, &n), SUBSEL_E_UNSUPPORTED);
    ck_assert_int_eq(n, 12);
    ck_assert_ptr_null(v);
    /* NULL arguments */
    ck_assert_int_eq(subsel_npy_load_f64(ctx, pf, NULL, &n), SUBSEL_E_INVALID);
    ck_assert_int_eq(subsel_npy_load_f64(ctx, NULL, &v, &n), SUBSEL_E_INVALID);
    ck_assert_int_eq(subsel_npy_load_f64(ctx, pf, &v, NULL), SUBSEL_E_INVALID);
    ck_assert_int_eq(subsel_npy_load_f64(NULL, pf, &v, &n), SUBSEL_E_INVALID);
    subsel_array_free(NULL);
    /* the array outlives its context, and its memory came from the hooks
     * (the context's block stays until the last block charged to its
     * memory meter, this array, is freed) */
    ck_assert_ok(ctx, subsel_npy_load_f64(ctx, pf, &v, &n));
    subsel_ctx_free(ctx);
    ck_assert_int_eq(counts.live, 2);
    ck_assert_double_eq(v[2], 1e300);
    subsel_array_free(v);
    ck_assert_int_eq(counts.live, 0);
}
END_TEST

/* The documented contract: *count is written whenever the header is valid,
 * also for arrays that are not vectors or have another dtype. */
START_TEST(vector_count_is_written_for_every_valid_header)
{
    subsel_ctx *ctx = new_ctx();
    char path[512];
    int64_t n = -1;
    subsel_dense *d;
    const double fv[2] = {1, 2};

    snprintf(path, sizeof path, "%s", temp_path("matrix.npy"));
    ck_assert_ok(ctx, subsel_dense_load_npy(ctx, variant("dense_fortran.npy"), &d));
    ck_assert_ok(ctx, subsel_dense_save_npy(ctx, d, path));
    subsel_dense_free(d);
    ck_assert_status(ctx, subsel_npy_read_f64(ctx, path, NULL, 0, &n), SUBSEL_E_UNSUPPORTED);
    ck_assert_int_eq(n, 12);
    snprintf(path, sizeof path, "%s", temp_path("floats.npy"));
    ck_assert_ok(ctx, subsel_npy_write_f64(ctx, path, fv, 2));
    n = -1;
    ck_assert_status(ctx, subsel_npy_read_i64(ctx, path, NULL, 0, &n), SUBSEL_E_UNSUPPORTED);
    ck_assert_int_eq(n, 2);
    subsel_ctx_free(ctx);
}
END_TEST

/* Every allocation of a stream load failing in turn (growing .npy
 * buffers, the Fortran-order transposition, the one-call vector, an .npz
 * read into memory): SUBSEL_E_NOMEM and nothing left, or success. */
typedef struct stream_job {
    int kind; /* 0: dense .npy, 1: int64 vector .npy, 2: .npz */
    const unsigned char *input;
    size_t size;
} stream_job;

static int stream_load(subsel_ctx *ctx, void *arg, int64_t n)
{
    const stream_job *job = arg;
    void *result = NULL;
    int64_t count = 0;
    pid_t child;
    FILE *f;
    int rc;
    (void)n;
    f = fdopen(pipe_from_child(job->input, job->size, &child), "rb");
    if (job->kind == 0)
        rc = ss_npy_load_dense(ctx, f, (subsel_dense **)&result);
    else if (job->kind == 1)
        rc = ss_npy_load_vector(ctx, f, SS_NPY_I8, &result, &count);
    else
        rc = ss_npz_load_csr(ctx, f, (subsel_csr **)&result);
    fclose(f);
    reap(child);
    ck_assert((rc == SUBSEL_OK) == (result != NULL));
    if (job->kind == 0)
        subsel_dense_free(result);
    else if (job->kind == 1)
        subsel_array_free(result);
    else
        subsel_csr_free(result);
    return rc;
}

START_TEST(stream_loads_survive_allocation_failures)
{
    enum { ROWS = 100, COLS = 300, N = 20000 };
    float *col_major = malloc(sizeof(float) * ROWS * COLS);
    int64_t *ints = malloc(sizeof(int64_t) * N), i;
    unsigned char *inputs[3];
    size_t sizes[3];
    char dict[128], npz[512];
    int kind;
    static const char *const what[3] = {"stream load of a Fortran-order .npy",
                                        "stream load of an int64 vector",
                                        "stream load of an .npz"};

    ck_assert(col_major && ints);
    for (i = 0; i < ROWS * COLS; i++)
        col_major[i] = (float)(i % 11);
    for (i = 0; i < N; i++)
        ints[i] = i - 7;
    snprintf(dict, sizeof dict,
             "{'descr': '<f4', 'fortran_order': True, 'shape': (%d, %d), }", ROWS, COLS);
    inputs[0] = make_npy(dict, col_major, sizeof(float) * ROWS * COLS, &sizes[0]);
    snprintf(dict, sizeof dict, "{'descr': '<i8', 'fortran_order': False, 'shape': (%d,), }", N);
    inputs[1] = make_npy(dict, ints, sizeof(int64_t) * N, &sizes[1]);
    {
        subsel_ctx *ctx = new_ctx();
        subsel_dense *d;
        subsel_csr *m;
        snprintf(npz, sizeof npz, "%s", temp_path("sweep.npz"));
        ck_assert_ok(ctx, subsel_dense_create(ctx, ROWS, COLS, col_major, SUBSEL_BORROW, &d));
        ck_assert_ok(ctx, subsel_csr_from_dense(ctx, d, &m));
        ck_assert_ok(ctx, subsel_csr_save_npz(ctx, m, npz, 0));
        subsel_csr_free(m);
        subsel_dense_free(d);
        subsel_ctx_free(ctx);
        inputs[2] = slurp(npz, &sizes[2]);
    }
    for (kind = 0; kind < 3; kind++) {
        stream_job job = {kind, inputs[kind], sizes[kind]};
        ck_assert_int_gt(alloc_sweep(what[kind], stream_load, NULL, &job), 1); /* the buffers grew */
    }
    for (kind = 0; kind < 3; kind++)
        free(inputs[kind]);
    free(ints);
    free(col_major);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Progress and cancellation of loads                                       */
/* ------------------------------------------------------------------------ */

/* Starts a fresh shared progress log on ctx, cancelling at its
 * cancel_at-th report of any stage (0: never). */
static void start_log(subsel_ctx *ctx, progress_log *p, int cancel_at)
{
    memset(p, 0, sizeof *p);
    p->cancel_at = cancel_at;
    ck_assert_ok(ctx, subsel_ctx_set_progress(ctx, progress_log_fn, p));
}

/* The names of the stages a log saw, in order, space-separated. */
static const char *stage_names(const progress_log *p)
{
    static char names[256];
    int i;
    names[0] = '\0';
    for (i = 0; i < p->stages; i++)
        snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s",
                 i ? " " : "", p->name[i]);
    return names;
}

/* A dense .npy file of 3 MiB of float32, a CSR .npz of 6 MiB (stored) and
 * a vector .npy of 6 MiB: several blocks each. */
static void write_big_files(subsel_ctx *ctx, const char *npy, const char *npz,
                            const char *vec)
{
    enum { ROWS = 4096, COLS = 192 };
    float *data = malloc(sizeof(float) * ROWS * COLS);
    subsel_dense *d;
    subsel_csr *m;
    int64_t i;
    ck_assert_ptr_nonnull(data);
    for (i = 0; i < ROWS * COLS; i++)
        data[i] = (float)(i % 97);
    ck_assert_ok(ctx, subsel_dense_create(ctx, ROWS, COLS, data, SUBSEL_BORROW, &d));
    ck_assert_ok(ctx, subsel_dense_save_npy(ctx, d, npy));
    ck_assert_ok(ctx, subsel_csr_from_dense(ctx, d, &m));
    ck_assert_ok(ctx, subsel_csr_save_npz(ctx, m, npz, 0));
    subsel_csr_free(m);
    subsel_dense_free(d);
    free(data);
    if (vec != NULL) {
        double *v = malloc(sizeof(double) * ROWS * COLS);
        ck_assert_ptr_nonnull(v);
        for (i = 0; i < ROWS * COLS; i++)
            v[i] = (double)i / 3;
        ck_assert_ok(ctx, subsel_npy_write_f64(ctx, vec, v, ROWS * COLS));
        free(v);
    }
}

START_TEST(loads_report_progress_to_the_end)
{
    subsel_ctx *ctx = new_ctx();
    char npy[512], npz[512];
    progress_log p;
    int map;
    subsel_dense *d;
    subsel_csr *m;
    unsigned char *bytes;
    size_t size;
    pid_t child;
    FILE *f;

    snprintf(npy, sizeof npy, "%s", temp_path("big.npy"));
    snprintf(npz, sizeof npz, "%s", temp_path("big.npz"));
    write_big_files(ctx, npy, npz, NULL);
    /* streamed: 0, two blocks in between, the end; in place (mapped): the
     * rounds of the finiteness check in between */
    for (map = 0; map < 2; map++) {
        ck_assert_ok(ctx, subsel_ctx_set_int(ctx, SUBSEL_P_MAP_FILES, map));
        start_log(ctx, &p, 0);
        ck_assert_ok(ctx, subsel_dense_load_npy(ctx, npy, &d));
        subsel_dense_free(d);
        progress_log_assert_clean(&p, "npy");
        ck_assert_str_eq(stage_names(&p), "load");
        ck_assert_int_ge(p.calls, map ? 2 : 4);
        ck_assert_int_eq(p.total[0], (int64_t)4096 * 192 * 4);
        ck_assert_int_eq(p.ended[0], 1);
    }

    start_log(ctx, &p, 0);
    ck_assert_ok(ctx, subsel_csr_load_npz(ctx, npz, &m));
    progress_log_assert_clean(&p, "npz");
    ck_assert_str_eq(stage_names(&p), "load validate");
    ck_assert_int_eq(p.total[1], subsel_csr_rows(m));
    ck_assert_int_eq(p.ended[0] + p.ended[1], 2);
    subsel_csr_free(m);

    /* from a pipe, a zip is read first */
    start_log(ctx, &p, 0);
    bytes = slurp(npz, &size);
    f = fdopen(pipe_from_child(bytes, size, &child), "rb");
    ck_assert_ok(ctx, ss_npz_load_csr(ctx, f, &m));
    fclose(f);
    reap(child);
    free(bytes);
    progress_log_assert_clean(&p, "npz from a pipe");
    ck_assert_str_eq(stage_names(&p), "read load validate");
    ck_assert_int_eq(p.ended[0] + p.ended[1] + p.ended[2], 3);
    subsel_csr_free(m);
    subsel_ctx_free(ctx);
}
END_TEST

/* Cancelling on the n-th report of a load, for every n: SUBSEL_E_CANCELLED,
 * no handle, nothing left allocated. */
START_TEST(loads_cancel_cleanly_between_blocks)
{
    counting_allocator counts = {0, 0, 0};
    subsel_ctx *ctx = new_ctx(), *counted;
    char npy[512], npz[512], vec[512], npz_deflated[512];
    progress_log p;
    subsel_csr *big;
    int n, kind;

    snprintf(npy, sizeof npy, "%s", temp_path("cancel.npy"));
    snprintf(npz, sizeof npz, "%s", temp_path("cancel.npz"));
    snprintf(vec, sizeof vec, "%s", temp_path("cancel_vector.npy"));
    snprintf(npz_deflated, sizeof npz_deflated, "%s", temp_path("cancel_deflated.npz"));
    write_big_files(ctx, npy, npz, vec);
    ck_assert_ok(ctx, subsel_csr_load_npz(ctx, npz, &big));
    ck_assert_ok(ctx, subsel_csr_save_npz(ctx, big, npz_deflated, 1));
    subsel_csr_free(big);
    subsel_ctx_free(ctx);
    ck_assert_int_eq(subsel_ctx_create_with_allocator(&counted, counting_allocator_alloc,
                                                      counting_allocator_free, &counts),
                     SUBSEL_OK);
    /* kinds 0-2 streamed, 3 and 4 (the .npy and .npz again) in place, 5 a
     * deflated .npz mapped (its two arrays inflated at once on two threads,
     * the caller's reporting) */
    ck_assert_ok(counted, subsel_ctx_set_int(counted, SUBSEL_P_THREADS, 2));
    for (kind = 0; kind < 6; kind++) {
        ck_assert_ok(counted, subsel_ctx_set_int(counted, SUBSEL_P_MAP_FILES, kind >= 3));
        for (n = 1;; n++) {
            subsel_dense *d = (subsel_dense *)counted;
            subsel_csr *m = (subsel_csr *)counted;
            double *v = (double *)counted;
            int64_t live = counts.live, count;
            int rc;
            const int which = kind == 5 ? 1 : kind % 3;
            start_log(counted, &p, n);
            if (which == 0)
                rc = subsel_dense_load_npy(counted, npy, &d);
            else if (which == 1)
                rc = subsel_csr_load_npz(counted, kind == 5 ? npz_deflated : npz, &m);
            else
                rc = subsel_npy_load_f64(counted, vec, &v, &count);
            if (p.calls < n) { /* finished before the n-th report */
                ck_assert_int_eq(rc, SUBSEL_OK);
                subsel_dense_free(which == 0 ? d : NULL);
                subsel_csr_free(which == 1 ? m : NULL);
                subsel_array_free(which == 2 ? v : NULL);
                break;
            }
            ck_assert_msg(rc == SUBSEL_E_CANCELLED, "kind %d, report %d: %d (%s)", kind, n,
                          rc, subsel_ctx_last_error(counted));
            ck_assert_ptr_null(which == 0 ? (void *)d : which == 1 ? (void *)m : (void *)v);
            ck_assert_int_eq(counts.live, live);
        }
        ck_assert_int_ge(n, kind == 3 ? 3 : 4);
    }
    subsel_ctx_free(counted);
    ck_assert_int_eq(counts.live, 0);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Peak memory against the matrix's own bytes                              */
/* ------------------------------------------------------------------------ */

/* Allocator hooks that keep the live and the peak bytes: each block
 * carries its size in front of the aligned address it hands out. */
typedef struct peak_allocator {
    int64_t live, peak;
} peak_allocator;

static void *peak_alloc(void *opaque, size_t size, size_t alignment)
{
    peak_allocator *a = opaque;
    unsigned char *p = NULL;
    if (posix_memalign((void **)&p, alignment, size + alignment) != 0)
        return NULL;
    memcpy(p + alignment - sizeof size, &size, sizeof size);
    memcpy(p + alignment - 2 * sizeof size, &alignment, sizeof alignment);
    a->live += (int64_t)size;
    if (a->live > a->peak)
        a->peak = a->live;
    return p + alignment;
}

static void peak_free(void *opaque, void *ptr)
{
    peak_allocator *a = opaque;
    unsigned char *q = ptr;
    size_t size, alignment;
    memcpy(&size, q - sizeof size, sizeof size);
    memcpy(&alignment, q - 2 * sizeof size, sizeof alignment);
    a->live -= (int64_t)size;
    free(q - alignment);
}

/* A pool of 2^19 rows, almost all empty (the shape that made `subsel fb`
 * use 6 times the matrix's bytes): loading it, building the objective and
 * running each greedy algorithm stays within a small factor of the
 * matrix's own arrays. */
START_TEST(peak_memory_stays_near_the_matrix)
{
    enum { ROWS = 1 << 19, COLS = 8, BUDGET = 4 };
    static const int algorithms[3] = {SUBSEL_OPT_NAIVE, SUBSEL_OPT_LAZY, SUBSEL_OPT_STOCHASTIC};
    peak_allocator mem = {0, 0};
    subsel_ctx *ctx;
    int64_t *ip = malloc(sizeof *ip * (ROWS + 1)), r, nnz = 0, matrix_bytes, base;
    int32_t ix[64];
    float v[64];
    char path[512];
    subsel_csr *m;
    int a;

    ck_assert_ptr_nonnull(ip);
    ip[0] = 0;
    for (r = 0; r < ROWS; r++) {
        if (r % (ROWS / 32) == 0 && nnz < 64) {
            ix[nnz] = (int32_t)(r % COLS);
            v[nnz++] = 1.0f + (float)(r % 5);
        }
        ip[r + 1] = nnz;
    }
    ck_assert_int_eq(subsel_ctx_create_with_allocator(&ctx, peak_alloc, peak_free, &mem),
                     SUBSEL_OK);
    snprintf(path, sizeof path, "%s", temp_path("tall.npz"));
    ck_assert_ok(ctx, subsel_csr_create(ctx, ROWS, COLS, ip, ix, v, SUBSEL_BORROW, &m));
    ck_assert_ok(ctx, subsel_csr_save_npz(ctx, m, path, 1));
    subsel_csr_free(m);
    free(ip);
    matrix_bytes = (int64_t)(ROWS + 1) * 8 + nnz * 8;

    base = mem.live;
    mem.peak = base;
    ck_assert_ok(ctx, subsel_csr_load_npz(ctx, path, &m));
    ck_assert_msg(mem.peak - base <= matrix_bytes + (1 << 20),
                  "loading peaks at %lld bytes for a matrix of %lld",
                  (long long)(mem.peak - base), (long long)matrix_bytes);
    for (a = 0; a < 3; a++) {
        subsel_objective *f;
        subsel_optimizer *opt;
        subsel_selection *sel;
        mem.peak = mem.live;
        ck_assert_ok(ctx, subsel_fb_create(ctx, m, SUBSEL_CONCAVE_LOG1P, 1.0, NULL, &f));
        ck_assert_ok(ctx, subsel_optimizer_create(ctx, algorithms[a], &opt));
        ck_assert_ok(ctx, subsel_optimizer_set_int(opt, SUBSEL_OPT_BUDGET, BUDGET));
        ck_assert_ok(ctx, subsel_optimizer_set_int(opt, SUBSEL_OPT_STOP_NONPOSITIVE, 0));
        ck_assert_ok(ctx, subsel_optimizer_run(ctx, opt, f, &sel));
        ck_assert_int_eq(subsel_selection_count(sel), BUDGET);
        /* besides the matrix: one pool or heap entry of at most 16 bytes
         * and one membership byte per row, and fixed buffers */
        ck_assert_msg(mem.peak - base <= 3 * matrix_bytes + (2 << 20),
                      "algorithm %d peaks at %lld bytes for a matrix of %lld",
                      algorithms[a], (long long)(mem.peak - base), (long long)matrix_bytes);
        subsel_selection_free(sel);
        subsel_optimizer_free(opt);
        subsel_objective_free(f);
    }
    subsel_csr_free(m);
    subsel_ctx_free(ctx);
    ck_assert_int_eq(mem.live, 0);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Writing through links, to devices, FIFOs and /proc/self/fd               */
/* ------------------------------------------------------------------------ */

static const double three[3] = {1.0, 2.0, 3.0};

/* The bytes a vector writer produces for `three`, from a plain file. */
static unsigned char *three_bytes(subsel_ctx *ctx, size_t *size)
{
    char path[512];
    snprintf(path, sizeof path, "%s", temp_path("three_plain.npy"));
    ck_assert_ok(ctx, subsel_npy_write_f64(ctx, path, three, 3));
    return slurp(path, size);
}

static void assert_file_holds_three(const char *path)
{
    int64_t n;
    double *v = read_f64(path, &n);
    ck_assert_int_eq(n, 3);
    ck_assert_mem_eq(v, three, sizeof three);
    free(v);
}

static void assert_is_link(const char *path)
{
    struct stat st;
    ck_assert_int_eq(lstat(path, &st), 0);
    ck_assert_msg(S_ISLNK(st.st_mode), "%s is no longer a symbolic link", path);
}

START_TEST(writes_follow_symbolic_links)
{
    subsel_ctx *ctx = new_ctx();
    char dir[512], target[600], link1[600], link2[600], dangling[600], made[600];
    const double old[1] = {9.0};

    snprintf(dir, sizeof dir, "%s", temp_folder("links"));
    snprintf(target, sizeof target, "%s/target.npy", dir);
    snprintf(link1, sizeof link1, "%s/link1.npy", dir);
    snprintf(link2, sizeof link2, "%s/link2.npy", dir);
    ck_assert_ok(ctx, subsel_npy_write_f64(ctx, target, old, 1));
    /* link2 -> link1 (absolute) -> target.npy (relative) */
    ck_assert_int_eq(symlink("target.npy", link1), 0);
    ck_assert_int_eq(symlink(link1, link2), 0);
    ck_assert_ok(ctx, subsel_npy_write_f64(ctx, link2, three, 3));
    assert_is_link(link2);
    assert_is_link(link1);
    assert_file_holds_three(target);
    /* a dangling link: its target is created, the link stays */
    snprintf(dangling, sizeof dangling, "%s/dangling.npy", dir);
    snprintf(made, sizeof made, "%s/made.npy", dir);
    ck_assert_int_eq(symlink("made.npy", dangling), 0);
    ck_assert_ok(ctx, subsel_npy_write_f64(ctx, dangling, three, 3));
    assert_is_link(dangling);
    assert_file_holds_three(made);
    ck_assert(!folder_has_temp_files(dir));
    subsel_ctx_free(ctx);
}
END_TEST

START_TEST(writes_to_fifos_and_devices_go_in_place)
{
    subsel_ctx *ctx = new_ctx();
    char dir[512], fifo[600];
    unsigned char got[4096];
    size_t size;
    unsigned char *want = three_bytes(ctx, &size);
    struct stat st;
    ssize_t n;
    int rfd;

    snprintf(dir, sizeof dir, "%s", temp_folder("fifo"));
    snprintf(fifo, sizeof fifo, "%s/out.npy", dir);
    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
    /* a reader first, so the writer's open does not wait; the data fits
     * the pipe buffer */
    rfd = open(fifo, O_RDONLY | O_NONBLOCK);
    ck_assert_int_ge(rfd, 0);
    ck_assert_ok(ctx, subsel_npy_write_f64(ctx, fifo, three, 3));
    n = read(rfd, got, sizeof got);
    close(rfd);
    ck_assert_int_eq((long)n, (long)size);
    ck_assert_mem_eq(got, want, size);
    ck_assert_int_eq(lstat(fifo, &st), 0);
    ck_assert(S_ISFIFO(st.st_mode));
    ck_assert(!folder_has_temp_files(dir));
    /* a device */
    ck_assert_ok(ctx, subsel_npy_write_f64(ctx, "/dev/null", three, 3));
    ck_assert_int_eq(lstat("/dev/null", &st), 0);
    ck_assert(S_ISCHR(st.st_mode));
    /* a folder is an error, not a rename target */
    ck_assert_status(ctx, subsel_npy_write_f64(ctx, dir, three, 3), SUBSEL_E_IO);
    assert_message_has(ctx, strerror(EISDIR));
    free(want);
    subsel_ctx_free(ctx);
}
END_TEST

/* /dev/stdout and /dev/fd/N lead to /proc/self/fd/N: the open file is
 * written, whatever the link's text says, and nothing is renamed. */
START_TEST(writes_through_proc_fd_links_reach_the_open_file)
{
    subsel_ctx *ctx = new_ctx();
    unsigned char got[4096];
    char path[64], file[512];
    size_t size;
    unsigned char *want = three_bytes(ctx, &size);
    struct stat before, after;
    int fds[2], fd;
    ssize_t n;

    /* a pipe, as `subsel ... --out /dev/stdout | consumer` */
    ck_assert_int_eq(pipe(fds), 0);
    snprintf(path, sizeof path, "/proc/self/fd/%d", fds[1]);
    ck_assert_ok(ctx, subsel_npy_write_f64(ctx, path, three, 3));
    close(fds[1]);
    n = read(fds[0], got, sizeof got);
    close(fds[0]);
    ck_assert_int_eq((long)n, (long)size);
    ck_assert_mem_eq(got, want, size);
    /* a regular file, as `subsel ... --out /dev/stdout > file`: the same
     * file (inode) gets the data */
    snprintf(file, sizeof file, "%s", temp_path("stdout_file.npy"));
    fd = open(file, O_RDWR | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, "old contents, longer than nothing", 33), 33);
    ck_assert_int_eq(fstat(fd, &before), 0);
    snprintf(path, sizeof path, "/dev/fd/%d", fd);
    ck_assert_ok(ctx, subsel_npy_write_f64(ctx, path, three, 3));
    ck_assert_int_eq(stat(file, &after), 0);
    ck_assert_int_eq((long)after.st_ino, (long)before.st_ino);
    close(fd);
    assert_file_holds_three(file);
    free(want);
    subsel_ctx_free(ctx);
}
END_TEST

/* NAME_MAX is 255: the temporary file's name must not depend on the
 * target's length. */
START_TEST(long_file_names_can_be_written)
{
    subsel_ctx *ctx = new_ctx();
    char name[256], dir[512], path[800];
    memset(name, 'a', 245);
    snprintf(name + 245, sizeof name - 245, ".npy"); /* 249 bytes */
    snprintf(dir, sizeof dir, "%s", temp_folder("long"));
    snprintf(path, sizeof path, "%s/%s", dir, name);
    ck_assert_ok(ctx, subsel_npy_write_f64(ctx, path, three, 3));
    assert_file_holds_three(path);
    ck_assert(!folder_has_temp_files(dir));
    subsel_ctx_free(ctx);
}
END_TEST

static void make_temp_file(const char *dir, const char *name, int age)
{
    char path[800];
    struct timeval tv[2];
    FILE *f;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    fputs("half a file", f);
    fclose(f);
    gettimeofday(&tv[0], NULL);
    tv[0].tv_sec -= age;
    tv[1] = tv[0];
    ck_assert_int_eq(utimes(path, tv), 0);
}

static int exists_in(const char *dir, const char *name)
{
    char path[800];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return access(path, F_OK) == 0;
}

/* A writer killed with kill -9 leaves its temporary file; the next write
 * into the folder removes it, and only what is surely stale. */
START_TEST(stale_temporary_files_are_removed)
{
    subsel_ctx *ctx = new_ctx();
    char dir[512], path[800];
    int locked;

    snprintf(dir, sizeof dir, "%s", temp_folder("stale"));
    make_temp_file(dir, ".subsel-999999-0.tmp", 3600);     /* stale */
    make_temp_file(dir, ".subsel-999999-1.tmp", 0);        /* just written */
    make_temp_file(dir, ".subsel-999999-2.tmp", 3600);     /* locked below */
    make_temp_file(dir, ".subsel-notours.tmp", 3600);      /* another name */
    make_temp_file(dir, "data.subsel-1-1.tmp", 3600);      /* another name */
    snprintf(path, sizeof path, "%s/.subsel-999999-2.tmp", dir);
    locked = open(path, O_RDONLY);
    ck_assert_int_ge(locked, 0);
    ck_assert_int_eq(flock(locked, LOCK_EX), 0);
    snprintf(path, sizeof path, "%s/out.npy", dir);
    ck_assert_ok(ctx, subsel_npy_write_f64(ctx, path, three, 3));
    close(locked);
    ck_assert(!exists_in(dir, ".subsel-999999-0.tmp"));
    ck_assert(exists_in(dir, ".subsel-999999-1.tmp"));
    ck_assert(exists_in(dir, ".subsel-999999-2.tmp"));
    ck_assert(exists_in(dir, ".subsel-notours.tmp"));
    ck_assert(exists_in(dir, "data.subsel-1-1.tmp"));
    assert_file_holds_three(path);
    subsel_ctx_free(ctx);
}
END_TEST

Suite *io_suite(void)
{
    Suite *s = suite_create("io");
    TCase *tc = tcase_create("reference");
    tcase_add_test(tc, fixtures_match_reference);
    tcase_add_test(tc, compressed_and_stored_fixtures_agree);
    tcase_add_test(tc, mapped_loads_match_copies);
    tcase_add_test(tc, mapped_loads_check_crc_and_values);
    tcase_add_test(tc, mapped_deflated_pairs_match_streams);
    suite_add_tcase(s, tc);
    tc = tcase_create("variants");
    tcase_add_test(tc, variant_dense_files);
    tcase_add_test(tc, variant_vector_files);
    tcase_add_test(tc, variant_npz_files);
    suite_add_tcase(s, tc);
    tc = tcase_create("malformed");
    tcase_add_loop_test(tc, malformed_file_fails_as_listed, 0, N_MALFORMED);
    tcase_add_loop_test(tc, malformed_file_same_from_memory, 0, N_MALFORMED);
    tcase_add_test(tc, malformed_table_lists_every_file);
    suite_add_tcase(s, tc);
    tc = tcase_create("round trips");
    tcase_add_test(tc, dense_save_load_round_trip);
    tcase_add_test(tc, vector_write_read_round_trip);
    tcase_add_test(tc, ids_keep_their_dtype_order_and_sort);
    tcase_add_test(tc, ids_as_datacomp_subset_file);
    tcase_add_test(tc, ids_refuse_other_dtypes);
    tcase_add_test(tc, vector_capacity_and_size_query);
    tcase_add_test(tc, csr_save_load_round_trip);
    tcase_add_test(tc, csr_save_empty_and_row_view);
    suite_add_tcase(s, tc);
    tc = tcase_create("atomic writes");
    tcase_add_test(tc, writes_respect_umask);
    tcase_add_test(tc, write_errors_leave_no_file);
    tcase_add_test(tc, writes_follow_symbolic_links);
    tcase_add_test(tc, writes_to_fifos_and_devices_go_in_place);
    tcase_add_test(tc, writes_through_proc_fd_links_reach_the_open_file);
    tcase_add_test(tc, long_file_names_can_be_written);
    tcase_add_test(tc, stale_temporary_files_are_removed);
    suite_add_tcase(s, tc);
    tc = tcase_create("arguments");
    tcase_add_test(tc, null_arguments_are_invalid);
    tcase_add_test(tc, unreadable_paths_are_io_errors);
    suite_add_tcase(s, tc);
    tc = tcase_create("internals");
    tcase_add_test(tc, header_parser_accepts_numpy_spellings);
    tcase_add_test(tc, header_parser_rejects_bad_dicts);
    tcase_add_test(tc, readers_work_on_pipes_and_memory);
    suite_add_tcase(s, tc);
    tc = tcase_create("streams");
    tcase_add_test(tc, stream_claims_are_not_allocated_before_the_data);
    tcase_add_test(tc, streams_grow_to_large_arrays);
    tcase_add_test(tc, vectors_load_in_one_call);
    tcase_add_test(tc, vector_count_is_written_for_every_valid_header);
    tcase_add_test(tc, stream_loads_survive_allocation_failures);
    suite_add_tcase(s, tc);
    tc = tcase_create("progress");
    tcase_add_test(tc, loads_report_progress_to_the_end);
    tcase_add_test(tc, loads_cancel_cleanly_between_blocks);
    suite_add_tcase(s, tc);
    tc = tcase_create("memory");
    tcase_add_test(tc, peak_memory_stays_near_the_matrix);
    suite_add_tcase(s, tc);
    return s;
}
