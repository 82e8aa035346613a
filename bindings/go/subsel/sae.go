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

// SAEScores are the Monosemanticity (MS) and Monotonicity (MT) scores of
// sparse codes (SDM paper, section 3.4): the means over the latents that
// have a score, how many do, and every latent's score (NaN: fewer than 2
// rows).
type SAEScores struct {
	MS, MT                   float64
	MSLatents, MTLatents     int64
	MSPerLatent, MTPerLatent []float64
}

// SaeScores scores the latents of codes (rows x features; an entry > 0
// means the row activates the latent) on their inputs x (rows x d, as
// encoded). Of each latent, over its activating rows: MS, the mean pairwise
// cosine similarity (rows of zero norm left out); MT, the mean inner
// product of neighbours sorted by activation, largest first (ties: lower
// row first). Progress stage "scores".
func SaeScores(ctx *Context, x *Dense, codes *Csr) (*SAEScores, error) {
	features := codes.Cols()
	s := &SAEScores{MSPerLatent: make([]float64, features), MTPerLatent: make([]float64, features)}
	var ms, mt C.double
	var msN, mtN C.int64_t
	msL, mtL := cDoubles(s.MSPerLatent), cDoubles(s.MTPerLatent)
	err := ctx.call([]*handle{x.h(), codes.h()}, func(c *C.subsel_ctx) C.int {
		return C.subsel_sae_scores(c, x.cptr(), codes.cptr(), &ms, &mt, &msN, &mtN,
			msL, C.int64_t(features), mtL, C.int64_t(features))
	})
	if err != nil {
		return nil, err
	}
	s.MS, s.MT, s.MSLatents, s.MTLatents = float64(ms), float64(mt), int64(msN), int64(mtN)
	return s, nil
}
