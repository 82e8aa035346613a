// SPDX-License-Identifier: MIT

package subsel

/*
#define SUBSEL_NO_DEPRECATED
#include <subsel.h>
*/
import "C"

import "runtime"

// ClipCov is the ClipCov objective over n image-caption pairs (Joshi et
// al.): it matches the pool's image-text cross-covariance within latent
// classes. It is not monotone; Select runs the paper's Algorithm 1. Its
// weights and alpha ("weight_intra", "weight_self", "weight_inter",
// "weight_reg", "weight_label", "alpha": Params(KindClipCov)) are set by
// name.
type ClipCov struct{ objective }

// ClipCovFilter is the filter Select applies to the greedy result.
type ClipCovFilter int

const (
	FilterNone          ClipCovFilter = C.SUBSEL_CLIPCOV_FILTER_NONE          // the greedy result as is
	FilterDeterministic ClipCovFilter = C.SUBSEL_CLIPCOV_FILTER_DETERMINISTIC // deterministic double greedy (the CLI's default)
	FilterRandomized    ClipCovFilter = C.SUBSEL_CLIPCOV_FILTER_RANDOMIZED    // randomised double greedy (the context's seed)
)

// NewClipCov makes ClipCov over image and text (n x d, row i of each is
// pair i). labelEmbeddings (K x d, the text embeddings of the class names)
// may be nil when labels are given; labels (n class numbers, copied) may
// be nil for zero-shot classes (each pair to the class whose embedding is
// nearest its image's). normalize divides every embedding by its norm.
// The objective keeps the matrices (they may be closed at once).
// Progress stages "clipcov zero-shot" and "clipcov".
func NewClipCov(ctx *Context, image, text, labelEmbeddings *Dense, labels []int64, normalize bool) (*ClipCov, error) {
	hs := []*handle{image.h(), text.h()}
	var le *C.subsel_dense
	if labelEmbeddings != nil {
		hs = append(hs, labelEmbeddings.h())
		le = labelEmbeddings.cptr()
	}
	// C reads one label per pair: a shorter slice is refused here.
	if labels != nil && int64(len(labels)) != image.Rows() {
		return nil, errorf(ErrInvalid, "NewClipCov: %d labels for %d pairs", len(labels), image.Rows())
	}
	var out *C.subsel_objective
	err := ctx.call(hs, func(c *C.subsel_ctx) C.int {
		return C.subsel_clipcov_create(c, image.cptr(), text.cptr(), le, cInt64s(labels), cBool(normalize), &out)
	})
	if err != nil {
		return nil, err
	}
	return &ClipCov{newObjective(out, "ClipCov")}, nil
}

// Set sets a weight or alpha by its library name; GetReal reads one.
func (o *ClipCov) Set(ctx *Context, name string, value any) error {
	return o.setParam(ctx, name, value)
}
func (o *ClipCov) GetReal(ctx *Context, name string) (float64, error) { return o.getReal(ctx, name) }

// DataAlpha is the paper's alpha for this pool (appendix A.3): the mean
// cross-modal similarity sim(i, j) over all ordered pairs divided by the
// mean caption-caption similarity. It does not set alpha (still 0.5, the
// library's default): pass it to Set(ctx, "alpha", a), as `subsel clipcov`
// does by default. A pool without a usable ratio is an error.
func (o *ClipCov) DataAlpha(ctx *Context) (float64, error) {
	var a C.double
	err := ctx.call([]*handle{o.handle}, func(c *C.subsel_ctx) C.int {
		return C.subsel_clipcov_data_alpha(c, o.cptr(), &a)
	})
	return float64(a), err
}

// ClassCount is K, the number of latent classes.
func (o *ClipCov) ClassCount() int64 {
	n := int64(C.subsel_clipcov_class_count(o.cptr()))
	runtime.KeepAlive(o.handle)
	return n
}

// Classes is the latent class of every pair (the given label numbers, or
// the zero-shot classes).
func (o *ClipCov) Classes(ctx *Context) ([]int64, error) {
	out := make([]int64, o.Size())
	err := ctx.call([]*handle{o.handle}, func(c *C.subsel_ctx) C.int {
		return C.subsel_clipcov_classes(c, o.cptr(), cInt64s(out), C.int64_t(len(out)))
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// CheckSubmodular says whether F is known to be submodular: with exact
// false what construction proved cheaply, with exact true settled by
// computing the within-class similarities. Once proven, lazy optimizers
// accept the objective.
func (o *ClipCov) CheckSubmodular(ctx *Context, exact bool) (bool, error) {
	var sub C.int
	err := ctx.call([]*handle{o.handle}, func(c *C.subsel_ctx) C.int {
		return C.subsel_clipcov_check_submodular(c, o.cptr(), cBool(exact), &sub)
	})
	return sub != 0, err
}

// Optimizer is the greedy optimizer ClipCov should run to budget (lazy
// when F is proven submodular, else stochastic; to the budget whatever
// the gains), to change if wanted and pass to Select.
func (o *ClipCov) Optimizer(ctx *Context, budget int64) (*Optimizer, error) {
	var out *C.subsel_optimizer
	err := ctx.call([]*handle{o.handle}, func(c *C.subsel_ctx) C.int {
		return C.subsel_clipcov_optimizer(c, o.cptr(), C.int64_t(budget), &out)
	})
	if err != nil {
		return nil, err
	}
	return newOptimizer(out), nil
}

// Select is the paper's Algorithm 1 (for any objective): runs greedy, then
// the filter over its result, and returns the better set (a subset of the
// greedy one, in greedy order) and the greedy selection itself. A result
// shorter than the budget says why (ShortFiltered for the filter).
func (o *objective) Select(ctx *Context, greedy *Optimizer, filter ClipCovFilter) (sel, greedySel *Selection, err error) {
	if greedy == nil {
		return nil, nil, errorf(ErrInvalid, "Select: no optimizer")
	}
	var g *C.subsel_selection
	sel, err = ctx.selection([]*handle{o.handle, greedy.handle}, func(c *C.subsel_ctx, out **C.subsel_selection) C.int {
		return C.subsel_clipcov_select(c, o.cptr(), greedy.cptr(), C.int(filter), out, &g)
	})
	if err != nil {
		return nil, nil, err
	}
	return sel, newSelection(g), nil
}
