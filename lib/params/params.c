/* SPDX-License-Identifier: MIT */
/*
 * Handle kinds and the generic parameter functions: the list of every kind
 * of handle, each with its parameter table, and the public calls that
 * enumerate parameters, find them by name, describe them, and set or read
 * them on any handle, its kind checked at run time.
 */
#include <string.h>

#include "clipcov/clipcov.h"
#include "core/ctx.h"
#include "core/error.h"
#include "core/handle.h"
#include "lors/lors.h"
#include "objectives/fb.h"
#include "optim/optim.h"
#include "ot/ot.h"
#include "params/params.h"
#include "sae_train/trainer.h"
#include "tarot/tarot.h"
#include "uniprot/uniprot.h"

/* Kinds without parameters: still listed, so that subsel_handle_kind()
 * and the messages know every handle. */
static int fb_owns(const void *handle)
{
    return ((const subsel_objective *)handle)->ops == &ss_fb_ops;
}

static const ss_param_kind fb_kind = {
    SUBSEL_KIND_FB, "feature-based objective", SS_KIND_OBJECTIVE, fb_owns,
    NULL, 0, NULL, NULL, NULL,
};
static const ss_param_kind csr_kind = {
    SUBSEL_KIND_CSR, "CSR matrix", SS_KIND_CSR, NULL, NULL, 0, NULL, NULL, NULL,
};
static const ss_param_kind dense_kind = {
    SUBSEL_KIND_DENSE, "dense matrix", SS_KIND_DENSE, NULL, NULL, 0, NULL,
    NULL, NULL,
};
static const ss_param_kind selection_kind = {
    SUBSEL_KIND_SELECTION, "selection", SS_KIND_SELECTION, NULL, NULL, 0, NULL,
    NULL, NULL,
};
static const ss_param_kind sae_kind = {
    SUBSEL_KIND_SAE, "sparse autoencoder", SS_KIND_SAE, NULL, NULL, 0, NULL,
    NULL, NULL,
};
static const ss_param_kind summary_kind = {
    SUBSEL_KIND_SUMMARY, "summary", SS_KIND_SUMMARY, NULL, NULL, 0, NULL,
    NULL, NULL,
};

/* In SUBSEL_KIND_* order (kinds[k - 1] is kind k), so parameters come in
 * ascending numbers. A new kind of handle is added here and in subsel.h. */
static const ss_param_kind *const kinds[] = {
    &ss_ctx_params,     &ss_optimizer_params, &ss_ot_solver_params,
    &ss_tarot_params,   &ss_sdm_params,       &ss_uniprot_params,
    &ss_clipcov_params, &fb_kind,             &csr_kind,
    &dense_kind,        &selection_kind,      &sae_kind,
    &summary_kind,      &ss_sae_trainer_params, &ss_lors_params,
};
#define KIND_COUNT ((int)(sizeof kinds / sizeof kinds[0]))

const ss_param_kind *ss_kind_at(int kind)
{
    return kind >= 1 && kind <= KIND_COUNT ? kinds[kind - 1] : NULL;
}

const ss_param_kind *ss_kind_of_handle(const void *handle)
{
    uint32_t head;
    int i;
    if (handle == NULL)
        return NULL;
    head = ((const ss_handle *)handle)->kind;
    for (i = 0; i < KIND_COUNT; i++)
        if (kinds[i]->handle_kind == head &&
            (kinds[i]->owns == NULL || kinds[i]->owns(handle)))
            return kinds[i];
    return NULL;
}

const ss_param *ss_param_find_id(int id, const ss_param_kind **kind)
{
    int i;
    for (i = 0; i < KIND_COUNT; i++) {
        const ss_param *p = ss_param_of(kinds[i], id);
        if (p != NULL) {
            if (kind)
                *kind = kinds[i];
            return p;
        }
    }
    return NULL;
}

/* The message for a number that is no parameter of kind k: whose it is, if
 * anyone's. */
static int not_a_param(subsel_ctx *ctx, const ss_param_kind *k, int id,
                       const char *fn)
{
    const ss_param_kind *owner = NULL;
    const ss_param *p = ss_param_find_id(id, &owner);
    if (p != NULL)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "%s: parameter %d (%s) belongs to kind '%s', not '%s'",
                       fn, id, p->name, owner->name, k->name);
    if (id >= SUBSEL_ALGORITHM_NAIVE &&
        id <= SUBSEL_ALGORITHM_DOUBLE_GREEDY_RANDOM)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "%s: %d is an algorithm number (SUBSEL_ALGORITHM_*), "
                       "not a parameter of kind '%s'",
                       fn, id, k->name);
    return ss_fail(ctx, SUBSEL_E_INVALID,
                   "%s: %d is not a parameter of kind '%s'", fn, id, k->name);
}

int ss_param_resolve(subsel_ctx *ctx, const void *handle, int want, int id,
                     int legacy, const char *fn, const char *what,
                     const ss_param_kind **kind, const ss_param **param)
{
    const ss_param_kind *k;
    const ss_param *p;
    if (handle == NULL)
        return ss_fail(ctx, SUBSEL_E_INVALID, "%s: %s is NULL", fn, what);
    k = ss_kind_of_handle(handle);
    if (k == NULL && ((const ss_handle *)handle)->kind == SS_KIND_OBJECTIVE)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "%s: %s is an objective of a kind without parameters "
                       "(%s)",
                       fn, what, ((const subsel_objective *)handle)->ops->name);
    if (k == NULL)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "%s: %s is not a handle of a known kind", fn, what);
    if (want != 0 && k->kind != want)
        return ss_fail(ctx, SUBSEL_E_INVALID,
                       "%s: %s is a handle of kind '%s', not '%s'", fn, what,
                       k->name, ss_kind_at(want)->name);
    p = ss_param_of(k, id);
    if (p == NULL && legacy)
        p = ss_param_of_legacy(k, id);
    if (p == NULL)
        return not_a_param(ctx, k, id, fn);
    *kind = k;
    *param = p;
    return SUBSEL_OK;
}

const ss_param *ss_param_of_kind(int kind, int id, int legacy, const char *fn)
{
    const ss_param_kind *k = ss_kind_at(kind);
    const ss_param *p = ss_param_of(k, id);
    if (p == NULL && legacy)
        p = ss_param_of_legacy(k, id);
    if (p == NULL)
        not_a_param(NULL, k, id, fn);
    return p;
}

/* ---- public: kinds ----------------------------------------------------- */

int subsel_handle_kind(const void *handle)
{
    const ss_param_kind *k = ss_kind_of_handle(handle);
    if (k != NULL)
        return k->kind;
    return ss_fail(NULL, SUBSEL_E_INVALID, "subsel_handle_kind: %s",
                   handle == NULL ? "handle is NULL"
                                  : "not a handle of a known kind");
}

const char *subsel_kind_name(int kind)
{
    const ss_param_kind *k = ss_kind_at(kind);
    return k != NULL ? k->name : "unknown kind";
}

/* ---- public: the table ------------------------------------------------- */

int64_t subsel_param_count(void)
{
    int64_t count = 0;
    int i;
    for (i = 0; i < KIND_COUNT; i++)
        count += (int64_t)kinds[i]->count;
    return count;
}

int subsel_param_at(int64_t index, int *param)
{
    int64_t left = index;
    int i;
    SS_REQUIRE_NONNULL(NULL, param);
    for (i = 0; i < KIND_COUNT && left >= 0; i++) {
        if (left < (int64_t)kinds[i]->count) {
            *param = kinds[i]->params[left].id;
            return SUBSEL_OK;
        }
        left -= (int64_t)kinds[i]->count;
    }
    return ss_fail(NULL, SUBSEL_E_INVALID,
                   "subsel_param_at: index %lld is outside [0, %lld)",
                   (long long)index, (long long)subsel_param_count());
}

int subsel_param_find(int kind, const char *name, int *param)
{
    const ss_param_kind *k = ss_kind_at(kind);
    size_t i;
    SS_REQUIRE_NONNULL(NULL, name);
    SS_REQUIRE_NONNULL(NULL, param);
    if (k == NULL)
        return ss_fail(NULL, SUBSEL_E_INVALID,
                       "subsel_param_find: %d is not a handle kind", kind);
    for (i = 0; i < k->count; i++)
        if (strcmp(k->params[i].name, name) == 0) {
            *param = k->params[i].id;
            return SUBSEL_OK;
        }
    return ss_fail(NULL, SUBSEL_E_INVALID,
                   "subsel_param_find: kind '%s' has no parameter '%.64s'",
                   k->name, name);
}

/* The parameter `param` for function fn, or NULL with a message. */
static const ss_param *described(int param, const char *fn,
                                 const ss_param_kind **kind)
{
    const ss_param *p = ss_param_find_id(param, kind);
    if (p == NULL)
        ss_fail(NULL, SUBSEL_E_INVALID, "%s: %d is not a parameter", fn,
                param);
    return p;
}

int subsel_param_info(int param, int *kind, int *type, const char **name,
                      const char **doc)
{
    const ss_param_kind *k;
    const ss_param *p = described(param, "subsel_param_info", &k);
    if (p == NULL)
        return SUBSEL_E_INVALID;
    if (kind)
        *kind = k->kind;
    if (type)
        *type = p->type;
    if (name)
        *name = p->name;
    if (doc)
        *doc = p->doc;
    return SUBSEL_OK;
}

int subsel_param_int_bounds(int param, int64_t *min_value, int64_t *max_value,
                            int64_t *default_value)
{
    const char *fn = "subsel_param_int_bounds";
    const ss_param_kind *k;
    const ss_param *p = described(param, fn, &k);
    if (p == NULL)
        return SUBSEL_E_INVALID;
    if (p->type != SUBSEL_TYPE_INT)
        return ss_fail(NULL, SUBSEL_E_INVALID,
                       "%s: parameter %s (%s) is a real number: use "
                       "subsel_param_real_bounds",
                       fn, p->name, k->name);
    if (min_value)
        *min_value = p->imin;
    if (max_value)
        *max_value = p->imax;
    if (default_value)
        *default_value = p->idef;
    return SUBSEL_OK;
}

int subsel_param_real_bounds(int param, double *min_value, double *max_value,
                             double *default_value, int *open)
{
    const char *fn = "subsel_param_real_bounds";
    const ss_param_kind *k;
    const ss_param *p = described(param, fn, &k);
    if (p == NULL)
        return SUBSEL_E_INVALID;
    if (p->type != SUBSEL_TYPE_REAL)
        return ss_fail(NULL, SUBSEL_E_INVALID,
                       "%s: parameter %s (%s) is an integer: use "
                       "subsel_param_int_bounds",
                       fn, p->name, k->name);
    if (min_value)
        *min_value = p->dmin;
    if (max_value)
        *max_value = p->dmax;
    if (default_value)
        *default_value = p->ddef;
    if (open)
        *open = p->open;
    return SUBSEL_OK;
}

/* ---- public: set and get on any handle --------------------------------- */

int subsel_param_set_int(subsel_ctx *ctx, void *handle, int param,
                         int64_t value)
{
    const char *fn = "subsel_param_set_int";
    const ss_param_kind *k;
    const ss_param *p;
    SS_REQUIRE_CTX(ctx);
    SS_CHECK(ss_param_resolve(ctx, handle, 0, param, 0, fn, "handle", &k, &p));
    return ss_param_set_int(ctx, k, handle, p, value, fn);
}

int subsel_param_set_real(subsel_ctx *ctx, void *handle, int param,
                          double value)
{
    const char *fn = "subsel_param_set_real";
    const ss_param_kind *k;
    const ss_param *p;
    SS_REQUIRE_CTX(ctx);
    SS_CHECK(ss_param_resolve(ctx, handle, 0, param, 0, fn, "handle", &k, &p));
    return ss_param_set_real(ctx, k, handle, p, value, fn);
}

int subsel_param_get_int(subsel_ctx *ctx, const void *handle, int param,
                         int64_t *value)
{
    const char *fn = "subsel_param_get_int";
    const ss_param_kind *k;
    const ss_param *p;
    SS_REQUIRE_CTX(ctx);
    SS_CHECK(ss_param_resolve(ctx, handle, 0, param, 0, fn, "handle", &k, &p));
    return ss_param_get_int(ctx, k, handle, p, value, fn);
}

int subsel_param_get_real(subsel_ctx *ctx, const void *handle, int param,
                          double *value)
{
    const char *fn = "subsel_param_get_real";
    const ss_param_kind *k;
    const ss_param *p;
    SS_REQUIRE_CTX(ctx);
    SS_CHECK(ss_param_resolve(ctx, handle, 0, param, 0, fn, "handle", &k, &p));
    return ss_param_get_real(ctx, k, handle, p, value, fn);
}
