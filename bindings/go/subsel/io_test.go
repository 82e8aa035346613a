// SPDX-License-Identifier: MIT

package subsel

import (
	"math"
	"path/filepath"
	"reflect"
	"testing"
)

// What the writers write, the library and the test's own reader read back.
func TestWritersRoundTrip(t *testing.T) {
	ctx := newCtx(t)
	dir := t.TempDir()
	f := []float64{0.5, -2, math.Inf(1)}
	must[any](t)(nil, WriteNPYFloat64(ctx, filepath.Join(dir, "f.npy"), f))
	if _, got := readNPY(t, filepath.Join(dir, "f.npy")); !reflect.DeepEqual(got, f) {
		t.Fatalf("f.npy reads %v", got)
	}
	i := []int64{3, 1, 1 << 40}
	must[any](t)(nil, WriteNPYInt64(ctx, filepath.Join(dir, "i.npy"), i))
	if got := must[[]int64](t)(ReadNPYInt64(ctx, filepath.Join(dir, "i.npy"))); !reflect.DeepEqual(got, i) {
		t.Fatalf("i.npy reads %v", got)
	}
	must[any](t)(nil, WriteNPYInt64(ctx, filepath.Join(dir, "empty.npy"), nil))
	if got := must[[]int64](t)(ReadNPYInt64(ctx, filepath.Join(dir, "empty.npy"))); len(got) != 0 {
		t.Fatalf("empty.npy reads %v", got)
	}
	err := WriteNPYInt64(ctx, filepath.Join(dir, "missing", "x.npy"), i)
	wantError(t, err, ErrIO, "missing")

	d := must[*Dense](t)(NewDense(ctx, 2, 3, []float32{0, 1.5, 0, 2, 0, 3}, 0))
	defer d.Close()
	must[any](t)(nil, d.SaveNPY(ctx, filepath.Join(dir, "d.npy")))
	shape, got := readNPY(t, filepath.Join(dir, "d.npy"))
	if !reflect.DeepEqual(shape, []int64{2, 3}) || !reflect.DeepEqual(got, []float64{0, 1.5, 0, 2, 0, 3}) {
		t.Fatalf("d.npy: %v %v", shape, got)
	}
	sums := must[[]float64](t)(d.ColumnSums(ctx))
	if !reflect.DeepEqual(sums, []float64{2, 1.5, 3}) {
		t.Fatalf("dense column sums %v", sums)
	}
	m := must[*Csr](t)(NewCsrFromDense(ctx, d))
	defer m.Close()
	if m.NNZ() != 3 {
		t.Fatalf("%d nonzeros", m.NNZ())
	}
	if sums := must[[]float64](t)(m.ColumnSums(ctx)); !reflect.DeepEqual(sums, []float64{2, 1.5, 3}) {
		t.Fatalf("CSR column sums %v", sums)
	}
	for _, compressed := range []bool{false, true} {
		path := filepath.Join(dir, "m.npz")
		must[any](t)(nil, m.SaveNPZ(ctx, path, compressed))
		back := must[*Csr](t)(LoadCsrNPZ(ctx, path))
		for r := int64(0); r < 2; r++ {
			i1, v1, _ := m.Row(r)
			i2, v2, _ := back.Row(r)
			if !reflect.DeepEqual(i1, i2) || !reflect.DeepEqual(v1, v2) {
				t.Fatalf("compressed %v: row %d reads %v %v, wrote %v %v", compressed, r, i2, v2, i1, v1)
			}
		}
		back.Close()
	}
}

// tarot.sh's projection: seeded, the same rows in batches as whole.
func TestTarotProject(t *testing.T) {
	ctx := newCtx(t)
	must[any](t)(nil, ctx.Set("seed", 3))
	x := must[*Dense](t)(LoadDenseNPY(ctx, fx("tarot", "candidates.npy")))
	defer x.Close()
	p := must[*Dense](t)(TarotProject(ctx, x, 8, Gaussian, 0))
	defer p.Close()
	if p.Rows() != 200 || p.Cols() != 8 {
		t.Fatalf("%d x %d", p.Rows(), p.Cols())
	}
	row := must[*Dense](t)(NewDense(ctx, 1, 16, x.Row(7), 0))
	defer row.Close()
	q := must[*Dense](t)(TarotProject(ctx, row, 8, Gaussian, 3))
	defer q.Close()
	if !reflect.DeepEqual(q.Row(0), p.Row(7)) {
		t.Fatalf("row 7 alone projects to %v, in the pool to %v", q.Row(0), p.Row(7))
	}
	_, err := TarotProject(ctx, x, 0, Gaussian, 0)
	wantError(t, err, ErrInvalid)
	_, err = TarotProject(ctx, x, 8, Projection(5), 0)
	wantError(t, err, ErrInvalid)
}

// map_files 1 (memory-mapped; SciPy's stored members copied from the
// mapping) and 0 (streamed) read the same matrices, stored or deflated.
func TestMappedAndCopiedLoadsAgree(t *testing.T) {
	mapped, copied := newCtx(t), newCtx(t)
	must[any](t)(nil, mapped.Set("map_files", 1))
	must[any](t)(nil, copied.Set("map_files", 0))
	if v := must[int64](t)(copied.GetInt("map_files")); v != 0 {
		t.Fatalf("map_files reads %d", v)
	}
	for _, name := range []string{"Z_uncompressed.npz", "Z.npz"} {
		a := must[*Csr](t)(LoadCsrNPZ(mapped, fx("fb", name)))
		b := must[*Csr](t)(LoadCsrNPZ(copied, fx("fb", name)))
		if a.Rows() != b.Rows() || a.Cols() != b.Cols() || a.NNZ() != b.NNZ() {
			t.Fatalf("%s: shapes differ", name)
		}
		for r := int64(0); r < a.Rows(); r++ {
			ia, va, errA := a.Row(r)
			ib, vb, errB := b.Row(r)
			if errA != nil || errB != nil || !reflect.DeepEqual(ia, ib) || !reflect.DeepEqual(va, vb) {
				t.Fatalf("%s row %d differs", name, r)
			}
		}
		a.Close()
		b.Close()
	}
}
