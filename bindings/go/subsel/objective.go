// SPDX-License-Identifier: MIT

package subsel

/*
#define SUBSEL_NO_DEPRECATED
#include <subsel.h>
*/
import "C"

import (
	"runtime"
	"unsafe"
)

// Objective is a set function an Optimizer maximises: *FB or *SDM.
type Objective interface {
	base() *objective
	Close() error
}

// objective is what FB and SDM share: the handle, and the calls that only
// read it (any number of goroutines may make them at once, each with its
// own Context).
type objective struct{ *handle }

func (o *objective) base() *objective { return o }

func newObjective(p *C.subsel_objective, name string) objective {
	return objective{newHandle(unsafe.Pointer(p), name, func(p unsafe.Pointer) {
		C.subsel_objective_free((*C.subsel_objective)(p))
	})}
}

func (o *objective) cptr() *C.subsel_objective { return (*C.subsel_objective)(o.ptr()) }

// Size is n, the size of the ground set (the rows of the matrix).
func (o *objective) Size() int64 {
	defer runtime.KeepAlive(o.handle)
	return int64(C.subsel_objective_size(o.cptr()))
}

// setCall runs a call taking the context, the objective and a set of items.
func (o *objective) setCall(ctx *Context, set []int64, call func(*C.subsel_ctx, *C.subsel_objective, *C.int64_t, C.int64_t) C.int) error {
	cp, err := ctx.live()
	if err != nil {
		return err
	}
	p, err := o.live()
	if err != nil {
		return err
	}
	status := call((*C.subsel_ctx)(cp), (*C.subsel_objective)(p), (*C.int64_t)(first(set)), C.int64_t(len(set)))
	runtime.KeepAlive(set)
	runtime.KeepAlive(o.handle)
	defer runtime.KeepAlive(ctx.handle)
	return ctx.check(status)
}

// Evaluate computes f(set) from scratch in double precision.
func (o *objective) Evaluate(ctx *Context, set []int64) (float64, error) {
	var v C.double
	err := o.setCall(ctx, set, func(c *C.subsel_ctx, p *C.subsel_objective, s *C.int64_t, n C.int64_t) C.int {
		return C.subsel_objective_evaluate(c, p, s, n, &v)
	})
	return float64(v), err
}

// Gain is f(set + {item}) - f(set), as the optimizers compute it.
func (o *objective) Gain(ctx *Context, set []int64, item int64) (float64, error) {
	var v C.double
	err := o.setCall(ctx, set, func(c *C.subsel_ctx, p *C.subsel_objective, s *C.int64_t, n C.int64_t) C.int {
		return C.subsel_objective_gain(c, p, s, n, C.int64_t(item), &v)
	})
	return float64(v), err
}

// Concave is the concave function of a feature-based objective.
type Concave int

const (
	Log1p    Concave = C.SUBSEL_CONCAVE_LOG1P    // log(1 + x)
	Sqrt     Concave = C.SUBSEL_CONCAVE_SQRT     // sqrt(x)
	Saturate Concave = C.SUBSEL_CONCAVE_SATURATE // x / (1 + x)
	Exp      Concave = C.SUBSEL_CONCAVE_EXP      // 1 - exp(-x / c), c > 0
	Min      Concave = C.SUBSEL_CONCAVE_MIN      // min(x, c), c > 0
	Pow      Concave = C.SUBSEL_CONCAVE_POW      // x^a, 0 < a < 1
)

// FB is the feature-based function f(A) = sum_i w_i phi(m_i(A)).
type FB struct{ objective }

// NewFB makes a feature-based objective over the rows of the nonnegative
// matrix features, with one weight per column (nil: all ones) and param
// the c or a of Exp, Min and Pow (ignored by the others). The objective
// keeps the matrix: features may be closed at once.
func NewFB(ctx *Context, features *Csr, phi Concave, param float64, weights []float64) (*FB, error) {
	cp, err := ctx.live()
	if err != nil {
		return nil, err
	}
	fp, err := features.h().live()
	if err != nil {
		return nil, err
	}
	if weights != nil && int64(len(weights)) != features.Cols() {
		return nil, errorf(ErrInvalid, "NewFB: %d weights for %d columns", len(weights), features.Cols())
	}
	var out *C.subsel_objective
	status := C.subsel_fb_create((*C.subsel_ctx)(cp), (*C.subsel_csr)(fp), C.int(phi), C.double(param),
		(*C.double)(first(weights)), &out)
	runtime.KeepAlive(weights)
	runtime.KeepAlive(features.h())
	defer runtime.KeepAlive(ctx.handle)
	if err := ctx.check(status); err != nil {
		return nil, err
	}
	return &FB{newObjective(out, "FB")}, nil
}

// SDM is the Submodular Distribution Matching objective. A target (or a
// target distribution) must be set before it is evaluated or optimised.
type SDM struct{ objective }

// NewSDM makes an SDM objective over the rows of the nonnegative matrix
// source, which it keeps (source may be closed at once).
func NewSDM(ctx *Context, source *Csr) (*SDM, error) {
	cp, err := ctx.live()
	if err != nil {
		return nil, err
	}
	sp, err := source.h().live()
	if err != nil {
		return nil, err
	}
	var out *C.subsel_objective
	status := C.subsel_sdm_create((*C.subsel_ctx)(cp), (*C.subsel_csr)(sp), &out)
	runtime.KeepAlive(source.h())
	defer runtime.KeepAlive(ctx.handle)
	if err := ctx.check(status); err != nil {
		return nil, err
	}
	return &SDM{newObjective(out, "SDM")}, nil
}

// SetTarget sets the target distribution to the normalised column sums of
// target (read here, not kept).
func (o *SDM) SetTarget(ctx *Context, target *Csr) error {
	tp, err := target.h().live()
	if err != nil {
		return err
	}
	defer runtime.KeepAlive(target.h())
	return o.setCall(ctx, nil, func(c *C.subsel_ctx, p *C.subsel_objective, _ *C.int64_t, _ C.int64_t) C.int {
		return C.subsel_sdm_set_target(c, p, (*C.subsel_csr)(tp))
	})
}

// vectorCall is setCall for a []float64 argument.
func (o *objective) vectorCall(ctx *Context, v []float64, call func(*C.subsel_ctx, *C.subsel_objective, *C.double, C.int64_t) C.int) error {
	defer runtime.KeepAlive(v)
	return o.setCall(ctx, nil, func(c *C.subsel_ctx, p *C.subsel_objective, _ *C.int64_t, _ C.int64_t) C.int {
		return call(c, p, (*C.double)(first(v)), C.int64_t(len(v)))
	})
}

// SetTargetDistribution sets the target distribution from one nonnegative
// value per source column (normalised by the library).
func (o *SDM) SetTargetDistribution(ctx *Context, p []float64) error {
	return o.vectorCall(ctx, p, func(c *C.subsel_ctx, obj *C.subsel_objective, v *C.double, n C.int64_t) C.int {
		return C.subsel_sdm_set_target_distribution(c, obj, v, n)
	})
}

// SetQuality bins one quality score per source row into bins equal-sized
// bins by rank (with 3 bins the weights default to 0, 0.01, 0.99).
func (o *SDM) SetQuality(ctx *Context, quality []float64, bins int64) error {
	return o.vectorCall(ctx, quality, func(c *C.subsel_ctx, obj *C.subsel_objective, v *C.double, n C.int64_t) C.int {
		return C.subsel_sdm_set_quality(c, obj, v, n, C.int64_t(bins))
	})
}

// SetBinWeights sets one nonnegative weight per quality bin, lowest first.
func (o *SDM) SetBinWeights(ctx *Context, weights []float64) error {
	return o.vectorCall(ctx, weights, func(c *C.subsel_ctx, obj *C.subsel_objective, v *C.double, n C.int64_t) C.int {
		return C.subsel_sdm_set_bin_weights(c, obj, v, n)
	})
}

// Set sets a parameter of the objective by its library name ("lambda").
func (o *SDM) Set(ctx *Context, name string, value any) error { return o.setParam(ctx, name, value) }

// GetReal reads a real parameter of the objective.
func (o *SDM) GetReal(ctx *Context, name string) (float64, error) { return o.getReal(ctx, name) }

// KL is KL(p || p(set)), +Inf when set leaves a target column uncovered.
func (o *SDM) KL(ctx *Context, set []int64) (float64, error) {
	var v C.double
	err := o.setCall(ctx, set, func(c *C.subsel_ctx, p *C.subsel_objective, s *C.int64_t, n C.int64_t) C.int {
		return C.subsel_sdm_kl(c, p, s, n, &v)
	})
	return float64(v), err
}

// DoubleGreedy maximises a non-monotone objective without a constraint
// (Buchbinder et al.) over ground (distinct items, visited in that order;
// nil: all items), deterministically or with coins from the context's
// seed. It chooses its own size: the selection's budget is its count.
// Objectives that cannot remove items fail with ErrUnsupported.
func (o *objective) DoubleGreedy(ctx *Context, ground []int64, randomized bool) (*Selection, error) {
	g := cInt64s(ground)
	if ground != nil && len(ground) == 0 {
		// An empty ground set is not "all items" (NULL): C gets a pointer
		// with a count of 0.
		var none C.int64_t
		g = &none
	}
	return ctx.selection([]*handle{o.handle}, func(c *C.subsel_ctx, out **C.subsel_selection) C.int {
		return C.subsel_double_greedy(c, o.cptr(), g, C.int64_t(len(ground)), cBool(randomized), out)
	})
}

// SetQualityEdges bins one quality score per source row by explicit,
// strictly increasing edges: len(edges) + 1 bins, a score going to the bin
// numbered by how many edges are <= it (numpy.digitize).
func (o *SDM) SetQualityEdges(ctx *Context, quality, edges []float64) error {
	return ctx.call([]*handle{o.handle}, func(c *C.subsel_ctx) C.int {
		return C.subsel_sdm_set_quality_edges(c, o.cptr(), cDoubles(quality), C.int64_t(len(quality)),
			cDoubles(edges), C.int64_t(len(edges)))
	})
}

// QualityBins is the quality bin of every source row (ErrState before
// quality scores are set).
func (o *SDM) QualityBins(ctx *Context) ([]int64, error) {
	out := make([]int64, o.Size())
	err := ctx.call([]*handle{o.handle}, func(c *C.subsel_ctx) C.int {
		return C.subsel_sdm_quality_bins(c, o.cptr(), cInt64s(out), C.int64_t(len(out)))
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
