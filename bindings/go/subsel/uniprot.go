// SPDX-License-Identifier: MIT

package subsel

/*
#define SUBSEL_NO_DEPRECATED
#include <subsel.h>
*/
import "C"

// Similarity is a similarity between feature rows.
type Similarity int

const (
	Cosine         Similarity = C.SUBSEL_SIM_COSINE       // cos(x, y); 0 for a zero row
	Dot            Similarity = C.SUBSEL_SIM_DOT          // x . y
	NegSqEuclidean Similarity = C.SUBSEL_SIM_NEG_SQEUCLID // -|x - y|^2
)

// UniPROT chooses k prototypes among the rows of a similarity matrix
// (candidates x targets) that cover the targets evenly by entropic partial
// transport. Its parameters ("gain", "update", "tol", "max_iter":
// Params(KindUniPROT)) are set by name. Run it with any Optimizer, with a
// budget of at most k; with negative similarities set the optimizer's
// "stop_nonpositive" to 0 for k prototypes whatever the gains.
type UniPROT struct {
	objective
	targets int64
}

// NewUniPROT makes UniPROT over the rows of similarity (|S| x n), which it
// keeps (similarity may be closed at once), with 1 <= k <= |S| and reg > 0.
func NewUniPROT(ctx *Context, similarity *Dense, k int64, reg float64) (*UniPROT, error) {
	var out *C.subsel_objective
	err := ctx.call([]*handle{similarity.h()}, func(c *C.subsel_ctx) C.int {
		return C.subsel_uniprot_create(c, similarity.cptr(), C.int64_t(k), C.double(reg), &out)
	})
	if err != nil {
		return nil, err
	}
	return &UniPROT{newObjective(out, "UniPROT"), similarity.Cols()}, nil
}

// NewUniPROTFromFeatures makes UniPROT with S_ij = sim(source_i, target_j)
// between the rows of source (|S| x d) and target (n x d), computed once;
// neither matrix is kept.
func NewUniPROTFromFeatures(ctx *Context, source, target *Dense, sim Similarity, k int64, reg float64) (*UniPROT, error) {
	var out *C.subsel_objective
	err := ctx.call([]*handle{source.h(), target.h()}, func(c *C.subsel_ctx) C.int {
		return C.subsel_uniprot_create_from_features(c, source.cptr(), target.cptr(), C.int(sim),
			C.int64_t(k), C.double(reg), &out)
	})
	if err != nil {
		return nil, err
	}
	return &UniPROT{newObjective(out, "UniPROT"), target.Rows()}, nil
}

// Set sets a parameter by its library name; GetInt and GetReal read one.
func (u *UniPROT) Set(ctx *Context, name string, value any) error {
	return u.setParam(ctx, name, value)
}
func (u *UniPROT) GetInt(ctx *Context, name string) (int64, error)    { return u.getInt(ctx, name) }
func (u *UniPROT) GetReal(ctx *Context, name string) (float64, error) { return u.getReal(ctx, name) }

// Targets is n, the number of targets (the columns of S).
func (u *UniPROT) Targets() int64 { return u.targets }

// Plan solves f(set) from scratch for distinct prototypes (at most k) and
// returns the optimal plan (len(set) x Targets(), row-major; row i belongs
// to set[i]) and f(set).
func (u *UniPROT) Plan(ctx *Context, set []int64) (plan []float64, value float64, err error) {
	plan = make([]float64, int64(len(set))*u.targets)
	var v C.double
	err = ctx.call([]*handle{u.handle}, func(c *C.subsel_ctx) C.int {
		return C.subsel_uniprot_plan_v2(c, u.cptr(), cInt64s(set), C.int64_t(len(set)),
			cDoubles(plan), C.int64_t(len(plan)), &v)
	})
	if err != nil {
		return nil, 0, err
	}
	return plan, float64(v), nil
}

// UniPROTSelectBatch is per-batch UniPROT (UniPROT-PB): round(fraction *
// rows) prototypes of the batch's rows among themselves, by greedy with
// approximate gains and appended plans (no OT solve), fast enough for
// every training step. The selection's value is a lower bound of f.
func UniPROTSelectBatch(ctx *Context, batch *Dense, fraction, reg float64, sim Similarity) (*Selection, error) {
	return ctx.selection([]*handle{batch.h()}, func(c *C.subsel_ctx, out **C.subsel_selection) C.int {
		return C.subsel_uniprot_select_batch(c, batch.cptr(), C.double(fraction), C.double(reg), C.int(sim), out)
	})
}

// NNAccuracy is the evaluation of the UniPROT paper: the fraction of the
// target rows whose label is that of their most similar prototype (rows
// prototypes of source; ties to the earliest prototype).
func NNAccuracy(ctx *Context, source *Dense, sourceLabels, prototypes []int64, target *Dense,
	targetLabels []int64, sim Similarity) (float64, error) {
	// C reads one label per row: shorter slices are refused here.
	if int64(len(sourceLabels)) != source.Rows() || int64(len(targetLabels)) != target.Rows() {
		return 0, errorf(ErrInvalid, "NNAccuracy: %d and %d labels for %d and %d rows",
			len(sourceLabels), len(targetLabels), source.Rows(), target.Rows())
	}
	var acc C.double
	err := ctx.call([]*handle{source.h(), target.h()}, func(c *C.subsel_ctx) C.int {
		return C.subsel_nn_accuracy(c, source.cptr(), cInt64s(sourceLabels), cInt64s(prototypes),
			C.int64_t(len(prototypes)), target.cptr(), cInt64s(targetLabels), C.int(sim), &acc)
	})
	return float64(acc), err
}
