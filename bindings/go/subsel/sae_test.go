// SPDX-License-Identifier: MIT

package subsel

import (
	"math"
	"reflect"
	"runtime"
	"testing"
)

// encode.sh: `subsel encode --sae tests/data/sae --input X.npy --k 8`:
// 30 x 40 codes with 227 entries, the rows NumPy computed in float64
// (expected_indptr/indices/values.npy).
func TestSAEEncodeAsTheCLI(t *testing.T) {
	ctx := newCtx(t)
	sae := must[*SAE](t)(LoadSAE(ctx, data("sae")))
	defer sae.Close()
	if sae.Inputs() != 12 || sae.Features() != 40 {
		t.Fatalf("inputs %d, features %d", sae.Inputs(), sae.Features())
	}
	x := must[*Dense](t)(LoadDenseNPY(ctx, data("sae", "X.npy")))
	defer x.Close()
	z := must[*Csr](t)(sae.Encode(ctx, x, 8))
	defer z.Close()
	if z.Rows() != 30 || z.Cols() != 40 || z.NNZ() != 227 {
		t.Fatalf("codes %d x %d, %d entries", z.Rows(), z.Cols(), z.NNZ())
	}
	indptr := must[[]int64](t)(ReadNPYInt64(ctx, data("sae", "expected_indptr.npy")))
	indices := must[[]int64](t)(ReadNPYInt64(ctx, data("sae", "expected_indices.npy")))
	values := must[[]float64](t)(ReadNPYFloat64(ctx, data("sae", "expected_values.npy")))
	for r := int64(0); r < 30; r++ {
		idx, val, err := z.Row(r)
		if err != nil {
			t.Fatal(err)
		}
		lo, hi := indptr[r], indptr[r+1]
		if !reflect.DeepEqual(idx, indices[lo:hi]) {
			t.Fatalf("row %d: features %v, NumPy's %v", r, idx, indices[lo:hi])
		}
		for i, v := range val {
			if w := values[lo+int64(i)]; math.Abs(float64(v)-w) > 1e-4*math.Max(1, math.Abs(w)) {
				t.Fatalf("row %d, feature %d: %g, NumPy's %g", r, idx[i], v, w)
			}
		}
	}
}

// An encoder made from Go arrays: W closed at once (the encoder keeps it),
// the biases copied; the codes are the activations the test computes.
func TestSAEFromArrays(t *testing.T) {
	ctx := newCtx(t)
	// 3 features x 2 inputs.
	w := must[*Dense](t)(NewDense(ctx, 3, 2, []float32{1, 0, 0, 1, 1, 1}, 0))
	bEnc := []float32{0, -0.5, 0}
	bDec := []float32{0.5, 0}
	sae := must[*SAE](t)(NewSAE(ctx, w, bEnc, bDec))
	defer sae.Close()
	w.Close()
	bEnc[0], bDec[0] = 100, 100 // copied: changes nothing
	runtime.GC()
	x := must[*Dense](t)(NewDense(ctx, 2, 2, []float32{1.5, 2, -1, 0.25}, 0))
	defer x.Close()
	z := must[*Csr](t)(sae.Encode(ctx, x, 2))
	defer z.Close()
	// row 0: x - b_dec = (1, 2): activations (1, 1.5, 3) -> top 2: features 1, 2
	// row 1: (-1.5, 0.25): (0, 0, 0) after ReLU -> (-1.5, -0.25, -1.25): nothing
	idx, val, _ := z.Row(0)
	if !reflect.DeepEqual(idx, []int64{1, 2}) || !reflect.DeepEqual(val, []float32{1.5, 3}) {
		t.Fatalf("row 0: %v %v", idx, val)
	}
	if idx, _, _ := z.Row(1); len(idx) != 0 {
		t.Fatalf("row 1: %v", idx)
	}
	_, _, err := z.Row(2)
	wantError(t, err, ErrInvalid)
}

// encode.sh's bad arguments.
func TestSAEErrors(t *testing.T) {
	ctx := newCtx(t)
	sae := must[*SAE](t)(LoadSAE(ctx, data("sae")))
	defer sae.Close()
	x := must[*Dense](t)(LoadDenseNPY(ctx, data("sae", "X.npy")))
	defer x.Close()
	for _, k := range []int64{0, 41} {
		_, err := sae.Encode(ctx, x, k)
		wantError(t, err, ErrInvalid)
	}
	_, err := LoadSAE(ctx, data("sae", "missing"))
	wantError(t, err, ErrIO, "missing")
	b := must[*Dense](t)(LoadDenseNPY(ctx, data("sae", "b_enc.npy")))
	defer b.Close()
	_, err = sae.Encode(ctx, b, 8)
	wantError(t, err, ErrInvalid)
	_, err = NewSAE(ctx, x, []float32{1}, nil)
	wantError(t, err, ErrInvalid, "biases")
	_, err = NewSAE(ctx, x, nil, []float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, float32(math.NaN())})
	wantError(t, err, ErrNumeric)
}

// Row views share the pool's rows and outlive it; gathered rows are a
// copy in the order asked.
func TestCsrViewsAndGather(t *testing.T) {
	ctx := newCtx(t)
	src := must[*Csr](t)(LoadCsrNPZ(ctx, fx("sdm", "source.npz")))
	cols := src.Cols()
	type row struct {
		idx []int64
		val []float32
	}
	rows := make([]row, src.Rows())
	for r := range rows {
		i, v, err := src.Row(int64(r))
		if err != nil {
			t.Fatal(err)
		}
		rows[r] = row{i, v}
	}
	view := must[*Csr](t)(src.ViewRows(ctx, 10, 20))
	defer view.Close()
	gathered := must[*Csr](t)(src.GatherRows(ctx, []int64{5, 2}))
	defer gathered.Close()
	_, err := src.ViewRows(ctx, 70, 20)
	wantError(t, err, ErrInvalid)
	src.Close()
	runtime.GC()
	if view.Rows() != 20 || view.Cols() != cols || gathered.Rows() != 2 {
		t.Fatalf("view %d x %d, gathered %d rows", view.Rows(), view.Cols(), gathered.Rows())
	}
	for r := int64(0); r < 20; r++ {
		i, v, err := view.Row(r)
		if err != nil || !reflect.DeepEqual(row{i, v}, rows[10+r]) {
			t.Fatalf("view row %d differs (%v)", r, err)
		}
	}
	for k, r := range []int{5, 2} {
		i, v, _ := gathered.Row(int64(k))
		if !reflect.DeepEqual(row{i, v}, rows[r]) {
			t.Fatalf("gathered row %d differs", k)
		}
	}
	// An SDM objective over the view runs (the view is a matrix like any).
	obj := must[*SDM](t)(NewSDM(ctx, view))
	defer obj.Close()
	if obj.Size() != 20 {
		t.Fatalf("objective over the view has %d items", obj.Size())
	}
}

// sdm fixture: 3 bins by rank give bins.npy; explicit edges bin as
// numpy.digitize does.
func TestSDMQualityBins(t *testing.T) {
	ctx := newCtx(t)
	src := must[*Csr](t)(LoadCsrNPZ(ctx, fx("sdm", "source.npz")))
	defer src.Close()
	obj := must[*SDM](t)(NewSDM(ctx, src))
	defer obj.Close()
	_, err := obj.QualityBins(ctx)
	wantError(t, err, ErrState)
	q := must[[]float64](t)(ReadNPYFloat64(ctx, fx("sdm", "quality.npy")))
	must[any](t)(nil, obj.SetQuality(ctx, q, 3))
	want := must[[]int64](t)(ReadNPYInt64(ctx, fx("sdm", "bins.npy")))
	if got := must[[]int64](t)(obj.QualityBins(ctx)); !reflect.DeepEqual(got, want) {
		t.Fatalf("bins %v, fixture %v", got, want)
	}
	edges := []float64{0.25, 0.5, 0.75}
	must[any](t)(nil, obj.SetQualityEdges(ctx, q, edges))
	got := must[[]int64](t)(obj.QualityBins(ctx))
	for i, v := range q {
		n := int64(0)
		for _, e := range edges {
			if e <= v {
				n++
			}
		}
		if got[i] != n {
			t.Fatalf("row %d (quality %g): bin %d, digitize %d", i, v, got[i], n)
		}
	}
	wantError(t, obj.SetQualityEdges(ctx, q, []float64{0.5, 0.25}), ErrInvalid)
	wantError(t, obj.SetQualityEdges(ctx, q[:3], edges), ErrInvalid)
	must[any](t)(nil, obj.SetBinWeights(ctx, []float64{0, 0.1, 0.2, 0.7}))
}

// Three rows along (1, 2), active in latent 0 (by activation: rows 2, 0,
// 1), none in latent 1: MS 1, MT the mean of <x2, x0> and <x0, x1>; codes
// with a row more than x are refused.
func TestSaeScoresOfRowsPointingOneWay(t *testing.T) {
	ctx := newCtx(t)
	x := must[*Dense](t)(NewDense(ctx, 3, 2, []float32{1, 2, 2, 4, 3, 6}, 0))
	defer x.Close()
	z := must[*Csr](t)(NewCsr(ctx, 3, 2, []int64{0, 1, 2, 3}, []int64{0, 0, 0}, []float32{2, 1, 3}))
	defer z.Close()
	s := must[*SAEScores](t)(SaeScores(ctx, x, z))
	if math.Abs(s.MS-1) > 1e-15 || s.MT != 12.5 || s.MSLatents != 1 || s.MTLatents != 1 {
		t.Fatalf("%+v", s)
	}
	if !math.IsNaN(s.MSPerLatent[1]) || !math.IsNaN(s.MTPerLatent[1]) {
		t.Fatalf("latent 1 scored: %+v", s)
	}
	x2 := must[*Dense](t)(NewDense(ctx, 2, 2, []float32{1, 2, 2, 4}, 0))
	defer x2.Close()
	_, err := SaeScores(ctx, x2, z)
	wantError(t, err, ErrInvalid, "codes has 3 rows but x has 2")
}

// tests/cli/sae_score.sh's data: 37 of the 40 latents scored, the same bits
// on one thread.
func TestSaeScoresOfTheEncoder(t *testing.T) {
	ctx := newCtx(t)
	sae := must[*SAE](t)(LoadSAE(ctx, data("sae")))
	defer sae.Close()
	x := must[*Dense](t)(LoadDenseNPY(ctx, data("sae", "X.npy")))
	defer x.Close()
	z := must[*Csr](t)(sae.Encode(ctx, x, 8))
	defer z.Close()
	s := must[*SAEScores](t)(SaeScores(ctx, x, z))
	if s.MSLatents != 37 || s.MTLatents != 37 || s.MS <= 0 || s.MS > 1 {
		t.Fatalf("%+v", s)
	}
	if err := ctx.Set("threads", 1); err != nil {
		t.Fatal(err)
	}
	one := must[*SAEScores](t)(SaeScores(ctx, x, z))
	for i := range s.MSPerLatent {
		if math.Float64bits(one.MSPerLatent[i]) != math.Float64bits(s.MSPerLatent[i]) ||
			math.Float64bits(one.MTPerLatent[i]) != math.Float64bits(s.MTPerLatent[i]) {
			t.Fatalf("latent %d differs with one thread", i)
		}
	}
}
