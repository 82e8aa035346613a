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

// Algorithm is an optimizer's algorithm.
type Algorithm int

const (
	Naive              Algorithm = C.SUBSEL_ALGORITHM_NAIVE
	Lazy               Algorithm = C.SUBSEL_ALGORITHM_LAZY
	Stochastic         Algorithm = C.SUBSEL_ALGORITHM_STOCHASTIC
	Lazier             Algorithm = C.SUBSEL_ALGORITHM_LAZIER
	DoubleGreedy       Algorithm = C.SUBSEL_ALGORITHM_DOUBLE_GREEDY
	DoubleGreedyRandom Algorithm = C.SUBSEL_ALGORITHM_DOUBLE_GREEDY_RANDOM
)

// Optimizer maximises an Objective. Its parameters ("budget", "runs",
// "min_runs", "stop_nonpositive", "epsilon": Params(KindOptimizer) lists
// them with bounds and defaults) are set by name.
type Optimizer struct{ *handle }

// NewOptimizer creates an optimizer with the library's default parameters.
func NewOptimizer(ctx *Context, algorithm Algorithm) (*Optimizer, error) {
	cp, err := ctx.live()
	if err != nil {
		return nil, err
	}
	var out *C.subsel_optimizer
	status := C.subsel_optimizer_create((*C.subsel_ctx)(cp), C.int(algorithm), &out)
	defer runtime.KeepAlive(ctx.handle)
	if err := ctx.check(status); err != nil {
		return nil, err
	}
	return newOptimizer(out), nil
}

func newOptimizer(p *C.subsel_optimizer) *Optimizer {
	return &Optimizer{newHandle(unsafe.Pointer(p), "Optimizer", func(p unsafe.Pointer) {
		C.subsel_optimizer_free((*C.subsel_optimizer)(p))
	})}
}

// Set sets a parameter by its library name; kind, type and bounds are
// checked by the library, whose message the error carries.
func (o *Optimizer) Set(ctx *Context, name string, value any) error {
	return o.setParam(ctx, name, value)
}

// GetInt and GetReal read a parameter.
func (o *Optimizer) GetInt(ctx *Context, name string) (int64, error)    { return o.getInt(ctx, name) }
func (o *Optimizer) GetReal(ctx *Context, name string) (float64, error) { return o.getReal(ctx, name) }

// ShortReason says why a selection holds fewer items than its budget.
type ShortReason int

const (
	ShortNone         ShortReason = C.SUBSEL_SHORT_NONE
	ShortNonpositive  ShortReason = C.SUBSEL_SHORT_NONPOSITIVE
	ShortIntersection ShortReason = C.SUBSEL_SHORT_INTERSECTION
	ShortExhausted    ShortReason = C.SUBSEL_SHORT_EXHAUSTED
	ShortFiltered     ShortReason = C.SUBSEL_SHORT_FILTERED
)

func (r ShortReason) String() string {
	return C.GoString(C.subsel_short_reason_string(C.int(r)))
}

// Run maximises obj. The objective is only read: several goroutines, each
// with its own Context, may run on one objective at once.
func (o *Optimizer) Run(ctx *Context, obj Objective) (*Selection, error) {
	if _, err := o.live(); err != nil {
		return nil, err
	}
	if obj == nil {
		return nil, errorf(ErrInvalid, "Run: no objective")
	}
	ob := obj.base()
	return ctx.selection([]*handle{o.handle, ob.handle}, func(c *C.subsel_ctx, out **C.subsel_selection) C.int {
		return C.subsel_optimizer_run(c, o.cptr(), ob.cptr(), out)
	})
}
