/* SPDX-License-Identifier: MIT */
/*
 * Products with one short side (a minibatch of rows, or a sum over one),
 * written once over the vector contract of vmath.h and included by
 * kernels_template.h. They serve where BLIS's packed path spends more time
 * packing the long operand than multiplying it (LoRS's towers: 20 rows
 * against 512 x 256 weights), and they fix every entry's rounding: each
 * C[i][j] is one chain of fused multiply-adds in a fixed order, the same on
 * every instruction set, every tiling and every thread count.
 *
 * gemm_rows  C (m x n) = beta C + sum_l a(i, l) B[l][:], B row-major (k x n)
 *            and a(i, l) = a[i * a_row + l * a_col] (A or A^T): vectors
 *            along a row of B; C[i][j] = fma(a(i, k-1), B[k-1][j], ...
 *            fma(a(i, 0), B[0][j], beta ? C[i][j] : 0)).
 * gemm_dots  C (m x n) = beta C + A B^T, A (m x k) and B (n x k) row-major:
 *            dot products along k, 8 lanes (lane t sums l = t mod 8 in
 *            order), reduced by vd_hsum's tree, then added to beta C.
 * beta is 0 or 1 (a 0 beta never reads C).
 */

/* Rows and vectors of one tile: enough independent chains to keep two
 * FMA pipes busy, few enough to stay in registers. A backend may set
 * SS_GEMM_VECS (vectors of columns per tile of gemm_rows; default 2) and
 * SS_GEMM_DOT_COLS (rows of B per tile of gemm_dots; default 4) for its
 * register file: the tiling never changes a result. */
#define ROWS_TILE 4
#ifdef SS_GEMM_VECS
#define VECS_TILE SS_GEMM_VECS
#else
#define VECS_TILE 2
#endif
#if VECS_TILE > 3
#error "gemm_template.h: k_gemm_rows handles tiles of up to 3 vectors"
#endif
#ifdef SS_GEMM_DOT_COLS
#define DOT_COLS_TILE SS_GEMM_DOT_COLS
#else
#define DOT_COLS_TILE 4
#endif

/* Rows of B per packed panel of gemm_rows. */
#define PANEL_ROWS 128

/* A tile of gemm_rows: mr rows of C, nv vectors of columns from a packed
 * panel of B (kc rows of 8 * nv columns, zero-padded), the last vector
 * holding `last` columns of C (8: full). C holds the chains' partial sums
 * between panels (a stored double is exact, so the chains do not change);
 * `start` 0 begins them at 0 instead. Constant mr and nv at the call sites
 * unroll it. */
SS_INLINE void rows_tile(int mr, int nv, int last, int64_t kc, const double *a,
                         int64_t a_row, int64_t a_col, const double *panel,
                         double *c, int64_t ldc, int start)
{
    vd acc[ROWS_TILE][VECS_TILE];
    int r, v;
    int64_t l;
    for (r = 0; r < mr; r++)
        for (v = 0; v < nv; v++) {
            int cols = v == nv - 1 ? last : 8;
            acc[r][v] = !start       ? vd_zero()
                        : cols == 8 ? vd_load(c + r * ldc + 8 * v)
                                    : vd_load_partial(c + r * ldc + 8 * v, cols);
        }
    for (l = 0; l < kc; l++) {
        const double *bl = panel + l * 8 * nv;
        vd bv[VECS_TILE];
        for (v = 0; v < nv; v++)
            bv[v] = vd_load(bl + 8 * v);
        for (r = 0; r < mr; r++) {
            vd ar = vd_set1(a[r * a_row + l * a_col]);
            for (v = 0; v < nv; v++)
                acc[r][v] = vd_fma(ar, bv[v], acc[r][v]);
        }
    }
    for (r = 0; r < mr; r++)
        for (v = 0; v < nv; v++) {
            int cols = v == nv - 1 ? last : 8;
            if (cols == 8)
                vd_store(c + r * ldc + 8 * v, acc[r][v]);
            else
                vd_store_partial(c + r * ldc + 8 * v, acc[r][v], cols);
        }
}

/* Every row of C against one packed panel, nv vectors wide. */
SS_INLINE void rows_panel(int nv, int last, int64_t m, int64_t kc, const double *a,
                          int64_t a_row, int64_t a_col, const double *panel,
                          double *c, int64_t ldc, int start)
{
    int64_t i = 0;
    for (; i + ROWS_TILE <= m; i += ROWS_TILE)
        rows_tile(ROWS_TILE, nv, last, kc, a + i * a_row, a_row, a_col, panel, c + i * ldc,
                  ldc, start);
    for (; i < m; i++)
        rows_tile(1, nv, last, kc, a + i * a_row, a_row, a_col, panel, c + i * ldc, ldc,
                  start);
}

/* B is copied in panels of PANEL_ROWS x (8 * VECS_TILE) before use: its
 * rows are often a power of two apart (a 512-wide weight matrix), and read
 * in place a column of tiles then falls into one set of the L1 cache (1.5x
 * slower on the development machine). */
static void k_gemm_rows(int64_t m, int64_t n, int64_t k, const double *a,
                        int64_t a_row, int64_t a_col, const double *b,
                        int64_t ldb, double *c, int64_t ldc, int beta)
{
    double panel[PANEL_ROWS * 8 * VECS_TILE];
    int64_t j, l0, l;
    for (j = 0; j < n; j += 8 * VECS_TILE) {
        const int64_t w = n - j < 8 * VECS_TILE ? n - j : 8 * VECS_TILE;
        const int nv = (int)((w + 7) / 8), last = (int)(w - 8 * (nv - 1));
        for (l0 = 0; l0 == 0 || l0 < k; l0 += PANEL_ROWS) {
            const int64_t kc = k - l0 < PANEL_ROWS ? k - l0 : PANEL_ROWS;
            const int start = l0 > 0 || beta;
            for (l = 0; l < kc; l++) {
                const double *src = b + (l0 + l) * ldb + j;
                double *row = panel + l * 8 * nv;
                int v;
                for (v = 0; v < nv - 1; v++)
                    vd_store(row + 8 * v, vd_load(src + 8 * v));
                /* the padding: zeros from a partial load */
                vd_store(row + 8 * v, last == 8 ? vd_load(src + 8 * v)
                                                : vd_load_partial(src + 8 * v, last));
            }
            switch (nv) {
#if VECS_TILE >= 3
            case 3:
                rows_panel(3, last, m, kc, a + l0 * a_col, a_row, a_col, panel, c + j, ldc,
                           start);
                break;
#endif
#if VECS_TILE >= 2
            case 2:
                rows_panel(2, last, m, kc, a + l0 * a_col, a_row, a_col, panel, c + j, ldc,
                           start);
                break;
#endif
            default:
                rows_panel(1, last, m, kc, a + l0 * a_col, a_row, a_col, panel, c + j, ldc,
                           start);
                break;
            }
        }
    }
}

/* A tile of gemm_dots: mr rows of A against nc rows of B. */
SS_INLINE void dots_tile(int mr, int nc, int64_t k, const double *a, int64_t lda,
                         const double *b, int64_t ldb, double *c, int64_t ldc,
                         int beta)
{
    vd acc[ROWS_TILE][DOT_COLS_TILE];
    int r, s;
    int64_t l = 0;
    for (r = 0; r < mr; r++)
        for (s = 0; s < nc; s++)
            acc[r][s] = vd_zero();
    for (; l + 8 <= k; l += 8) {
        vd av[ROWS_TILE], bv[DOT_COLS_TILE];
        for (r = 0; r < mr; r++)
            av[r] = vd_load(a + r * lda + l);
        for (s = 0; s < nc; s++)
            bv[s] = vd_load(b + s * ldb + l);
        for (r = 0; r < mr; r++)
            for (s = 0; s < nc; s++)
                acc[r][s] = vd_fma(av[r], bv[s], acc[r][s]);
    }
    if (l < k) {
        int rest = (int)(k - l);
        vd av[ROWS_TILE], bv[DOT_COLS_TILE];
        for (r = 0; r < mr; r++)
            av[r] = vd_load_partial(a + r * lda + l, rest);
        for (s = 0; s < nc; s++)
            bv[s] = vd_load_partial(b + s * ldb + l, rest);
        for (r = 0; r < mr; r++)
            for (s = 0; s < nc; s++)
                acc[r][s] = vd_fma(av[r], bv[s], acc[r][s]);
    }
    for (r = 0; r < mr; r++)
        for (s = 0; s < nc; s++) {
            double sum = vd_hsum(acc[r][s]);
            c[r * ldc + s] = beta ? c[r * ldc + s] + sum : sum;
        }
}

SS_INLINE void dots_band(int mr, int64_t n, int64_t k, const double *a,
                         int64_t lda, const double *b, int64_t ldb, double *c,
                         int64_t ldc, int beta)
{
    int64_t j = 0;
    for (; j + DOT_COLS_TILE <= n; j += DOT_COLS_TILE)
        dots_tile(mr, DOT_COLS_TILE, k, a, lda, b + j * ldb, ldb, c + j, ldc, beta);
    for (; j < n; j++)
        dots_tile(mr, 1, k, a, lda, b + j * ldb, ldb, c + j, ldc, beta);
}

static void k_gemm_dots(int64_t m, int64_t n, int64_t k, const double *a,
                        int64_t lda, const double *b, int64_t ldb, double *c,
                        int64_t ldc, int beta)
{
    int64_t i = 0;
    for (; i + ROWS_TILE <= m; i += ROWS_TILE)
        dots_band(ROWS_TILE, n, k, a + i * lda, lda, b, ldb, c + i * ldc, ldc, beta);
    for (; i < m; i++)
        dots_band(1, n, k, a + i * lda, lda, b, ldb, c + i * ldc, ldc, beta);
}

#ifdef SS_SIMD_TRANSPOSE8
/* Rows p.. of one panel (o) by w x w transposes (w 8 or 4) while w rows
 * remain of the `have`; returns the first row left. */
SS_INLINE int64_t pack_rows_by(int w, float *o, const float *src, int64_t ld,
                               int64_t p, int64_t have, int64_t k, int64_t panel)
{
    for (; p + w <= have; p += w) {
        const float *s = src + p * ld;
        int64_t l = 0;
        for (; l + w <= k; l += w) {
            if (w == 8)
                ss_transpose8_f32(s + l, ld, o + l * panel + p, panel);
            else
                ss_transpose4_f32(s + l, ld, o + l * panel + p, panel);
        }
        for (; l < k; l++) {
            int q;
            for (q = 0; q < w; q++)
                o[l * panel + p + q] = s[q * ld + l];
        }
    }
    return p;
}
#endif

/* BLIS micro-panels (linalg/blas.c's products through BLIS's micro-kernel):
 * the rows of src (rows x k, row-major, ld apart) in panels of `panel`
 * rows, panel q at out + q * stride, its entry (p, l) at [l * panel + p];
 * the last panel's missing rows are zeros. A transpose of panel x k
 * blocks, 8 x 8 then 4 x 4 at a time where the backend has them
 * (SS_SIMD_TRANSPOSE8): copies only, so every backend writes the same
 * floats. */
static void k_pack_panels_f32(float *out, const float *src, int64_t ld,
                              int64_t rows, int64_t k, int64_t panel,
                              int64_t stride)
{
    int64_t r0;
    for (r0 = 0; r0 < rows; r0 += panel) {
        int64_t have = rows - r0 < panel ? rows - r0 : panel, p = 0, l;
        float *o = out + r0 / panel * stride;
        const float *s = src + r0 * ld;
#ifdef SS_SIMD_TRANSPOSE8
        p = pack_rows_by(8, o, s, ld, p, have, k, panel);
        p = pack_rows_by(4, o, s, ld, p, have, k, panel);
#endif
        for (; p < have; p++)
            for (l = 0; l < k; l++)
                o[l * panel + p] = s[p * ld + l];
        for (; p < panel; p++)
            for (l = 0; l < k; l++)
                o[l * panel + p] = 0.0f;
    }
}

#undef ROWS_TILE
#undef VECS_TILE
#undef DOT_COLS_TILE
#undef PANEL_ROWS
