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

// Ownership: every constructor here passes SUBSEL_OWN_COPY, so the library
// copies (or, for float64 values, converts) the Go arrays during the call
// and keeps nothing of Go's memory. cgo forbids C to keep Go pointers after
// a call, so borrowing would first need a copy into C memory anyway: the
// same one copy as OWN_COPY, plus a Go-side record of every handle made
// from the matrix to know when that memory may go (the library does not
// say when a borrowed matrix is finally destroyed). With OWN_COPY the
// library's own reference counting is the whole lifetime story.

// Csr is an immutable compressed sparse row matrix.
type Csr struct{ *handle }

// Dense is an immutable row-major float32 matrix.
type Dense struct{ *handle }

func newCsr(p *C.subsel_csr) *Csr {
	return &Csr{newHandle(unsafe.Pointer(p), "Csr", func(p unsafe.Pointer) {
		C.subsel_csr_free((*C.subsel_csr)(p))
	})}
}

func newDense(p *C.subsel_dense) *Dense {
	return &Dense{newHandle(unsafe.Pointer(p), "Dense", func(p unsafe.Pointer) {
		C.subsel_dense_free((*C.subsel_dense)(p))
	})}
}

// Index is the type of CSR row pointers and column indices (as SciPy
// holds them); Value the type of matrix values.
type Index interface{ ~int32 | ~int64 }
type Value interface{ ~float32 | ~float64 }

func indexType[I Index]() C.int {
	var zero I
	if unsafe.Sizeof(zero) == 4 {
		return C.SUBSEL_DTYPE_INT32
	}
	return C.SUBSEL_DTYPE_INT64
}

func valueType[V Value]() C.int {
	var zero V
	if unsafe.Sizeof(zero) == 4 {
		return C.SUBSEL_DTYPE_FLOAT32
	}
	return C.SUBSEL_DTYPE_FLOAT64
}

// first is a pointer to s[0], or nil for an empty slice.
func first[T any](s []T) unsafe.Pointer {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Pointer(&s[0])
}

// NewCsr builds a rows x cols CSR matrix from SciPy-style arrays: indptr
// (rows + 1 entries), then indices and values (indptr[rows] entries each).
// The library validates the structure and values and copies them (float64
// values are rounded to float32 once); the slices may be reused at once.
func NewCsr[I Index, V Value](ctx *Context, rows, cols int64, indptr, indices []I, values []V) (*Csr, error) {
	cp, err := ctx.live()
	if err != nil {
		return nil, err
	}
	// C reads as many entries as the sizes say: check first that Go's
	// slices hold them, so that a wrong size is an error, not a read past
	// the end. The library checks everything else.
	if rows < 0 || int64(len(indptr)) != rows+1 {
		return nil, errorf(ErrInvalid, "NewCsr: indptr has %d entries, rows + 1 = %d", len(indptr), rows+1)
	}
	nnz := int64(indptr[rows])
	if nnz > int64(len(indices)) || nnz > int64(len(values)) {
		return nil, errorf(ErrInvalid, "NewCsr: indptr[rows] = %d, but indices has %d and values %d entries",
			nnz, len(indices), len(values))
	}
	var out *C.subsel_csr
	status := C.subsel_csr_create_v2((*C.subsel_ctx)(cp), C.int64_t(rows), C.int64_t(cols),
		first(indptr), first(indices), indexType[I](), first(values), valueType[V](),
		C.SUBSEL_OWN_COPY, &out)
	runtime.KeepAlive(indptr)
	runtime.KeepAlive(indices)
	runtime.KeepAlive(values)
	defer runtime.KeepAlive(ctx.handle)
	if err := ctx.check(status); err != nil {
		return nil, err
	}
	return newCsr(out), nil
}

// LoadCsrNPZ reads a matrix saved by scipy.sparse.save_npz (CSR).
func LoadCsrNPZ(ctx *Context, path string) (*Csr, error) {
	cp, err := ctx.live()
	if err != nil {
		return nil, err
	}
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	var out *C.subsel_csr
	status := C.subsel_csr_load_npz((*C.subsel_ctx)(cp), cpath, &out)
	defer runtime.KeepAlive(ctx.handle)
	if err := ctx.check(status); err != nil {
		return nil, err
	}
	return newCsr(out), nil
}

// Rows, Cols and NNZ are the matrix's sizes (0 once closed).
func (m *Csr) Rows() int64 {
	defer runtime.KeepAlive(m.h())
	return int64(C.subsel_csr_rows(m.cptr()))
}
func (m *Csr) Cols() int64 {
	defer runtime.KeepAlive(m.h())
	return int64(C.subsel_csr_cols(m.cptr()))
}
func (m *Csr) NNZ() int64 {
	defer runtime.KeepAlive(m.h())
	return int64(C.subsel_csr_nnz(m.cptr()))
}

// NewDense builds a rows x cols matrix from row-major data whose rows are
// stride elements apart (0: packed, cols). The library copies float32 and
// converts float64 once; the slice may be reused at once.
func NewDense[V Value](ctx *Context, rows, cols int64, data []V, stride int64) (*Dense, error) {
	cp, err := ctx.live()
	if err != nil {
		return nil, err
	}
	s := stride
	if s == 0 {
		s = cols
	}
	if rows < 0 || cols < 0 || s < cols {
		return nil, errorf(ErrInvalid, "NewDense: rows %d, cols %d, stride %d", rows, cols, stride)
	}
	if need := (rows-1)*s + cols; rows > 0 && int64(len(data)) < need {
		return nil, errorf(ErrInvalid, "NewDense: data has %d elements, %d x %d with stride %d needs %d",
			len(data), rows, cols, s, need)
	}
	var out *C.subsel_dense
	status := C.subsel_dense_create_v2((*C.subsel_ctx)(cp), C.int64_t(rows), C.int64_t(cols),
		first(data), valueType[V](), C.int64_t(stride), C.SUBSEL_OWN_COPY, &out)
	runtime.KeepAlive(data)
	defer runtime.KeepAlive(ctx.handle)
	if err := ctx.check(status); err != nil {
		return nil, err
	}
	return newDense(out), nil
}

// Rows and Cols are the matrix's sizes (0 once closed).
func (m *Dense) Rows() int64 {
	defer runtime.KeepAlive(m.h())
	return int64(C.subsel_dense_rows(m.cptr()))
}
func (m *Dense) Cols() int64 {
	defer runtime.KeepAlive(m.h())
	return int64(C.subsel_dense_cols(m.cptr()))
}

// Row returns a copy of row r (nil when out of range or closed).
func (m *Dense) Row(r int64) []float32 {
	defer runtime.KeepAlive(m.h())
	p := C.subsel_dense_row(m.cptr(), C.int64_t(r))
	if p == nil {
		return nil
	}
	return append([]float32(nil), unsafe.Slice((*float32)(unsafe.Pointer(p)), m.Cols())...)
}

// dataPointer is where the matrix's values are, for tests that check the
// library does not alias Go memory.
func (m *Dense) dataPointer() uintptr {
	defer runtime.KeepAlive(m.h())
	return uintptr(unsafe.Pointer(C.subsel_dense_data(m.cptr())))
}

// ReadNPYFloat64 reads a 1-D .npy vector (float32/64, int32/64) as float64.
func ReadNPYFloat64(ctx *Context, path string) ([]float64, error) {
	cp, err := ctx.live()
	if err != nil {
		return nil, err
	}
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	var values *C.double
	var count C.int64_t
	status := C.subsel_npy_load_f64((*C.subsel_ctx)(cp), cpath, &values, &count)
	defer runtime.KeepAlive(ctx.handle)
	if err := ctx.check(status); err != nil {
		return nil, err
	}
	defer C.subsel_array_free(unsafe.Pointer(values))
	return append([]float64{}, unsafe.Slice((*float64)(unsafe.Pointer(values)), int(count))...), nil
}

// ReadNPYInt64 reads a 1-D .npy vector of int32 or int64 as int64.
func ReadNPYInt64(ctx *Context, path string) ([]int64, error) {
	cp, err := ctx.live()
	if err != nil {
		return nil, err
	}
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	var values *C.int64_t
	var count C.int64_t
	status := C.subsel_npy_load_i64((*C.subsel_ctx)(cp), cpath, &values, &count)
	defer runtime.KeepAlive(ctx.handle)
	if err := ctx.check(status); err != nil {
		return nil, err
	}
	defer C.subsel_array_free(unsafe.Pointer(values))
	return append([]int64{}, unsafe.Slice((*int64)(unsafe.Pointer(values)), int(count))...), nil
}

// LoadDenseNPY reads a 1-D or 2-D .npy array (float32, float64, int32 or
// int64, C or Fortran order) as a float32 matrix; float64 and integers are
// rounded as NumPy's astype does.
func LoadDenseNPY(ctx *Context, path string) (*Dense, error) {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	var out *C.subsel_dense
	if err := ctx.call(nil, func(c *C.subsel_ctx) C.int { return C.subsel_dense_load_npy(c, cpath, &out) }); err != nil {
		return nil, err
	}
	return newDense(out), nil
}

// Row returns a copy of row r's column indices and values.
func (m *Csr) Row(r int64) (indices []int64, values []float32, err error) {
	p, err := m.h().live()
	if err != nil {
		return nil, nil, err
	}
	defer runtime.KeepAlive(m.h())
	var idx unsafe.Pointer
	var val *C.float
	var count C.int64_t
	// The message of a call without a context is the thread's.
	err = threadCall(func() C.int {
		return C.subsel_csr_row_v2((*C.subsel_csr)(p), C.int64_t(r), &idx, &val, &count)
	})
	if err != nil {
		return nil, nil, err
	}
	n := int(count)
	indices = make([]int64, n)
	if n > 0 {
		// Read in place, in the matrix's own index type.
		if C.subsel_csr_index_type((*C.subsel_csr)(p)) == C.SUBSEL_DTYPE_INT32 {
			for i, v := range unsafe.Slice((*int32)(idx), n) {
				indices[i] = int64(v)
			}
		} else {
			copy(indices, unsafe.Slice((*int64)(idx), n))
		}
		values = append([]float32(nil), unsafe.Slice((*float32)(unsafe.Pointer(val)), n)...)
	}
	return indices, values, nil
}

// ViewRows is rows [first, first + count) of m without a copy (for
// splitting a pool into ranges); the view keeps m's data alive, so m may
// be closed first.
func (m *Csr) ViewRows(ctx *Context, first, count int64) (*Csr, error) {
	var out *C.subsel_csr
	err := ctx.call([]*handle{m.h()}, func(c *C.subsel_ctx) C.int {
		return C.subsel_csr_view_rows(c, m.cptr(), C.int64_t(first), C.int64_t(count), &out)
	})
	if err != nil {
		return nil, err
	}
	return newCsr(out), nil
}

// GatherRows is a new matrix (a copy) of the given rows of m, in that
// order.
func (m *Csr) GatherRows(ctx *Context, rows []int64) (*Csr, error) {
	var out *C.subsel_csr
	err := ctx.call([]*handle{m.h()}, func(c *C.subsel_ctx) C.int {
		return C.subsel_csr_gather_rows(c, m.cptr(), cInt64s(rows), C.int64_t(len(rows)), &out)
	})
	if err != nil {
		return nil, err
	}
	return newCsr(out), nil
}
