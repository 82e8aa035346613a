// SPDX-License-Identifier: MIT

package subsel

import (
	"math"
	"reflect"
	"runtime"
	"sort"
	"testing"
)

// newTarot loads tests/fixtures/tarot as `subsel tarot` does (float64
// rows rounded to float32) and drops the matrices: the selector keeps them.
func newTarot(t *testing.T, ctx *Context) *Tarot {
	t.Helper()
	cand := must[*Dense](t)(LoadDenseNPY(ctx, fx("tarot", "candidates.npy")))
	targ := must[*Dense](t)(LoadDenseNPY(ctx, fx("tarot", "targets.npy")))
	tr := must[*Tarot](t)(NewTarot(ctx, cand, targ))
	cand.Close()
	targ.Close()
	runtime.GC()
	t.Cleanup(func() { tr.Close() })
	return tr
}

func sorted(s []int64) []int64 {
	c := append([]int64(nil), s...)
	sort.Slice(c, func(i, j int) bool { return c[i] < c[j] })
	return c
}

func sum(s []int64) (n int64) {
	for _, v := range s {
		n += v
	}
	return n
}

// tarot.sh: --ratio 0.2 --reference-compatible --weights 0: the fixture's
// 40 candidates, and reference weights for them and the 50 targets that
// sum to N = 200; then OTM with the fixture's folds, byte for byte the
// fixture's selections (158 reference-compatible, 147 at the minimum),
// with weights 250.
func TestTarotAsTheCLI(t *testing.T) {
	ctx := newCtx(t)
	must[any](t)(nil, ctx.Set("threads", 1))
	tr := newTarot(t, ctx)
	must[any](t)(nil, tr.Set(ctx, "reference", 1))
	if v := must[int64](t)(tr.GetInt(ctx, "reference")); v != 1 {
		t.Fatalf("reference reads %d", v)
	}
	fixed := must[*Selection](t)(tr.SelectFixed(ctx, 40))
	want := must[[]int64](t)(ReadNPYInt64(ctx, fx("tarot", "fixed_size_reference.npy")))
	if !reflect.DeepEqual(sorted(fixed.Indices), sorted(want)) || fixed.Budget != 40 || fixed.Short != ShortNone {
		t.Fatalf("fixed: %v (budget %d, short %v), fixture %v", fixed.Indices, fixed.Budget, fixed.Short, want)
	}
	w := must[[]int64](t)(TarotWeightsReference(ctx, fixed.Gains, tr.Targets(), tr.Candidates()))
	if len(w) != 90 || sum(w) != 200 {
		t.Fatalf("reference weights: %d values summing to %d", len(w), sum(w))
	}
	folds := must[[]int64](t)(ReadNPYInt64(ctx, fx("tarot", "target_folds.npy")))
	otm := must[*Selection](t)(tr.SelectOTM(ctx, 5, folds))
	want = must[[]int64](t)(ReadNPYInt64(ctx, fx("tarot", "otm_reference.npy")))
	if !reflect.DeepEqual(otm.Indices, want) {
		t.Fatalf("OTM (reference): %d items, fixture %d", otm.Len(), len(want))
	}

	argmin := newTarot(t, ctx)
	otm = must[*Selection](t)(argmin.SelectOTM(ctx, 5, folds))
	want = must[[]int64](t)(ReadNPYInt64(ctx, fx("tarot", "otm_argmin.npy")))
	if !reflect.DeepEqual(otm.Indices, want) || otm.Budget != 147 {
		t.Fatalf("OTM (argmin): %d items, fixture %d", otm.Len(), len(want))
	}
	w = must[[]int64](t)(TarotWeights(ctx, otm.Gains, 250))
	if len(w) != 147 || sum(w) != 250 {
		t.Fatalf("weights: %d values summing to %d", len(w), sum(w))
	}
	// The largest total, 2^53, is exact.
	w = must[[]int64](t)(TarotWeights(ctx, otm.Gains, 1<<53))
	if sum(w) != 1<<53 {
		t.Fatalf("weights sum to %d, not 2^53", sum(w))
	}
}

// The fixture's whitened rows U, V, cosine scores, and OT(all candidates,
// targets): f, g and the loss of expected.json.
func TestTarotWhitenScoresOT(t *testing.T) {
	ctx := newCtx(t)
	tr := newTarot(t, ctx)
	u, v, err := tr.Whiten(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tr.Close() // the views keep the whitened rows
	runtime.GC()
	for name, m := range map[string]*Dense{"U.npy": u, "V.npy": v} {
		shape, want := readNPY(t, fx("tarot", name))
		if m.Rows() != shape[0] || m.Cols() != shape[1] {
			t.Fatalf("%s: %d x %d, fixture %v", name, m.Rows(), m.Cols(), shape)
		}
		got := make([]float64, 0, len(want))
		for r := int64(0); r < m.Rows(); r++ {
			for _, x := range m.Row(r) {
				got = append(got, float64(x))
			}
		}
		if d := maxAbsDiff(got, want); d > 1e-4 {
			t.Errorf("%s differs by %g", name, d)
		}
		m.Close()
	}

	tr = newTarot(t, ctx)
	scores, dist, err := tr.Scores(ctx, 0, 200, 0, 50)
	if err != nil {
		t.Fatal(err)
	}
	_, want := readNPY(t, fx("tarot", "score.npy"))
	got := make([]float64, len(scores))
	for i, s := range scores {
		got[i] = float64(s)
		// unit rows: |u - v|^2 = 2 - 2 u.v
		if d := float64(dist[i]) - math.Sqrt(math.Max(0, 2-2*got[i])); math.Abs(d) > 1e-3 {
			t.Fatalf("distance %d: %g for score %g", i, dist[i], got[i])
		}
	}
	if d := maxAbsDiff(got, want); d > 1e-4 {
		t.Errorf("scores differ by %g", d)
	}
	idx, top, err := tr.TopK(ctx, 3)
	if err != nil {
		t.Fatal(err)
	}
	for j := 0; j < 50; j++ {
		if top[3*j] < top[3*j+1] || scores[idx[3*j]*50+int64(j)] != top[3*j] {
			t.Fatalf("target %d: top %v of %v", j, top[3*j:3*j+3], idx[3*j:3*j+3])
		}
	}
	f, g, loss, err := tr.OT(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, wf := readNPY(t, fx("tarot", "f.npy"))
	_, wg := readNPY(t, fx("tarot", "g.npy"))
	if df, dg := maxAbsDiff(f, wf), maxAbsDiff(g, wg); df > 1e-4 || dg > 1e-4 {
		t.Errorf("potentials differ by %g and %g", df, dg)
	}
	if want := expected(t, "tarot", "loss"); math.Abs(loss-want) > 1e-5 {
		t.Errorf("loss %.12g, fixture %.12g", loss, want)
	}
}

// Seeded folds repeat themselves; tarot.sh's bad arguments are typed
// errors with the library's messages.
func TestTarotFoldsAndErrors(t *testing.T) {
	ctx := newCtx(t)
	must[any](t)(nil, ctx.Set("seed", 3))
	tr := newTarot(t, ctx)
	a := must[[]int64](t)(tr.Folds(ctx, 4))
	b := must[[]int64](t)(tr.Folds(ctx, 4))
	if !reflect.DeepEqual(a, b) || len(a) != 50 {
		t.Fatalf("seeded folds differ: %v %v", a, b)
	}
	_, err := tr.SelectOTM(ctx, 1, nil)
	wantError(t, err, ErrInvalid, "folds")
	_, err = tr.SelectOTM(ctx, 5, []int64{0, 1})
	wantError(t, err, ErrInvalid, "targets")
	_, err = tr.SelectFixed(ctx, 201)
	wantError(t, err, ErrInvalid, "budget")
	wantError(t, tr.Set(ctx, "whiten", 3), ErrInvalid, "whiten")
	wantError(t, tr.Set(ctx, "eps", -1), ErrInvalid, "eps")
	// ot_memory bounds each OT solve's stored costs: the same selection.
	lean := newTarot(t, ctx)
	if v := must[int64](t)(lean.GetInt(ctx, "ot_memory")); v != 512<<20 {
		t.Fatalf("ot_memory reads %d", v)
	}
	must[any](t)(nil, lean.Set(ctx, "ot_memory", 0))
	stored := must[*Selection](t)(newTarot(t, ctx).SelectFixed(ctx, 40))
	recomputed := must[*Selection](t)(lean.SelectFixed(ctx, 40))
	if !reflect.DeepEqual(stored.Indices, recomputed.Indices) {
		t.Fatalf("ot_memory 0 changed the selection: %v, %v", recomputed.Indices, stored.Indices)
	}
	wantError(t, lean.Set(ctx, "ot_memory", -1), ErrInvalid, "ot_memory")
	_, err = TarotWeights(ctx, []float64{1, 2}, 1<<53+1)
	wantError(t, err, ErrInvalid, "2^53")
	_, err = TarotWeights(ctx, []float64{1, math.NaN()}, 10)
	wantError(t, err, ErrNumeric)
	// A projection whose covariance cannot fit fails at once.
	must[any](t)(nil, tr.Set(ctx, "proj_dim", 1048576))
	_, err = tr.SelectFixed(ctx, 40)
	wantError(t, err, ErrNoMem, "covariance")
	// Whitening parameters are frozen once the rows are whitened.
	w := newTarot(t, ctx)
	must[*Selection](t)(w.SelectFixed(ctx, 40))
	wantError(t, w.Set(ctx, "proj_dim", 8), ErrState)
	c := must[*Dense](t)(LoadDenseNPY(ctx, fx("tarot", "candidates.npy")))
	defer c.Close()
	x := must[*Dense](t)(NewDense(ctx, 2, 3, []float32{1, 2, 3, 4, 5, 6}, 0))
	defer x.Close()
	_, err = NewTarot(ctx, c, x)
	wantError(t, err, ErrInvalid)
}
