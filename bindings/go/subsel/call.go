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

// call is the one way the later parts of the package (OT, UniPROT, TAROT,
// ClipCov, the encoder) make a call on a context: every handle it reads
// must be open (a closed one is ErrInvalid, never NULL or freed memory in
// C), each stays reachable until C returns (or a finalizer could free it
// mid-call), and the status goes through (*Context).check.
func (c *Context) call(hs []*handle, fn func(*C.subsel_ctx) C.int) error {
	cp, err := c.live()
	if err != nil {
		return err
	}
	for _, h := range hs {
		if _, err := h.live(); err != nil {
			return err
		}
	}
	status := fn((*C.subsel_ctx)(cp))
	runtime.KeepAlive(hs)
	runtime.KeepAlive(c.handle)
	return c.check(status)
}

// The typed C pointers of the handle types (nil once closed, which the
// library refuses with a message).
func (m *Csr) cptr() *C.subsel_csr             { return (*C.subsel_csr)(m.h().ptr()) }
func (m *Dense) cptr() *C.subsel_dense         { return (*C.subsel_dense)(m.h().ptr()) }
func (o *Optimizer) cptr() *C.subsel_optimizer { return (*C.subsel_optimizer)(o.h().ptr()) }

// h is the matrix's handle, nil for a nil matrix: a nil *Csr or *Dense
// given where a matrix is expected is then ErrInvalid like a closed one,
// not a nil-pointer panic.
func (m *Csr) h() *handle {
	if m == nil {
		return nil
	}
	return m.handle
}

func (m *Dense) h() *handle {
	if m == nil {
		return nil
	}
	return m.handle
}

// The optimizer's handle, nil for a nil optimizer (likewise ErrInvalid).
func (o *Optimizer) h() *handle {
	if o == nil {
		return nil
	}
	return o.handle
}

// Selection is the result of a run, copied out of the library's selection
// (which is freed at once): plain Go values, nothing to close.
type Selection struct {
	Indices     []int64   // in the order chosen (several runs, OTM: ascending)
	Gains       []float64 // the gain of each item when it was added (TAROT: its OT potential)
	Value       float64   // f(selection) (TAROT: the OT distance)
	Evaluations int64     // marginal gains evaluated, all runs
	Budget      int64     // items asked for
	Short       ShortReason
}

// Len is the number of items selected.
func (s *Selection) Len() int { return len(s.Indices) }

// newSelection copies sel into Go memory and frees it.
func newSelection(sel *C.subsel_selection) *Selection {
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
	return out
}

// selection is call for the calls that make a selection.
func (c *Context) selection(hs []*handle, fn func(*C.subsel_ctx, **C.subsel_selection) C.int) (*Selection, error) {
	var sel *C.subsel_selection
	if err := c.call(hs, func(cp *C.subsel_ctx) C.int { return fn(cp, &sel) }); err != nil {
		return nil, err
	}
	return newSelection(sel), nil
}

// cInt64s is a pointer to s[0] as C sees it (nil for an empty slice).
func cInt64s(s []int64) *C.int64_t { return (*C.int64_t)(first(s)) }

// cDoubles is a pointer to s[0] as C sees it (nil for an empty slice).
func cDoubles(s []float64) *C.double { return (*C.double)(first(s)) }

func cBool(b bool) C.int {
	if b {
		return 1
	}
	return 0
}
