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
	NegEuclidean   Similarity = C.SUBSEL_SIM_NEG_EUCLID   // -|x - y|: the plain Euclidean cost
)

// UniPROTUpdate is how UniPROT's state follows an added prototype (the
// "update" parameter takes int(UniPROTSolve) or int(UniPROTAppend)).
type UniPROTUpdate int

const (
	// UniPROTSolve re-solves f(P + v), warm-started: the state holds the
	// optimal plan of its set (the paper's; the objective's default).
	UniPROTSolve UniPROTUpdate = C.SUBSEL_UNIPROT_UPDATE_SOLVE
	// UniPROTAppend appends v's water-filling row to the plan, with no
	// solve: O(n) a prototype, a value that is a lower bound of f.
	UniPROTAppend UniPROTUpdate = C.SUBSEL_UNIPROT_UPDATE_APPEND
)

// UniPROT chooses k prototypes among the rows of a similarity matrix
// (candidates x targets) that cover the targets evenly by entropic partial
// transport. Its parameters ("gain", "update", "tol", "max_iter",
// "gain_memory": Params(KindUniPROT)) are set by name. Run it with any
// Optimizer, with a budget of at most k; with negative similarities set
// the optimizer's "stop_nonpositive" to 0 for k prototypes whatever the
// gains.
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

// TransportSimilarity solves f(set) from scratch for distinct prototypes
// (at most k) and returns the UniPROT paper's objective <S_P, G>, the
// similarity the optimal plan G carries (without the entropy term), and
// the entropic value f(set) = <S_P, G> + reg H(G) the optimizers maximise.
// An empty set gives 0 and 0.
func (u *UniPROT) TransportSimilarity(ctx *Context, set []int64) (similarity, value float64, err error) {
	var s, v C.double
	err = ctx.call([]*handle{u.handle}, func(c *C.subsel_ctx) C.int {
		return C.subsel_uniprot_transport_similarity(c, u.cptr(), cInt64s(set), C.int64_t(len(set)), &s, &v)
	})
	if err != nil {
		return 0, 0, err
	}
	return float64(s), float64(v), nil
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

// UniPROTSelectBatchSources is per-batch UniPROT in the modes of the
// paper's supplement. With sources nil, UniPROT-PB: round(fraction * rows)
// (at least 1) prototypes of the batch's rows among themselves. With
// sources (one label a row, for example the dataset each example comes
// from), UniPROT-PS: round(fraction * B_q) (at least 1) prototypes of each
// source q's B_q rows among themselves. UniPROTSolve re-solves after every
// prototype, as the paper does; UniPROTAppend solves nothing, as
// UniPROTSelectBatch does (tens of times faster). The selection lists
// batch rows, source by source in increasing label order, each source's
// in the order chosen; its value is the sum of the sources' final values
// (f with UniPROTSolve, lower bounds of f with UniPROTAppend).
func UniPROTSelectBatchSources(ctx *Context, batch *Dense, sources []int64, fraction, reg float64,
	sim Similarity, update UniPROTUpdate) (*Selection, error) {
	// C reads one label per row: other lengths are refused here.
	if sources != nil && int64(len(sources)) != batch.Rows() {
		return nil, errorf(ErrInvalid, "UniPROTSelectBatchSources: %d sources for %d rows",
			len(sources), batch.Rows())
	}
	return ctx.selection([]*handle{batch.h()}, func(c *C.subsel_ctx, out **C.subsel_selection) C.int {
		return C.subsel_uniprot_select_batch_v2(c, batch.cptr(), cInt64s(sources), C.double(fraction),
			C.double(reg), C.int(sim), C.int(update), out)
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
