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

// SAE is a TopK sparse autoencoder's encoder, h(x) = TopK(ReLU(W_enc (x -
// b_dec) + b_enc)): dense embeddings to the sparse nonnegative codes SDM
// selects on. It is immutable: several goroutines may encode with it at
// once, each with its own Context.
type SAE struct{ *handle }

func newSAE(p *C.subsel_sae) *SAE {
	return &SAE{newHandle(unsafe.Pointer(p), "SAE", func(p unsafe.Pointer) {
		C.subsel_sae_free((*C.subsel_sae)(p))
	})}
}

func (s *SAE) cptr() *C.subsel_sae { return (*C.subsel_sae)(s.ptr()) }

// NewSAE makes an encoder from wEnc (features x inputs), which it keeps
// (wEnc may be closed at once), and the biases bEnc (features values) and
// bDec (inputs values), copied; nil for zeros.
func NewSAE(ctx *Context, wEnc *Dense, bEnc, bDec []float32) (*SAE, error) {
	// C reads features and inputs values: other lengths are refused here.
	if (bEnc != nil && int64(len(bEnc)) != wEnc.Rows()) || (bDec != nil && int64(len(bDec)) != wEnc.Cols()) {
		return nil, errorf(ErrInvalid, "NewSAE: biases of %d and %d values for %d features and %d inputs",
			len(bEnc), len(bDec), wEnc.Rows(), wEnc.Cols())
	}
	var out *C.subsel_sae
	err := ctx.call([]*handle{wEnc.h()}, func(c *C.subsel_ctx) C.int {
		return C.subsel_sae_create(c, wEnc.cptr(), (*C.float)(first(bEnc)), (*C.float)(first(bDec)), &out)
	})
	if err != nil {
		return nil, err
	}
	return newSAE(out), nil
}

// LoadSAE reads dir/W_enc.npy (features x inputs), dir/b_enc.npy and
// dir/b_dec.npy.
func LoadSAE(ctx *Context, dir string) (*SAE, error) {
	cdir := C.CString(dir)
	defer C.free(unsafe.Pointer(cdir))
	var out *C.subsel_sae
	if err := ctx.call(nil, func(c *C.subsel_ctx) C.int { return C.subsel_sae_load(c, cdir, &out) }); err != nil {
		return nil, err
	}
	return newSAE(out), nil
}

// Inputs and Features are the encoder's input and code dimensions.
func (s *SAE) Inputs() int64 {
	defer runtime.KeepAlive(s.handle)
	return int64(C.subsel_sae_inputs(s.cptr()))
}
func (s *SAE) Features() int64 {
	defer runtime.KeepAlive(s.handle)
	return int64(C.subsel_sae_features(s.cptr()))
}

// Encode encodes every row of x (rows x Inputs()) into a rows x Features()
// CSR matrix keeping each row's k largest positive activations (ties to the
// lower feature), with sorted columns. Progress stage "encode".
func (s *SAE) Encode(ctx *Context, x *Dense, k int64) (*Csr, error) {
	var out *C.subsel_csr
	err := ctx.call([]*handle{s.handle, x.h()}, func(c *C.subsel_ctx) C.int {
		return C.subsel_sae_encode(c, s.cptr(), x.cptr(), C.int64_t(k), &out)
	})
	if err != nil {
		return nil, err
	}
	return newCsr(out), nil
}
