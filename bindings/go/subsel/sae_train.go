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

// SAETrainer trains a monotone TopK sparse autoencoder from Inputs
// dimensions to Features latents by Adam (SDM's first step; docs/sae.md):
// its Encoder gives the codes SDM selects on. Parameters are set by name
// ("k", "lr", "l_mono", "batch", "auxk", ...; Params(KindSAETrainer));
// those the library calls fixed give ErrState once a step has run. Like a
// Context, a trainer is used by one goroutine at a time.
type SAETrainer struct{ *handle }

func newSAETrainer(p *C.subsel_sae_trainer) *SAETrainer {
	return &SAETrainer{newHandle(unsafe.Pointer(p), "SAETrainer", func(p unsafe.Pointer) {
		C.subsel_sae_trainer_free((*C.subsel_sae_trainer)(p))
	})}
}

func (t *SAETrainer) cptr() *C.subsel_sae_trainer { return (*C.subsel_sae_trainer)(t.ptr()) }

// SAELosses are the losses of a step (SUBSEL_SAE_LOSS_*), unweighted
// except Total; all NaN before the first step.
type SAELosses struct {
	Total  float64 // l_recons Recons + l_mono Mono + l_act Act (+ aux_coef Aux)
	Recons float64 // mean squared reconstruction error per row
	Mono   float64 // the monotonicity loss (0 when the step had no sets)
	Act    float64 // mean squared norm of the codes
	Aux    float64 // the AuxK loss (0 without AuxK or dead latents)
}

// NewSAETrainer makes a trainer with the default parameters and initial
// weights drawn from the context's seed (read now).
func NewSAETrainer(ctx *Context, inputs, features int64) (*SAETrainer, error) {
	var out *C.subsel_sae_trainer
	err := ctx.call(nil, func(c *C.subsel_ctx) C.int {
		return C.subsel_sae_trainer_create(c, C.int64_t(inputs), C.int64_t(features), &out)
	})
	if err != nil {
		return nil, err
	}
	return newSAETrainer(out), nil
}

// LoadSAETrainer reads a checkpoint of Save (or of Fit's checkpoint
// folder): training continued from it with the same thread count gives
// the weights an uninterrupted run gives, bit for bit.
func LoadSAETrainer(ctx *Context, dir string) (*SAETrainer, error) {
	var out *C.subsel_sae_trainer
	err := withPath(dir, func(p *C.char) error {
		return ctx.call(nil, func(c *C.subsel_ctx) C.int { return C.subsel_sae_trainer_load(c, p, &out) })
	})
	if err != nil {
		return nil, err
	}
	return newSAETrainer(out), nil
}

// Set sets a parameter by the name the library's table gives it.
func (t *SAETrainer) Set(ctx *Context, name string, value any) error {
	return t.setParam(ctx, name, value)
}

// GetInt and GetReal read a parameter by name.
func (t *SAETrainer) GetInt(ctx *Context, name string) (int64, error)    { return t.getInt(ctx, name) }
func (t *SAETrainer) GetReal(ctx *Context, name string) (float64, error) { return t.getReal(ctx, name) }

// Step makes one Adam step on the rows of batch (rows x inputs, any row
// count) and returns its losses. With ErrNumeric (an input not finite)
// the weights are unchanged.
func (t *SAETrainer) Step(ctx *Context, batch *Dense) (SAELosses, error) {
	err := ctx.call([]*handle{t.handle, batch.h()}, func(c *C.subsel_ctx) C.int {
		return C.subsel_sae_trainer_step(c, t.cptr(), batch.cptr())
	})
	if err != nil {
		return SAELosses{}, err
	}
	return t.Losses(ctx)
}

// Evaluate is a held-out evaluation with the current weights, nothing
// updated: the mean over the rows of x (rows x inputs) of ||x - x~||^2
// (recons) and of ||h(x)||^2 (act), as Recons and Act of a step on the
// same rows. The result does not depend on the thread count.
func (t *SAETrainer) Evaluate(ctx *Context, x *Dense) (recons, act float64, err error) {
	var r, a C.double
	err = ctx.call([]*handle{t.handle, x.h()}, func(c *C.subsel_ctx) C.int {
		return C.subsel_sae_trainer_evaluate(c, t.cptr(), x.cptr(), &r, &a)
	})
	if err != nil {
		return 0, 0, err
	}
	return float64(r), float64(a), nil
}

// Fit trains over the rows of the 2-D .npy files paths (float16, 32 or 64,
// the same columns; one data set of their rows, in order), streamed in
// batches of "batch" rows, until epochs epochs have been done in all (not
// epochs more). With checkpointDir ("" for none) it saves a checkpoint
// there after each epoch and every "checkpoint_steps" steps; with logPath
// ("" for none) it appends one JSON line per step and per epoch.
//
// Progress: the context's callback, stage "train" (rows done by this call,
// of the rows it has to do), after each step. Returning false stops
// between steps with ErrCancelled, the trainer consistent: a later Fit on
// the same files (on this trainer, or after Save and LoadSAETrainer)
// continues where it stopped.
func (t *SAETrainer) Fit(ctx *Context, paths []string, epochs int64, checkpointDir, logPath string) error {
	// C strings in C memory; the array of their pointers may be Go memory
	// (it holds no Go pointer).
	cpaths := make([]*C.char, len(paths))
	for i, p := range paths {
		cpaths[i] = C.CString(p)
	}
	defer func() {
		for _, p := range cpaths {
			C.free(unsafe.Pointer(p))
		}
	}()
	cdir, clog := optionalPath(checkpointDir), optionalPath(logPath)
	defer C.free(unsafe.Pointer(cdir))
	defer C.free(unsafe.Pointer(clog))
	var first **C.char
	if len(cpaths) > 0 {
		first = &cpaths[0]
	}
	return ctx.call([]*handle{t.handle}, func(c *C.subsel_ctx) C.int {
		return C.subsel_sae_trainer_fit(c, t.cptr(), first, C.int64_t(len(cpaths)),
			C.int64_t(epochs), cdir, clog)
	})
}

// Losses are the losses of the last step (all NaN before the first).
func (t *SAETrainer) Losses(ctx *Context) (SAELosses, error) {
	var l [C.SUBSEL_SAE_LOSSES]C.double
	err := ctx.call([]*handle{t.handle}, func(c *C.subsel_ctx) C.int {
		return C.subsel_sae_trainer_losses(c, t.cptr(), &l[0], C.int64_t(len(l)))
	})
	if err != nil {
		return SAELosses{}, err
	}
	return SAELosses{
		Total:  float64(l[C.SUBSEL_SAE_LOSS_TOTAL]),
		Recons: float64(l[C.SUBSEL_SAE_LOSS_RECONS]),
		Mono:   float64(l[C.SUBSEL_SAE_LOSS_MONO]),
		Act:    float64(l[C.SUBSEL_SAE_LOSS_ACT]),
		Aux:    float64(l[C.SUBSEL_SAE_LOSS_AUX]),
	}, nil
}

// Steps is the number of steps taken (by Step and Fit), Epochs the epochs
// Fit completed, Dead the latents dead at the last step ("dead_rows" rows
// without firing); -1 once closed.
func (t *SAETrainer) Steps() int64 {
	defer runtime.KeepAlive(t.handle)
	return int64(C.subsel_sae_trainer_steps(t.cptr()))
}
func (t *SAETrainer) Epochs() int64 {
	defer runtime.KeepAlive(t.handle)
	return int64(C.subsel_sae_trainer_epochs(t.cptr()))
}
func (t *SAETrainer) Dead() int64 {
	defer runtime.KeepAlive(t.handle)
	return int64(C.subsel_sae_trainer_dead(t.cptr()))
}

// Save writes a checkpoint to the folder dir (made if missing): an encoder
// folder (LoadSAE, `subsel encode`), W_dec.npy and the rest of the trainer
// (LoadSAETrainer).
func (t *SAETrainer) Save(ctx *Context, dir string) error {
	return withPath(dir, func(p *C.char) error {
		return ctx.call([]*handle{t.handle}, func(c *C.subsel_ctx) C.int {
			return C.subsel_sae_trainer_save(c, t.cptr(), p)
		})
	})
}

// Encoder is a new encoder with a copy of the current weights, independent
// of the trainer.
func (t *SAETrainer) Encoder(ctx *Context) (*SAE, error) {
	var out *C.subsel_sae
	err := ctx.call([]*handle{t.handle}, func(c *C.subsel_ctx) C.int {
		return C.subsel_sae_trainer_encoder(c, t.cptr(), &out)
	})
	if err != nil {
		return nil, err
	}
	return newSAE(out), nil
}

// Decoder is a copy of W_dec, inputs x features with columns of unit norm:
// x~ = W_dec h + b_dec.
func (t *SAETrainer) Decoder(ctx *Context) (*Dense, error) {
	var out *C.subsel_dense
	err := ctx.call([]*handle{t.handle}, func(c *C.subsel_ctx) C.int {
		return C.subsel_sae_trainer_decoder(c, t.cptr(), &out)
	})
	if err != nil {
		return nil, err
	}
	return newDense(out), nil
}

// DenseNPYShape reads only the shape of a 1-D or 2-D .npy file (a vector
// is one column), from its header: a trainer's inputs, or the rows of a
// shard.
func DenseNPYShape(ctx *Context, path string) (rows, cols int64, err error) {
	var r, c C.int64_t
	err = withPath(path, func(p *C.char) error {
		return ctx.call(nil, func(cp *C.subsel_ctx) C.int {
			return C.subsel_dense_npy_shape(cp, p, &r, &c)
		})
	})
	return int64(r), int64(c), err
}
