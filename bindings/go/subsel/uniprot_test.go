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

// uniprot.sh: -k 8 --reg 0.05 from features (cosine), naive greedy:
// NumPy's order, f = 7.590794962307694 and a 1-NN accuracy of 59/60.
func TestUniPROTFromFeaturesAsTheCLI(t *testing.T) {
	ctx := newCtx(t)
	src := must[*Dense](t)(LoadDenseNPY(ctx, data("uniprot", "source.npy")))
	tgt := must[*Dense](t)(LoadDenseNPY(ctx, data("uniprot", "target.npy")))
	defer src.Close()
	defer tgt.Close()
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
	src := must[*Dense](t)(LoadDenseNPY(ctx, data("uniprot", "source.npy")))
	defer src.Close()
	tgt := must[*Dense](t)(LoadDenseNPY(ctx, data("uniprot", "target.npy")))
	defer tgt.Close()
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
