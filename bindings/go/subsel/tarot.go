// SPDX-License-Identifier: MIT

package subsel

/*
#define SUBSEL_NO_DEPRECATED
#include <subsel.h>
*/
import "C"

import "unsafe"

// Tarot is a TAROT selector (targeted data selection by optimal
// transport): candidates and targets are rows of feature matrices with the
// same columns, whitened once and matched by OT. Its parameters
// ("proj_dim", "proj_kind", "whiten", "center", "reference", "max_rank",
// "potentials", "eps", "blur", "scaling", "ot_memory":
// Params(KindTAROT)) are set by name; the projection and whitening ones
// only before the rows are whitened. One goroutine at a time (its calls fill caches).
type Tarot struct {
	*handle
	candidates, targets int64
}

// NewTarot makes a selector over the rows of candidates (N x D) and
// targets (M x D), which it keeps (both may be closed at once).
func NewTarot(ctx *Context, candidates, targets *Dense) (*Tarot, error) {
	var out *C.subsel_tarot
	err := ctx.call([]*handle{candidates.h(), targets.h()}, func(c *C.subsel_ctx) C.int {
		return C.subsel_tarot_create(c, candidates.cptr(), targets.cptr(), &out)
	})
	if err != nil {
		return nil, err
	}
	h := newHandle(unsafe.Pointer(out), "Tarot", func(p unsafe.Pointer) {
		C.subsel_tarot_free((*C.subsel_tarot)(p))
	})
	return &Tarot{h, candidates.Rows(), targets.Rows()}, nil
}

func (t *Tarot) cptr() *C.subsel_tarot { return (*C.subsel_tarot)(t.ptr()) }

// Set sets a parameter by its library name; GetInt and GetReal read one.
func (t *Tarot) Set(ctx *Context, name string, value any) error     { return t.setParam(ctx, name, value) }
func (t *Tarot) GetInt(ctx *Context, name string) (int64, error)    { return t.getInt(ctx, name) }
func (t *Tarot) GetReal(ctx *Context, name string) (float64, error) { return t.getReal(ctx, name) }

// Candidates and Targets are N and M.
func (t *Tarot) Candidates() int64 { return t.candidates }
func (t *Tarot) Targets() int64    { return t.targets }

// Whiten computes the whitened unit rows (once) and returns them as
// matrices read without a copy: U (N x dim) and V (M x dim). They keep the
// selector's data alive, so they stay valid after t is closed; close them
// too.
func (t *Tarot) Whiten(ctx *Context) (u, v *Dense, err error) {
	var pu, pv *C.subsel_dense
	err = ctx.call([]*handle{t.handle}, func(c *C.subsel_ctx) C.int {
		return C.subsel_tarot_whiten(c, t.cptr(), &pu, &pv)
	})
	if err != nil {
		return nil, nil, err
	}
	return newDense(pu), newDense(pv), nil
}

// Scores are the cosine scores u . v of candidates [firstCandidate,
// firstCandidate + candidates) and targets [firstTarget, firstTarget +
// targets), candidates x targets row-major, and the whitened distances
// |u - v| in the same layout.
func (t *Tarot) Scores(ctx *Context, firstCandidate, candidates, firstTarget, targets int64) (scores, distances []float32, err error) {
	if candidates < 0 || targets < 0 {
		return nil, nil, errorf(ErrInvalid, "Scores: %d candidates, %d targets", candidates, targets)
	}
	scores, distances = make([]float32, candidates*targets), make([]float32, candidates*targets)
	err = ctx.call([]*handle{t.handle}, func(c *C.subsel_ctx) C.int {
		return C.subsel_tarot_scores_v2(c, t.cptr(), C.int64_t(firstCandidate), C.int64_t(candidates),
			C.int64_t(firstTarget), C.int64_t(targets), (*C.float)(first(scores)), C.int64_t(len(scores)),
			(*C.float)(first(distances)), C.int64_t(len(distances)))
	})
	if err != nil {
		return nil, nil, err
	}
	return scores, distances, nil
}

// TopK lists every target's k best candidates by score, best first:
// indices[j*k + r] is target j's rank-r candidate, scores its score.
func (t *Tarot) TopK(ctx *Context, k int64) (indices []int64, scores []float32, err error) {
	if k < 1 || k > t.candidates {
		return nil, nil, errorf(ErrInvalid, "TopK: k = %d outside [1, %d]", k, t.candidates)
	}
	indices, scores = make([]int64, t.targets*k), make([]float32, t.targets*k)
	err = ctx.call([]*handle{t.handle}, func(c *C.subsel_ctx) C.int {
		return C.subsel_tarot_topk_v2(c, t.cptr(), C.int64_t(k), cInt64s(indices), C.int64_t(len(indices)),
			(*C.float)(first(scores)), C.int64_t(len(scores)))
	})
	if err != nil {
		return nil, nil, err
	}
	return indices, scores, nil
}

// OT solves balanced OT between the whitened candidates set (nil: all of
// them, in order) and all the targets, with cost |u - v|: the potentials f
// (one per item of set: smaller is more useful) and g (one per target),
// and the loss mean(f) + mean(g).
func (t *Tarot) OT(ctx *Context, set []int64) (f, g []float64, loss float64, err error) {
	count := int64(len(set))
	if set == nil {
		count = t.candidates
	}
	f, g = make([]float64, count), make([]float64, t.targets)
	var l C.double
	err = ctx.call([]*handle{t.handle}, func(c *C.subsel_ctx) C.int {
		return C.subsel_tarot_ot_v2(c, t.cptr(), cInt64s(set), C.int64_t(count), cDoubles(f), C.int64_t(len(f)),
			cDoubles(g), C.int64_t(len(g)), &l)
	})
	if err != nil {
		return nil, nil, 0, err
	}
	return f, g, float64(l), nil
}

// SelectFixed selects budget candidates, the targets' nearest neighbours
// rank by rank (the last rank by OT potential). With "potentials" on (the
// default) the gains are the items' potentials in OT(selection, targets)
// and the value that OT distance.
func (t *Tarot) SelectFixed(ctx *Context, budget int64) (*Selection, error) {
	return ctx.selection([]*handle{t.handle}, func(c *C.subsel_ctx, out **C.subsel_selection) C.int {
		return C.subsel_tarot_select_fixed(c, t.cptr(), C.int64_t(budget), out)
	})
}

// Folds is the fold (0 .. folds-1) of each target as SelectOTM draws it
// from the context's seed.
func (t *Tarot) Folds(ctx *Context, folds int64) ([]int64, error) {
	out := make([]int64, t.targets)
	err := ctx.call(nil, func(c *C.subsel_ctx) C.int {
		return C.subsel_tarot_folds_v2(c, C.int64_t(t.targets), C.int64_t(folds), cInt64s(out), C.int64_t(len(out)))
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// SelectOTM is OT-distance minimisation over folds of the targets: it
// chooses its own size (the selection's budget is its count) and lists
// the union in ascending order. foldOfTarget gives each target's fold
// (M values in [0, folds)), or is nil for Folds(ctx, folds).
func (t *Tarot) SelectOTM(ctx *Context, folds int64, foldOfTarget []int64) (*Selection, error) {
	// C reads M values: a shorter slice is refused here.
	if foldOfTarget != nil && int64(len(foldOfTarget)) != t.targets {
		return nil, errorf(ErrInvalid, "SelectOTM: %d folds given for %d targets", len(foldOfTarget), t.targets)
	}
	return ctx.selection([]*handle{t.handle}, func(c *C.subsel_ctx, out **C.subsel_selection) C.int {
		return C.subsel_tarot_select_otm(c, t.cptr(), C.int64_t(folds), cInt64s(foldOfTarget), out)
	})
}

// TarotWeights turns the OT potentials of selected items (a TAROT
// selection's Gains) into integer repetition counts summing to total
// (len(potentials) <= total <= 2^53; the paper uses N + M): each item
// gets 1, the rest go in proportion to max(potentials) - potential.
func TarotWeights(ctx *Context, potentials []float64, total int64) ([]int64, error) {
	out := make([]int64, len(potentials))
	err := ctx.call(nil, func(c *C.subsel_ctx) C.int {
		return C.subsel_tarot_weights_v2(c, cDoubles(potentials), C.int64_t(len(potentials)), C.int64_t(total),
			cInt64s(out), C.int64_t(len(out)))
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// TarotWeightsReference is the authors' rule: len(potentials) + targets
// weights (the targets' last) summing to total (the authors use N).
func TarotWeightsReference(ctx *Context, potentials []float64, targets, total int64) ([]int64, error) {
	if targets < 0 {
		return nil, errorf(ErrInvalid, "TarotWeightsReference: %d targets", targets)
	}
	out := make([]int64, int64(len(potentials))+targets)
	err := ctx.call(nil, func(c *C.subsel_ctx) C.int {
		return C.subsel_tarot_weights_reference_v2(c, cDoubles(potentials), C.int64_t(len(potentials)),
			C.int64_t(targets), C.int64_t(total), cInt64s(out), C.int64_t(len(out)))
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Projection is the kind of TAROT's random projection.
type Projection int

const (
	Rademacher Projection = C.SUBSEL_PROJ_RADEMACHER // entries +1 or -1
	Gaussian   Projection = C.SUBSEL_PROJ_GAUSSIAN   // entries standard normal
)

// TarotProject is the seeded random projection x P / sqrt(dim) of every
// row of x to dim columns (P drawn from the context's seed, generated block
// input columns at a time, 0: as many as fit in 64 MiB). A row's
// projection depends only on the row, the seed, dim and kind, so a pool
// can be projected in batches.
func TarotProject(ctx *Context, x *Dense, dim int64, kind Projection, block int64) (*Dense, error) {
	var out *C.subsel_dense
	if err := ctx.call([]*handle{x.h()}, func(c *C.subsel_ctx) C.int {
		return C.subsel_tarot_project(c, x.cptr(), C.int64_t(dim), C.int(kind), C.int64_t(block), &out)
	}); err != nil {
		return nil, err
	}
	return newDense(out), nil
}
