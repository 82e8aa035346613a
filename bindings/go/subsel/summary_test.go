// SPDX-License-Identifier: MIT

package subsel

// Selection across processes, in one process, as tests/test_distributed.c
// and the Rust crate's tests/distributed.rs check it: row-range parts of a
// random pool (views, SDM with the whole pool as target), global ids in
// range, values against the whole pool's objective, GreeDi's merge (at
// least the best part, order-independent, within 1% of one lazy greedy
// over the whole pool), the byte form (round trip, every flipped byte
// refused), files, SDM's quality bins carried with the rows, and errors
// with the library's message.

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"sync"
	"testing"
)

// randomPool is a random nonnegative n x d CSR pool, about perRow entries a
// row concentrated on low columns (as the C tests' random_pool), from a
// fixed xorshift so every run sees the same pool.
func randomPool(t *testing.T, ctx *Context, seed uint64, n, d, perRow int) *Csr {
	t.Helper()
	state := seed*0x9E3779B97F4A7C15 | 1
	uniform := func() float64 {
		state ^= state << 13
		state ^= state >> 7
		state ^= state << 17
		return float64(state>>11) / float64(uint64(1)<<53)
	}
	indptr := []int64{0}
	var indices []int64
	var values []float32
	for r := 0; r < n; r++ {
		seen := map[int64]bool{}
		var cols []int64
		for j := 0; j < perRow; j++ {
			u := uniform()
			c := int64(u * u * u * float64(d))
			if !seen[c] {
				seen[c] = true
				cols = append(cols, c)
			}
		}
		sort.Slice(cols, func(a, b int) bool { return cols[a] < cols[b] })
		for _, c := range cols {
			indices = append(indices, c)
			values = append(values, float32(0.1+uniform()))
		}
		indptr = append(indptr, int64(len(indices)))
	}
	return must[*Csr](t)(NewCsr(ctx, int64(n), int64(d), indptr, indices, values))
}

// sdmPart is SDM over rows [first, first+count) of pool (a view), with the
// whole pool as the target, so every part measures the same thing.
func sdmPart(t *testing.T, ctx *Context, pool *Csr, first, count int64) *SDM {
	t.Helper()
	view := must[*Csr](t)(pool.ViewRows(ctx, first, count))
	defer view.Close() // the objective keeps it
	obj := must[*SDM](t)(NewSDM(ctx, view))
	if err := obj.SetTarget(ctx, pool); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { obj.Close() })
	return obj
}

func budgetOptimizer(t *testing.T, ctx *Context, algorithm Algorithm, budget int64) *Optimizer {
	t.Helper()
	opt := must[*Optimizer](t)(NewOptimizer(ctx, algorithm))
	if err := opt.Set(ctx, "budget", budget); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { opt.Close() })
	return opt
}

// summariseParts is the summaries of parts row ranges of pool (sizes
// differing by one).
func summariseParts(t *testing.T, ctx *Context, pool *Csr, opt *Optimizer, parts int64) []*Summary {
	t.Helper()
	n := pool.Rows()
	var out []*Summary
	for j := int64(0); j < parts; j++ {
		first, last := n*j/parts, n*(j+1)/parts
		part := sdmPart(t, ctx, pool, first, last-first)
		s := must[*Summary](t)(SummarySelect(ctx, opt, part, first, n))
		t.Cleanup(func() { s.Close() })
		out = append(out, s)
	}
	return out
}

// assertConsistent checks that the summary's f is f of its ids on the
// whole pool (evaluate refuses repeated and out-of-range ids), and gives f.
func assertConsistent(t *testing.T, ctx *Context, s *Summary, whole Objective) float64 {
	t.Helper()
	sel := must[*Selection](t)(s.Selection(ctx))
	if int64(sel.Len()) != s.Count() || len(sel.Gains) != sel.Len() {
		t.Fatalf("selection of %d items (%d gains), summary of %d", sel.Len(), len(sel.Gains), s.Count())
	}
	v := must[float64](t)(whole.base().Evaluate(ctx, sel.Indices))
	if math.Abs(v-sel.Value) > 1e-9*math.Abs(v) {
		t.Fatalf("summary f %v, f on the whole pool %v", sel.Value, v)
	}
	return sel.Value
}

func TestSummaryPartsHaveGlobalIDs(t *testing.T) {
	ctx := newCtx(t)
	pool := randomPool(t, ctx, 5, 900, 48, 6)
	defer pool.Close()
	whole := sdmPart(t, ctx, pool, 0, 900)
	opt := budgetOptimizer(t, ctx, Lazy, 40)
	for j, s := range summariseParts(t, ctx, pool, opt, 3) {
		if s.Count() != 40 || s.Total() != 900 {
			t.Fatalf("part %d: %d of %d", j, s.Count(), s.Total())
		}
		assertConsistent(t, ctx, s, whole)
		sel := must[*Selection](t)(s.Selection(ctx))
		rows := must[*Csr](t)(s.Rows(ctx))
		if rows.Rows() != 40 || rows.Cols() != 48 {
			t.Fatalf("rows %d x %d", rows.Rows(), rows.Cols())
		}
		for i, id := range sel.Indices {
			if id < 300*int64(j) || id >= 300*int64(j+1) {
				t.Fatalf("part %d: id %d out of its range", j, id)
			}
			// Row i of the summary is the pool's row id, entry for entry.
			gi, gv := must2(t)(rows.Row(int64(i)))
			wi, wv := must2(t)(pool.Row(id))
			if !reflect.DeepEqual(gi, wi) || !reflect.DeepEqual(gv, wv) {
				t.Fatalf("part %d: row %d is not pool row %d", j, i, id)
			}
		}
		rows.Close()
	}
	// A part smaller than the budget selects all it has.
	small := sdmPart(t, ctx, pool, 890, 10)
	s := must[*Summary](t)(SummarySelect(ctx, opt, small, 890, 900))
	defer s.Close()
	ids := must[*Selection](t)(s.Selection(ctx)).Indices
	sort.Slice(ids, func(a, b int) bool { return ids[a] < ids[b] })
	if !reflect.DeepEqual(ids, []int64{890, 891, 892, 893, 894, 895, 896, 897, 898, 899}) {
		t.Fatalf("small part: %v", ids)
	}
}

// must2 is must for calls returning two values and an error.
func must2(t *testing.T) func(a []int64, b []float32, err error) ([]int64, []float32) {
	return func(a []int64, b []float32, err error) ([]int64, []float32) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return a, b
	}
}

func TestSummaryMergeFollowsGreeDi(t *testing.T) {
	ctx := newCtx(t)
	pool := randomPool(t, ctx, 9, 2000, 64, 8)
	defer pool.Close()
	whole := sdmPart(t, ctx, pool, 0, 2000)
	opt := budgetOptimizer(t, ctx, Lazy, 60)
	single := must[*Selection](t)(opt.Run(ctx, whole))
	parts := summariseParts(t, ctx, pool, opt, 4)
	best := math.Inf(-1)
	for _, s := range parts {
		best = math.Max(best, assertConsistent(t, ctx, s, whole))
	}
	// Any part's objective will do as like.
	like := sdmPart(t, ctx, pool, 500, 500)
	merged := must[*Summary](t)(SummaryMerge(ctx, opt, like, parts...))
	defer merged.Close()
	reversed := must[*Summary](t)(SummaryMerge(ctx, opt, whole, parts[3], parts[2], parts[1], parts[0]))
	defer reversed.Close()
	a := must[*Selection](t)(merged.Selection(ctx))
	b := must[*Selection](t)(reversed.Selection(ctx))
	if a.Len() != 60 || !reflect.DeepEqual(a.Indices, b.Indices) {
		t.Fatalf("merge of %d items depends on the order: %v, %v", a.Len(), a.Indices, b.Indices)
	}
	value := assertConsistent(t, ctx, merged, whole)
	if value < best {
		t.Fatalf("merged %v < best part %v", value, best)
	}
	if value < 0.99*single.Value {
		t.Fatalf("merged %v, one greedy over the pool %v", value, single.Value)
	}
	if a.Evaluations <= 4*60 {
		t.Fatalf("%d evaluations: not those of every part and the merge", a.Evaluations)
	}
	// Two rounds of two: multi-round GreeDi.
	left := must[*Summary](t)(SummaryMerge(ctx, opt, like, parts[:2]...))
	defer left.Close()
	right := must[*Summary](t)(SummaryMerge(ctx, opt, like, parts[2:]...))
	defer right.Close()
	tree := must[*Summary](t)(SummaryMerge(ctx, opt, like, left, right))
	defer tree.Close()
	if v := assertConsistent(t, ctx, tree, whole); v < 0.99*single.Value {
		t.Fatalf("two rounds %v, one greedy %v", v, single.Value)
	}
}

func TestSummaryIsReadByGoroutines(t *testing.T) {
	ctx := newCtx(t)
	pool := randomPool(t, ctx, 12, 400, 24, 5)
	defer pool.Close()
	opt := budgetOptimizer(t, ctx, Lazy, 10)
	parts := summariseParts(t, ctx, pool, opt, 2)
	like := sdmPart(t, ctx, pool, 0, 10)
	want := must[[]byte](t)(parts[0].Bytes(ctx))
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := NewContext()
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			o, err := NewOptimizer(c, Lazy)
			if err == nil {
				defer o.Close()
				err = o.Set(c, "budget", 10)
			}
			if err != nil {
				errs <- err
				return
			}
			got, err := parts[0].Bytes(c)
			if err == nil && !bytes.Equal(got, want) {
				err = errorf(ErrState, "bytes differ between goroutines")
			}
			if err == nil {
				var m *Summary
				if m, err = SummaryMerge(c, o, like, parts...); err == nil {
					m.Close()
				}
			}
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// SDM's quality bins by edges (the same on every part) travel with the
// summaries' rows: the merge's value is f on the whole pool with bins; an
// objective without bins cannot merge rows that have them.
func TestSummaryBinsTravelWithRows(t *testing.T) {
	ctx := newCtx(t)
	pool := randomPool(t, ctx, 21, 600, 32, 5)
	defer pool.Close()
	quality := make([]float64, 600)
	for j := range quality {
		quality[j] = float64((j*37)%100) / 100
	}
	edges := []float64{0.3, 0.7}
	whole := sdmPart(t, ctx, pool, 0, 600)
	if err := whole.SetQualityEdges(ctx, quality, edges); err != nil {
		t.Fatal(err)
	}
	opt := budgetOptimizer(t, ctx, Lazy, 25)
	var parts []*SDM
	var summaries []*Summary
	for j := int64(0); j < 2; j++ {
		part := sdmPart(t, ctx, pool, 300*j, 300)
		if err := part.SetQualityEdges(ctx, quality[300*j:300*(j+1)], edges); err != nil {
			t.Fatal(err)
		}
		s := must[*Summary](t)(SummarySelect(ctx, opt, part, 300*j, 600))
		defer s.Close()
		assertConsistent(t, ctx, s, whole)
		parts = append(parts, part)
		summaries = append(summaries, s)
	}
	merged := must[*Summary](t)(SummaryMerge(ctx, opt, parts[1], summaries...))
	defer merged.Close()
	assertConsistent(t, ctx, merged, whole)
	plain := sdmPart(t, ctx, pool, 0, 10)
	_, err := SummaryMerge(ctx, opt, plain, summaries...)
	wantError(t, err, ErrInvalid, "quality bins")
}

func TestSummaryBytesRoundTripAndRefuseDamage(t *testing.T) {
	ctx := newCtx(t)
	pool := randomPool(t, ctx, 3, 200, 16, 4)
	defer pool.Close()
	part := sdmPart(t, ctx, pool, 100, 100)
	opt := budgetOptimizer(t, ctx, Stochastic, 12)
	s := must[*Summary](t)(SummarySelect(ctx, opt, part, 100, 200))
	defer s.Close()
	data := must[[]byte](t)(s.Bytes(ctx))
	back := must[*Summary](t)(SummaryFromBytes(ctx, data))
	if again := must[[]byte](t)(back.Bytes(ctx)); !bytes.Equal(again, data) {
		t.Fatal("bytes differ after a round trip")
	}
	if !reflect.DeepEqual(must[*Selection](t)(back.Selection(ctx)), must[*Selection](t)(s.Selection(ctx))) {
		t.Fatal("selection differs after a round trip")
	}
	back.Close()
	for i := range data {
		damaged := append([]byte(nil), data...)
		damaged[i] ^= 0x41
		_, err := SummaryFromBytes(ctx, damaged)
		// The CRC is checked first: every damaged byte (also in the
		// format version) is ErrFormat.
		wantError(t, err, ErrFormat)
	}
	for _, cut := range []int{0, 1, len(data) / 2, len(data) - 1} {
		_, err := SummaryFromBytes(ctx, data[:cut])
		wantError(t, err, ErrFormat)
	}
	// Files hold the same bytes.
	path := filepath.Join(t.TempDir(), "part.sss")
	if err := s.Save(ctx, path); err != nil {
		t.Fatal(err)
	}
	if onDisk := must[[]byte](t)(os.ReadFile(path)); !bytes.Equal(onDisk, data) {
		t.Fatal("the file is not the byte form")
	}
	loaded := must[*Summary](t)(LoadSummary(ctx, path))
	defer loaded.Close()
	if got := must[[]byte](t)(loaded.Bytes(ctx)); !bytes.Equal(got, data) {
		t.Fatal("loaded summary differs")
	}
	_, err := LoadSummary(ctx, "/nonexistent/x.sss")
	wantError(t, err, ErrIO)
}

func TestSummaryErrors(t *testing.T) {
	ctx := newCtx(t)
	pool := randomPool(t, ctx, 4, 100, 12, 3)
	defer pool.Close()
	part := sdmPart(t, ctx, pool, 0, 50)
	opt := budgetOptimizer(t, ctx, Lazy, 5)
	_, err := SummarySelect(ctx, opt, part, 60, 100)
	wantError(t, err, ErrInvalid, "does not fit a pool")
	_, err = SummarySelect(ctx, opt, part, -1, 100)
	wantError(t, err, ErrInvalid)
	_, err = SummarySelect(ctx, nil, part, 0, 100)
	wantError(t, err, ErrInvalid)
	_, err = SummarySelect(ctx, opt, nil, 0, 100)
	wantError(t, err, ErrInvalid)

	// Objectives not over CSR rows cannot be split.
	points := must[*Dense](t)(NewDense(ctx, 4, 2, []float32{1, 0, 0, 1, 1, 1, 0, 0}, 0))
	defer points.Close()
	up := must[*UniPROT](t)(NewUniPROT(ctx, points, 2, 0.1))
	defer up.Close()
	_, err = SummarySelect(ctx, opt, up, 0, 4)
	wantError(t, err, ErrUnsupported, "FB or SDM")

	// Merges: none, of different pools, overlapping, other columns.
	a := must[*Summary](t)(SummarySelect(ctx, opt, part, 0, 100))
	defer a.Close()
	other := must[*Summary](t)(SummarySelect(ctx, opt, part, 0, 101))
	defer other.Close()
	_, err = SummaryMerge(ctx, opt, part)
	wantError(t, err, ErrInvalid)
	_, err = SummaryMerge(ctx, opt, part, a, other)
	wantError(t, err, ErrInvalid, "not parts of one pool")
	_, err = SummaryMerge(ctx, opt, part, a, a)
	wantError(t, err, ErrInvalid, "disjoint")
	narrowPool := randomPool(t, ctx, 4, 10, 13, 3)
	defer narrowPool.Close()
	narrow := sdmPart(t, ctx, narrowPool, 0, 10)
	_, err = SummaryMerge(ctx, opt, narrow, a)
	wantError(t, err, ErrInvalid, "columns")
	_, err = SummaryMerge(ctx, opt, up, a)
	wantError(t, err, ErrUnsupported)

	// A closed summary is an error, never a crash.
	closed := must[*Summary](t)(SummarySelect(ctx, opt, part, 0, 100))
	closed.Close()
	_, err = SummaryMerge(ctx, opt, part, a, closed)
	wantError(t, err, ErrInvalid, "Summary used after Close")
	_, err = closed.Bytes(ctx)
	wantError(t, err, ErrInvalid, "Summary used after Close")
	if closed.Count() != 0 || closed.Total() != 0 {
		t.Fatal("a closed summary has items")
	}

	// The shape of a shard without its arrays.
	path := fx("sdm", "source.npz")
	m := must[*Csr](t)(LoadCsrNPZ(ctx, path))
	defer m.Close()
	rows, cols, err := CSRNpzShape(ctx, path)
	if err != nil || rows != m.Rows() || cols != m.Cols() {
		t.Fatalf("shape %d x %d (%v), matrix %d x %d", rows, cols, err, m.Rows(), m.Cols())
	}
	_, _, err = CSRNpzShape(ctx, "/nonexistent.npz")
	wantError(t, err, ErrIO)
}

func TestMPISelectFailsCleanlyWithoutMPI(t *testing.T) {
	// Without an MPI component, or with MPI not initialised, the call is
	// refused with a message (the MPI runs themselves are tests/mpi's).
	ctx := newCtx(t)
	pool := randomPool(t, ctx, 4, 50, 8, 3)
	defer pool.Close()
	part := sdmPart(t, ctx, pool, 0, 50)
	opt := budgetOptimizer(t, ctx, Stochastic, 5)
	sel, err := MPISelect(ctx, opt, part, DistributedExact, 0)
	if sel != nil || err == nil {
		t.Fatalf("MPISelect without MPI running: %v, %v", sel, err)
	}
	if MPIAvailable() {
		wantError(t, err, ErrState, "not initialised")
	} else {
		wantError(t, err, ErrUnsupported)
	}
	t.Logf("MPI component: %v; %v", MPIAvailable(), err)
}

func TestFaninIsAnOptimizerParameter(t *testing.T) {
	// From the library's table, as every parameter: no constant here.
	ctx := newCtx(t)
	p := must[Param](t)(FindParam(KindOptimizer, "fanin"))
	if p.Type != IntParam {
		t.Fatalf("fanin: %+v", p)
	}
	opt := budgetOptimizer(t, ctx, Lazy, 5)
	if err := opt.Set(ctx, "fanin", 3); err != nil {
		t.Fatal(err)
	}
	if v := must[int64](t)(opt.GetInt(ctx, "fanin")); v != 3 {
		t.Fatalf("fanin %d", v)
	}
}
