/* SPDX-License-Identifier: MIT */
/*
 * Parameters, handle kinds and the messages of failing calls (issue 10,
 * points 1 to 3). Every parameter is enumerated and checked against a
 * table written here from the header (number, kind, name, type, the 0.6
 * number of the per-handle functions): names unique per kind and found by
 * name, defaults within bounds and read back from new handles, set and get
 * round trips, values out of bounds and parameters of other kinds refused
 * with messages naming the function, the parameter and the kinds, 0.6's
 * numbers still accepted where 0.6 took them (and SUBSEL_OPT_LAZY no longer
 * read as the budget). Every setter failure, each kind of failure, leaves
 * its own message where the caller reads it (the context, or the thread's
 * slot for calls without one), never an older unrelated one.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/helpers.h"
#include "tests/suites.h"

/* ---- what the header promises ------------------------------------------ */

typedef struct expected_param {
    int id, kind, type;
    const char *name;
    int legacy; /* the number 0.6's per-handle functions took, or 0 */
} expected_param;

#define I SUBSEL_TYPE_INT
#define R SUBSEL_TYPE_REAL
static const expected_param expected[] = {
    {SUBSEL_P_THREADS, SUBSEL_KIND_CONTEXT, I, "threads", 0},
    {SUBSEL_P_SEED, SUBSEL_KIND_CONTEXT, I, "seed", 0},
    {SUBSEL_P_MAX_ISA, SUBSEL_KIND_CONTEXT, I, "max_isa", 0},
    {SUBSEL_P_MEMORY_LIMIT, SUBSEL_KIND_CONTEXT, I, "memory_limit", 0},
    {SUBSEL_P_PARALLEL_GAINS, SUBSEL_KIND_CONTEXT, I, "parallel_gains", 0},
    {SUBSEL_P_MAP_FILES, SUBSEL_KIND_CONTEXT, I, "map_files", 0},
    {SUBSEL_P_BUDGET, SUBSEL_KIND_OPTIMIZER, I, "budget", 1},
    {SUBSEL_P_RUNS, SUBSEL_KIND_OPTIMIZER, I, "runs", 2},
    {SUBSEL_P_MIN_RUNS, SUBSEL_KIND_OPTIMIZER, I, "min_runs", 3},
    {SUBSEL_P_STOP_NONPOSITIVE, SUBSEL_KIND_OPTIMIZER, I, "stop_nonpositive", 4},
    {SUBSEL_P_EPSILON, SUBSEL_KIND_OPTIMIZER, R, "epsilon", 5},
    {SUBSEL_P_PARTS, SUBSEL_KIND_OPTIMIZER, I, "parts", 0},
    {SUBSEL_P_MERGE, SUBSEL_KIND_OPTIMIZER, I, "merge", 0},
    {SUBSEL_P_FANIN, SUBSEL_KIND_OPTIMIZER, I, "fanin", 0},
    {SUBSEL_P_CHECKPOINT_EVERY, SUBSEL_KIND_OPTIMIZER, I, "checkpoint_every", 0},
    {SUBSEL_P_OT_MAX_ITER, SUBSEL_KIND_OT_SOLVER, I, "max_iter", 1},
    {SUBSEL_P_OT_ANNEAL, SUBSEL_KIND_OT_SOLVER, I, "anneal", 2},
    {SUBSEL_P_OT_MEMORY, SUBSEL_KIND_OT_SOLVER, I, "memory", 3},
    {SUBSEL_P_OT_TOL, SUBSEL_KIND_OT_SOLVER, R, "tol", 4},
    {SUBSEL_P_OT_ANNEAL_FACTOR, SUBSEL_KIND_OT_SOLVER, R, "anneal_factor", 5},
    {SUBSEL_P_OT_ANNEAL_START, SUBSEL_KIND_OT_SOLVER, R, "anneal_start", 6},
    {SUBSEL_P_TAROT_PROJ_DIM, SUBSEL_KIND_TAROT, I, "proj_dim", 1},
    {SUBSEL_P_TAROT_PROJ_KIND, SUBSEL_KIND_TAROT, I, "proj_kind", 2},
    {SUBSEL_P_TAROT_PROJ_BLOCK, SUBSEL_KIND_TAROT, I, "proj_block", 3},
    {SUBSEL_P_TAROT_WHITEN, SUBSEL_KIND_TAROT, I, "whiten", 4},
    {SUBSEL_P_TAROT_CENTER, SUBSEL_KIND_TAROT, I, "center", 5},
    {SUBSEL_P_TAROT_REFERENCE, SUBSEL_KIND_TAROT, I, "reference", 6},
    {SUBSEL_P_TAROT_MAX_RANK, SUBSEL_KIND_TAROT, I, "max_rank", 7},
    {SUBSEL_P_TAROT_POTENTIALS, SUBSEL_KIND_TAROT, I, "potentials", 8},
    {SUBSEL_P_TAROT_EPS, SUBSEL_KIND_TAROT, R, "eps", 9},
    {SUBSEL_P_TAROT_BLUR, SUBSEL_KIND_TAROT, R, "blur", 10},
    {SUBSEL_P_TAROT_SCALING, SUBSEL_KIND_TAROT, R, "scaling", 11},
    {SUBSEL_P_TAROT_OT_MEMORY, SUBSEL_KIND_TAROT, I, "ot_memory", 0},
    {SUBSEL_P_SDM_LAMBDA, SUBSEL_KIND_SDM, R, "lambda", 0},
    {SUBSEL_P_UNIPROT_GAIN, SUBSEL_KIND_UNIPROT, I, "gain", 0},
    {SUBSEL_P_UNIPROT_UPDATE, SUBSEL_KIND_UNIPROT, I, "update", 0},
    {SUBSEL_P_UNIPROT_TOL, SUBSEL_KIND_UNIPROT, R, "tol", 0},
    {SUBSEL_P_UNIPROT_MAX_ITER, SUBSEL_KIND_UNIPROT, I, "max_iter", 0},
    {SUBSEL_P_UNIPROT_GAIN_MEMORY, SUBSEL_KIND_UNIPROT, I, "gain_memory", 0},
    {SUBSEL_P_CLIPCOV_WEIGHT_INTRA, SUBSEL_KIND_CLIPCOV, R, "weight_intra", 0},
    {SUBSEL_P_CLIPCOV_WEIGHT_SELF, SUBSEL_KIND_CLIPCOV, R, "weight_self", 0},
    {SUBSEL_P_CLIPCOV_WEIGHT_INTER, SUBSEL_KIND_CLIPCOV, R, "weight_inter", 0},
    {SUBSEL_P_CLIPCOV_WEIGHT_REG, SUBSEL_KIND_CLIPCOV, R, "weight_reg", 0},
    {SUBSEL_P_CLIPCOV_WEIGHT_LABEL, SUBSEL_KIND_CLIPCOV, R, "weight_label", 0},
    {SUBSEL_P_CLIPCOV_ALPHA, SUBSEL_KIND_CLIPCOV, R, "alpha", 0},
    {SUBSEL_P_SAE_K, SUBSEL_KIND_SAE_TRAINER, I, "k", 0},
    {SUBSEL_P_SAE_LR, SUBSEL_KIND_SAE_TRAINER, R, "lr", 0},
    {SUBSEL_P_SAE_BETA1, SUBSEL_KIND_SAE_TRAINER, R, "beta1", 0},
    {SUBSEL_P_SAE_BETA2, SUBSEL_KIND_SAE_TRAINER, R, "beta2", 0},
    {SUBSEL_P_SAE_EPS, SUBSEL_KIND_SAE_TRAINER, R, "eps", 0},
    {SUBSEL_P_SAE_L_RECONS, SUBSEL_KIND_SAE_TRAINER, R, "l_recons", 0},
    {SUBSEL_P_SAE_L_MONO, SUBSEL_KIND_SAE_TRAINER, R, "l_mono", 0},
    {SUBSEL_P_SAE_L_ACT, SUBSEL_KIND_SAE_TRAINER, R, "l_act", 0},
    {SUBSEL_P_SAE_SET_SIZE, SUBSEL_KIND_SAE_TRAINER, I, "set_size", 0},
    {SUBSEL_P_SAE_RESERVOIR, SUBSEL_KIND_SAE_TRAINER, I, "reservoir", 0},
    {SUBSEL_P_SAE_AUXK, SUBSEL_KIND_SAE_TRAINER, I, "auxk", 0},
    {SUBSEL_P_SAE_AUX_COEF, SUBSEL_KIND_SAE_TRAINER, R, "aux_coef", 0},
    {SUBSEL_P_SAE_DEAD_ROWS, SUBSEL_KIND_SAE_TRAINER, I, "dead_rows", 0},
    {SUBSEL_P_SAE_BATCH, SUBSEL_KIND_SAE_TRAINER, I, "batch", 0},
    {SUBSEL_P_SAE_B_DEC_INIT, SUBSEL_KIND_SAE_TRAINER, I, "b_dec_init", 0},
    {SUBSEL_P_SAE_CHECKPOINT_STEPS, SUBSEL_KIND_SAE_TRAINER, I, "checkpoint_steps", 0},
    {SUBSEL_P_LORS_TOWER, SUBSEL_KIND_LORS, I, "tower", 0},
    {SUBSEL_P_LORS_EMBED_DIM, SUBSEL_KIND_LORS, I, "embed_dim", 0},
    {SUBSEL_P_LORS_TEMPERATURE, SUBSEL_KIND_LORS, R, "temperature", 0},
    {SUBSEL_P_LORS_LEARN_TEMPERATURE, SUBSEL_KIND_LORS, I, "learn_temperature", 0},
    {SUBSEL_P_LORS_LOSS, SUBSEL_KIND_LORS, I, "loss", 0},
    {SUBSEL_P_LORS_BETA, SUBSEL_KIND_LORS, R, "beta", 0},
    {SUBSEL_P_LORS_SIMILARITY, SUBSEL_KIND_LORS, I, "similarity", 0},
    {SUBSEL_P_LORS_RANK, SUBSEL_KIND_LORS, I, "rank", 0},
    {SUBSEL_P_LORS_ALPHA, SUBSEL_KIND_LORS, R, "alpha", 0},
    {SUBSEL_P_LORS_PAIRS, SUBSEL_KIND_LORS, I, "pairs", 0},
    {SUBSEL_P_LORS_SYN_STEPS, SUBSEL_KIND_LORS, I, "syn_steps", 0},
    {SUBSEL_P_LORS_EXPERT_EPOCHS, SUBSEL_KIND_LORS, I, "expert_epochs", 0},
    {SUBSEL_P_LORS_MAX_START_EPOCH, SUBSEL_KIND_LORS, I, "max_start_epoch", 0},
    {SUBSEL_P_LORS_BATCH, SUBSEL_KIND_LORS, I, "batch", 0},
    {SUBSEL_P_LORS_LR_IMAGE, SUBSEL_KIND_LORS, R, "lr_image", 0},
    {SUBSEL_P_LORS_LR_TEXT, SUBSEL_KIND_LORS, R, "lr_text", 0},
    {SUBSEL_P_LORS_LR_SIM, SUBSEL_KIND_LORS, R, "lr_sim", 0},
    {SUBSEL_P_LORS_LR_LR, SUBSEL_KIND_LORS, R, "lr_lr", 0},
    {SUBSEL_P_LORS_MOMENTUM, SUBSEL_KIND_LORS, R, "momentum", 0},
    {SUBSEL_P_LORS_INIT, SUBSEL_KIND_LORS, I, "init", 0},
    {SUBSEL_P_LORS_EXPERT_LR, SUBSEL_KIND_LORS, R, "expert_lr", 0},
    {SUBSEL_P_LORS_EXPERT_BATCH, SUBSEL_KIND_LORS, I, "expert_batch", 0},
    {SUBSEL_P_LORS_BUFFER_EPOCHS, SUBSEL_KIND_LORS, I, "buffer_epochs", 0},
    {SUBSEL_P_LORS_EXPERTS, SUBSEL_KIND_LORS, I, "experts", 0},
    {SUBSEL_P_LORS_EVAL_EPOCHS, SUBSEL_KIND_LORS, I, "eval_epochs", 0},
    {SUBSEL_P_LORS_EVAL_BATCH, SUBSEL_KIND_LORS, I, "eval_batch", 0},
    {SUBSEL_P_LORS_EVAL_MOMENTUM, SUBSEL_KIND_LORS, R, "eval_momentum", 0},
    {SUBSEL_P_LORS_EVAL_WEIGHT_DECAY, SUBSEL_KIND_LORS, R, "eval_weight_decay", 0},
};
#undef I
#undef R
#define EXPECTED_COUNT ((int64_t)(sizeof expected / sizeof expected[0]))
#define KIND_COUNT 15

/* The block of 100 parameter numbers of a kind: the first kinds in kind
 * order, the SAE trainer and LoRS (later kinds) after ClipCov's. */
static int block_of(int kind)
{
    return kind == SUBSEL_KIND_SAE_TRAINER ? 7
           : kind == SUBSEL_KIND_LORS      ? 8
                                           : kind - 1;
}

/* The old names are aliases of the new numbers: 0.6 code compiles as it
 * was, and means the same. */
typedef char deprecated_names_are_aliases[
    (SUBSEL_CTX_THREADS == SUBSEL_P_THREADS && SUBSEL_CTX_SEED == SUBSEL_P_SEED &&
     SUBSEL_CTX_MAX_ISA == SUBSEL_P_MAX_ISA &&
     SUBSEL_CTX_MEMORY_LIMIT == SUBSEL_P_MEMORY_LIMIT &&
     SUBSEL_OPT_NAIVE == SUBSEL_ALGORITHM_NAIVE && SUBSEL_OPT_LAZY == SUBSEL_ALGORITHM_LAZY &&
     SUBSEL_OPT_STOCHASTIC == SUBSEL_ALGORITHM_STOCHASTIC &&
     SUBSEL_OPT_LAZIER == SUBSEL_ALGORITHM_LAZIER &&
     SUBSEL_OPT_DOUBLE_GREEDY == SUBSEL_ALGORITHM_DOUBLE_GREEDY &&
     SUBSEL_OPT_DOUBLE_GREEDY_RANDOM == SUBSEL_ALGORITHM_DOUBLE_GREEDY_RANDOM &&
     SUBSEL_OPT_BUDGET == SUBSEL_P_BUDGET && SUBSEL_OPT_RUNS == SUBSEL_P_RUNS &&
     SUBSEL_OPT_MIN_RUNS == SUBSEL_P_MIN_RUNS &&
     SUBSEL_OPT_STOP_NONPOSITIVE == SUBSEL_P_STOP_NONPOSITIVE &&
     SUBSEL_OPT_EPSILON == SUBSEL_P_EPSILON && SUBSEL_OT_MAX_ITER == SUBSEL_P_OT_MAX_ITER &&
     SUBSEL_OT_ANNEAL == SUBSEL_P_OT_ANNEAL && SUBSEL_OT_MEMORY == SUBSEL_P_OT_MEMORY &&
     SUBSEL_OT_TOL == SUBSEL_P_OT_TOL && SUBSEL_OT_ANNEAL_FACTOR == SUBSEL_P_OT_ANNEAL_FACTOR &&
     SUBSEL_OT_ANNEAL_START == SUBSEL_P_OT_ANNEAL_START &&
     SUBSEL_TAROT_PROJ_DIM == SUBSEL_P_TAROT_PROJ_DIM &&
     SUBSEL_TAROT_SCALING == SUBSEL_P_TAROT_SCALING &&
     SUBSEL_TAROT_MAX_WEIGHT_TOTAL == SUBSEL_LIMIT_TAROT_WEIGHT_TOTAL &&
     SUBSEL_CLIPCOV_INTRA == SUBSEL_CLIPCOV_TERM_INTRA &&
     SUBSEL_CLIPCOV_LABEL == SUBSEL_CLIPCOV_TERM_LABEL &&
     SUBSEL_CLIPCOV_TERMS == SUBSEL_CLIPCOV_TERM_COUNT && SUBSEL_COPY == SUBSEL_OWN_COPY &&
     SUBSEL_BORROW == SUBSEL_OWN_BORROW)
        ? 1
        : -1];

/* ---- one handle of every kind ------------------------------------------ */

typedef struct handles {
    subsel_ctx *ctx;
    subsel_dense *dense;
    subsel_csr *csr;
    subsel_objective *fb, *sdm, *uniprot, *clipcov;
    subsel_optimizer *opt;
    subsel_ot_solver *solver;
    subsel_tarot *tarot;
    subsel_sae *sae;
    subsel_selection *sel;
    subsel_summary *summary;
    subsel_sae_trainer *trainer;
    subsel_lors *lors;
} handles;

static void handles_make(handles *h)
{
    static const float data[6 * 4] = {
        0.9f, 0.1f, 0.4f, 0.2f, 0.3f, 0.8f, 0.1f, 0.5f, 0.2f, 0.2f, 0.9f, 0.1f,
        0.7f, 0.6f, 0.1f, 0.3f, 0.1f, 0.3f, 0.5f, 0.9f, 0.4f, 0.4f, 0.4f, 0.4f,
    };
    static const int64_t labels[6] = {0, 1, 0, 1, 0, 1};
    memset(h, 0, sizeof *h);
    ck_assert_int_eq(subsel_ctx_create(&h->ctx), SUBSEL_OK);
    ck_assert_ok(h->ctx, subsel_dense_create(h->ctx, 6, 4, data, SUBSEL_OWN_COPY, &h->dense));
    ck_assert_ok(h->ctx, subsel_csr_from_dense(h->ctx, h->dense, &h->csr));
    ck_assert_ok(h->ctx, subsel_fb_create(h->ctx, h->csr, SUBSEL_CONCAVE_LOG1P, 0, NULL, &h->fb));
    ck_assert_ok(h->ctx, subsel_sdm_create(h->ctx, h->csr, &h->sdm));
    ck_assert_ok(h->ctx, subsel_sdm_set_target(h->ctx, h->sdm, h->csr));
    ck_assert_ok(h->ctx, subsel_uniprot_create(h->ctx, h->dense, 2, 0.1, &h->uniprot));
    ck_assert_ok(h->ctx, subsel_clipcov_create(h->ctx, h->dense, h->dense, NULL, labels, 0,
                                               &h->clipcov));
    ck_assert_ok(h->ctx, subsel_optimizer_create(h->ctx, SUBSEL_ALGORITHM_NAIVE, &h->opt));
    ck_assert_ok(h->ctx, subsel_ot_solver_create(h->ctx, &h->solver));
    ck_assert_ok(h->ctx, subsel_tarot_create(h->ctx, h->dense, h->dense, &h->tarot));
    ck_assert_ok(h->ctx, subsel_sae_create(h->ctx, h->dense, NULL, NULL, &h->sae));
    ck_assert_ok(h->ctx, subsel_optimizer_run(h->ctx, h->opt, h->fb, &h->sel));
    ck_assert_ok(h->ctx, subsel_summary_select(h->ctx, h->opt, h->fb, 0, 6, &h->summary));
    ck_assert_ok(h->ctx, subsel_sae_trainer_create(h->ctx, 4, 8, &h->trainer));
    ck_assert_ok(h->ctx, subsel_lors_create(h->ctx, 4, 3, &h->lors));
}

static void handles_free(handles *h)
{
    subsel_lors_free(h->lors);
    subsel_sae_trainer_free(h->trainer);
    subsel_summary_free(h->summary);
    subsel_selection_free(h->sel);
    subsel_sae_free(h->sae);
    subsel_tarot_free(h->tarot);
    subsel_ot_solver_free(h->solver);
    subsel_optimizer_free(h->opt);
    subsel_objective_free(h->clipcov);
    subsel_objective_free(h->uniprot);
    subsel_objective_free(h->sdm);
    subsel_objective_free(h->fb);
    subsel_csr_free(h->csr);
    subsel_dense_free(h->dense);
    subsel_ctx_free(h->ctx);
}

static void *handle_of(handles *h, int kind)
{
    switch (kind) {
    case SUBSEL_KIND_CONTEXT: return h->ctx;
    case SUBSEL_KIND_OPTIMIZER: return h->opt;
    case SUBSEL_KIND_OT_SOLVER: return h->solver;
    case SUBSEL_KIND_TAROT: return h->tarot;
    case SUBSEL_KIND_SDM: return h->sdm;
    case SUBSEL_KIND_UNIPROT: return h->uniprot;
    case SUBSEL_KIND_CLIPCOV: return h->clipcov;
    case SUBSEL_KIND_FB: return h->fb;
    case SUBSEL_KIND_CSR: return h->csr;
    case SUBSEL_KIND_DENSE: return h->dense;
    case SUBSEL_KIND_SELECTION: return h->sel;
    case SUBSEL_KIND_SAE: return h->sae;
    case SUBSEL_KIND_SUMMARY: return h->summary;
    case SUBSEL_KIND_SAE_TRAINER: return h->trainer;
    case SUBSEL_KIND_LORS: return h->lors;
    default: return NULL;
    }
}

/* ---- messages ---------------------------------------------------------- */

/* An unrelated failure on the context and one for the thread, so that a
 * call that fails without leaving its own message is caught reading them. */
static void plant_older_messages(subsel_ctx *ctx)
{
    subsel_dense *d = NULL;
    int id;
    ck_assert_int_eq(subsel_dense_load_npy(ctx, "/nonexistent/planted.npy", &d),
                     SUBSEL_E_IO);
    ck_assert_int_eq(subsel_param_find(SUBSEL_KIND_OPTIMIZER, "planted", &id),
                     SUBSEL_E_INVALID);
    ck_assert_ptr_nonnull(strstr(subsel_ctx_last_error(ctx), "planted"));
    ck_assert_ptr_nonnull(strstr(subsel_ctx_last_error(NULL), "planted"));
}

/* `msg` is the message of a call to fn: it starts with "fn: ", holds
 * `what`, and is not an older one. */
static void assert_message(const char *msg, const char *fn, const char *what)
{
    size_t n = strlen(fn);
    ck_assert_msg(strncmp(msg, fn, n) == 0 && msg[n] == ':',
                  "message '%s' does not name %s", msg, fn);
    ck_assert_msg(strstr(msg, what) != NULL, "message '%s' does not say '%s'", msg, what);
    ck_assert_msg(strstr(msg, "planted") == NULL, "an older message: '%s'", msg);
}

/* Runs `call` after planting older messages; it must return `status` and
 * leave in `slot` (a context, or NULL for the thread) a message of fn
 * saying `what`. */
#define EXPECT_FAIL(h, slot, call, status, fn, what)                           \
    do {                                                                       \
        plant_older_messages((h)->ctx);                                        \
        ck_assert_int_eq((call), (status));                                    \
        assert_message(subsel_ctx_last_error(slot), (fn), (what));             \
    } while (0)

/* ---- kinds ------------------------------------------------------------- */

START_TEST(every_handle_reports_its_kind)
{
    handles h;
    uint64_t not_a_handle[4] = {0, 0, 0, 0};
    int k, j;
    handles_make(&h);
    for (k = 1; k <= KIND_COUNT; k++) {
        ck_assert_int_eq(subsel_handle_kind(handle_of(&h, k)), k);
        ck_assert_str_ne(subsel_kind_name(k), "unknown kind");
        for (j = 1; j < k; j++)
            ck_assert_str_ne(subsel_kind_name(k), subsel_kind_name(j));
    }
    ck_assert_str_eq(subsel_kind_name(0), "unknown kind");
    ck_assert_str_eq(subsel_kind_name(KIND_COUNT + 1), "unknown kind");
    ck_assert_str_eq(subsel_kind_name(SUBSEL_KIND_SDM), "SDM objective");
    EXPECT_FAIL(&h, NULL, subsel_handle_kind(NULL), SUBSEL_E_INVALID, "subsel_handle_kind",
                "handle is NULL");
    EXPECT_FAIL(&h, NULL, subsel_handle_kind(not_a_handle), SUBSEL_E_INVALID,
                "subsel_handle_kind", "not a handle of a known kind");
    handles_free(&h);
}
END_TEST

/* ---- the table --------------------------------------------------------- */

START_TEST(every_parameter_is_listed_as_the_header_says)
{
    int64_t i, count = subsel_param_count();
    int previous = 0;
    ck_assert_int_eq(count, EXPECTED_COUNT);
    for (i = 0; i < count; i++) {
        const expected_param *e = &expected[i];
        const char *name = NULL, *doc = NULL, *c;
        int id = 0, kind = 0, type = 0, found = 0;
        ck_assert_int_eq(subsel_param_at(i, &id), SUBSEL_OK);
        /* ascending numbers, in the block of 100 of their kind, below the
         * algorithms */
        ck_assert_int_gt(id, previous);
        previous = id;
        ck_assert_int_eq(id, e->id);
        ck_assert_int_eq(subsel_param_info(id, &kind, &type, &name, &doc), SUBSEL_OK);
        ck_assert_int_eq(kind, e->kind);
        ck_assert_int_eq(id / 100, block_of(kind));
        ck_assert_int_lt(id, SUBSEL_ALGORITHM_NAIVE);
        ck_assert_int_eq(type, e->type);
        ck_assert_str_eq(name, e->name);
        ck_assert(doc != NULL && strlen(doc) > 8);
        /* one naming style: lower case, digits, underscores */
        for (c = name; *c; c++)
            ck_assert_msg((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_',
                          "name '%s'", name);
        ck_assert_int_eq(subsel_param_find(kind, name, &found), SUBSEL_OK);
        ck_assert_int_eq(found, id);
        /* any out-pointer may be NULL */
        ck_assert_int_eq(subsel_param_info(id, NULL, NULL, NULL, NULL), SUBSEL_OK);
    }
    /* names unique within a kind (the same name may serve two kinds) */
    for (i = 0; i < count; i++) {
        int64_t j;
        for (j = 0; j < i; j++)
            ck_assert(expected[i].kind != expected[j].kind ||
                      strcmp(expected[i].name, expected[j].name) != 0);
    }
    ck_assert_int_eq(subsel_param_find(SUBSEL_KIND_UNIPROT, "tol", &previous), SUBSEL_OK);
    ck_assert_int_eq(previous, SUBSEL_P_UNIPROT_TOL);
    ck_assert_int_eq(subsel_param_find(SUBSEL_KIND_OT_SOLVER, "tol", &previous), SUBSEL_OK);
    ck_assert_int_eq(previous, SUBSEL_P_OT_TOL);
}
END_TEST

START_TEST(lookups_fail_with_messages)
{
    handles h;
    int id = 0, type;
    int64_t lo;
    double dlo;
    handles_make(&h);
    EXPECT_FAIL(&h, NULL, subsel_param_at(-1, &id), SUBSEL_E_INVALID, "subsel_param_at",
                "index -1 is outside [0, 89)");
    EXPECT_FAIL(&h, NULL, subsel_param_at(EXPECTED_COUNT, &id), SUBSEL_E_INVALID,
                "subsel_param_at", "outside");
    EXPECT_FAIL(&h, NULL, subsel_param_at(0, NULL), SUBSEL_E_INVALID, "subsel_param_at",
                "param is NULL");
    EXPECT_FAIL(&h, NULL, subsel_param_find(SUBSEL_KIND_OPTIMIZER, "Budget", &id),
                SUBSEL_E_INVALID, "subsel_param_find",
                "kind 'optimizer' has no parameter 'Budget'");
    EXPECT_FAIL(&h, NULL, subsel_param_find(SUBSEL_KIND_CSR, "budget", &id), SUBSEL_E_INVALID,
                "subsel_param_find", "kind 'CSR matrix' has no parameter 'budget'");
    EXPECT_FAIL(&h, NULL, subsel_param_find(0, "budget", &id), SUBSEL_E_INVALID,
                "subsel_param_find", "0 is not a handle kind");
    EXPECT_FAIL(&h, NULL, subsel_param_find(SUBSEL_KIND_OPTIMIZER, NULL, &id),
                SUBSEL_E_INVALID, "subsel_param_find", "name is NULL");
    EXPECT_FAIL(&h, NULL, subsel_param_info(SUBSEL_ALGORITHM_LAZY, NULL, &type, NULL, NULL),
                SUBSEL_E_INVALID, "subsel_param_info", "1001 is not a parameter");
    EXPECT_FAIL(&h, NULL, subsel_param_int_bounds(SUBSEL_P_EPSILON, &lo, NULL, NULL),
                SUBSEL_E_INVALID, "subsel_param_int_bounds",
                "epsilon (optimizer) is a real number");
    EXPECT_FAIL(&h, NULL, subsel_param_real_bounds(SUBSEL_P_BUDGET, &dlo, NULL, NULL, NULL),
                SUBSEL_E_INVALID, "subsel_param_real_bounds", "budget (optimizer) is an integer");
    EXPECT_FAIL(&h, NULL, subsel_param_int_bounds(0, &lo, NULL, NULL), SUBSEL_E_INVALID,
                "subsel_param_int_bounds", "0 is not a parameter");
    handles_free(&h);
}
END_TEST

/* 1 if v is within the real bounds of param. */
static int real_inside(int param, double v)
{
    double lo, hi;
    int open;
    ck_assert_int_eq(subsel_param_real_bounds(param, &lo, &hi, NULL, &open), SUBSEL_OK);
    return (open & SUBSEL_BOUND_OPEN_MIN ? v > lo : v >= lo) &&
           (open & SUBSEL_BOUND_OPEN_MAX ? v < hi : v <= hi);
}

/* A value inside the bounds other than the default. */
static double other_real(int param)
{
    double lo, hi, def, v;
    ck_assert_int_eq(subsel_param_real_bounds(param, &lo, &hi, &def, NULL), SUBSEL_OK);
    v = isinf(hi) ? def + 1.0 : lo / 2 + hi / 2;
    if (v == def)
        v = lo / 4 + 3 * (hi / 4);
    ck_assert(real_inside(param, v) && v != def);
    return v;
}

START_TEST(defaults_are_within_bounds_and_on_new_handles)
{
    handles h;
    int64_t i;
    handles_make(&h);
    for (i = 0; i < EXPECTED_COUNT; i++) {
        const expected_param *e = &expected[i];
        void *handle = handle_of(&h, e->kind);
        if (e->type == SUBSEL_TYPE_INT) {
            int64_t lo, hi, def, v = -7;
            ck_assert_int_eq(subsel_param_int_bounds(e->id, &lo, &hi, &def), SUBSEL_OK);
            ck_assert(lo <= def && def <= hi);
            ck_assert_ok(h.ctx, subsel_param_get_int(h.ctx, handle, e->id, &v));
            ck_assert_msg(v == def, "%s: %lld on a new handle, default %lld", e->name,
                          (long long)v, (long long)def);
        } else {
            double def, v = -7;
            int open = -1;
            ck_assert_int_eq(subsel_param_real_bounds(e->id, NULL, NULL, &def, &open),
                             SUBSEL_OK);
            ck_assert(open >= 0 && open <= (SUBSEL_BOUND_OPEN_MIN | SUBSEL_BOUND_OPEN_MAX));
            ck_assert_msg(real_inside(e->id, def), "%s: default %g", e->name, def);
            ck_assert_ok(h.ctx, subsel_param_get_real(h.ctx, handle, e->id, &v));
            ck_assert_msg(v == def, "%s: %g on a new handle, default %g", e->name, v, def);
        }
    }
    handles_free(&h);
}
END_TEST

START_TEST(set_then_get_round_trips)
{
    handles h;
    int64_t i;
    handles_make(&h);
    for (i = 0; i < EXPECTED_COUNT; i++) {
        const expected_param *e = &expected[i];
        void *handle = handle_of(&h, e->kind);
        if (e->type == SUBSEL_TYPE_INT) {
            int64_t lo, hi, def, v = 0, want[2];
            int w;
            subsel_param_int_bounds(e->id, &lo, &hi, &def);
            want[0] = lo;
            want[1] = hi;
            for (w = 0; w < 2; w++) {
                ck_assert_ok(h.ctx, subsel_param_set_int(h.ctx, handle, e->id, want[w]));
                ck_assert_ok(h.ctx, subsel_param_get_int(h.ctx, handle, e->id, &v));
                ck_assert_int_eq(v, want[w]);
            }
            ck_assert_ok(h.ctx, subsel_param_set_int(h.ctx, handle, e->id, def));
        } else {
            double def, v = 0, want = other_real(e->id);
            subsel_param_real_bounds(e->id, NULL, NULL, &def, NULL);
            ck_assert_ok(h.ctx, subsel_param_set_real(h.ctx, handle, e->id, want));
            ck_assert_ok(h.ctx, subsel_param_get_real(h.ctx, handle, e->id, &v));
            ck_assert(v == want);
            ck_assert_ok(h.ctx, subsel_param_set_real(h.ctx, handle, e->id, def));
        }
    }
    handles_free(&h);
}
END_TEST

/* Refused values leave the parameter at its default, and the message says
 * which parameter, which value and which range. */
START_TEST(out_of_bounds_is_refused_with_a_message)
{
    handles h;
    int64_t i;
    handles_make(&h);
    for (i = 0; i < EXPECTED_COUNT; i++) {
        const expected_param *e = &expected[i];
        void *handle = handle_of(&h, e->kind);
        char what[96];
        snprintf(what, sizeof what, "%s = ", e->name);
        if (e->type == SUBSEL_TYPE_INT) {
            int64_t lo, hi, def, v = 0;
            subsel_param_int_bounds(e->id, &lo, &hi, &def);
            if (lo > INT64_MIN)
                EXPECT_FAIL(&h, h.ctx, subsel_param_set_int(h.ctx, handle, e->id, lo - 1),
                            SUBSEL_E_INVALID, "subsel_param_set_int", what);
            if (hi < INT64_MAX)
                EXPECT_FAIL(&h, h.ctx, subsel_param_set_int(h.ctx, handle, e->id, hi + 1),
                            SUBSEL_E_INVALID, "subsel_param_set_int", "is outside [");
            ck_assert_ok(h.ctx, subsel_param_get_int(h.ctx, handle, e->id, &v));
            ck_assert_int_eq(v, def);
        } else {
            double lo, hi, def, v = 0;
            int open;
            double bad[4];
            int b;
            subsel_param_real_bounds(e->id, &lo, &hi, &def, &open);
            bad[0] = open & SUBSEL_BOUND_OPEN_MIN ? lo : nextafter(lo, -INFINITY);
            bad[1] = open & SUBSEL_BOUND_OPEN_MAX ? hi : nextafter(hi, INFINITY);
            bad[2] = NAN;
            bad[3] = INFINITY;
            for (b = 0; b < 4; b++) {
                ck_assert(!real_inside(e->id, bad[b]));
                EXPECT_FAIL(&h, h.ctx, subsel_param_set_real(h.ctx, handle, e->id, bad[b]),
                            SUBSEL_E_INVALID, "subsel_param_set_real", what);
                ck_assert_ptr_nonnull(strstr(subsel_ctx_last_error(h.ctx), "is outside"));
            }
            ck_assert_ok(h.ctx, subsel_param_get_real(h.ctx, handle, e->id, &v));
            ck_assert(v == def);
        }
    }
    /* exact texts, for one of each */
    EXPECT_FAIL(&h, h.ctx, subsel_param_set_real(h.ctx, h.opt, SUBSEL_P_EPSILON, 1.0),
                SUBSEL_E_INVALID, "subsel_param_set_real",
                "subsel_param_set_real: epsilon = 1 is outside (0, 1)");
    EXPECT_FAIL(&h, h.ctx, subsel_param_set_int(h.ctx, h.opt, SUBSEL_P_RUNS, 0),
                SUBSEL_E_INVALID, "subsel_param_set_int",
                "subsel_param_set_int: runs = 0 is outside [1, 1024]");
    EXPECT_FAIL(&h, h.ctx,
                subsel_param_set_real(h.ctx, h.clipcov, SUBSEL_P_CLIPCOV_ALPHA, INFINITY),
                SUBSEL_E_INVALID, "subsel_param_set_real",
                "subsel_param_set_real: alpha = inf is outside [0, inf)");
    handles_free(&h);
}
END_TEST

/* Each parameter on every handle of another kind, with the message
 * naming the parameter and both kinds; numbers that are no parameter;
 * the other type; NULL arguments. */
START_TEST(other_kinds_and_types_are_refused_with_a_message)
{
    handles h;
    int64_t i, vi = 0;
    int k;
    double vr = 0;
    handles_make(&h);
    for (i = 0; i < EXPECTED_COUNT; i++) {
        const expected_param *e = &expected[i];
        for (k = 1; k <= KIND_COUNT; k++) {
            char want[256];
            void *other = handle_of(&h, k);
            if (k == e->kind)
                continue;
            snprintf(want, sizeof want, "parameter %d (%s) belongs to kind '%s', not '%s'",
                     e->id, e->name, subsel_kind_name(e->kind), subsel_kind_name(k));
            if (e->type == SUBSEL_TYPE_INT) {
                EXPECT_FAIL(&h, h.ctx, subsel_param_set_int(h.ctx, other, e->id, 1),
                            SUBSEL_E_INVALID, "subsel_param_set_int", want);
                EXPECT_FAIL(&h, h.ctx, subsel_param_get_int(h.ctx, other, e->id, &vi),
                            SUBSEL_E_INVALID, "subsel_param_get_int", want);
            } else {
                EXPECT_FAIL(&h, h.ctx, subsel_param_set_real(h.ctx, other, e->id, 0.5),
                            SUBSEL_E_INVALID, "subsel_param_set_real", want);
                EXPECT_FAIL(&h, h.ctx, subsel_param_get_real(h.ctx, other, e->id, &vr),
                            SUBSEL_E_INVALID, "subsel_param_get_real", want);
            }
        }
        /* the other type, on the right handle */
        if (e->type == SUBSEL_TYPE_INT) {
            EXPECT_FAIL(&h, h.ctx,
                        subsel_param_set_real(h.ctx, handle_of(&h, e->kind), e->id, 1.0),
                        SUBSEL_E_INVALID, "subsel_param_set_real",
                        "is an integer, not a real number");
            EXPECT_FAIL(&h, h.ctx,
                        subsel_param_get_real(h.ctx, handle_of(&h, e->kind), e->id, &vr),
                        SUBSEL_E_INVALID, "subsel_param_get_real", e->name);
        } else {
            EXPECT_FAIL(&h, h.ctx, subsel_param_set_int(h.ctx, handle_of(&h, e->kind), e->id, 1),
                        SUBSEL_E_INVALID, "subsel_param_set_int",
                        "is a real number, not an integer");
            EXPECT_FAIL(&h, h.ctx,
                        subsel_param_get_int(h.ctx, handle_of(&h, e->kind), e->id, &vi),
                        SUBSEL_E_INVALID, "subsel_param_get_int", e->name);
        }
    }
    EXPECT_FAIL(&h, h.ctx, subsel_param_set_int(h.ctx, h.opt, 0, 1), SUBSEL_E_INVALID,
                "subsel_param_set_int", "0 is not a parameter of kind 'optimizer'");
    EXPECT_FAIL(&h, h.ctx, subsel_param_set_int(h.ctx, h.opt, 199, 1), SUBSEL_E_INVALID,
                "subsel_param_set_int", "199 is not a parameter of kind 'optimizer'");
    EXPECT_FAIL(&h, h.ctx, subsel_param_set_int(h.ctx, h.opt, SUBSEL_ALGORITHM_LAZY, 7),
                SUBSEL_E_INVALID, "subsel_param_set_int",
                "1001 is an algorithm number (SUBSEL_ALGORITHM_*), not a parameter");
    EXPECT_FAIL(&h, h.ctx, subsel_param_set_int(h.ctx, h.csr, SUBSEL_P_BUDGET, 1),
                SUBSEL_E_INVALID, "subsel_param_set_int", "not 'CSR matrix'");
    EXPECT_FAIL(&h, h.ctx, subsel_param_set_int(h.ctx, NULL, SUBSEL_P_BUDGET, 1),
                SUBSEL_E_INVALID, "subsel_param_set_int", "handle is NULL");
    EXPECT_FAIL(&h, h.ctx, subsel_param_get_int(h.ctx, h.opt, SUBSEL_P_BUDGET, NULL),
                SUBSEL_E_INVALID, "subsel_param_get_int", "value is NULL");
    /* no context: the message is the thread's */
    EXPECT_FAIL(&h, NULL, subsel_param_set_int(NULL, h.opt, SUBSEL_P_BUDGET, 1),
                SUBSEL_E_INVALID, "subsel_param_set_int", "ctx is NULL");
    EXPECT_FAIL(&h, NULL, subsel_param_get_real(NULL, h.opt, SUBSEL_P_EPSILON, &vr),
                SUBSEL_E_INVALID, "subsel_param_get_real", "ctx is NULL");
    /* nothing changed */
    ck_assert_ok(h.ctx, subsel_param_get_int(h.ctx, h.opt, SUBSEL_P_BUDGET, &vi));
    ck_assert_int_eq(vi, 0);
    handles_free(&h);
}
END_TEST

/* ---- 0.6's functions and numbers --------------------------------------- */

START_TEST(legacy_numbers_are_accepted_by_legacy_functions)
{
    handles h;
    int64_t i, v;
    double d, lo_old, hi_old, def_old, lo_new, hi_new, def_new;
    handles_make(&h);
    for (i = 0; i < EXPECTED_COUNT; i++) {
        const expected_param *e = &expected[i];
        int (*bounds)(int, double *, double *, double *) = NULL;
        if (e->legacy == 0)
            continue;
        if (e->kind == SUBSEL_KIND_OPTIMIZER)
            bounds = subsel_optimizer_param_bounds;
        else if (e->kind == SUBSEL_KIND_OT_SOLVER)
            bounds = subsel_ot_solver_param_bounds;
        else
            bounds = subsel_tarot_param_bounds;
        /* the old number and the new one name the same parameter */
        ck_assert_int_eq(bounds(e->legacy, &lo_old, &hi_old, &def_old), SUBSEL_OK);
        ck_assert_int_eq(bounds(e->id, &lo_new, &hi_new, &def_new), SUBSEL_OK);
        ck_assert(lo_old == lo_new && hi_old == hi_new && def_old == def_new);
        /* set through the old number, read through the new one */
        if (e->type == SUBSEL_TYPE_INT) {
            int64_t ilo, ihi, idef, want;
            int rc;
            ck_assert_int_eq(subsel_param_int_bounds(e->id, &ilo, &ihi, &idef), SUBSEL_OK);
            want = idef < ihi ? idef + 1 : idef - 1;
            rc = e->kind == SUBSEL_KIND_OPTIMIZER
                         ? subsel_optimizer_set_int(h.opt, e->legacy, want)
                     : e->kind == SUBSEL_KIND_OT_SOLVER
                         ? subsel_ot_solver_set_int(h.solver, e->legacy, want)
                         : subsel_tarot_set_int(h.tarot, e->legacy, want);
            ck_assert_int_eq(rc, SUBSEL_OK);
            ck_assert_ok(h.ctx, subsel_param_get_int(h.ctx, handle_of(&h, e->kind), e->id, &v));
            ck_assert_int_eq(v, want);
            rc = e->kind == SUBSEL_KIND_OPTIMIZER
                     ? subsel_optimizer_get_int(h.opt, e->legacy, &v)
                 : e->kind == SUBSEL_KIND_OT_SOLVER
                     ? subsel_ot_solver_get_int(h.solver, e->legacy, &v)
                     : subsel_tarot_get_int(h.tarot, e->legacy, &v);
            ck_assert_int_eq(rc, SUBSEL_OK);
            ck_assert_int_eq(v, want);
        } else {
            double want = other_real(e->id);
            int rc = e->kind == SUBSEL_KIND_OPTIMIZER
                         ? subsel_optimizer_set_double(h.opt, e->legacy, want)
                     : e->kind == SUBSEL_KIND_OT_SOLVER
                         ? subsel_ot_solver_set_double(h.solver, e->legacy, want)
                         : subsel_tarot_set_double(h.tarot, e->legacy, want);
            ck_assert_int_eq(rc, SUBSEL_OK);
            ck_assert_ok(h.ctx, subsel_param_get_real(h.ctx, handle_of(&h, e->kind), e->id, &d));
            ck_assert(d == want);
            rc = e->kind == SUBSEL_KIND_OPTIMIZER
                     ? subsel_optimizer_get_double(h.opt, e->legacy, &d)
                 : e->kind == SUBSEL_KIND_OT_SOLVER
                     ? subsel_ot_solver_get_double(h.solver, e->legacy, &d)
                     : subsel_tarot_get_double(h.tarot, e->legacy, &d);
            ck_assert_int_eq(rc, SUBSEL_OK);
            ck_assert(d == want);
        }
    }
    /* the new functions take only the new numbers: 1 is the context's
     * threads, not the optimizer's budget */
    EXPECT_FAIL(&h, h.ctx, subsel_param_set_int(h.ctx, h.opt, 1, 7), SUBSEL_E_INVALID,
                "subsel_param_set_int",
                "parameter 1 (threads) belongs to kind 'context', not 'optimizer'");
    handles_free(&h);
}
END_TEST

/* 0.6's SUBSEL_OPT_LAZY was 1, which subsel_optimizer_set_int read as
 * the budget: with this header it is 1001 and fails with a message. */
START_TEST(an_algorithm_is_no_longer_a_parameter)
{
    handles h;
    int64_t budget = -1;
    handles_make(&h);
    ck_assert_int_eq(subsel_optimizer_set_int(h.opt, SUBSEL_P_BUDGET, 3), SUBSEL_OK);
    EXPECT_FAIL(&h, NULL, subsel_optimizer_set_int(h.opt, SUBSEL_OPT_LAZY, 7), SUBSEL_E_INVALID,
                "subsel_optimizer_set_int",
                "subsel_optimizer_set_int: 1001 is an algorithm number (SUBSEL_ALGORITHM_*), "
                "not a parameter of kind 'optimizer'");
    ck_assert_int_eq(subsel_optimizer_get_int(h.opt, SUBSEL_OPT_BUDGET, &budget), SUBSEL_OK);
    ck_assert_int_eq(budget, 3);
    handles_free(&h);
}
END_TEST

/* subsel_optimizer_create() takes the new numbers and 0.6's 0 .. 5, for
 * the same algorithms: the same selections. */
START_TEST(algorithms_old_and_new_numbers)
{
    handles h;
    int a;
    handles_make(&h);
    for (a = 0; a <= 5; a++) {
        subsel_optimizer *old_opt, *new_opt;
        subsel_selection *old_sel, *new_sel;
        int64_t j;
        ck_assert_ok(h.ctx, subsel_optimizer_create(h.ctx, a, &old_opt));
        ck_assert_ok(h.ctx, subsel_optimizer_create(h.ctx, SUBSEL_ALGORITHM_NAIVE + a, &new_opt));
        ck_assert_int_eq(subsel_optimizer_set_int(old_opt, 1 /* 0.6's budget */, 3), SUBSEL_OK);
        ck_assert_int_eq(subsel_optimizer_set_int(new_opt, SUBSEL_P_BUDGET, 3), SUBSEL_OK);
        ck_assert_ok(h.ctx, subsel_optimizer_run(h.ctx, old_opt, h.fb, &old_sel));
        ck_assert_ok(h.ctx, subsel_optimizer_run(h.ctx, new_opt, h.fb, &new_sel));
        ck_assert_int_eq(subsel_selection_count(old_sel), subsel_selection_count(new_sel));
        for (j = 0; j < subsel_selection_count(old_sel); j++)
            ck_assert_int_eq(subsel_selection_indices(old_sel)[j],
                             subsel_selection_indices(new_sel)[j]);
        subsel_selection_free(old_sel);
        subsel_selection_free(new_sel);
        subsel_optimizer_free(old_opt);
        subsel_optimizer_free(new_opt);
    }
    {
        subsel_optimizer *opt = (subsel_optimizer *)&h; /* overwritten with NULL */
        EXPECT_FAIL(&h, h.ctx, subsel_optimizer_create(h.ctx, 6, &opt), SUBSEL_E_INVALID,
                    "subsel_optimizer_create", "unknown algorithm 6");
        ck_assert_ptr_null(opt);
        EXPECT_FAIL(&h, h.ctx, subsel_optimizer_create(h.ctx, SUBSEL_P_BUDGET, &opt),
                    SUBSEL_E_INVALID, "subsel_optimizer_create", "unknown algorithm 101");
    }
    handles_free(&h);
}
END_TEST

/* ---- every setter failure leaves its own message ----------------------- */

START_TEST(per_handle_setter_failures_leave_messages)
{
    handles h;
    int64_t v;
    double d;
    handles_make(&h);
    /* optimizer, without a context: the thread's slot */
    EXPECT_FAIL(&h, NULL, subsel_optimizer_set_int(NULL, SUBSEL_P_BUDGET, 1), SUBSEL_E_INVALID,
                "subsel_optimizer_set_int", "opt is NULL");
    EXPECT_FAIL(&h, NULL, subsel_optimizer_set_int((subsel_optimizer *)h.solver, SUBSEL_P_BUDGET, 1),
                SUBSEL_E_INVALID, "subsel_optimizer_set_int",
                "opt is a handle of kind 'OT solver', not 'optimizer'");
    EXPECT_FAIL(&h, NULL, subsel_optimizer_set_int(h.opt, 999, 1), SUBSEL_E_INVALID,
                "subsel_optimizer_set_int", "999 is not a parameter of kind 'optimizer'");
    EXPECT_FAIL(&h, NULL, subsel_optimizer_set_int(h.opt, SUBSEL_P_OT_TOL, 1), SUBSEL_E_INVALID,
                "subsel_optimizer_set_int",
                "parameter 204 (tol) belongs to kind 'OT solver', not 'optimizer'");
    EXPECT_FAIL(&h, NULL, subsel_optimizer_set_int(h.opt, SUBSEL_P_EPSILON, 1), SUBSEL_E_INVALID,
                "subsel_optimizer_set_int", "epsilon (optimizer) is a real number");
    EXPECT_FAIL(&h, NULL, subsel_optimizer_set_int(h.opt, SUBSEL_P_RUNS, 0), SUBSEL_E_INVALID,
                "subsel_optimizer_set_int", "runs = 0 is outside [1, 1024]");
    /* the case of the issue: epsilon = 1 */
    EXPECT_FAIL(&h, NULL, subsel_optimizer_set_double(h.opt, SUBSEL_P_EPSILON, 1.0),
                SUBSEL_E_INVALID, "subsel_optimizer_set_double", "epsilon = 1 is outside (0, 1)");
    EXPECT_FAIL(&h, NULL, subsel_optimizer_set_double(h.opt, SUBSEL_P_BUDGET, 1.0),
                SUBSEL_E_INVALID, "subsel_optimizer_set_double", "budget (optimizer) is an integer");
    EXPECT_FAIL(&h, NULL, subsel_optimizer_get_int(NULL, SUBSEL_P_BUDGET, &v), SUBSEL_E_INVALID,
                "subsel_optimizer_get_int", "opt is NULL");
    EXPECT_FAIL(&h, NULL, subsel_optimizer_get_int(h.opt, SUBSEL_P_BUDGET, NULL), SUBSEL_E_INVALID,
                "subsel_optimizer_get_int", "value is NULL");
    EXPECT_FAIL(&h, NULL, subsel_optimizer_get_double(h.opt, 42, &d), SUBSEL_E_INVALID,
                "subsel_optimizer_get_double", "42 is not a parameter");
    EXPECT_FAIL(&h, NULL, subsel_optimizer_param_bounds(42, &d, NULL, NULL), SUBSEL_E_INVALID,
                "subsel_optimizer_param_bounds", "42 is not a parameter of kind 'optimizer'");
    /* OT solver */
    EXPECT_FAIL(&h, NULL, subsel_ot_solver_set_int(NULL, SUBSEL_P_OT_MAX_ITER, 1),
                SUBSEL_E_INVALID, "subsel_ot_solver_set_int", "solver is NULL");
    EXPECT_FAIL(&h, NULL, subsel_ot_solver_set_int(h.solver, SUBSEL_P_OT_MAX_ITER, 0),
                SUBSEL_E_INVALID, "subsel_ot_solver_set_int", "max_iter = 0 is outside");
    EXPECT_FAIL(&h, NULL, subsel_ot_solver_set_double(h.solver, SUBSEL_P_OT_TOL, 2.0),
                SUBSEL_E_INVALID, "subsel_ot_solver_set_double", "tol = 2 is outside [1e-15, 1]");
    EXPECT_FAIL(&h, NULL, subsel_ot_solver_set_double(h.solver, SUBSEL_P_EPSILON, 0.5),
                SUBSEL_E_INVALID, "subsel_ot_solver_set_double",
                "(epsilon) belongs to kind 'optimizer', not 'OT solver'");
    EXPECT_FAIL(&h, NULL, subsel_ot_solver_get_double(h.solver, SUBSEL_P_OT_MAX_ITER, &d),
                SUBSEL_E_INVALID, "subsel_ot_solver_get_double", "is an integer");
    EXPECT_FAIL(&h, NULL, subsel_ot_solver_get_int(h.solver, 77, &v), SUBSEL_E_INVALID,
                "subsel_ot_solver_get_int", "77 is not a parameter");
    EXPECT_FAIL(&h, NULL, subsel_ot_solver_param_bounds(77, &d, NULL, NULL), SUBSEL_E_INVALID,
                "subsel_ot_solver_param_bounds", "77 is not a parameter of kind 'OT solver'");
    /* TAROT, including a parameter fixed once the rows are whitened */
    EXPECT_FAIL(&h, NULL, subsel_tarot_set_int(NULL, SUBSEL_P_TAROT_PROJ_DIM, 1),
                SUBSEL_E_INVALID, "subsel_tarot_set_int", "tarot is NULL");
    EXPECT_FAIL(&h, NULL, subsel_tarot_set_int(h.tarot, SUBSEL_P_TAROT_WHITEN, 3),
                SUBSEL_E_INVALID, "subsel_tarot_set_int", "whiten = 3 is outside [0, 2]");
    EXPECT_FAIL(&h, NULL, subsel_tarot_set_double(h.tarot, SUBSEL_P_TAROT_BLUR, 0),
                SUBSEL_E_INVALID, "subsel_tarot_set_double", "blur = 0 is outside");
    EXPECT_FAIL(&h, NULL, subsel_tarot_get_int(h.tarot, SUBSEL_P_TAROT_EPS, &v),
                SUBSEL_E_INVALID, "subsel_tarot_get_int", "eps (TAROT selector) is a real number");
    EXPECT_FAIL(&h, NULL, subsel_tarot_param_bounds(12, &d, NULL, NULL), SUBSEL_E_INVALID,
                "subsel_tarot_param_bounds", "12 is not a parameter of kind 'TAROT selector'");
    ck_assert_ok(h.ctx, subsel_tarot_whiten(h.ctx, h.tarot, NULL, NULL));
    EXPECT_FAIL(&h, NULL, subsel_tarot_set_int(h.tarot, SUBSEL_P_TAROT_PROJ_DIM, 2),
                SUBSEL_E_STATE, "subsel_tarot_set_int",
                "proj_dim cannot change once the rows are whitened");
    EXPECT_FAIL(&h, h.ctx, subsel_param_set_real(h.ctx, h.tarot, SUBSEL_P_TAROT_EPS, 1.0),
                SUBSEL_E_STATE, "subsel_param_set_real",
                "eps cannot change once the rows are whitened");
    ck_assert_ok(h.ctx, subsel_param_set_real(h.ctx, h.tarot, SUBSEL_P_TAROT_BLUR, 0.5));
    /* the context's */
    EXPECT_FAIL(&h, NULL, subsel_ctx_set_int(NULL, SUBSEL_P_SEED, 1), SUBSEL_E_INVALID,
                "subsel_ctx_set_int", "ctx is NULL");
    EXPECT_FAIL(&h, h.ctx, subsel_ctx_set_int(h.ctx, SUBSEL_P_MAX_ISA, 3), SUBSEL_E_INVALID,
                "subsel_ctx_set_int", "max_isa = 3 is outside [0, 2]");
    EXPECT_FAIL(&h, h.ctx, subsel_ctx_get_int(h.ctx, 7, &v), SUBSEL_E_INVALID,
                "subsel_ctx_get_int", "7 is not a parameter of kind 'context'");
    EXPECT_FAIL(&h, NULL, subsel_ctx_param_bounds(SUBSEL_P_BUDGET, &v, NULL, NULL),
                SUBSEL_E_INVALID, "subsel_ctx_param_bounds",
                "(budget) belongs to kind 'optimizer', not 'context'");
    EXPECT_FAIL(&h, NULL, subsel_ctx_set_progress(NULL, NULL, NULL), SUBSEL_E_INVALID,
                "subsel_ctx_set_progress", "ctx is NULL");
    handles_free(&h);
}
END_TEST

START_TEST(objective_setter_failures_leave_messages)
{
    handles h;
    handles_make(&h);
    /* SDM */
    EXPECT_FAIL(&h, NULL, subsel_sdm_set_lambda(NULL, h.sdm, 0.5), SUBSEL_E_INVALID,
                "subsel_sdm_set_lambda", "ctx is NULL");
    EXPECT_FAIL(&h, h.ctx, subsel_sdm_set_lambda(h.ctx, NULL, 0.5), SUBSEL_E_INVALID,
                "subsel_sdm_set_lambda", "obj is NULL");
    EXPECT_FAIL(&h, h.ctx, subsel_sdm_set_lambda(h.ctx, h.fb, 0.5), SUBSEL_E_INVALID,
                "subsel_sdm_set_lambda",
                "obj is a handle of kind 'feature-based objective', not 'SDM objective'");
    EXPECT_FAIL(&h, h.ctx, subsel_sdm_set_lambda(h.ctx, h.sdm, 1.5), SUBSEL_E_INVALID,
                "subsel_sdm_set_lambda", "lambda = 1.5 is outside [0, 1]");
    EXPECT_FAIL(&h, h.ctx, subsel_sdm_set_lambda(h.ctx, h.sdm, NAN), SUBSEL_E_INVALID,
                "subsel_sdm_set_lambda", "lambda = nan is outside [0, 1]");
    /* UniPROT */
    EXPECT_FAIL(&h, NULL, subsel_uniprot_set_gain(NULL, h.uniprot, 0), SUBSEL_E_INVALID,
                "subsel_uniprot_set_gain", "ctx is NULL");
    EXPECT_FAIL(&h, h.ctx, subsel_uniprot_set_gain(h.ctx, h.sdm, 0), SUBSEL_E_INVALID,
                "subsel_uniprot_set_gain", "not 'UniPROT objective'");
    EXPECT_FAIL(&h, h.ctx, subsel_uniprot_set_gain(h.ctx, h.uniprot, 2), SUBSEL_E_INVALID,
                "subsel_uniprot_set_gain", "gain = 2 is outside [0, 1]");
    EXPECT_FAIL(&h, h.ctx, subsel_uniprot_set_update(h.ctx, h.uniprot, -1), SUBSEL_E_INVALID,
                "subsel_uniprot_set_update", "update = -1 is outside [0, 1]");
    EXPECT_FAIL(&h, h.ctx, subsel_uniprot_set_tolerance(h.ctx, h.uniprot, 0.5),
                SUBSEL_E_INVALID, "subsel_uniprot_set_tolerance",
                "tol = 0.5 is outside [1e-15, 0.01]");
    EXPECT_FAIL(&h, h.ctx, subsel_uniprot_set_max_iterations(h.ctx, h.uniprot, 0),
                SUBSEL_E_INVALID, "subsel_uniprot_set_max_iterations",
                "max_iter = 0 is outside [1, 1000000000]");
    EXPECT_FAIL(&h, h.ctx, subsel_uniprot_set_max_iterations(h.ctx, h.clipcov, 10),
                SUBSEL_E_INVALID, "subsel_uniprot_set_max_iterations",
                "obj is a handle of kind 'ClipCov objective', not 'UniPROT objective'");
    /* ClipCov */
    EXPECT_FAIL(&h, NULL, subsel_clipcov_set_weight(NULL, h.clipcov, 0, 1), SUBSEL_E_INVALID,
                "subsel_clipcov_set_weight", "ctx is NULL");
    EXPECT_FAIL(&h, h.ctx, subsel_clipcov_set_weight(h.ctx, h.uniprot, 0, 1), SUBSEL_E_INVALID,
                "subsel_clipcov_set_weight", "not 'ClipCov objective'");
    EXPECT_FAIL(&h, h.ctx, subsel_clipcov_set_weight(h.ctx, h.clipcov, 5, 1), SUBSEL_E_INVALID,
                "subsel_clipcov_set_weight", "unknown term 5 (0 to 4)");
    EXPECT_FAIL(&h, h.ctx, subsel_clipcov_set_weight(h.ctx, h.clipcov, 2, -0.5),
                SUBSEL_E_INVALID, "subsel_clipcov_set_weight",
                "weight_inter = -0.5 is outside [0, inf)");
    EXPECT_FAIL(&h, h.ctx, subsel_clipcov_set_weight(h.ctx, h.clipcov, 0, INFINITY),
                SUBSEL_E_INVALID, "subsel_clipcov_set_weight", "weight_intra = inf");
    EXPECT_FAIL(&h, h.ctx, subsel_clipcov_set_alpha(h.ctx, h.clipcov, NAN), SUBSEL_E_INVALID,
                "subsel_clipcov_set_alpha", "alpha = nan is outside [0, inf)");
    EXPECT_FAIL(&h, NULL, subsel_clipcov_set_alpha(NULL, h.clipcov, 1), SUBSEL_E_INVALID,
                "subsel_clipcov_set_alpha", "ctx is NULL");
    handles_free(&h);
}
END_TEST

START_TEST(csr_row_failures_leave_messages)
{
    handles h;
    const int32_t *idx;
    const float *val;
    int64_t count;
    handles_make(&h);
    EXPECT_FAIL(&h, NULL, subsel_csr_row(NULL, 0, &idx, &val, &count), SUBSEL_E_INVALID,
                "subsel_csr_row", "csr is NULL");
    EXPECT_FAIL(&h, NULL, subsel_csr_row(h.csr, 0, &idx, NULL, &count), SUBSEL_E_INVALID,
                "subsel_csr_row", "values is NULL");
    EXPECT_FAIL(&h, NULL, subsel_csr_row(h.csr, 6, &idx, &val, &count), SUBSEL_E_INVALID,
                "subsel_csr_row", "row 6 is outside [0, 6)");
    ck_assert_int_eq(subsel_csr_row(h.csr, 5, &idx, &val, &count), SUBSEL_OK);
    handles_free(&h);
}
END_TEST

/* ---- the setters are the table ----------------------------------------- */

/* The dedicated setters and the generic ones change the same value, and
 * what depends on it (SDM's weights, ClipCov's modular part). */
START_TEST(dedicated_and_generic_setters_agree)
{
    handles h;
    static const int64_t set[3] = {0, 3, 4};
    double a, b, lambda, w;
    handles_make(&h);
    ck_assert_ok(h.ctx, subsel_sdm_set_lambda(h.ctx, h.sdm, 0.25));
    ck_assert_ok(h.ctx, subsel_param_get_real(h.ctx, h.sdm, SUBSEL_P_SDM_LAMBDA, &lambda));
    ck_assert(lambda == 0.25);
    ck_assert_ok(h.ctx, subsel_objective_evaluate(h.ctx, h.sdm, set, 3, &a));
    ck_assert_ok(h.ctx, subsel_param_set_real(h.ctx, h.sdm, SUBSEL_P_SDM_LAMBDA, 0.9));
    ck_assert_ok(h.ctx, subsel_objective_evaluate(h.ctx, h.sdm, set, 3, &b));
    ck_assert(a != b);
    ck_assert_ok(h.ctx, subsel_param_set_real(h.ctx, h.sdm, SUBSEL_P_SDM_LAMBDA, 0.25));
    ck_assert_ok(h.ctx, subsel_objective_evaluate(h.ctx, h.sdm, set, 3, &b));
    ck_assert(a == b);

    ck_assert_ok(h.ctx, subsel_clipcov_set_weight(h.ctx, h.clipcov, SUBSEL_CLIPCOV_TERM_SELF, 3));
    ck_assert_ok(h.ctx, subsel_param_get_real(h.ctx, h.clipcov, SUBSEL_P_CLIPCOV_WEIGHT_SELF, &w));
    ck_assert(w == 3);
    ck_assert_ok(h.ctx, subsel_objective_evaluate(h.ctx, h.clipcov, set, 3, &a));
    ck_assert_ok(h.ctx, subsel_param_set_real(h.ctx, h.clipcov, SUBSEL_P_CLIPCOV_WEIGHT_SELF, 1));
    ck_assert_ok(h.ctx, subsel_param_set_real(h.ctx, h.clipcov, SUBSEL_P_CLIPCOV_ALPHA, 2));
    ck_assert_ok(h.ctx, subsel_objective_evaluate(h.ctx, h.clipcov, set, 3, &b));
    ck_assert(a != b);
    ck_assert_ok(h.ctx, subsel_clipcov_set_alpha(h.ctx, h.clipcov, 0.5));
    ck_assert_ok(h.ctx, subsel_param_set_real(h.ctx, h.clipcov, SUBSEL_P_CLIPCOV_WEIGHT_SELF, 3));
    ck_assert_ok(h.ctx, subsel_objective_evaluate(h.ctx, h.clipcov, set, 3, &b));
    ck_assert(a == b);

    ck_assert_ok(h.ctx, subsel_uniprot_set_max_iterations(h.ctx, h.uniprot, 17));
    {
        int64_t v;
        ck_assert_ok(h.ctx, subsel_param_get_int(h.ctx, h.uniprot, SUBSEL_P_UNIPROT_MAX_ITER, &v));
        ck_assert_int_eq(v, 17);
    }
    /* the context's memory limit reaches its meter */
    ck_assert_ok(h.ctx, subsel_param_set_int(h.ctx, h.ctx, SUBSEL_P_MEMORY_LIMIT, 1));
    {
        subsel_ot_solver *s = NULL;
        ck_assert_int_eq(subsel_ot_solver_create(h.ctx, &s), SUBSEL_E_NOMEM);
        ck_assert_ptr_nonnull(strstr(subsel_ctx_last_error(h.ctx), "SUBSEL_P_MEMORY_LIMIT"));
    }
    ck_assert_ok(h.ctx, subsel_ctx_set_int(h.ctx, SUBSEL_P_MEMORY_LIMIT, 0));
    handles_free(&h);
}
END_TEST

/* ---- the thread's message ---------------------------------------------- */

static void *fail_in_thread(void *arg)
{
    char *out = arg;
    subsel_optimizer_set_int(NULL, SUBSEL_P_BUDGET, 1);
    snprintf(out, 256, "%s", subsel_ctx_last_error(NULL));
    return NULL;
}

START_TEST(thread_messages_stay_with_their_thread)
{
    pthread_t thread;
    char theirs[256] = "";
    int id;
    ck_assert_int_eq(subsel_param_find(SUBSEL_KIND_TAROT, "mine", &id), SUBSEL_E_INVALID);
    ck_assert_int_eq(pthread_create(&thread, NULL, fail_in_thread, theirs), 0);
    ck_assert_int_eq(pthread_join(thread, NULL), 0);
    ck_assert_str_eq(theirs, "subsel_optimizer_set_int: opt is NULL");
    ck_assert_str_eq(subsel_ctx_last_error(NULL),
                     "subsel_param_find: kind 'TAROT selector' has no parameter 'mine'");
}
END_TEST

Suite *params_suite(void)
{
    Suite *s = suite_create("params");
    TCase *tc = tcase_create("table");
    tcase_add_test(tc, every_handle_reports_its_kind);
    tcase_add_test(tc, every_parameter_is_listed_as_the_header_says);
    tcase_add_test(tc, lookups_fail_with_messages);
    tcase_add_test(tc, defaults_are_within_bounds_and_on_new_handles);
    tcase_add_test(tc, set_then_get_round_trips);
    tcase_add_test(tc, out_of_bounds_is_refused_with_a_message);
    tcase_add_test(tc, other_kinds_and_types_are_refused_with_a_message);
    tcase_add_test(tc, dedicated_and_generic_setters_agree);
    suite_add_tcase(s, tc);
    tc = tcase_create("legacy");
    tcase_add_test(tc, legacy_numbers_are_accepted_by_legacy_functions);
    tcase_add_test(tc, an_algorithm_is_no_longer_a_parameter);
    tcase_add_test(tc, algorithms_old_and_new_numbers);
    suite_add_tcase(s, tc);
    tc = tcase_create("messages");
    tcase_add_test(tc, per_handle_setter_failures_leave_messages);
    tcase_add_test(tc, objective_setter_failures_leave_messages);
    tcase_add_test(tc, csr_row_failures_leave_messages);
    tcase_add_test(tc, thread_messages_stay_with_their_thread);
    suite_add_tcase(s, tc);
    return s;
}
