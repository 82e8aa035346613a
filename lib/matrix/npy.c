/* SPDX-License-Identifier: MIT */
/*
 * NumPy .npy files: the header parser (a small tokenizer for the Python dict
 * literal NumPy writes, which trusts nothing: every size is checked against
 * the bytes the source can still deliver before anything is allocated), the
 * streaming reader that converts straight into the final buffer, the header
 * writer, and the public dense-matrix and vector functions.
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "core/ctx.h"
#include "core/error.h"
#include "matrix/mapping.h"
#include "matrix/matrix.h"
#include "matrix/npy.h"

static const unsigned char npy_magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

/* ------------------------------------------------------------------------ */
/* Header dict                                                              */
/* ------------------------------------------------------------------------ */

/* A position in the header text; messages give byte offsets into it. */
typedef struct cursor {
    const char *start, *p, *end;
    subsel_ctx *ctx;
} cursor;

static long offset_of(const cursor *c) { return (long)(c->p - c->start); }

static int syntax_error(const cursor *c, const char *expected)
{
    return ss_fail(c->ctx, SUBSEL_E_FORMAT,
                   "bad header dict: expected %s at byte %ld", expected,
                   offset_of(c));
}

static void skip_space(cursor *c)
{
    while (c->p < c->end &&
           (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

static int peek(const cursor *c) { return c->p < c->end ? *c->p : -1; }

static int expect_char(cursor *c, char ch, const char *expected)
{
    skip_space(c);
    if (peek(c) != ch)
        return syntax_error(c, expected);
    c->p++;
    return SUBSEL_OK;
}

/* A quoted string without escapes (NumPy's keys and dtypes have none). It
 * is copied into buf, truncated to cap - 1 bytes; *full is 0 if it did not
 * fit. */
static int parse_string(cursor *c, char *buf, size_t cap, int *full)
{
    char quote;
    size_t n = 0;
    skip_space(c);
    if (peek(c) != '\'' && peek(c) != '"')
        return syntax_error(c, "a quoted string");
    quote = *c->p++;
    *full = 1;
    while (c->p < c->end && *c->p != quote) {
        if (*c->p == '\\' || *c->p == '\n' || *c->p == '\0')
            return syntax_error(c, "a plain string character");
        if (n + 1 < cap)
            buf[n++] = *c->p;
        else
            *full = 0;
        c->p++;
    }
    if (c->p == c->end)
        return syntax_error(c, "the end of the string");
    c->p++;
    buf[n] = '\0';
    return SUBSEL_OK;
}

static int parse_bool(cursor *c, int *value)
{
    size_t n;
    skip_space(c);
    n = (size_t)(c->end - c->p);
    if (n >= 4 && memcmp(c->p, "True", 4) == 0) {
        c->p += 4;
        *value = 1;
    } else if (n >= 5 && memcmp(c->p, "False", 5) == 0) {
        c->p += 5;
        *value = 0;
    } else {
        return syntax_error(c, "True or False");
    }
    return SUBSEL_OK;
}

/* A nonnegative decimal integer (with Python 2's optional 'L'). */
static int parse_dim(cursor *c, int64_t *value)
{
    int64_t v = 0;
    skip_space(c);
    if (peek(c) == '-')
        return ss_fail(c->ctx, SUBSEL_E_FORMAT,
                       "bad header: negative dimension in the shape at byte "
                       "%ld",
                       offset_of(c));
    if (peek(c) < '0' || peek(c) > '9')
        return syntax_error(c, "a dimension");
    while (peek(c) >= '0' && peek(c) <= '9') {
        int digit = *c->p - '0';
        if (v > (INT64_MAX - digit) / 10)
            return ss_fail(c->ctx, SUBSEL_E_FORMAT,
                           "bad header: dimension at byte %ld does not fit "
                           "in 64 bits",
                           offset_of(c));
        v = v * 10 + digit;
        c->p++;
    }
    if (peek(c) == 'L')
        c->p++;
    *value = v;
    return SUBSEL_OK;
}

/* "()", "(n,)" or "(a, b, ...)" with an optional trailing comma. A single
 * value without its comma is a Python int, not a tuple. */
static int parse_shape(cursor *c, ss_npy_header *h)
{
    int commas = 0;
    SS_CHECK(expect_char(c, '(', "'(' starting the shape"));
    h->ndim = 0;
    skip_space(c);
    while (peek(c) != ')') {
        if (h->ndim == SS_NPY_MAX_DIMS)
            return ss_fail(c->ctx, SUBSEL_E_FORMAT,
                           "bad header: the shape has more than %d "
                           "dimensions",
                           SS_NPY_MAX_DIMS);
        SS_CHECK(parse_dim(c, &h->shape[h->ndim++]));
        skip_space(c);
        if (peek(c) == ',') {
            c->p++;
            commas++;
            skip_space(c);
        } else if (peek(c) != ')') {
            return syntax_error(c, "',' or ')' in the shape");
        }
    }
    c->p++;
    if (h->ndim == 1 && commas == 0)
        return ss_fail(c->ctx, SUBSEL_E_FORMAT,
                       "bad header: the shape is not a tuple (a single "
                       "dimension is written (n,))");
    return SUBSEL_OK;
}

static int unsupported_dtype(subsel_ctx *ctx, const char *d)
{
    return ss_fail(ctx, SUBSEL_E_UNSUPPORTED,
                   "dtype '%s' is not supported (float16, float32, float64, "
                   "int32 and int64 are)",
                   d);
}

/* Maps a dtype string (byte order, kind, size: "<f8") to a type this code
 * reads; everything else is SUBSEL_E_UNSUPPORTED with the dtype named. */
static int parse_descr(subsel_ctx *ctx, const char *d, ss_npy_header *h)
{
    size_t i, len = strlen(d);
    unsigned long n = 0;
    char order, kind;

    /* At most 9 digits, so n cannot overflow. */
    if (len < 3 || len > 11 || strchr("<>|", d[0]) == NULL ||
        strspn(d + 2, "0123456789") != len - 2)
        return unsupported_dtype(ctx, d);
    order = d[0];
    kind = d[1];
    for (i = 2; i < len; i++)
        n = n * 10 + (unsigned long)(d[i] - '0');
    if (order == '>' && n > 1)
        return ss_fail(ctx, SUBSEL_E_UNSUPPORTED,
                       "big-endian dtype '%s' is not supported: convert the "
                       "array with .astype('<%c%lu')",
                       d, kind, n);
    h->itemsize = n;
    if (order == '<' && (kind == 'f' || kind == 'i') && (n == 4 || n == 8)) {
        h->type = kind == 'f' ? (n == 4 ? SS_NPY_F4 : SS_NPY_F8)
                              : (n == 4 ? SS_NPY_I4 : SS_NPY_I8);
    } else if (order == '<' && kind == 'f' && n == 2) {
        h->type = SS_NPY_F2;
    } else if ((kind == 'i' || kind == 'u') &&
               (n == 1 || ((n == 2 || n == 4 || n == 8) && order == '<'))) {
        h->type = SS_NPY_INT_RAW; /* ids only: refused as numbers */
    } else if (kind == 'S' && n > 0) {
        h->type = SS_NPY_BYTES;
    } else if (kind == 'U' && order == '<' && n > 0 && n <= (1ul << 26)) {
        h->type = SS_NPY_UNICODE;
        h->itemsize = 4 * n;
    } else {
        return unsupported_dtype(ctx, d);
    }
    return SUBSEL_OK;
}

static int parse_value(cursor *c, const char *key, ss_npy_header *h)
{
    int full;
    if (strcmp(key, "descr") == 0) {
        skip_space(c);
        if (peek(c) == '[')
            return ss_fail(c->ctx, SUBSEL_E_UNSUPPORTED,
                           "structured dtypes (a list as 'descr') are not "
                           "supported");
        SS_CHECK(parse_string(c, h->descr, sizeof h->descr, &full));
        if (!full)
            return ss_fail(c->ctx, SUBSEL_E_UNSUPPORTED,
                           "dtype '%s...' is not supported", h->descr);
        return parse_descr(c->ctx, h->descr, h);
    }
    if (strcmp(key, "fortran_order") == 0)
        return parse_bool(c, &h->fortran_order);
    return parse_shape(c, h);
}

static int key_index(const char *key)
{
    static const char *const keys[3] = {"descr", "fortran_order", "shape"};
    int i;
    for (i = 0; i < 3; i++)
        if (strcmp(key, keys[i]) == 0)
            return i;
    return -1;
}

/* Element count and byte size, refusing shapes whose product overflows. */
static int count_elements(subsel_ctx *ctx, ss_npy_header *h)
{
    char text[64];
    int i, empty = 0;
    int64_t count = 1;
    for (i = 0; i < h->ndim; i++)
        empty |= h->shape[i] == 0;
    for (i = 0; i < h->ndim && !empty; i++) {
        if (count > INT64_MAX / h->shape[i])
            return ss_fail(ctx, SUBSEL_E_FORMAT,
                           "bad header: shape %s has more elements than fit "
                           "in 64 bits",
                           ss_npy_shape_text(h, text, sizeof text));
        count *= h->shape[i];
    }
    h->count = empty ? 0 : count;
    if (h->count > INT64_MAX / (int64_t)h->itemsize)
        return ss_fail(ctx, SUBSEL_E_FORMAT,
                       "bad header: shape %s of '%s' needs more than 2^63 "
                       "bytes",
                       ss_npy_shape_text(h, text, sizeof text), h->descr);
    h->data_bytes = h->count * (int64_t)h->itemsize;
    return SUBSEL_OK;
}

int ss_npy_parse_dict(subsel_ctx *ctx, const char *text, size_t len,
                      ss_npy_header *h)
{
    cursor c = {text, text, text + len, ctx};
    int seen = 0;
    memset(h, 0, sizeof *h);
    SS_CHECK(expect_char(&c, '{', "'{' starting the header dict"));
    for (;;) {
        char key[32];
        int full, k;
        skip_space(&c);
        if (peek(&c) == '}')
            break;
        SS_CHECK(parse_string(&c, key, sizeof key, &full));
        k = full ? key_index(key) : -1;
        if (k < 0)
            return ss_fail(ctx, SUBSEL_E_FORMAT,
                           "bad header: unexpected key '%s%s'", key,
                           full ? "" : "...");
        if (seen & (1 << k))
            return ss_fail(ctx, SUBSEL_E_FORMAT,
                           "bad header: key '%s' appears twice", key);
        seen |= 1 << k;
        SS_CHECK(expect_char(&c, ':', "':' after a key"));
        SS_CHECK(parse_value(&c, key, h));
        skip_space(&c);
        if (peek(&c) != ',')
            break;
        c.p++;
    }
    SS_CHECK(expect_char(&c, '}', "',' or '}' after a value"));
    skip_space(&c);
    if (c.p != c.end)
        return syntax_error(&c, "only spaces after the header dict");
    if (seen != 7)
        return ss_fail(ctx, SUBSEL_E_FORMAT, "bad header: no '%s' key",
                       !(seen & 1) ? "descr"
                       : !(seen & 2) ? "fortran_order"
                                     : "shape");
    return count_elements(ctx, h);
}

const char *ss_npy_shape_text(const ss_npy_header *h, char *buf, size_t cap)
{
    size_t n;
    int i;
    snprintf(buf, cap, "(");
    for (i = 0; i < h->ndim; i++) {
        n = strlen(buf);
        snprintf(buf + n, cap - n, "%s%lld", i ? ", " : "",
                 (long long)h->shape[i]);
    }
    n = strlen(buf);
    snprintf(buf + n, cap - n, h->ndim == 1 ? ",)" : ")");
    return buf;
}

/* ------------------------------------------------------------------------ */
/* Preamble                                                                 */
/* ------------------------------------------------------------------------ */

/* Magic, version and header length; returns the length in *len. */
static int read_preamble(ss_reader *r, uint32_t *len)
{
    unsigned char pre[12];
    int major, minor;
    SS_CHECK(ss_read_exact(r, pre, 8, ".npy header"));
    if (memcmp(pre, npy_magic, sizeof npy_magic) != 0)
        return ss_fail(r->ctx, SUBSEL_E_FORMAT,
                       "not a .npy file (bad magic string)");
    major = pre[6];
    minor = pre[7];
    if (major < 1 || major > 3 || minor != 0)
        return ss_fail(r->ctx, SUBSEL_E_UNSUPPORTED,
                       ".npy format version %d.%d is not supported (1.0, "
                       "2.0 and 3.0 are)",
                       major, minor);
    if (major == 1) {
        SS_CHECK(ss_read_exact(r, pre + 8, 2, ".npy header"));
        *len = ss_load_le16(pre + 8);
    } else {
        SS_CHECK(ss_read_exact(r, pre + 8, 4, ".npy header"));
        *len = ss_load_le32(pre + 8);
    }
    if (*len > SS_NPY_MAX_HEADER)
        return ss_fail(r->ctx, SUBSEL_E_FORMAT,
                       "header length %lu exceeds the limit of %u bytes",
                       (unsigned long)*len, SS_NPY_MAX_HEADER);
    if ((int64_t)*len > r->available)
        return ss_fail(r->ctx, SUBSEL_E_FORMAT,
                       "truncated .npy header: it declares %lu bytes, the "
                       "data ends after %lld",
                       (unsigned long)*len, (long long)r->available);
    return SUBSEL_OK;
}

int ss_npy_read_header(ss_reader *r, ss_npy_header *h)
{
    char *text = NULL, shape[64];
    uint32_t len = 0;
    int rc = SUBSEL_OK;

    SS_TRY(read_preamble(r, &len));
    SS_TRY(ss_alloc_array(r->ctx, (int64_t)len, 1, &text));
    SS_TRY(ss_read_exact(r, text, len, ".npy header"));
    SS_TRY(ss_npy_parse_dict(r->ctx, text, len, h));
    if (h->data_bytes > r->available)
        SS_TRY(ss_fail(r->ctx, SUBSEL_E_FORMAT,
                       "truncated array data: shape %s of '%s' needs %lld "
                       "bytes, %lld follow the header",
                       ss_npy_shape_text(h, shape, sizeof shape), h->descr,
                       (long long)h->data_bytes, (long long)r->available));
cleanup:
    ss_free(r->ctx, text);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Data                                                                     */
/* ------------------------------------------------------------------------ */

static int is_number(int type)
{
    return (type >= SS_NPY_F4 && type <= SS_NPY_I8) || type == SS_NPY_F2;
}
static int is_integer(int type) { return type == SS_NPY_I4 || type == SS_NPY_I8; }

size_t ss_npy_type_size(int type)
{
    if (type == SS_NPY_F2)
        return 2;
    return type == SS_NPY_F4 || type == SS_NPY_I4 ? 4 : 8;
}

static const char *type_name(int type)
{
    static const char *const names[] = {"", "float32", "float64", "int32",
                                        "int64"};
    if (type == SS_NPY_F2)
        return "float16";
    return is_number(type) ? names[type] : "string";
}

int ss_npy_converts_to(const ss_npy_header *h, int type)
{
    return is_number(h->type) && (!is_integer(type) || is_integer(h->type));
}

void ss_npy_target_init(ss_npy_target *t, int type, void *data)
{
    t->type = type;
    t->data = data;
    t->lo = type == SS_NPY_I4 ? INT32_MIN : INT64_MIN;
    t->hi = type == SS_NPY_I4 ? INT32_MAX : INT64_MAX;
    t->bad = -1;
    t->bad_value = 0;
    t->grow = 0;
    t->capacity = INT64_MAX;
    t->prefix = 0;
    t->itemsize = 0;
}

/* Bytes of one value of a target. */
static size_t target_size(const ss_npy_target *t)
{
    return t->type == SS_NPY_RAW ? t->itemsize : ss_npy_type_size(t->type);
}

void *ss_npy_target_block(const ss_npy_target *t)
{
    return t->data == NULL ? NULL : (unsigned char *)t->data - t->prefix;
}


/* A buffer on ctx for `values` values of `type` after t->prefix bytes;
 * returns the values' address in *data. */
static int alloc_block(subsel_ctx *ctx, const ss_npy_target *t, int64_t values,
                       void **data)
{
    size_t dsize = target_size(t);
    unsigned char *block = NULL;
    if (values > (INT64_MAX - (int64_t)t->prefix) / (int64_t)dsize)
        return ss_fail(ctx, SUBSEL_E_NOMEM, "%lld values do not fit in memory",
                       (long long)values);
    SS_CHECK(ss_alloc_array(ctx, (int64_t)t->prefix + values * (int64_t)dsize,
                            1, &block));
    *data = block + t->prefix;
    return SUBSEL_OK;
}

/* Makes room in a growing target for `need` of the header's `count`
 * values, `filled` of which are in place: doubling the capacity (up to
 * count) and moving the values. */
static int make_room(subsel_ctx *ctx, ss_npy_target *t, int64_t need,
                     int64_t count, int64_t filled)
{
    int64_t cap = t->capacity;
    void *bigger = NULL;
    if (!t->grow || need <= cap)
        return SUBSEL_OK;
    while (cap < need)
        cap = cap > count / 2 ? count : (cap > 0 ? cap * 2 : 1);
    SS_CHECK(alloc_block(ctx, t, cap, &bigger));
    memcpy((unsigned char *)bigger - t->prefix, ss_npy_target_block(t),
           t->prefix + (size_t)filled * target_size(t));
    ss_free(ctx, ss_npy_target_block(t));
    t->data = bigger;
    t->capacity = cap;
    return SUBSEL_OK;
}

/* Element i of a host-order buffer of integer type `type`. */
static int64_t int_at(const void *src, int type, size_t i)
{
    return type == SS_NPY_I4 ? (int64_t)((const int32_t *)src)[i]
                             : ((const int64_t *)src)[i];
}

static double number_at(const void *src, int type, size_t i)
{
    switch (type) {
    case SS_NPY_F4: return (double)((const float *)src)[i];
    case SS_NPY_F8: return ((const double *)src)[i];
    case SS_NPY_F2: return (double)ss_half_to_float(((const uint16_t *)src)[i]);
    default: return (double)int_at(src, type, i);
    }
}

/* Converts n host-order values into dst. Returns the index of the first
 * value the target refuses (see ss_npy_target), or -1. */
static int64_t convert(const void *src, int from, void *dst,
                       const ss_npy_target *t, size_t n)
{
    size_t i;
    switch (t->type) {
    case SS_NPY_F4:
        for (i = 0; i < n; i++) {
            double v;
            if (is_integer(from)) {
                /* Directly: through double, large values would be
                 * rounded twice, unlike NumPy's astype. */
                ((float *)dst)[i] = (float)int_at(src, from, i);
                continue;
            }
            v = number_at(src, from, i);
            /* Out-of-range double to float conversion is undefined. */
            if (fabs(v) > FLT_MAX && isfinite(v))
                return (int64_t)i;
            ((float *)dst)[i] = (float)v;
        }
        return -1;
    case SS_NPY_F8:
        for (i = 0; i < n; i++)
            ((double *)dst)[i] = number_at(src, from, i);
        return -1;
    default:
        for (i = 0; i < n; i++) {
            int64_t v = int_at(src, from, i);
            if (v < t->lo || v > t->hi)
                return (int64_t)i;
            if (t->type == SS_NPY_I4)
                ((int32_t *)dst)[i] = (int32_t)v;
            else
                ((int64_t *)dst)[i] = v;
        }
        return -1;
    }
}

static int refuse(ss_reader *r, ss_npy_target *t, const void *src, int from,
                  int64_t base, int64_t i)
{
    t->bad = base + i;
    if (t->type == SS_NPY_F4)
        return ss_fail(r->ctx, SUBSEL_E_NUMERIC,
                       "element %lld (%g) is outside the float32 range",
                       (long long)t->bad, number_at(src, from, (size_t)i));
    t->bad_value = int_at(src, from, (size_t)i);
    return ss_fail(r->ctx, SUBSEL_E_FORMAT,
                   "element %lld (%lld) is outside [%lld, %lld]",
                   (long long)t->bad, (long long)t->bad_value,
                   (long long)t->lo, (long long)t->hi);
}

/* 1 if the target accepts every value of its type (no check needed). */
static int accepts_all(const ss_npy_target *t)
{
    if (t->type == SS_NPY_I4)
        return t->lo <= INT32_MIN && t->hi >= INT32_MAX;
    return t->type != SS_NPY_I8 || (t->lo == INT64_MIN && t->hi == INT64_MAX);
}

/* Reads n bytes of array data, `before` bytes of the h->data_bytes total
 * having come already: a short read is SUBSEL_E_FORMAT naming the bytes
 * expected and received. */
static int read_values(ss_reader *r, const ss_npy_header *h, void *buf,
                       size_t n, int64_t before)
{
    size_t got = 0;
    SS_CHECK(r->read(r, buf, n, &got));
    if (got < n)
        return ss_fail(r->ctx, SUBSEL_E_FORMAT,
                       "truncated array data: the data ends after %lld of "
                       "%lld bytes",
                       (long long)(before + (int64_t)got),
                       (long long)h->data_bytes);
    return SUBSEL_OK;
}

/* Same type, C order: read straight into the destination, in blocks (so a
 * progress callback can cancel between them, and a growing target grows
 * only with data that arrived), then check the range of integers in place. */
static int read_direct(ss_reader *r, const ss_npy_header *h, ss_npy_target *t)
{
    const int64_t per = SS_PROGRESS_WORK / (int64_t)h->itemsize;
    int64_t done = 0, bad;
    while (done < h->count) {
        int64_t n = h->count - done < per ? h->count - done : per;
        if (t->grow) {
            SS_CHECK(make_room(r->ctx, t, done + 1, h->count, done));
            if (n > t->capacity - done)
                n = t->capacity - done;
        }
        SS_CHECK(read_values(r, h,
                             (unsigned char *)t->data + done * (int64_t)h->itemsize,
                             (size_t)n * h->itemsize, done * (int64_t)h->itemsize));
        done += n;
    }
    if (t->type == SS_NPY_RAW)
        return SUBSEL_OK; /* as the file holds them */
    ss_le_to_host(t->data, (size_t)h->count, h->itemsize);
    if (accepts_all(t))
        return SUBSEL_OK;
    bad = convert(t->data, h->type, t->data, t, (size_t)h->count);
    return bad < 0 ? SUBSEL_OK : refuse(r, t, t->data, h->type, 0, bad);
}

/* Places converted values of a column-major rows x cols array at their
 * row-major positions; (*row, *col) is the position of the first one. */
static void scatter(const unsigned char *src, size_t n, size_t elsize,
                    unsigned char *dst, int64_t rows, int64_t cols,
                    int64_t *row, int64_t *col)
{
    size_t i;
    for (i = 0; i < n; i++) {
        memcpy(dst + (size_t)(*row * cols + *col) * elsize, src + i * elsize,
               elsize);
        if (++*row == rows) {
            *row = 0;
            ++*col;
        }
    }
}

/* Any other case: chunks through a fixed buffer, converted (and placed
 * transposed for Fortran order) as they come. */
static int read_converted(ss_reader *r, const ss_npy_header *h,
                          ss_npy_target *t, int transposed)
{
    union {
        double align;
        unsigned char bytes[SS_IO_CHUNK];
    } raw, stage;
    const size_t per = SS_IO_CHUNK / 8, dsize = ss_npy_type_size(t->type);
    int64_t done = 0, row = 0, col = 0;

    while (done < h->count) {
        size_t n = (size_t)(h->count - done < (int64_t)per ? h->count - done
                                                           : (int64_t)per);
        unsigned char *dst;
        int64_t bad;
        SS_CHECK(read_values(r, h, raw.bytes, n * h->itemsize,
                             done * (int64_t)h->itemsize));
        SS_CHECK(make_room(r->ctx, t, done + (int64_t)n, h->count, done));
        dst = transposed ? stage.bytes
                         : (unsigned char *)t->data + (size_t)done * dsize;
        ss_le_to_host(raw.bytes, n, h->itemsize);
        bad = convert(raw.bytes, h->type, dst, t, n);
        if (bad >= 0)
            return refuse(r, t, raw.bytes, h->type, done, bad);
        if (transposed)
            scatter(stage.bytes, n, dsize, t->data, h->shape[0], h->shape[1],
                    &row, &col);
        done += (int64_t)n;
    }
    return SUBSEL_OK;
}

/* A growing target read in file order, then placed row-major: the final
 * buffer is allocated once the whole array has arrived. */
static int transpose_grown(ss_reader *r, const ss_npy_header *h,
                           ss_npy_target *t)
{
    void *placed = NULL;
    int64_t row = 0, col = 0;
    SS_CHECK(alloc_block(r->ctx, t, h->count, &placed));
    scatter(t->data, (size_t)h->count, ss_npy_type_size(t->type), placed,
            h->shape[0], h->shape[1], &row, &col);
    ss_free(r->ctx, ss_npy_target_block(t));
    t->data = placed;
    t->capacity = h->count;
    return SUBSEL_OK;
}

int ss_npy_read_data(ss_reader *r, const ss_npy_header *h, ss_npy_target *t)
{
    int transposed = h->fortran_order && h->ndim == 2 && h->shape[0] > 1 &&
                     h->shape[1] > 1;
    t->bad = -1;
    if (t->type == SS_NPY_RAW) {
        if (transposed || t->itemsize != h->itemsize)
            return ss_fail(r->ctx, SUBSEL_E_UNSUPPORTED,
                           "dtype '%s' cannot be read as it is", h->descr);
        return read_direct(r, h, t);
    }
    if (!ss_npy_converts_to(h, t->type))
        return ss_fail(r->ctx, SUBSEL_E_UNSUPPORTED,
                       "dtype '%s' cannot be read as %s", h->descr,
                       type_name(t->type));
    if (h->type == t->type && !transposed)
        return read_direct(r, h, t);
    SS_CHECK(read_converted(r, h, t, transposed && !t->grow));
    return transposed && t->grow ? transpose_grown(r, h, t) : SUBSEL_OK;
}

int ss_npy_read_new(ss_reader *r, const ss_npy_header *h, ss_npy_target *t)
{
    int64_t start = SS_GROW_START_BYTES / (int64_t)target_size(t);
    int rc;
    t->grow = r->available == INT64_MAX;
    t->capacity = t->grow && h->count > start ? start : h->count;
    SS_CHECK(alloc_block(r->ctx, t, t->capacity, &t->data));
    rc = ss_npy_read_data(r, h, t);
    if (rc < 0) {
        ss_free(r->ctx, ss_npy_target_block(t));
        t->data = NULL;
    }
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Writing                                                                  */
/* ------------------------------------------------------------------------ */

int ss_npy_write_header(ss_writer *w, const char *descr, int ndim,
                        const int64_t *shape)
{
    char quoted[64];
    snprintf(quoted, sizeof quoted, "'%s'", descr);
    return ss_npy_write_header_literal(w, quoted, ndim, shape);
}

int ss_npy_write_header_literal(ss_writer *w, const char *descr, int ndim,
                                const int64_t *shape)
{
    /* With at most 8 dimensions the dict stays far below 65535 bytes, so
     * the header is always format 1.0 (2.0 exists for huge structured
     * dtypes, which we never write). */
    unsigned char buf[512];
    char dict[400], dims[8 * 24] = "";
    size_t len, total;
    int i;

    if (ndim < 0 || ndim > 8)
        return ss_fail(w->ctx, SUBSEL_E_INVALID,
                       "cannot write a %d-D array header", ndim);
    for (i = 0; i < ndim; i++) {
        size_t n = strlen(dims);
        snprintf(dims + n, sizeof dims - n, "%s%lld", i ? ", " : "",
                 (long long)shape[i]);
    }
    snprintf(dict, sizeof dict,
             "{'descr': %s, 'fortran_order': False, 'shape': (%s%s), }",
             descr, dims, ndim == 1 ? "," : "");
    /* 10 preamble bytes + dict + spaces + '\n', a multiple of 64. */
    len = strlen(dict);
    total = (10 + len + 1 + 63) / 64 * 64;
    memcpy(buf, npy_magic, sizeof npy_magic);
    buf[6] = 1;
    buf[7] = 0;
    ss_store_le16(buf + 8, (uint16_t)(total - 10));
    memcpy(buf + 10, dict, len);
    memset(buf + 10 + len, ' ', total - 10 - len - 1);
    buf[total - 1] = '\n';
    return w->write(w, buf, total);
}

/* ------------------------------------------------------------------------ */
/* Public functions                                                         */
/* ------------------------------------------------------------------------ */

/* Reads the array data that follows a parsed header into t->data, or into
 * a new buffer when t->data is NULL (ss_npy_read_new), checks that nothing
 * follows it, and reports progress stage "load" in data bytes. On failure
 * a new buffer is freed (t->data NULL again). */
static int load_data(ss_file_reader *r, const ss_npy_header *h,
                     ss_npy_target *t)
{
    subsel_ctx *ctx = r->base.ctx;
    ss_stage p;
    int fresh = t->data == NULL, rc = SUBSEL_OK;

    SS_TRY(ss_stage_begin(&p, ctx, "load", h->data_bytes));
    r->base.progress = &p;
    SS_TRY(fresh ? ss_npy_read_new(&r->base, h, t)
                 : ss_npy_read_data(&r->base, h, t));
    SS_TRY(r->base.finish(&r->base));
    SS_TRY(ss_stage_end(&p));
cleanup:
    r->base.progress = NULL;
    if (rc < 0 && fresh) {
        ss_free(ctx, ss_npy_target_block(t));
        t->data = NULL;
    }
    return rc;
}

/* A float32 matrix in C order that the file ends with, used in place in
 * the mapped file when it is aligned (as NumPy writes it: the header pads
 * the data to a multiple of 64): *out stays NULL otherwise, and the caller
 * streams the data. Progress stage "load" as streaming reports it. */
static int load_in_place(subsel_ctx *ctx, FILE *f, const ss_npy_header *h,
                         int64_t rows, int64_t cols, subsel_dense **out)
{
    ss_mapping *map = NULL;
    ss_stage p;
    int64_t at = 0;
    int rc = SUBSEL_OK;

    if (h->type != SS_NPY_F4 || SS_BIG_ENDIAN ||
        (h->fortran_order && rows > 1 && cols > 1))
        return SUBSEL_OK;
    /* mapped first: a pipe is not, and has no position to tell */
    SS_CHECK(ss_mapping_open(ctx, f, &map));
    if (map == NULL)
        return SUBSEL_OK;
    SS_TRY(ss_tell(ctx, f, &at));
    if (map->size - at != h->data_bytes ||
        !ss_mapping_fits(map, at, h->data_bytes, sizeof(float)))
        goto cleanup; /* streamed, which reports what is wrong */
    SS_TRY(ss_stage_begin(&p, ctx, "load", h->data_bytes));
    SS_TRY(ss_dense_adopt_kept(ctx, &p, rows, cols,
                               (const float *)(const void *)(map->data + at),
                               map, ss_mapping_release, out));
    SS_TRY(ss_stage_end(&p));
cleanup:
    if (rc < 0 && *out != NULL) {
        subsel_dense_free(*out);
        *out = NULL;
    }
    ss_mapping_release(map); /* the matrix holds its own reference */
    return rc;
}

int ss_npy_load_dense(subsel_ctx *ctx, FILE *f, subsel_dense **out)
{
    ss_file_reader r;
    ss_npy_header h;
    ss_npy_target t;
    int64_t rows, cols;

    *out = NULL;
    ss_file_reader_init(&r, ctx, f);
    SS_CHECK(ss_npy_read_header(&r.base, &h));
    if (h.type == SS_NPY_INT_RAW)
        return unsupported_dtype(ctx, h.descr);
    if (!is_number(h.type))
        return ss_fail(ctx, SUBSEL_E_UNSUPPORTED,
                       "dtype '%s' is not a number type", h.descr);
    if (h.ndim < 1 || h.ndim > 2)
        return ss_fail(ctx, SUBSEL_E_UNSUPPORTED,
                       "a %d-D array is not a matrix (1-D and 2-D arrays "
                       "are)",
                       h.ndim);
    rows = h.shape[0];
    cols = h.ndim == 2 ? h.shape[1] : 1;
    SS_CHECK(ss_check_shape(ctx, rows, cols, sizeof(float), 0));
    SS_CHECK(load_in_place(ctx, f, &h, rows, cols, out));
    if (*out != NULL)
        return SUBSEL_OK;
    ss_npy_target_init(&t, SS_NPY_F4, NULL);
    SS_CHECK(load_data(&r, &h, &t));
    /* adopted, or freed by ss_dense_adopt */
    return ss_dense_adopt(ctx, rows, cols, t.data, out);
}

/* SUBSEL_E_UNSUPPORTED unless the header's shape is a vector: 1-D, or 2-D
 * with a dimension of 1. */
static int check_vector_shape(subsel_ctx *ctx, const ss_npy_header *h)
{
    char shape[64];
    if (h->ndim == 1 ||
        (h->ndim == 2 && (h->shape[0] == 1 || h->shape[1] == 1)))
        return SUBSEL_OK;
    return ss_fail(ctx, SUBSEL_E_UNSUPPORTED,
                   "shape %s is not a vector (1-D, or 2-D with a "
                   "dimension of 1)",
                   ss_npy_shape_text(h, shape, sizeof shape));
}

/* Checks that a header describes a vector readable as `type`. *count is
 * written first: the documented contract is that it is set whenever the
 * header is valid, even if the call then fails. */
static int check_vector(subsel_ctx *ctx, const ss_npy_header *h, int type,
                        int64_t *count)
{
    *count = h->count;
    if (!ss_npy_converts_to(h, type))
        return ss_fail(ctx, SUBSEL_E_UNSUPPORTED,
                       "dtype '%s' cannot be read as %s", h->descr,
                       type_name(type));
    return check_vector_shape(ctx, h);
}

int ss_npy_read_vector(subsel_ctx *ctx, FILE *f, int type, void *out,
                       int64_t capacity, int64_t *count)
{
    ss_file_reader r;
    ss_npy_header h;
    ss_npy_target t;

    ss_file_reader_init(&r, ctx, f);
    SS_CHECK(ss_npy_read_header(&r.base, &h));
    SS_CHECK(check_vector(ctx, &h, type, count));
    if (out == NULL)
        return SUBSEL_OK;
    if (capacity < h.count)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "capacity %lld is smaller than the %lld values",
                       (long long)capacity, (long long)h.count);
    ss_npy_target_init(&t, type, out);
    return load_data(&r, &h, &t);
}

/* An array handed to the caller starts this many bytes into its
 * allocation; before it sits the allocator that frees it, so
 * subsel_array_free() needs no context and the array may outlive it. The
 * values stay aligned as every allocation is. */
#define ARRAY_PREFIX ((size_t)SS_ALIGNMENT)
_Static_assert(sizeof(ss_allocator) <= ARRAY_PREFIX,
               "the allocator must fit before an array");

int ss_npy_load_vector(subsel_ctx *ctx, FILE *f, int type, void *values,
                       int64_t *count)
{
    ss_file_reader r;
    ss_npy_header h;
    ss_npy_target t;
    void *none = NULL;

    memcpy(values, &none, sizeof none);
    ss_file_reader_init(&r, ctx, f);
    SS_CHECK(ss_npy_read_header(&r.base, &h));
    SS_CHECK(check_vector(ctx, &h, type, count));
    ss_npy_target_init(&t, type, NULL);
    t.prefix = ARRAY_PREFIX;
    SS_CHECK(load_data(&r, &h, &t));
    memcpy(ss_npy_target_block(&t), &ctx->alloc, sizeof ctx->alloc);
    memcpy(values, &t.data, sizeof t.data);
    return SUBSEL_OK;
}

int ss_npy_load_raw(subsel_ctx *ctx, FILE *f,
                    int (*check)(subsel_ctx *ctx, const ss_npy_header *h),
                    ss_npy_header *h, void **values)
{
    ss_file_reader r;
    ss_npy_target t;

    *values = NULL;
    ss_file_reader_init(&r, ctx, f);
    SS_CHECK(ss_npy_read_header(&r.base, h));
    SS_CHECK(check(ctx, h));
    SS_CHECK(check_vector_shape(ctx, h));
    ss_npy_target_init(&t, SS_NPY_RAW, NULL);
    t.itemsize = h->itemsize;
    t.prefix = ARRAY_PREFIX;
    SS_CHECK(load_data(&r, h, &t));
    memcpy(ss_npy_target_block(&t), &ctx->alloc, sizeof ctx->alloc);
    *values = t.data;
    return SUBSEL_OK;
}

void subsel_array_free(void *values)
{
    ss_allocator a;
    unsigned char *block;
    if (values == NULL)
        return;
    block = (unsigned char *)values - ARRAY_PREFIX;
    memcpy(&a, block, sizeof a);
    ss_free_raw(&a, block);
}

static int load_dense_cb(subsel_ctx *ctx, FILE *f, void *out)
{
    return ss_npy_load_dense(ctx, f, out);
}

int subsel_dense_load_npy(subsel_ctx *ctx, const char *path,
                          subsel_dense **out)
{
    SS_REQUIRE_CTX(ctx);
    SS_REQUIRE_NONNULL(ctx, out);
    *out = NULL;
    SS_REQUIRE_NONNULL(ctx, path);
    return ss_read_file(ctx, path, load_dense_cb, out);
}

/* Arguments of the vector readers through ss_read_file(). */
typedef struct vector_request {
    int type;
    void *out;
    void *values; /* one-call loads: where the new array's address goes */
    int64_t capacity, *count;
} vector_request;

static int read_vector_cb(subsel_ctx *ctx, FILE *f, void *arg)
{
    vector_request *q = arg;
    if (q->values != NULL)
        return ss_npy_load_vector(ctx, f, q->type, q->values, q->count);
    return ss_npy_read_vector(ctx, f, q->type, q->out, q->capacity, q->count);
}

static int read_vector_path(subsel_ctx *ctx, const char *path,
                            vector_request *q)
{
    void *none = NULL;
    SS_REQUIRE_CTX(ctx);
    if (q->values != NULL)
        memcpy(q->values, &none, sizeof none);
    SS_REQUIRE_NONNULL(ctx, path);
    SS_REQUIRE_NONNULL(ctx, q->count);
    return ss_read_file(ctx, path, read_vector_cb, q);
}

int subsel_npy_read_f64(subsel_ctx *ctx, const char *path, double *out,
                        int64_t capacity, int64_t *count)
{
    vector_request q = {SS_NPY_F8, out, NULL, capacity, count};
    return read_vector_path(ctx, path, &q);
}

int subsel_npy_read_i64(subsel_ctx *ctx, const char *path, int64_t *out,
                        int64_t capacity, int64_t *count)
{
    vector_request q = {SS_NPY_I8, out, NULL, capacity, count};
    return read_vector_path(ctx, path, &q);
}

/* `values` is the address of the caller's array pointer. */
static int load_vector_path(subsel_ctx *ctx, const char *path, int type,
                            void *values, int64_t *count)
{
    vector_request q = {type, NULL, values, 0, count};
    if (values == NULL)
        return ss_fail(ctx, SUBSEL_E_INVALID, "subsel_npy_load: values is NULL");
    return read_vector_path(ctx, path, &q);
}

int subsel_npy_load_f64(subsel_ctx *ctx, const char *path, double **values,
                        int64_t *count)
{
    return load_vector_path(ctx, path, SS_NPY_F8, values, count);
}

int subsel_npy_load_i64(subsel_ctx *ctx, const char *path, int64_t **values,
                        int64_t *count)
{
    return load_vector_path(ctx, path, SS_NPY_I8, values, count);
}

/* One C-order array to write as a whole .npy file: `rows` runs of
 * `count` / rows items, `stride` items apart in memory (a strided dense
 * matrix is written row by row). */
typedef struct npy_array {
    const char *descr;
    int ndim;
    int64_t shape[2];
    const void *data;
    int64_t count;
    size_t itemsize;
    int64_t rows, stride;
} npy_array;

static int write_npy(subsel_ctx *ctx, FILE *f, void *arg)
{
    const npy_array *a = arg;
    ss_file_writer w;
    int64_t r, per;
    ss_file_writer_init(&w, ctx, f);
    SS_CHECK(ss_npy_write_header(&w.base, a->descr, a->ndim, a->shape));
    if (a->rows <= 1 || a->stride * a->rows == a->count)
        return ss_write_le(&w.base, a->data, a->count, a->itemsize);
    per = a->count / a->rows;
    for (r = 0; r < a->rows; r++)
        SS_CHECK(ss_write_le(&w.base,
                             (const char *)a->data +
                                 (size_t)(r * a->stride) * a->itemsize,
                             per, a->itemsize));
    return SUBSEL_OK;
}

static int save_npy(subsel_ctx *ctx, const char *path, npy_array *a)
{
    return ss_write_atomic(ctx, path, write_npy, a);
}

static int read_shape(subsel_ctx *ctx, FILE *f, void *arg)
{
    ss_file_reader r;
    ss_npy_header *h = arg;
    ss_file_reader_init(&r, ctx, f);
    return ss_npy_read_header(&r.base, h);
}

int subsel_dense_npy_shape(subsel_ctx *ctx, const char *path, int64_t *rows,
                           int64_t *cols)
{
    ss_npy_header h;
    SS_REQUIRE_CTX(ctx);
    SS_REQUIRE_NONNULL(ctx, path);
    SS_REQUIRE_NONNULL(ctx, rows);
    SS_REQUIRE_NONNULL(ctx, cols);
    SS_CHECK(ss_read_file(ctx, path, read_shape, &h));
    if (h.ndim > 2 || !ss_npy_converts_to(&h, SS_NPY_F4))
        return ss_fail(ctx, SUBSEL_E_UNSUPPORTED,
                       "%s: a %d-D array of dtype '%s' is not a dense matrix",
                       path, h.ndim, h.descr);
    /* as subsel_dense_load_npy reads them: a vector is one column, a
     * 0-d array one value */
    *rows = h.ndim >= 1 ? h.shape[0] : 1;
    *cols = h.ndim == 2 ? h.shape[1] : 1;
    return SUBSEL_OK;
}

int ss_npy_save_array(subsel_ctx *ctx, const char *path, const char *descr,
                      size_t itemsize, int ndim, const int64_t *shape,
                      const void *data)
{
    npy_array a;
    int i;
    a.descr = descr;
    a.ndim = ndim;
    a.count = 1;
    for (i = 0; i < 2; i++) {
        a.shape[i] = i < ndim ? shape[i] : 0;
        if (i < ndim)
            a.count *= shape[i];
    }
    a.data = data;
    a.itemsize = itemsize;
    a.rows = 1;
    a.stride = a.count;
    return save_npy(ctx, path, &a);
}

int subsel_dense_save_npy(subsel_ctx *ctx, const subsel_dense *dense,
                          const char *path)
{
    npy_array a;
    SS_REQUIRE_CTX(ctx);
    SS_REQUIRE_KIND(ctx, dense, SS_KIND_DENSE);
    SS_REQUIRE_NONNULL(ctx, path);
    a.descr = "<f4";
    a.ndim = 2;
    a.shape[0] = dense->rows;
    a.shape[1] = dense->cols;
    a.data = dense->row0;
    a.count = dense->rows * dense->cols;
    a.itemsize = sizeof(float);
    a.rows = dense->rows;
    a.stride = dense->stride;
    return save_npy(ctx, path, &a);
}

static int save_vector(subsel_ctx *ctx, const char *path, const char *descr,
                       const void *values, int64_t count)
{
    SS_REQUIRE_CTX(ctx);
    SS_REQUIRE_NONNULL(ctx, path);
    if (count < 0)
        return ss_fail(ctx, SUBSEL_E_INVALID, "%s: negative count %lld",
                       path, (long long)count);
    if (count > 0)
        SS_REQUIRE_NONNULL(ctx, values);
    return ss_npy_save_array(ctx, path, descr, 8, 1, &count, values);
}

int subsel_npy_write_f64(subsel_ctx *ctx, const char *path,
                         const double *values, int64_t count)
{
    return save_vector(ctx, path, "<f8", values, count);
}

int subsel_npy_write_i64(subsel_ctx *ctx, const char *path,
                         const int64_t *values, int64_t count)
{
    return save_vector(ctx, path, "<i8", values, count);
}
