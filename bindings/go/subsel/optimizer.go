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
	return &Optimizer{newHandle(unsafe.Pointer(out), "Optimizer", func(p unsafe.Pointer) {
		C.subsel_optimizer_free((*C.subsel_optimizer)(p))
	})}, nil
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

// Selection is the result of a run, copied out of the library's selection
// (which is freed at once): plain Go values, nothing to close.
type Selection struct {
	Indices     []int64   // in the order chosen (several runs: ascending)
	Gains       []float64 // the gain of each item when it was added
	Value       float64   // f(selection)
	Evaluations int64     // marginal gains evaluated, all runs
	Budget      int64     // items asked for
	Short       ShortReason
}

// Run maximises obj. The objective is only read: several goroutines, each
// with its own Context, may run on one objective at once.
func (o *Optimizer) Run(ctx *Context, obj Objective) (*Selection, error) {
	cp, err := ctx.live()
	if err != nil {
		return nil, err
	}
	op, err := o.live()
	if err != nil {
		return nil, err
	}
	if obj == nil {
		return nil, errorf(ErrInvalid, "Run: no objective")
	}
	ob := obj.base()
	objp, err := ob.live()
	if err != nil {
		return nil, err
	}
	var sel *C.subsel_selection
	status := C.subsel_optimizer_run((*C.subsel_ctx)(cp), (*C.subsel_optimizer)(op),
		(*C.subsel_objective)(objp), &sel)
	runtime.KeepAlive(o.handle)
	runtime.KeepAlive(ob.handle)
	defer runtime.KeepAlive(ctx.handle)
	if err := ctx.check(status); err != nil {
		return nil, err
	}
	defer C.subsel_selection_free(sel)
	n := int(C.subsel_selection_count(sel))
	out := &Selection{
		Indices:     make([]int64, n),
		Gains:       make([]float64, n),
		Value:       float64(C.subsel_selection_value(sel)),
		Evaluations: int64(C.subsel_selection_evaluations(sel)),
		Budget:      int64(C.subsel_selection_budget(sel)),
		Short:       ShortReason(C.subsel_selection_short_reason(sel)),
	}
	if n > 0 {
		copy(out.Indices, unsafe.Slice((*int64)(unsafe.Pointer(C.subsel_selection_indices(sel))), n))
		copy(out.Gains, unsafe.Slice((*float64)(unsafe.Pointer(C.subsel_selection_gains(sel))), n))
	}
	return out, nil
}
