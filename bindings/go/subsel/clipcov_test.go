// SPDX-License-Identifier: MIT

package subsel

import (
	"math"
	"reflect"
	"strings"
	"testing"
)

type clipcovData struct {
	image, text, labelEmb *Dense
	labels, sparse        []int64
}

// tests/data/clipcov, the data clipcov.sh runs on: 200 pairs, d = 16,
// 5 classes.
func loadClipCov(t *testing.T, ctx *Context) clipcovData {
	t.Helper()
	d := clipcovData{
		image:    must[*Dense](t)(LoadDenseNPY(ctx, data("clipcov", "image.npy"))),
		text:     must[*Dense](t)(LoadDenseNPY(ctx, data("clipcov", "text.npy"))),
		labelEmb: must[*Dense](t)(LoadDenseNPY(ctx, data("clipcov", "label_emb.npy"))),
		labels:   must[[]int64](t)(ReadNPYInt64(ctx, data("clipcov", "labels.npy"))),
		sparse:   must[[]int64](t)(ReadNPYInt64(ctx, data("clipcov", "labels_sparse.npy"))),
	}
	t.Cleanup(func() { d.image.Close(); d.text.Close(); d.labelEmb.Close() })
	return d
}

// clipcov (as the CLI runs it): the objective's own optimizer to budget,
// then the filter.
func clipcovSelect(t *testing.T, ctx *Context, obj *ClipCov, budget int64, filter ClipCovFilter) (sel, greedy *Selection) {
	t.Helper()
	opt := must[*Optimizer](t)(obj.Optimizer(ctx, budget))
	defer opt.Close()
	sel, greedy, err := obj.Select(ctx, opt, filter)
	if err != nil {
		t.Fatal(err)
	}
	return sel, greedy
}

// clipcov.sh "given": labels, budget 150, on 1 and 2 threads.
func TestClipCovGivenLabelsAsTheCLI(t *testing.T) {
	ctx := newCtx(t)
	must[any](t)(nil, ctx.Set("threads", 1))
	d := loadClipCov(t, ctx)
	obj := must[*ClipCov](t)(NewClipCov(ctx, d.image, d.text, d.labelEmb, d.labels, false))
	defer obj.Close()
	classes := must[[]int64](t)(obj.Classes(ctx))
	if obj.Size() != 200 || obj.ClassCount() != 5 || !reflect.DeepEqual(classes, d.labels) {
		t.Fatalf("%d pairs, %d classes", obj.Size(), obj.ClassCount())
	}
	// The paper's alpha from the data: NumPy's mean(sim) / mean(text.text)
	// on these embeddings is 0.6304482343464631; reading it leaves alpha
	// at the library's 0.5.
	alpha := must[float64](t)(obj.DataAlpha(ctx))
	if math.Abs(alpha-0.6304482343464631) > 1e-12 {
		t.Fatalf("data alpha %.17g", alpha)
	}
	if a := must[float64](t)(obj.GetReal(ctx, "alpha")); a != 0.5 {
		t.Fatalf("alpha %g after DataAlpha", a)
	}
	sel, greedy := clipcovSelect(t, ctx, obj, 150, FilterDeterministic)
	if sel.Len() < 1 || sel.Len() > 150 || greedy.Len() < sel.Len() || sel.Value < greedy.Value {
		t.Fatalf("selected %d (%g), greedy %d (%g)", sel.Len(), sel.Value, greedy.Len(), greedy.Value)
	}
	if sel.Budget != 150 || sel.Short != ShortNone {
		t.Fatalf("budget %d, short %v", sel.Budget, sel.Short)
	}
	c2 := newCtx(t)
	must[any](t)(nil, c2.Set("threads", 2))
	again, _ := clipcovSelect(t, c2, obj, 150, FilterDeterministic)
	if !reflect.DeepEqual(again.Indices, sel.Indices) {
		t.Fatal("1 and 2 threads select differently")
	}

	// Labels without label embeddings: the same selection from labels
	// 0..4 and from labels up to INT64_MAX.
	var runs [2][]int64
	for i, labels := range [][]int64{d.labels, d.sparse} {
		o := must[*ClipCov](t)(NewClipCov(ctx, d.image, d.text, nil, labels, false))
		if o.ClassCount() != 5 {
			t.Fatalf("labels %d: %d classes", i, o.ClassCount())
		}
		s, _ := clipcovSelect(t, ctx, o, 150, FilterDeterministic)
		runs[i] = s.Indices
		o.Close()
	}
	if !reflect.DeepEqual(runs[0], runs[1]) {
		t.Fatal("sparse labels select differently")
	}
}

// clipcov.sh "filtered": zero-shot classes, budget 190; the filter leaves
// the selection short and says so. What `subsel clipcov` prints for it:
// 166 selected, objective 165.3747379052248.
func TestClipCovFilteredAsTheCLI(t *testing.T) {
	ctx := newCtx(t)
	must[any](t)(nil, ctx.Set("threads", 1))
	d := loadClipCov(t, ctx)
	obj := must[*ClipCov](t)(NewClipCov(ctx, d.image, d.text, d.labelEmb, nil, false))
	defer obj.Close()
	sel, _ := clipcovSelect(t, ctx, obj, 190, FilterDeterministic)
	if sel.Len() != 166 || sel.Budget != 190 || sel.Short != ShortFiltered ||
		!strings.Contains(sel.Short.String(), "double greedy") {
		t.Fatalf("selected %d, budget %d, short %q", sel.Len(), sel.Budget, sel.Short)
	}
	if math.Abs(sel.Value-165.3747379052248) > 1e-9*165.3747379052248 {
		t.Errorf("objective %.16g, the CLI's 165.3747379052248", sel.Value)
	}
	none, greedy := clipcovSelect(t, ctx, obj, 190, FilterNone)
	if !reflect.DeepEqual(none.Indices, greedy.Indices) {
		t.Fatal("FilterNone changed the greedy result")
	}
	// Double greedy over the greedy result is a subset of it.
	dg := must[*Selection](t)(obj.DoubleGreedy(ctx, greedy.Indices, false))
	in := map[int64]bool{}
	for _, i := range greedy.Indices {
		in[i] = true
	}
	for _, i := range dg.Indices {
		if !in[i] {
			t.Fatalf("double greedy chose %d outside the ground set", i)
		}
	}
}

// clipcov.sh "rnd": randomised filter, seed 4, normalised, alpha 0.3,
// term weights 2,1,0.5,1,1, exact check: the same selection on 1 and 2
// threads.
func TestClipCovRandomizedRepeats(t *testing.T) {
	var runs [2][]int64
	for i, threads := range []int{1, 2} {
		ctx := newCtx(t)
		must[any](t)(nil, ctx.Set("threads", threads))
		must[any](t)(nil, ctx.Set("seed", 4))
		d := loadClipCov(t, ctx)
		obj := must[*ClipCov](t)(NewClipCov(ctx, d.image, d.text, d.labelEmb, nil, true))
		for name, v := range map[string]float64{"alpha": 0.3, "weight_intra": 2, "weight_self": 1,
			"weight_inter": 0.5, "weight_reg": 1, "weight_label": 1} {
			must[any](t)(nil, obj.Set(ctx, name, v))
		}
		if a := must[float64](t)(obj.GetReal(ctx, "alpha")); a != 0.3 {
			t.Fatalf("alpha reads %g", a)
		}
		must[bool](t)(obj.CheckSubmodular(ctx, true))
		sel, _ := clipcovSelect(t, ctx, obj, 120, FilterRandomized)
		runs[i] = sel.Indices
		obj.Close()
	}
	if !reflect.DeepEqual(runs[0], runs[1]) {
		t.Fatal("same seed, different selection")
	}
}

func TestClipCovErrors(t *testing.T) {
	ctx := newCtx(t)
	d := loadClipCov(t, ctx)
	bad := append([]int64(nil), d.labels...)
	bad[7] = 5
	_, err := NewClipCov(ctx, d.image, d.text, d.labelEmb, bad, false)
	wantError(t, err, ErrInvalid, "label")
	_, err = NewClipCov(ctx, d.image, d.text, d.labelEmb, d.labels[:10], false)
	wantError(t, err, ErrInvalid, "labels")
	_, err = NewClipCov(ctx, d.image, d.labelEmb, nil, d.labels, false)
	wantError(t, err, ErrInvalid)
	obj := must[*ClipCov](t)(NewClipCov(ctx, d.image, d.text, d.labelEmb, d.labels, false))
	defer obj.Close()
	wantError(t, obj.Set(ctx, "weight_inter", -1), ErrInvalid, "weight_inter")
	_, err = obj.Optimizer(ctx, 201)
	wantError(t, err, ErrInvalid, "budget")
	opt := must[*Optimizer](t)(obj.Optimizer(ctx, 10))
	defer opt.Close()
	_, _, err = obj.Select(ctx, opt, ClipCovFilter(7))
	wantError(t, err, ErrInvalid, "filter")
	_, _, err = obj.Select(ctx, nil, FilterNone)
	wantError(t, err, ErrInvalid, "optimizer")
}
