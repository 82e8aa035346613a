// SPDX-License-Identifier: MIT

package subsel

import (
	"math"
	"path/filepath"
	"reflect"
	"runtime"
	"testing"
)

// tests/data, next to tests/fixtures: the CLI tests' data sets.
func data(parts ...string) string {
	return filepath.Join(append([]string{fixtures, "..", "data"}, parts...)...)
}

// The C tests' UniPROT fixture: naive greedy to k = 10 (reg 0.1) gives
// order.npy, with f after each step in values.npy.
func TestUniPROTGreedyReproducesFixture(t *testing.T) {
	ctx := newCtx(t)
	s := must[*Dense](t)(LoadDenseNPY(ctx, fx("uniprot", "S.npy")))
	obj := must[*UniPROT](t)(NewUniPROT(ctx, s, 10, 0.1))
	defer obj.Close()
	s.Close() // the objective keeps S
	runtime.GC()
	opt := must[*Optimizer](t)(NewOptimizer(ctx, Naive))
	defer opt.Close()
	must[any](t)(nil, opt.Set(ctx, "budget", 10))
	must[any](t)(nil, opt.Set(ctx, "stop_nonpositive", 0))
	sel := must[*Selection](t)(opt.Run(ctx, obj))
	order := must[[]int64](t)(ReadNPYInt64(ctx, fx("uniprot", "order.npy")))
	values := must[[]float64](t)(ReadNPYFloat64(ctx, fx("uniprot", "values.npy")))
	if !reflect.DeepEqual(sel.Indices, order) {
		t.Fatalf("order %v, fixture %v", sel.Indices, order)
	}
	if math.Abs(sel.Value-values[9]) > 1e-6 {
		t.Errorf("value %.12g, fixture %.12g", sel.Value, values[9])
	}
	for i := range order {
		if v := must[float64](t)(obj.Evaluate(ctx, order[:i+1])); math.Abs(v-values[i]) > 1e-6 {
			t.Errorf("f(first %d) = %.12g, fixture %.12g", i+1, v, values[i])
		}
	}
}

func TestUniPROTPlanOfFirstFive(t *testing.T) {
	ctx := newCtx(t)
	s := must[*Dense](t)(LoadDenseNPY(ctx, fx("uniprot", "S.npy")))
	defer s.Close()
	obj := must[*UniPROT](t)(NewUniPROT(ctx, s, 10, 0.1))
	defer obj.Close()
	plan, value, err := obj.Plan(ctx, []int64{0, 1, 2, 3, 4})
	if err != nil {
		t.Fatal(err)
	}
	if want := expected(t, "uniprot", "f_first5"); math.Abs(value-want) > 1e-6 {
		t.Errorf("f(first 5) = %.12g, fixture %.12g", value, want)
	}
	_, want := readNPY(t, fx("uniprot", "plan_first5.npy"))
	if d := maxAbsDiff(plan, want); d > 1e-6 {
		t.Errorf("plan differs from the fixture by %g", d)
	}
	for i := int64(0); i < 5; i++ {
		sum := 0.0
		for _, v := range plan[i*obj.Targets() : (i+1)*obj.Targets()] {
			sum += v
		}
		if math.Abs(sum-1) > 1e-9 {
			t.Errorf("prototype %d ships %g", i, sum)
		}
	}
	if v := must[int64](t)(obj.GetInt(ctx, "max_iter")); v != 1000 {
		t.Errorf("max_iter reads %d", v)
	}
}

// tests/data/uniprot, the features uniprot.sh runs on: 40 source rows and
// 60 targets, closed when the test ends.
func loadUniPROTFeatures(t *testing.T, ctx *Context) (src, tgt *Dense) {
	t.Helper()
	src = must[*Dense](t)(LoadDenseNPY(ctx, data("uniprot", "source.npy")))
	tgt = must[*Dense](t)(LoadDenseNPY(ctx, data("uniprot", "target.npy")))
	t.Cleanup(func() { src.Close(); tgt.Close() })
	return src, tgt
}

// uniprot.sh: -k 8 --reg 0.05 from features (cosine), naive greedy:
// NumPy's order, f = 7.590794962307694 and a 1-NN accuracy of 59/60.
func TestUniPROTFromFeaturesAsTheCLI(t *testing.T) {
	ctx := newCtx(t)
	src, tgt := loadUniPROTFeatures(t, ctx)
	obj := must[*UniPROT](t)(NewUniPROTFromFeatures(ctx, src, tgt, Cosine, 8, 0.05))
	defer obj.Close()
	opt := must[*Optimizer](t)(NewOptimizer(ctx, Naive))
	defer opt.Close()
	must[any](t)(nil, opt.Set(ctx, "budget", 8))
	sel := must[*Selection](t)(opt.Run(ctx, obj))
	order := must[[]int64](t)(ReadNPYInt64(ctx, data("uniprot", "order.npy")))
	if !reflect.DeepEqual(sel.Indices, order) {
		t.Fatalf("order %v, NumPy's %v", sel.Indices, order)
	}
	if math.Abs(sel.Value-7.590794962307694) > 1e-6 {
		t.Errorf("objective %.15g, NumPy's 7.590794962307694", sel.Value)
	}
	sl := must[[]int64](t)(ReadNPYInt64(ctx, data("uniprot", "source_labels.npy")))
	tl := must[[]int64](t)(ReadNPYInt64(ctx, data("uniprot", "target_labels.npy")))
	acc := must[float64](t)(NNAccuracy(ctx, src, sl, sel.Indices, tgt, tl, Cosine))
	if math.Abs(acc-59.0/60) > 1e-12 {
		t.Errorf("1-NN accuracy %g, want 59/60", acc)
	}
	// Per-batch UniPROT on the targets: a quarter of the 60 rows.
	b := must[*Selection](t)(UniPROTSelectBatch(ctx, tgt, 0.25, 0.05, Cosine))
	if b.Len() != 15 {
		t.Errorf("batch selection of %d rows, want 15", b.Len())
	}
}

func TestUniPROTErrors(t *testing.T) {
	ctx := newCtx(t)
	src, tgt := loadUniPROTFeatures(t, ctx)
	_, err := NewUniPROTFromFeatures(ctx, src, tgt, Cosine, 41, 0.05)
	wantError(t, err, ErrInvalid)
	_, err = NewUniPROTFromFeatures(ctx, src, tgt, Similarity(9), 3, 0.05)
	wantError(t, err, ErrInvalid, "similarity")
	obj := must[*UniPROT](t)(NewUniPROTFromFeatures(ctx, src, tgt, NegSqEuclidean, 6, 0.001))
	defer obj.Close()
	wantError(t, obj.Set(ctx, "max_iter", 0), ErrInvalid, "max_iter")
	wantError(t, obj.Set(ctx, "tol", 1), ErrInvalid, "tol")
	wantError(t, obj.Set(ctx, "lambda", 0.5), ErrInvalid, "lambda")
	_, _, err = obj.Plan(ctx, []int64{0, 0})
	wantError(t, err, ErrInvalid)
	// uniprot.sh: --max-iter 1 at a small reg hits the iteration cap.
	must[any](t)(nil, obj.Set(ctx, "max_iter", 1))
	must[any](t)(nil, obj.Set(ctx, "gain", 1))
	opt := must[*Optimizer](t)(NewOptimizer(ctx, Naive))
	defer opt.Close()
	must[any](t)(nil, opt.Set(ctx, "budget", 6))
	_, err = opt.Run(ctx, obj)
	wantError(t, err, ErrNumeric, "iteration cap")
	_, err = NNAccuracy(ctx, src, []int64{1}, []int64{0}, tgt, nil, Cosine)
	wantError(t, err, ErrInvalid, "labels")
}

// gain_memory is the objective's parameter, read, set and refused below 0
// by name. (These 40 rows are fewer than the 512-row scans that keep
// weights; tests/test_uniprot.c checks that keeping them changes no bit.)
func TestUniPROTGainMemoryKeepsTheSelection(t *testing.T) {
	ctx := newCtx(t)
	src, tgt := loadUniPROTFeatures(t, ctx)
	kept := must[*UniPROT](t)(NewUniPROTFromFeatures(ctx, src, tgt, Cosine, 8, 0.05))
	defer kept.Close()
	if v := must[int64](t)(kept.GetInt(ctx, "gain_memory")); v != 512<<20 {
		t.Fatalf("gain_memory reads %d", v)
	}
	remade := must[*UniPROT](t)(NewUniPROTFromFeatures(ctx, src, tgt, Cosine, 8, 0.05))
	defer remade.Close()
	must[any](t)(nil, remade.Set(ctx, "gain_memory", 0))
	opt := must[*Optimizer](t)(NewOptimizer(ctx, Naive))
	defer opt.Close()
	must[any](t)(nil, opt.Set(ctx, "budget", 8))
	a := must[*Selection](t)(opt.Run(ctx, kept))
	b := must[*Selection](t)(opt.Run(ctx, remade))
	if !reflect.DeepEqual(b.Indices, a.Indices) || b.Value != a.Value {
		t.Fatalf("gain_memory 0 changed the selection: %v (%.17g), %v (%.17g)",
			b.Indices, b.Value, a.Indices, a.Value)
	}
	wantError(t, remade.Set(ctx, "gain_memory", -1), ErrInvalid, "gain_memory")
}

// testSimilarity is a candidates x targets matrix of float32 values (the
// library's element type), so that S is known exactly.
func testSimilarity(rows, cols int64) []float64 {
	s := make([]float64, rows*cols)
	for i := range s {
		s[i] = float64(float32(math.Sin(0.7*float64(i)+0.3) + 0.25*math.Cos(1.9*float64(i*i%17))))
	}
	return s
}

// transported is sum_ij plan_ij S_{set_i, j}, computed here.
func transported(plan, s []float64, set []int64, targets int64) float64 {
	sum := 0.0
	for i, p := range set {
		for j := int64(0); j < targets; j++ {
			sum += plan[int64(i)*targets+j] * s[p*targets+j]
		}
	}
	return sum
}

// The paper's objective <S_P, G> is what the plan that Plan returns
// carries, and the entropic value exceeds it by reg H(G) > 0.
func TestUniPROTTransportSimilarity(t *testing.T) {
	ctx := newCtx(t)
	const rows, cols = 12, 9
	s := testSimilarity(rows, cols)
	sm := must[*Dense](t)(NewDense(ctx, rows, cols, s, 0))
	obj := must[*UniPROT](t)(NewUniPROT(ctx, sm, 5, 0.1))
	defer obj.Close()
	sm.Close()
	for _, set := range [][]int64{{4}, {0, 3, 5, 7}, {11, 2, 8, 1, 6}} {
		plan, f, err := obj.Plan(ctx, set)
		if err != nil {
			t.Fatal(err)
		}
		sim, value, err := obj.TransportSimilarity(ctx, set)
		if err != nil {
			t.Fatal(err)
		}
		want := transported(plan, s, set, cols)
		if math.Abs(sim-want) > 1e-9*math.Abs(want) {
			t.Errorf("%v: <S_P, G> = %.15g, by hand %.15g", set, sim, want)
		}
		if math.Abs(value-f) > 1e-9*math.Abs(f) {
			t.Errorf("%v: value %.15g, Plan's f %.15g", set, value, f)
		}
		if !(value-sim > 0) {
			t.Errorf("%v: value %.15g - similarity %.15g is not > 0", set, value, sim)
		}
	}
	sim, value, err := obj.TransportSimilarity(ctx, nil)
	if err != nil || sim != 0 || value != 0 {
		t.Errorf("empty set: %g, %g, %v", sim, value, err)
	}
	_, _, err = obj.TransportSimilarity(ctx, []int64{1, 1})
	wantError(t, err, ErrInvalid)
	_, _, err = obj.TransportSimilarity(ctx, []int64{0, 1, 2, 3, 4, 5})
	wantError(t, err, ErrInvalid)
}

// Without sources and with appended plans, the per-batch function is
// UniPROTSelectBatch.
func TestUniPROTSelectBatchSourcesNilIsPB(t *testing.T) {
	ctx := newCtx(t)
	tgt := must[*Dense](t)(LoadDenseNPY(ctx, data("uniprot", "target.npy")))
	defer tgt.Close()
	for _, sim := range []Similarity{Cosine, NegSqEuclidean, NegEuclidean} {
		old := must[*Selection](t)(UniPROTSelectBatch(ctx, tgt, 0.25, 0.05, sim))
		pb := must[*Selection](t)(UniPROTSelectBatchSources(ctx, tgt, nil, 0.25, 0.05, sim, UniPROTAppend))
		if !reflect.DeepEqual(pb.Indices, old.Indices) {
			t.Errorf("similarity %d: rows %v, UniPROTSelectBatch's %v", sim, pb.Indices, old.Indices)
		}
		if math.Abs(pb.Value-old.Value) > 1e-9*math.Abs(old.Value) {
			t.Errorf("similarity %d: value %.15g, UniPROTSelectBatch's %.15g", sim, pb.Value, old.Value)
		}
		// Re-solved after every prototype: as many rows.
		solved := must[*Selection](t)(UniPROTSelectBatchSources(ctx, tgt, nil, 0.25, 0.05, sim, UniPROTSolve))
		if solved.Len() != 15 {
			t.Errorf("similarity %d: solved selection of %d rows, want 15", sim, solved.Len())
		}
	}
}

// UniPROT-PS: each source's rows are chosen among its own, sources in
// increasing label order, round(fraction * B_q) (at least 1) rows each.
func TestUniPROTSelectBatchSourcesPS(t *testing.T) {
	ctx := newCtx(t)
	tgt := must[*Dense](t)(LoadDenseNPY(ctx, data("uniprot", "target.npy")))
	defer tgt.Close()
	rows := tgt.Rows()
	sources := make([]int64, rows)
	count := map[int64]int64{}
	for i := range sources {
		switch {
		case i == int(rows)-1:
			sources[i] = 100 // a source of one row: round(0.3) = 0, so 1
		case i%5 == 0:
			sources[i] = 7
		case i%5 < 3:
			sources[i] = -2
		default:
			sources[i] = 3
		}
		count[sources[i]]++
	}
	labels := []int64{-2, 3, 7, 100}
	const fraction = 0.3
	for _, update := range []UniPROTUpdate{UniPROTAppend, UniPROTSolve} {
		sel := must[*Selection](t)(UniPROTSelectBatchSources(ctx, tgt, sources, fraction, 0.05, Cosine, update))
		seen := map[int64]bool{}
		var order []int64
		got := map[int64]int64{}
		for _, r := range sel.Indices {
			if r < 0 || r >= rows || seen[r] {
				t.Fatalf("update %d: row %d out of range or repeated in %v", update, r, sel.Indices)
			}
			seen[r] = true
			q := sources[r]
			if len(order) == 0 || order[len(order)-1] != q {
				order = append(order, q)
			}
			got[q]++
		}
		if !reflect.DeepEqual(order, labels) {
			t.Errorf("update %d: sources in the order %v, want %v (one run each)", update, order, labels)
		}
		for _, q := range labels {
			want := int64(math.Round(fraction * float64(count[q])))
			if want < 1 {
				want = 1
			}
			if got[q] != want {
				t.Errorf("update %d: source %d (%d rows) gives %d rows, want %d", update, q, count[q], got[q], want)
			}
		}
		if len(sel.Gains) != sel.Len() {
			t.Errorf("update %d: %d gains for %d rows", update, len(sel.Gains), sel.Len())
		}
	}
}

// NegEuclidean from features is UniPROT over S_ij = -|x_i - y_j|: the same
// values as over that matrix computed here, and the same nearest
// prototypes as NegSqEuclidean.
func TestUniPROTNegEuclidean(t *testing.T) {
	ctx := newCtx(t)
	src, tgt := loadUniPROTFeatures(t, ctx)
	obj := must[*UniPROT](t)(NewUniPROTFromFeatures(ctx, src, tgt, NegEuclidean, 8, 0.05))
	defer obj.Close()
	rows, cols := src.Rows(), tgt.Rows()
	s := make([]float64, rows*cols)
	for i := int64(0); i < rows; i++ {
		x := src.Row(i)
		for j := int64(0); j < cols; j++ {
			d := 0.0
			for c, y := range tgt.Row(j) {
				d += (float64(x[c]) - float64(y)) * (float64(x[c]) - float64(y))
			}
			s[i*cols+j] = float64(float32(-math.Sqrt(d)))
		}
	}
	sm := must[*Dense](t)(NewDense(ctx, rows, cols, s, 0))
	byHand := must[*UniPROT](t)(NewUniPROT(ctx, sm, 8, 0.05))
	defer byHand.Close()
	sm.Close()
	// Negative similarities: greedy must not stop at the first negative gain.
	opt := must[*Optimizer](t)(NewOptimizer(ctx, Naive))
	defer opt.Close()
	must[any](t)(nil, opt.Set(ctx, "budget", 8))
	must[any](t)(nil, opt.Set(ctx, "stop_nonpositive", 0))
	sel := must[*Selection](t)(opt.Run(ctx, obj))
	if sel.Len() != 8 {
		t.Fatalf("%d prototypes, want 8", sel.Len())
	}
	plan, _ := must2f(t)(byHand.Plan(ctx, sel.Indices))
	want := transported(plan, s, sel.Indices, cols)
	sim, value, err := obj.TransportSimilarity(ctx, sel.Indices)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(sim-want) > 1e-5*math.Abs(want) {
		t.Errorf("<S_P, G> = %.15g, over the matrix computed here %.15g", sim, want)
	}
	if sim >= 0 || !(value-sim > 0) {
		t.Errorf("similarity %.15g (want < 0), value %.15g (want above it)", sim, value)
	}
	if f := must[float64](t)(byHand.Evaluate(ctx, sel.Indices)); math.Abs(value-f) > 1e-5*math.Abs(f) {
		t.Errorf("f = %.15g, over the matrix computed here %.15g", value, f)
	}
	sl := must[[]int64](t)(ReadNPYInt64(ctx, data("uniprot", "source_labels.npy")))
	tl := must[[]int64](t)(ReadNPYInt64(ctx, data("uniprot", "target_labels.npy")))
	acc := must[float64](t)(NNAccuracy(ctx, src, sl, sel.Indices, tgt, tl, NegEuclidean))
	sq := must[float64](t)(NNAccuracy(ctx, src, sl, sel.Indices, tgt, tl, NegSqEuclidean))
	if acc != sq {
		t.Errorf("1-NN accuracy %g with NegEuclidean, %g with NegSqEuclidean", acc, sq)
	}
	b := must[*Selection](t)(UniPROTSelectBatchSources(ctx, tgt, tl, 0.25, 0.05, NegEuclidean, UniPROTSolve))
	if b.Len() == 0 {
		t.Errorf("empty per-source selection")
	}
}

func must2f(t *testing.T) func(a []float64, b float64, err error) ([]float64, float64) {
	return func(a []float64, b float64, err error) ([]float64, float64) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return a, b
	}
}

func TestUniPROTSelectBatchSourcesErrors(t *testing.T) {
	ctx := newCtx(t)
	tgt := must[*Dense](t)(LoadDenseNPY(ctx, data("uniprot", "target.npy")))
	defer tgt.Close()
	for _, n := range []int64{0, tgt.Rows() - 1, tgt.Rows() + 1} {
		_, err := UniPROTSelectBatchSources(ctx, tgt, make([]int64, n), 0.25, 0.05, Cosine, UniPROTAppend)
		wantError(t, err, ErrInvalid, "sources")
	}
	_, err := UniPROTSelectBatchSources(ctx, tgt, nil, 0.25, 0.05, Cosine, UniPROTUpdate(7))
	wantError(t, err, ErrInvalid, "update")
	_, err = UniPROTSelectBatchSources(ctx, tgt, nil, 0, 0.05, Cosine, UniPROTAppend)
	wantError(t, err, ErrInvalid)
	_, err = UniPROTSelectBatchSources(ctx, tgt, nil, 0.25, 0.05, Similarity(9), UniPROTSolve)
	wantError(t, err, ErrInvalid, "similarity")
	tgt.Close()
	_, err = UniPROTSelectBatchSources(ctx, tgt, nil, 0.25, 0.05, Cosine, UniPROTAppend)
	wantError(t, err, ErrInvalid)
}

// Double greedy on the FB fixture over a ground set: a subset of it, in
// its order; the empty ground set selects nothing (it is not "all items");
// UniPROT cannot remove items and says so.
func TestDoubleGreedy(t *testing.T) {
	ctx := newCtx(t)
	z := must[*Csr](t)(LoadCsrNPZ(ctx, fx("fb", "Z.npz")))
	defer z.Close()
	obj := must[*FB](t)(NewFB(ctx, z, Log1p, 0, nil))
	defer obj.Close()
	ground := []int64{9, 3, 7, 1, 5}
	for _, randomized := range []bool{false, true} {
		sel, err := obj.DoubleGreedy(ctx, ground, randomized)
		if err != nil {
			t.Fatal(err)
		}
		pos := -1
		for _, i := range sel.Indices {
			p := indexOf(ground, i)
			if p <= pos {
				t.Fatalf("randomized %v: %v is not a subsequence of %v", randomized, sel.Indices, ground)
			}
			pos = p
		}
		// FB is monotone: double greedy keeps every item of positive gain.
		if sel.Len() == 0 || sel.Budget != int64(sel.Len()) || sel.Evaluations != 2*int64(len(ground)) {
			t.Errorf("%d items, budget %d, evaluations %d", sel.Len(), sel.Budget, sel.Evaluations)
		}
	}
	none := must[*Selection](t)(obj.DoubleGreedy(ctx, []int64{}, false))
	if none.Len() != 0 {
		t.Errorf("empty ground set selected %v", none.Indices)
	}
	all := must[*Selection](t)(obj.DoubleGreedy(ctx, nil, false))
	if all.Evaluations != 2*obj.Size() {
		t.Errorf("nil ground set: %d evaluations for %d items", all.Evaluations, obj.Size())
	}
	_, err := obj.DoubleGreedy(ctx, []int64{1, 1}, false)
	wantError(t, err, ErrInvalid)
	s := must[*Dense](t)(LoadDenseNPY(ctx, fx("uniprot", "S.npy")))
	defer s.Close()
	u := must[*UniPROT](t)(NewUniPROT(ctx, s, 10, 0.1))
	defer u.Close()
	_, err = u.DoubleGreedy(ctx, nil, false)
	wantError(t, err, ErrUnsupported, "remove items")
}

func indexOf(s []int64, v int64) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}
