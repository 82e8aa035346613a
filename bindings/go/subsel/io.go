// SPDX-License-Identifier: MIT

package subsel

/*
#define SUBSEL_NO_DEPRECATED
#include <stdlib.h>
#include <subsel.h>
*/
import "C"

import "unsafe"

// Writers and whole-matrix helpers. Every writer replaces a regular file
// atomically (a temporary file renamed into place), as the library does.

// withPath runs call with path as a C string.
func withPath(path string, call func(*C.char) error) error {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	return call(cpath)
}

// WriteNPYFloat64 writes values as a 1-D '<f8' .npy file.
func WriteNPYFloat64(ctx *Context, path string, values []float64) error {
	return withPath(path, func(p *C.char) error {
		return ctx.call(nil, func(c *C.subsel_ctx) C.int {
			return C.subsel_npy_write_f64(c, p, cDoubles(values), C.int64_t(len(values)))
		})
	})
}

// WriteNPYInt64 writes values as a 1-D '<i8' .npy file (a selection's
// Indices as `subsel` writes them).
func WriteNPYInt64(ctx *Context, path string, values []int64) error {
	return withPath(path, func(p *C.char) error {
		return ctx.call(nil, func(c *C.subsel_ctx) C.int {
			return C.subsel_npy_write_i64(c, p, cInt64s(values), C.int64_t(len(values)))
		})
	})
}

// SaveNPZ writes m as scipy.sparse.save_npz does (deflated if compressed).
func (m *Csr) SaveNPZ(ctx *Context, path string, compressed bool) error {
	return withPath(path, func(p *C.char) error {
		return ctx.call([]*handle{m.h()}, func(c *C.subsel_ctx) C.int {
			return C.subsel_csr_save_npz(c, m.cptr(), p, cBool(compressed))
		})
	})
}

// SaveNPY writes m as a 2-D '<f4' .npy file.
func (m *Dense) SaveNPY(ctx *Context, path string) error {
	return withPath(path, func(p *C.char) error {
		return ctx.call([]*handle{m.h()}, func(c *C.subsel_ctx) C.int {
			return C.subsel_dense_save_npy(c, m.cptr(), p)
		})
	})
}

// NewCsrFromDense is a CSR matrix of the nonzero entries of d.
func NewCsrFromDense(ctx *Context, d *Dense) (*Csr, error) {
	var out *C.subsel_csr
	if err := ctx.call([]*handle{d.h()}, func(c *C.subsel_ctx) C.int {
		return C.subsel_csr_from_dense(c, d.cptr(), &out)
	}); err != nil {
		return nil, err
	}
	return newCsr(out), nil
}

// ColumnSums is the sum of every column, in double precision.
func (m *Csr) ColumnSums(ctx *Context) ([]float64, error) {
	out := make([]float64, m.Cols())
	err := ctx.call([]*handle{m.h()}, func(c *C.subsel_ctx) C.int {
		return C.subsel_csr_column_sums_v2(c, m.cptr(), cDoubles(out), C.int64_t(len(out)))
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ColumnSums is the sum of every column, in double precision.
func (m *Dense) ColumnSums(ctx *Context) ([]float64, error) {
	out := make([]float64, m.Cols())
	err := ctx.call([]*handle{m.h()}, func(c *C.subsel_ctx) C.int {
		return C.subsel_dense_column_sums_v2(c, m.cptr(), cDoubles(out), C.int64_t(len(out)))
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
