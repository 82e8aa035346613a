// SPDX-License-Identifier: MIT

package subsel

import (
	"errors"
	"math"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// The reference fixtures the CLI tests use (tests/cli/sdm.sh).
var fixtures = filepath.Join("..", "..", "..", "tests", "fixtures")

func fx(parts ...string) string { return filepath.Join(append([]string{fixtures}, parts...)...) }

func newCtx(t *testing.T) *Context {
	t.Helper()
	ctx, err := NewContext()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ctx.Close() })
	return ctx
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// wantError checks the status by errors.Is and that the library's message
// mentions each of words.
func wantError(t *testing.T, err error, status Status, words ...string) {
	t.Helper()
	if !errors.Is(err, status) {
		t.Fatalf("want %v, got %v", status, err)
	}
	var e *Error
	if !errors.As(err, &e) || e.Status != status {
		t.Fatalf("not an *Error with status %v: %#v", status, err)
	}
	for _, w := range words {
		if !strings.Contains(e.Message, w) {
			t.Fatalf("message %q does not mention %q", e.Message, w)
		}
	}
}

func closeDiff(a, b float64) bool { return math.Abs(a-b) <= 1e-4*math.Max(1, math.Abs(b)) }

// sdm.sh: fb --weights w.npy --concave log1p|sqrt --budget 12 --optimizer naive
func TestFBFixtureOrders(t *testing.T) {
	ctx := newCtx(t)
	z := must[*Csr](t)(LoadCsrNPZ(ctx, fx("fb", "Z.npz")))
	defer z.Close()
	w := must[[]float64](t)(ReadNPYFloat64(ctx, fx("fb", "w.npy")))
	for name, phi := range map[string]Concave{"log1p": Log1p, "sqrt": Sqrt} {
		obj := must[*FB](t)(NewFB(ctx, z, phi, 0, w))
		opt := must[*Optimizer](t)(NewOptimizer(ctx, Naive))
		if err := opt.Set(ctx, "budget", 12); err != nil {
			t.Fatal(err)
		}
		sel := must[*Selection](t)(opt.Run(ctx, obj))
		want := must[[]int64](t)(ReadNPYInt64(ctx, fx("fb", "order_"+name+".npy")))
		if !reflect.DeepEqual(sel.Indices, want) {
			t.Errorf("fb %s: order %v, fixture %v", name, sel.Indices, want)
		}
		values := must[[]float64](t)(ReadNPYFloat64(ctx, fx("fb", "values_"+name+".npy")))
		if !closeDiff(sel.Value, values[len(values)-1]) {
			t.Errorf("fb %s: value %g, fixture %g", name, sel.Value, values[len(values)-1])
		}
		if sel.Budget != 12 || sel.Short != ShortNone || len(sel.Gains) != 12 {
			t.Errorf("fb %s: budget %d short %v gains %d", name, sel.Budget, sel.Short, len(sel.Gains))
		}
		obj.Close()
		opt.Close()
	}
}

// sdm.sh: sdm --quality quality.npy --bins 3 --bin-weights 0,0.01,0.99
// --lambda 0.7 --budget 12 --optimizer lazy, the greedy order of the fixture.
func sdmFixture(t *testing.T, ctx *Context) *SDM {
	t.Helper()
	src := must[*Csr](t)(LoadCsrNPZ(ctx, fx("sdm", "source.npz")))
	tgt := must[*Csr](t)(LoadCsrNPZ(ctx, fx("sdm", "target.npz")))
	obj := must[*SDM](t)(NewSDM(ctx, src))
	// The objective keeps the source: drop every Go reference to the
	// matrices and collect, then run.
	src.Close()
	if err := obj.SetTarget(ctx, tgt); err != nil {
		t.Fatal(err)
	}
	tgt.Close()
	q := must[[]float64](t)(ReadNPYFloat64(ctx, fx("sdm", "quality.npy")))
	if err := obj.SetQuality(ctx, q, 3); err != nil {
		t.Fatal(err)
	}
	if err := obj.SetBinWeights(ctx, []float64{0, 0.01, 0.99}); err != nil {
		t.Fatal(err)
	}
	if err := obj.Set(ctx, "lambda", 0.7); err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	return obj
}

func TestSDMFixtureOrder(t *testing.T) {
	ctx := newCtx(t)
	obj := sdmFixture(t, ctx)
	defer obj.Close()
	opt := must[*Optimizer](t)(NewOptimizer(ctx, Lazy))
	defer opt.Close()
	if err := opt.Set(ctx, "budget", 12); err != nil {
		t.Fatal(err)
	}
	sel := must[*Selection](t)(opt.Run(ctx, obj))
	want := must[[]int64](t)(ReadNPYInt64(ctx, fx("sdm", "order.npy")))
	if !reflect.DeepEqual(sel.Indices, want) {
		t.Fatalf("sdm: order %v, fixture %v", sel.Indices, want)
	}
	values := must[[]float64](t)(ReadNPYFloat64(ctx, fx("sdm", "values.npy")))
	if !closeDiff(sel.Value, values[11]) {
		t.Errorf("sdm: value %g, fixture %g", sel.Value, values[11])
	}
	v := must[float64](t)(obj.Evaluate(ctx, sel.Indices))
	if !closeDiff(v, sel.Value) {
		t.Errorf("Evaluate %g, selection value %g", v, sel.Value)
	}
	// expected.json: "kl_after": "inf" (a target column left uncovered).
	if kl := must[float64](t)(obj.KL(ctx, sel.Indices)); !math.IsInf(kl, 1) {
		t.Errorf("KL %g, want +Inf", kl)
	}
}

// sdm.sh: --parts 3 gives the same selection on 1 and 2 threads, and
// --parts 80 --merge greedi (a part per row) is the fixture's greedy order.
func TestSDMRandomParts(t *testing.T) {
	ctx := newCtx(t)
	obj := sdmFixture(t, ctx)
	defer obj.Close()
	var runs [][]int64
	for _, threads := range []int{1, 2} {
		if err := ctx.Set("threads", threads); err != nil {
			t.Fatal(err)
		}
		opt := must[*Optimizer](t)(NewOptimizer(ctx, Stochastic))
		for name, v := range map[string]any{"budget": 20, "parts": 3} {
			if err := opt.Set(ctx, name, v); err != nil {
				t.Fatal(err)
			}
		}
		runs = append(runs, must[*Selection](t)(opt.Run(ctx, obj)).Indices)
		opt.Close()
	}
	if !reflect.DeepEqual(runs[0], runs[1]) || len(runs[0]) != 20 {
		t.Fatalf("parts 3: %v on 1 thread, %v on 2", runs[0], runs[1])
	}
	opt := must[*Optimizer](t)(NewOptimizer(ctx, Lazy))
	defer opt.Close()
	for name, v := range map[string]any{"budget": 12, "parts": 80, "merge": 1} {
		if err := opt.Set(ctx, name, v); err != nil {
			t.Fatal(err)
		}
	}
	sel := must[*Selection](t)(opt.Run(ctx, obj))
	want := must[[]int64](t)(ReadNPYInt64(ctx, fx("sdm", "order.npy")))
	if !reflect.DeepEqual(sel.Indices, want) {
		t.Fatalf("greedi with a part per row: %v, fixture %v", sel.Indices, want)
	}
	if err := opt.Set(ctx, "parts", 81); err != nil {
		t.Fatal(err)
	}
	if _, err := opt.Run(ctx, obj); !errors.Is(err, ErrInvalid) ||
		!strings.Contains(err.Error(), "parts 81 is larger than the pool") {
		t.Fatalf("parts 81: %v", err)
	}
}

// sdm.sh: --target-dist p_target.npy --budget 20 --optimizer lazier
// --runs 3 --seed 5 --threads 2: an intersection, listed ascending.
func TestSDMIntersection(t *testing.T) {
	ctx := newCtx(t)
	for name, v := range map[string]any{"seed": 5, "threads": 2} {
		if err := ctx.Set(name, v); err != nil {
			t.Fatal(err)
		}
	}
	src := must[*Csr](t)(LoadCsrNPZ(ctx, fx("sdm", "source_uncompressed.npz")))
	defer src.Close()
	obj := must[*SDM](t)(NewSDM(ctx, src))
	defer obj.Close()
	p := must[[]float64](t)(ReadNPYFloat64(ctx, fx("sdm", "p_target.npy")))
	if err := obj.SetTargetDistribution(ctx, p); err != nil {
		t.Fatal(err)
	}
	opt := must[*Optimizer](t)(NewOptimizer(ctx, Lazier))
	defer opt.Close()
	for name, v := range map[string]any{"budget": 20, "runs": 3} {
		if err := opt.Set(ctx, name, v); err != nil {
			t.Fatal(err)
		}
	}
	if got := must[int64](t)(opt.GetInt(ctx, "runs")); got != 3 {
		t.Fatalf("runs reads %d", got)
	}
	sel := must[*Selection](t)(opt.Run(ctx, obj))
	if sel.Budget != 20 || len(sel.Indices) > 20 || len(sel.Indices) == 0 {
		t.Fatalf("budget %d, %d items", sel.Budget, len(sel.Indices))
	}
	for i := 1; i < len(sel.Indices); i++ {
		if sel.Indices[i-1] >= sel.Indices[i] {
			t.Fatalf("intersection not ascending: %v", sel.Indices)
		}
	}
	if len(sel.Indices) < 20 && sel.Short != ShortIntersection {
		t.Fatalf("short selection with reason %v", sel.Short)
	}
}

// The errors sdm.sh expects of bad arguments, here as typed errors with
// the library's messages.
func TestErrors(t *testing.T) {
	ctx := newCtx(t)
	_, err := LoadCsrNPZ(ctx, fx("sdm", "none.npz"))
	wantError(t, err, ErrIO, "none.npz")

	obj := sdmFixture(t, ctx)
	defer obj.Close()
	opt := must[*Optimizer](t)(NewOptimizer(ctx, Lazy))
	defer opt.Close()
	must[any](t)(nil, opt.Set(ctx, "budget", 1000))
	_, err = opt.Run(ctx, obj)
	wantError(t, err, ErrInvalid, "budget")

	wantError(t, obj.Set(ctx, "lambda", 2), ErrInvalid, "lambda")
	if l := must[float64](t)(obj.GetReal(ctx, "lambda")); l != 0.7 {
		t.Fatalf("a refused lambda changed it to %g", l)
	}
	wantError(t, obj.SetBinWeights(ctx, []float64{1, 2}), ErrInvalid)
	wantError(t, opt.Set(ctx, "bogus", 1), ErrInvalid, "bogus")
	wantError(t, opt.Set(ctx, "budget", 1.5), ErrInvalid, "budget")
	wantError(t, opt.Set(ctx, "epsilon", 0), ErrInvalid, "epsilon")
	wantError(t, opt.Set(ctx, "budget", "ten"), ErrInvalid, "budget")

	// An SDM without a target cannot run.
	src := must[*Csr](t)(LoadCsrNPZ(ctx, fx("sdm", "source.npz")))
	bare := must[*SDM](t)(NewSDM(ctx, src))
	src.Close()
	_, err = opt.Run(ctx, bare)
	wantError(t, err, ErrState)
	bare.Close()

	z := must[*Csr](t)(LoadCsrNPZ(ctx, fx("fb", "Z.npz")))
	defer z.Close()
	_, err = NewFB(ctx, z, Concave(99), 0, nil)
	wantError(t, err, ErrInvalid)
	_, err = NewFB(ctx, z, Log1p, 0, []float64{1, 2})
	wantError(t, err, ErrInvalid, "weights")

	// Structure errors of caller arrays: the library names the row.
	_, err = NewCsr(ctx, 2, 3, []int32{0, 2, 3}, []int32{1, 0, 2}, []float32{1, 1, 1})
	wantError(t, err, ErrFormat)
	_, err = NewCsr(ctx, 2, 3, []int64{0, 1, 9}, []int64{1, 0}, []float64{1, 1})
	wantError(t, err, ErrInvalid, "indptr")
	_, err = NewDense(ctx, 1, 2, []float64{1, math.NaN()}, 0)
	wantError(t, err, ErrNumeric)
	if ErrCancelled.Error() == "" || Status(-99).Error() != "unknown status" {
		t.Fatalf("status strings: %q %q", ErrCancelled.Error(), Status(-99).Error())
	}
}

func TestCloseIsIdempotentAndUseAfterCloseFails(t *testing.T) {
	ctx := newCtx(t)
	m := must[*Csr](t)(NewCsr(ctx, 2, 3, []int64{0, 2, 3}, []int64{0, 2, 1}, []float32{1, 2, 3}))
	if m.Rows() != 2 || m.Cols() != 3 || m.NNZ() != 3 {
		t.Fatalf("sizes %d %d %d", m.Rows(), m.Cols(), m.NNZ())
	}
	m.Close()
	m.Close()
	_, err := NewSDM(ctx, m)
	wantError(t, err, ErrInvalid, "Csr used after Close")
	var zero Optimizer
	_, err = zero.Run(ctx, nil)
	wantError(t, err, ErrInvalid, "used after Close")
	c2 := must[*Context](t)(NewContext())
	c2.Close()
	_, err = NewOptimizer(c2, Lazy)
	wantError(t, err, ErrInvalid, "Context used after Close")
}

// OWN_COPY: the matrix holds its own copy, never Go's memory, so changing
// (or collecting) the slice afterwards changes nothing.
func TestDenseIsCopied(t *testing.T) {
	ctx := newCtx(t)
	data := []float32{1, 2, 9, 3, 4, 9} // 2 x 2, stride 3
	m := must[*Dense](t)(NewDense(ctx, 2, 2, data, 3))
	defer m.Close()
	if m.dataPointer() == uintptr(first(data)) {
		t.Fatal("the matrix aliases the Go slice")
	}
	data[3] = 100
	if got := m.Row(1); !reflect.DeepEqual(got, []float32{3, 4}) {
		t.Fatalf("row 1 = %v", got)
	}
	m64 := must[*Dense](t)(NewDense(ctx, 1, 3, []float64{0.5, 1, 2}, 0))
	defer m64.Close()
	if got := m64.Row(0); !reflect.DeepEqual(got, []float32{0.5, 1, 2}) {
		t.Fatalf("float64 row = %v", got)
	}
}

func TestParamsFromTheLibrary(t *testing.T) {
	ps := must[[]Param](t)(Params(KindOptimizer))
	byName := map[string]Param{}
	for _, p := range ps {
		byName[p.Name] = p
	}
	b, e := byName["budget"], byName["epsilon"]
	if b.Type != IntParam || b.IntMin != 0 || b.IntDefault != 0 || b.Doc == "" {
		t.Fatalf("budget: %+v", b)
	}
	if e.Type != RealParam || !e.OpenMin || !e.OpenMax || e.Default != 1e-3 {
		t.Fatalf("epsilon: %+v", e)
	}
	_, err := FindParam(KindSDM, "budget")
	wantError(t, err, ErrInvalid, "budget")
	l := must[Param](t)(FindParam(KindSDM, "lambda"))
	if l.Min != 0 || l.Max != 1 || l.Default != 0.7 {
		t.Fatalf("lambda: %+v", l)
	}
}

func TestProgressAndCancel(t *testing.T) {
	ctx := newCtx(t)
	obj := sdmFixture(t, ctx)
	defer obj.Close()
	opt := must[*Optimizer](t)(NewOptimizer(ctx, Lazy))
	defer opt.Close()
	must[any](t)(nil, opt.Set(ctx, "budget", 12))

	var last int64 = -1
	must[any](t)(nil, ctx.SetProgress(func(stage string, done, total int64) bool {
		if stage == "select" {
			last = done
		}
		return true
	}))
	must[*Selection](t)(opt.Run(ctx, obj))
	if last != 12 {
		t.Fatalf("last select progress %d, want 12", last)
	}
	must[any](t)(nil, ctx.SetProgress(func(stage string, done, total int64) bool { return done < 3 }))
	_, err := opt.Run(ctx, obj)
	wantError(t, err, ErrCancelled)

	must[any](t)(nil, ctx.SetProgress(func(string, int64, int64) bool { panic("boom") }))
	func() {
		defer func() {
			if r := recover(); r != "boom" {
				t.Fatalf("recovered %v, want the callback's panic", r)
			}
		}()
		opt.Run(ctx, obj)
		t.Fatal("the callback's panic was swallowed")
	}()
	// The context is usable again once the callback is removed.
	must[any](t)(nil, ctx.SetProgress(nil))
	sel := must[*Selection](t)(opt.Run(ctx, obj))
	if len(sel.Indices) != 12 {
		t.Fatalf("%d items after cancelling", len(sel.Indices))
	}
}

// One objective, several goroutines each with its own context: the same
// order in each (the objective is only read by runs).
func TestGoroutinesShareAnObjective(t *testing.T) {
	ctx := newCtx(t)
	obj := sdmFixture(t, ctx)
	defer obj.Close()
	want := must[[]int64](t)(ReadNPYInt64(ctx, fx("sdm", "order.npy")))
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for g := range errs {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			c, err := NewContext()
			if err != nil {
				errs[g] = err
				return
			}
			defer c.Close()
			opt, err := NewOptimizer(c, Lazy)
			if err != nil {
				errs[g] = err
				return
			}
			defer opt.Close()
			if err = opt.Set(c, "budget", 12); err != nil {
				errs[g] = err
				return
			}
			sel, err := opt.Run(c, obj)
			if err == nil && !reflect.DeepEqual(sel.Indices, want) {
				err = errorf(ErrState, "goroutine %d: order %v", g, sel.Indices)
			}
			errs[g] = err
		}(g)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// A nil matrix where one is expected is ErrInvalid, like a closed one,
// never a nil-pointer panic.
func TestNilMatricesAreErrors(t *testing.T) {
	ctx := newCtx(t)
	d := must[*Dense](t)(NewDense(ctx, 2, 2, []float32{1, 2, 3, 4}, 0))
	defer d.Close()
	var nd *Dense
	var nc *Csr
	_, err := NewSDM(ctx, nc)
	wantError(t, err, ErrInvalid, "never created")
	_, err = NewFB(ctx, nc, Log1p, 0, nil)
	wantError(t, err, ErrInvalid)
	_, err = NewTarot(ctx, nd, d)
	wantError(t, err, ErrInvalid)
	_, err = NewUniPROT(ctx, nd, 1, 0.1)
	wantError(t, err, ErrInvalid)
	_, err = NewUniPROTFromFeatures(ctx, d, nd, Cosine, 1, 0.1)
	wantError(t, err, ErrInvalid)
	_, err = NewClipCov(ctx, nd, d, nil, nil, false)
	wantError(t, err, ErrInvalid)
	_, err = NewSAE(ctx, nd, nil, nil)
	wantError(t, err, ErrInvalid)
	_, err = UniPROTSelectBatch(ctx, nd, 0.5, 0.1, Cosine)
	wantError(t, err, ErrInvalid)
	_, _, err = nc.Row(0)
	wantError(t, err, ErrInvalid)
	_, err = nc.ViewRows(ctx, 0, 1)
	wantError(t, err, ErrInvalid)
	if nd.Rows() != 0 || nc.NNZ() != 0 {
		t.Fatal("a nil matrix has sizes")
	}
}
