// SPDX-License-Identifier: MIT

package subsel

/*
#define SUBSEL_NO_DEPRECATED
#include <stdlib.h>
#include <subsel.h>
*/
import "C"

import (
	"path/filepath"
	"runtime"
	"unsafe"
)

// LoRS distils image-text pairs into a few synthetic pairs and a learned
// similarity between them (Xu et al., ICML 2024), in the embedding space
// of frozen encoders (docs/lors.md): expert trajectories (Buffer),
// trajectory matching (Distill) and evaluation by retrieval (Evaluate).
// Parameters are set by name ("embed_dim", "pairs", "syn_steps", "loss",
// ...; Params(KindLoRS)); those that shape the distilled set give ErrState
// once distillation has started. Its random choices come from the
// context's seed when it was made. Like a Context, a LoRS is used by one
// goroutine at a time.
type LoRS struct {
	*handle
	imageDim, textDim int64
}

func newLoRS(p *C.subsel_lors, imageDim, textDim int64) *LoRS {
	return &LoRS{newHandle(unsafe.Pointer(p), "LoRS", func(p unsafe.Pointer) {
		C.subsel_lors_free((*C.subsel_lors)(p))
	}), imageDim, textDim}
}

func (l *LoRS) cptr() *C.subsel_lors { return (*C.subsel_lors)(l.ptr()) }

// LoRSBaseline is a coreset baseline of the paper's tables (Baseline).
type LoRSBaseline int

const (
	// LoRSRandom is a seeded uniform sample.
	LoRSRandom LoRSBaseline = C.SUBSEL_LORS_BASELINE_RANDOM
	// LoRSKCenter is greedy farthest-first from a seeded random first pair.
	LoRSKCenter LoRSBaseline = C.SUBSEL_LORS_BASELINE_KCENTER
	// LoRSHerding is Welling's herding: each pick brings the chosen
	// pairs' mean closest to the mean of all pairs.
	LoRSHerding LoRSBaseline = C.SUBSEL_LORS_BASELINE_HERDING
)

// LoRSSet is the distilled pairs, copied out of the handle: Images is
// Pairs x ImageDim and Texts Pairs x TextDim, row-major.
type LoRSSet struct {
	Pairs, ImageDim, TextDim int64
	Images, Texts            []float32
}

// LoRSRecalls are retrieval recalls on held-out pairs, as fractions: IR a
// text querying the images, TR an image querying the texts, at 1, 5, 10.
type LoRSRecalls struct {
	IR1, IR5, IR10 float64
	TR1, TR5, TR10 float64
}

// LoRSTraining is a training set for Evaluate instead of the distilled
// one: row i of Images with row i of Texts, the soft labels Similarity
// (rows x rows, row-major; nil: the identity) and the towers' step sizes
// (<= 0: "expert_lr").
type LoRSTraining struct {
	Images, Texts     *Dense
	Similarity        []float32
	EtaImage, EtaText float64
}

// NewLoRS makes a distiller for image embeddings of imageDim columns and
// text embeddings of textDim, with the default parameters and the
// context's seed (read now).
func NewLoRS(ctx *Context, imageDim, textDim int64) (*LoRS, error) {
	var out *C.subsel_lors
	err := ctx.call(nil, func(c *C.subsel_ctx) C.int {
		return C.subsel_lors_create(c, C.int64_t(imageDim), C.int64_t(textDim), &out)
	})
	if err != nil {
		return nil, err
	}
	return newLoRS(out, imageDim, textDim), nil
}

// LoadLoRS reads a folder of Save: the same parameters and distilled set;
// distillation continues bit for bit where it stopped.
func LoadLoRS(ctx *Context, dir string) (*LoRS, error) {
	var out *C.subsel_lors
	err := withPath(dir, func(p *C.char) error {
		return ctx.call(nil, func(c *C.subsel_ctx) C.int { return C.subsel_lors_load(c, p, &out) })
	})
	if err != nil {
		return nil, err
	}
	// The library does not say a handle's dimensions; the saved set's
	// images.npy and texts.npy (pairs x image_dim, pairs x text_dim) do.
	l := newLoRS(out, 0, 0)
	rows, imageDim, err := DenseNPYShape(ctx, filepath.Join(dir, "images.npy"))
	if err == nil {
		var textRows int64
		textRows, l.textDim, err = DenseNPYShape(ctx, filepath.Join(dir, "texts.npy"))
		var pairs int64
		if err == nil {
			pairs, err = l.GetInt(ctx, "pairs")
		}
		if err == nil && (rows != pairs || textRows != pairs) {
			err = errorf(ErrFormat, "LoadLoRS: %s holds %d images and %d texts for %d pairs",
				dir, rows, textRows, pairs)
		}
	}
	if err != nil {
		l.Close()
		return nil, err
	}
	l.imageDim = imageDim
	return l, nil
}

// ImageDim and TextDim are the columns of the image and text embeddings.
func (l *LoRS) ImageDim() int64 { return l.imageDim }
func (l *LoRS) TextDim() int64  { return l.textDim }

// Set sets a parameter by the name the library's table gives it.
func (l *LoRS) Set(ctx *Context, name string, value any) error {
	return l.setParam(ctx, name, value)
}

// GetInt and GetReal read a parameter by name.
func (l *LoRS) GetInt(ctx *Context, name string) (int64, error)    { return l.getInt(ctx, name) }
func (l *LoRS) GetReal(ctx *Context, name string) (float64, error) { return l.getReal(ctx, name) }

// optionalPath is a C copy of s, NULL for "" (free it with C.free).
func optionalPath(s string) *C.char {
	if s == "" {
		return nil
	}
	return C.CString(s)
}

// Buffer trains "experts" experts ("buffer_epochs" epochs of SGD with
// InfoNCE each) on the real pairs, row i of images with row i of texts,
// and writes their trajectories to the folder dir (made if missing). With
// logPath ("" for none), one JSON line per expert epoch. Progress: stage
// "buffer" (epochs); cancelling keeps the experts finished.
func (l *LoRS) Buffer(ctx *Context, images, texts *Dense, dir, logPath string) error {
	clog := optionalPath(logPath)
	defer C.free(unsafe.Pointer(clog))
	return withPath(dir, func(p *C.char) error {
		return ctx.call([]*handle{l.handle, images.h(), texts.h()}, func(c *C.subsel_ctx) C.int {
			return C.subsel_lors_buffer(c, l.cptr(), images.cptr(), texts.cptr(), p, clog)
		})
	})
}

// Distill runs iterations iterations of trajectory matching on the
// trajectories in bufferDir. The first call on a new handle takes the
// real pairs images, texts to start the synthetic set from ("init");
// later calls, and calls on a loaded handle, continue and may pass nil.
// With logPath ("" for none), one JSON line per iteration. Progress: stage
// "distill" (iterations); returning false stops between iterations with
// ErrCancelled, and with ErrNumeric the set is as before the failing
// iteration: either way Distill can continue.
func (l *LoRS) Distill(ctx *Context, images, texts *Dense, bufferDir string, iterations int64, logPath string) error {
	hs := []*handle{l.handle}
	var ci, ct *C.subsel_dense
	if images != nil {
		hs, ci = append(hs, images.h()), images.cptr()
	}
	if texts != nil {
		hs, ct = append(hs, texts.h()), texts.cptr()
	}
	clog := optionalPath(logPath)
	defer C.free(unsafe.Pointer(clog))
	return withPath(bufferDir, func(p *C.char) error {
		return ctx.call(hs, func(c *C.subsel_ctx) C.int {
			return C.subsel_lors_distill(c, l.cptr(), ci, ct, p, C.int64_t(iterations), clog)
		})
	})
}

// Iterations is the number of iterations Distill has done (0 before the
// first; -1 once closed).
func (l *LoRS) Iterations() int64 {
	defer runtime.KeepAlive(l.handle)
	return int64(C.subsel_lors_iterations(l.cptr()))
}

// LastLoss is the matching loss of the last iteration (NaN before the
// first).
func (l *LoRS) LastLoss(ctx *Context) (float64, error) {
	var loss C.double
	err := ctx.call([]*handle{l.handle}, func(c *C.subsel_ctx) C.int {
		return C.subsel_lors_last_loss(c, l.cptr(), &loss)
	})
	return float64(loss), err
}

// Synthetic copies the synthetic pairs out; ErrState before anything is
// distilled or loaded.
func (l *LoRS) Synthetic(ctx *Context) (*LoRSSet, error) {
	pairs, err := l.GetInt(ctx, "pairs")
	if err != nil {
		return nil, err
	}
	s := &LoRSSet{Pairs: pairs, ImageDim: l.imageDim, TextDim: l.textDim,
		Images: make([]float32, pairs*l.imageDim), Texts: make([]float32, pairs*l.textDim)}
	err = ctx.call([]*handle{l.handle}, func(c *C.subsel_ctx) C.int {
		return C.subsel_lors_synthetic(c, l.cptr(), (*C.float)(first(s.Images)), (*C.float)(first(s.Texts)))
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Similarity is the learned similarity S~, pairs x pairs, row-major (the
// identity for "similarity" 0); ErrState before anything is distilled.
func (l *LoRS) Similarity(ctx *Context) ([]float32, error) {
	pairs, err := l.GetInt(ctx, "pairs")
	if err != nil {
		return nil, err
	}
	s := make([]float32, pairs*pairs)
	err = ctx.call([]*handle{l.handle}, func(c *C.subsel_ctx) C.int {
		return C.subsel_lors_similarity(c, l.cptr(), (*C.float)(first(s)))
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Eta is the learned step sizes of the image and the text tower.
func (l *LoRS) Eta(ctx *Context) (etaImage, etaText float64, err error) {
	var ei, et C.double
	err = ctx.call([]*handle{l.handle}, func(c *C.subsel_ctx) C.int {
		return C.subsel_lors_eta(c, l.cptr(), &ei, &et)
	})
	return float64(ei), float64(et), err
}

// Save writes the distilled set and all that continuing needs to the
// folder dir (made if missing): images.npy, texts.npy, similarity.npy,
// eta.npy and the state LoadLoRS reads.
func (l *LoRS) Save(ctx *Context, dir string) error {
	return withPath(dir, func(p *C.char) error {
		return ctx.call([]*handle{l.handle}, func(c *C.subsel_ctx) C.int {
			return C.subsel_lors_save(c, l.cptr(), p)
		})
	})
}

// Evaluate trains fresh towers (seeded; "eval_epochs", "eval_batch", ...)
// on train, or on the distilled set with its S~ and eta when train is
// nil, and returns their recalls on the held-out pairs testImages,
// testTexts, where text t belongs to image textImage[t] (nil: text t to
// image t, the same row counts).
func (l *LoRS) Evaluate(ctx *Context, train *LoRSTraining, testImages, testTexts *Dense, textImage []int64) (LoRSRecalls, error) {
	hs := []*handle{l.handle, testImages.h(), testTexts.h()}
	if textImage != nil && int64(len(textImage)) != testTexts.Rows() {
		return LoRSRecalls{}, errorf(ErrInvalid, "LoRS.Evaluate: textImage holds %d entries for %d texts",
			len(textImage), testTexts.Rows())
	}
	var ci, ct *C.subsel_dense
	var sim *C.float
	var etaImage, etaText C.double
	if train != nil {
		hs = append(hs, train.Images.h(), train.Texts.h())
		ci, ct = train.Images.cptr(), train.Texts.cptr()
		if train.Similarity != nil {
			rows := train.Images.Rows()
			if int64(len(train.Similarity)) != rows*rows {
				return LoRSRecalls{}, errorf(ErrInvalid,
					"LoRS.Evaluate: the similarity holds %d values for %d x %d pairs",
					len(train.Similarity), rows, rows)
			}
			sim = (*C.float)(first(train.Similarity))
		}
		etaImage, etaText = C.double(train.EtaImage), C.double(train.EtaText)
	}
	var r [C.SUBSEL_LORS_RECALLS]C.double
	err := ctx.call(hs, func(c *C.subsel_ctx) C.int {
		return C.subsel_lors_evaluate(c, l.cptr(), ci, ct, sim, etaImage, etaText,
			testImages.cptr(), testTexts.cptr(), cInt64s(textImage), &r[0])
	})
	if train != nil {
		runtime.KeepAlive(train.Similarity)
	}
	if err != nil {
		return LoRSRecalls{}, err
	}
	return LoRSRecalls{
		IR1: float64(r[C.SUBSEL_LORS_IR1]), IR5: float64(r[C.SUBSEL_LORS_IR5]),
		IR10: float64(r[C.SUBSEL_LORS_IR10]), TR1: float64(r[C.SUBSEL_LORS_TR1]),
		TR5: float64(r[C.SUBSEL_LORS_TR5]), TR10: float64(r[C.SUBSEL_LORS_TR10]),
	}, nil
}

// Baseline chooses count of the real pairs (row i of images with row i of
// texts) by a coreset baseline and returns their indices in the order
// chosen (each pair described by its unit-length image and text
// embeddings side by side; ties to the lowest index).
func (l *LoRS) Baseline(ctx *Context, method LoRSBaseline, images, texts *Dense, count int64) ([]int64, error) {
	// More than the pairs is the library's error, before it writes.
	n := count
	if rows := images.Rows(); n > rows {
		n = rows
	}
	if n < 0 {
		n = 0
	}
	idx := make([]int64, n)
	err := ctx.call([]*handle{l.handle, images.h(), texts.h()}, func(c *C.subsel_ctx) C.int {
		return C.subsel_lors_baseline(c, l.cptr(), C.int(method), images.cptr(), texts.cptr(),
			C.int64_t(count), cInt64s(idx))
	})
	if err != nil {
		return nil, err
	}
	return idx, nil
}
