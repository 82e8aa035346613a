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

// Kind is a kind of handle, as the library numbers them.
type Kind int

// Handle kinds that have parameters (and those this package wraps).
const (
	KindContext    Kind = C.SUBSEL_KIND_CONTEXT
	KindOptimizer  Kind = C.SUBSEL_KIND_OPTIMIZER
	KindOTSolver   Kind = C.SUBSEL_KIND_OT_SOLVER
	KindTAROT      Kind = C.SUBSEL_KIND_TAROT
	KindSDM        Kind = C.SUBSEL_KIND_SDM
	KindUniPROT    Kind = C.SUBSEL_KIND_UNIPROT
	KindClipCov    Kind = C.SUBSEL_KIND_CLIPCOV
	KindFB         Kind = C.SUBSEL_KIND_FB
	KindCsr        Kind = C.SUBSEL_KIND_CSR
	KindDense      Kind = C.SUBSEL_KIND_DENSE
	KindSummary    Kind = C.SUBSEL_KIND_SUMMARY
	KindSAETrainer Kind = C.SUBSEL_KIND_SAE_TRAINER
	KindLoRS       Kind = C.SUBSEL_KIND_LORS
)

func (k Kind) String() string { return C.GoString(C.subsel_kind_name(C.int(k))) }

// ParamType is the value type of a parameter.
type ParamType int

const (
	IntParam  ParamType = C.SUBSEL_TYPE_INT  // int64
	RealParam ParamType = C.SUBSEL_TYPE_REAL // float64
)

// Param describes a parameter as the library's own table does: nothing
// here is copied from the header, so a parameter added to the library
// shows up without a change to this package.
type Param struct {
	Number int // the SUBSEL_P_* number
	Kind   Kind
	Type   ParamType
	Name   string // lower case, unique within the kind: "budget"
	Doc    string // one line
	// Bounds (both included) and default of an IntParam.
	IntMin, IntMax, IntDefault int64
	// Bounds and default of a RealParam; OpenMin / OpenMax exclude an end.
	Min, Max, Default float64
	OpenMin, OpenMax  bool
}

func paramInfo(number C.int) (Param, error) {
	var kind, typ C.int
	var name, doc *C.char
	if err := threadCall(func() C.int {
		return C.subsel_param_info(number, &kind, &typ, &name, &doc)
	}); err != nil {
		return Param{}, err
	}
	p := Param{Number: int(number), Kind: Kind(kind), Type: ParamType(typ),
		Name: C.GoString(name), Doc: C.GoString(doc)}
	var err error
	if p.Type == IntParam {
		var lo, hi, def C.int64_t
		err = threadCall(func() C.int { return C.subsel_param_int_bounds(number, &lo, &hi, &def) })
		p.IntMin, p.IntMax, p.IntDefault = int64(lo), int64(hi), int64(def)
	} else {
		var lo, hi, def C.double
		var open C.int
		err = threadCall(func() C.int { return C.subsel_param_real_bounds(number, &lo, &hi, &def, &open) })
		p.Min, p.Max, p.Default = float64(lo), float64(hi), float64(def)
		p.OpenMin = open&C.SUBSEL_BOUND_OPEN_MIN != 0
		p.OpenMax = open&C.SUBSEL_BOUND_OPEN_MAX != 0
	}
	return p, err
}

// Params lists the parameters of a kind of handle, in the library's order.
func Params(kind Kind) ([]Param, error) {
	var out []Param
	n := int64(C.subsel_param_count())
	for i := int64(0); i < n; i++ {
		var number C.int
		if err := threadCall(func() C.int { return C.subsel_param_at(C.int64_t(i), &number) }); err != nil {
			return nil, err
		}
		p, err := paramInfo(number)
		if err != nil {
			return nil, err
		}
		if p.Kind == kind {
			out = append(out, p)
		}
	}
	return out, nil
}

// FindParam describes the parameter `name` of handles of `kind`; an
// unknown name is ErrInvalid with the library's message.
func FindParam(kind Kind, name string) (Param, error) {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	var number C.int
	if err := threadCall(func() C.int { return C.subsel_param_find(C.int(kind), cname, &number) }); err != nil {
		return Param{}, err
	}
	return paramInfo(number)
}

// kind asks the library what the handle is, so one parameter mechanism
// serves every handle type.
func (h *handle) kind() (Kind, error) {
	p, err := h.live()
	if err != nil {
		return 0, err
	}
	var k C.int
	err = threadCall(func() C.int { k = C.subsel_handle_kind(p); return k })
	runtime.KeepAlive(h)
	return Kind(k), err
}

func (h *handle) findParam(name string) (Param, error) {
	k, err := h.kind()
	if err != nil {
		return Param{}, err
	}
	return FindParam(k, name)
}

// setParam sets a parameter by name; the library checks the kind, type and
// bounds and words the message. An integer value given to a real parameter
// is converted (lambda = 1 means 1.0); a fraction given to an integer one
// goes to the library as a real, which refuses it by name.
func (h *handle) setParam(ctx *Context, name string, value any) error {
	prm, err := h.findParam(name)
	if err != nil {
		return err
	}
	cp, err := ctx.live()
	if err != nil {
		return err
	}
	p, err := h.live()
	if err != nil {
		return err
	}
	defer runtime.KeepAlive(ctx.handle)
	defer runtime.KeepAlive(h)
	var iv int64
	isInt := true
	var fv float64
	switch v := value.(type) {
	case int:
		iv = int64(v)
	case int32:
		iv = int64(v)
	case int64:
		iv = v
	case uint:
		iv = int64(v)
	case float32:
		fv, isInt = float64(v), false
	case float64:
		fv, isInt = v, false
	default:
		return errorf(ErrInvalid, "parameter %q of %s: a %T is not a number", name, h.name, value)
	}
	if isInt && prm.Type == RealParam {
		fv, isInt = float64(iv), false
	}
	c := (*C.subsel_ctx)(cp)
	if isInt {
		return ctx.check(C.subsel_param_set_int(c, p, C.int(prm.Number), C.int64_t(iv)))
	}
	return ctx.check(C.subsel_param_set_real(c, p, C.int(prm.Number), C.double(fv)))
}

func (h *handle) getInt(ctx *Context, name string) (int64, error) {
	prm, err := h.findParam(name)
	if err != nil {
		return 0, err
	}
	cp, err := ctx.live()
	if err != nil {
		return 0, err
	}
	var v C.int64_t
	err = ctx.check(C.subsel_param_get_int((*C.subsel_ctx)(cp), h.ptr(), C.int(prm.Number), &v))
	runtime.KeepAlive(ctx.handle)
	runtime.KeepAlive(h)
	return int64(v), err
}

func (h *handle) getReal(ctx *Context, name string) (float64, error) {
	prm, err := h.findParam(name)
	if err != nil {
		return 0, err
	}
	cp, err := ctx.live()
	if err != nil {
		return 0, err
	}
	var v C.double
	err = ctx.check(C.subsel_param_get_real((*C.subsel_ctx)(cp), h.ptr(), C.int(prm.Number), &v))
	runtime.KeepAlive(ctx.handle)
	runtime.KeepAlive(h)
	return float64(v), err
}
