// SPDX-License-Identifier: MIT

package subsel

/*
#define SUBSEL_NO_DEPRECATED
#include <stdlib.h>
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

// SetInitial makes every run start from items, in order (a warm start):
// the selection lists them first, then what the algorithm adds up to the
// budget, which counts them. Copied; nil or empty clears them. Negative or
// repeated items fail here, items outside the pool or more than the
// budget at Run.
func (o *Optimizer) SetInitial(ctx *Context, items []int64) error {
	return ctx.call([]*handle{o.handle}, func(c *C.subsel_ctx) C.int {
		status := C.subsel_optimizer_set_initial(c, o.cptr(), (*C.int64_t)(first(items)),
			C.int64_t(len(items)))
		runtime.KeepAlive(items)
		return status
	})
}

// SetCheckpoint makes runs save their selection so far to path (an .npz)
// every "checkpoint_every" items and when the progress callback cancels
// them; "" removes the checkpoint.
func (o *Optimizer) SetCheckpoint(ctx *Context, path string) error {
	return ctx.call([]*handle{o.handle}, func(c *C.subsel_ctx) C.int {
		if path == "" {
			return C.subsel_optimizer_set_checkpoint(c, o.cptr(), nil)
		}
		cpath := C.CString(path)
		defer C.free(unsafe.Pointer(cpath))
		return C.subsel_optimizer_set_checkpoint(c, o.cptr(), cpath)
	})
}

// Resume goes on from the checkpoint at path at the next Run, which then
// returns the selection of the uninterrupted run that wrote it (a run with
// other options, seed or pool fails, naming the difference).
func (o *Optimizer) Resume(ctx *Context, path string) error {
	return ctx.call([]*handle{o.handle}, func(c *C.subsel_ctx) C.int {
		cpath := C.CString(path)
		defer C.free(unsafe.Pointer(cpath))
		return C.subsel_optimizer_resume(c, o.cptr(), cpath)
	})
}

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
