// SPDX-License-Identifier: MIT

package subsel

import (
	"math"
	"math/rand"
	"testing"
)

// otFixture loads a, b and the cost matrix M of tests/fixtures/<name>.
func otFixture(t *testing.T, ctx *Context, name string) (a, b []float64, cost *CostMatrix) {
	a = must[[]float64](t)(ReadNPYFloat64(ctx, fx(name, "a.npy")))
	b = must[[]float64](t)(ReadNPYFloat64(ctx, fx(name, "b.npy")))
	shape, m := readNPY(t, fx(name, "M.npy"))
	return a, b, &CostMatrix{Rows: shape[0], Cols: shape[1], Data: m}
}

// The C tests' POT references: ot.sinkhorn(a, b, M, 0.05), with and
// without annealing; the potentials give the plan back.
func TestSinkhornReproducesPOT(t *testing.T) {
	ctx := newCtx(t)
	a, b, cost := otFixture(t, ctx, "ot_sinkhorn")
	_, want := readNPY(t, fx("ot_sinkhorn", "plan.npy"))
	reg := expected(t, "ot_sinkhorn", "reg")
	for _, anneal := range []int{0, 1} {
		s := must[*OTSolver](t)(NewOTSolver(ctx))
		must[any](t)(nil, s.Set(ctx, "anneal", anneal))
		tr := must[*Transport](t)(s.Sinkhorn(ctx, a, b, cost, reg))
		s.Close()
		if d := maxAbsDiff(tr.Plan, want); d > 1e-7 {
			t.Errorf("anneal %d: plan differs from POT's by %g", anneal, d)
		}
		if c := expected(t, "ot_sinkhorn", "cost"); math.Abs(tr.Value-c) > 1e-8 {
			t.Errorf("anneal %d: value %.17g, POT %.17g", anneal, tr.Value, c)
		}
		for i := int64(0); i < tr.Rows; i++ {
			for j := int64(0); j < tr.Cols; j++ {
				p := math.Exp((tr.F[i] + tr.G[j] - cost.Data[i*cost.Cols+j]) / reg)
				if math.Abs(p-tr.At(i, j)) > 1e-12 {
					t.Fatalf("plan[%d][%d] = %g, exp((f + g - C) / reg) = %g", i, j, tr.At(i, j), p)
				}
			}
		}
		if tr.Iterations <= 0 || !(tr.Violation <= 1e-9) {
			t.Errorf("iterations %d, violation %g", tr.Iterations, tr.Violation)
		}
	}
}

// POT's entropic_partial_wasserstein(a, b, M, 0.1, 0.54).
func TestPartialReproducesPOT(t *testing.T) {
	ctx := newCtx(t)
	a, b, cost := otFixture(t, ctx, "ot_partial")
	_, want := readNPY(t, fx("ot_partial", "plan.npy"))
	s := must[*OTSolver](t)(NewOTSolver(ctx))
	defer s.Close()
	mass := expected(t, "ot_partial", "m")
	tr := must[*Transport](t)(s.Partial(ctx, a, b, cost, expected(t, "ot_partial", "reg"), mass))
	if d := maxAbsDiff(tr.Plan, want); d > 1e-6 {
		t.Errorf("plan differs from POT's by %g", d)
	}
	sum := 0.0
	for _, p := range tr.Plan {
		sum += p
	}
	if math.Abs(sum-mass) > 1e-8 {
		t.Errorf("plan carries %.17g, mass %.17g", sum, mass)
	}
}

// Costs computed from point clouds are the squared distances the test
// computes itself (uniform marginals: a and b nil).
func TestSinkhornPointsMatchCostMatrix(t *testing.T) {
	ctx := newCtx(t)
	rng := rand.New(rand.NewSource(0))
	x, y := make([]float32, 7*3), make([]float32, 5*3)
	for i := range x {
		x[i] = rng.Float32()
	}
	for i := range y {
		y[i] = rng.Float32()
	}
	cost := &CostMatrix{Rows: 7, Cols: 5, Data: make([]float64, 35)}
	for i := 0; i < 7; i++ {
		for j := 0; j < 5; j++ {
			for k := 0; k < 3; k++ {
				d := float64(x[3*i+k]) - float64(y[3*j+k])
				cost.Data[5*i+j] += d * d
			}
		}
	}
	xd := must[*Dense](t)(NewDense(ctx, 7, 3, x, 0))
	yd := must[*Dense](t)(NewDense(ctx, 5, 3, y, 0))
	defer xd.Close()
	defer yd.Close()
	s := must[*OTSolver](t)(NewOTSolver(ctx))
	defer s.Close()
	p := must[*Transport](t)(s.Sinkhorn(ctx, nil, nil, &PointCosts{X: xd, Y: yd, Metric: SqEuclidean}, 0.1))
	q := must[*Transport](t)(s.Sinkhorn(ctx, nil, nil, cost, 0.1))
	if d := maxAbsDiff(p.Plan, q.Plan); d > 1e-5 {
		t.Errorf("point-cloud plan differs from the cost matrix's by %g", d)
	}
	// Partial transport of half the mass, from points.
	h := must[*Transport](t)(s.Partial(ctx, nil, nil, &PointCosts{X: xd, Y: yd, Metric: Euclidean}, 0.1, 0.5))
	sum := 0.0
	for _, v := range h.Plan {
		sum += v
	}
	if math.Abs(sum-0.5) > 1e-8 {
		t.Errorf("partial plan carries %g", sum)
	}
}

func TestOTErrors(t *testing.T) {
	ctx := newCtx(t)
	s := must[*OTSolver](t)(NewOTSolver(ctx))
	defer s.Close()
	ones := &CostMatrix{Rows: 3, Cols: 4, Data: []float64{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}}
	_, err := s.Sinkhorn(ctx, nil, nil, ones, 0)
	wantError(t, err, ErrInvalid, "reg")
	wantError(t, s.Set(ctx, "max_iter", 0), ErrInvalid, "max_iter")
	if v := must[int64](t)(s.GetInt(ctx, "max_iter")); v != 100000 {
		t.Fatalf("a refused max_iter left %d", v)
	}
	_, err = s.Partial(ctx, nil, nil, ones, 0.1, 2)
	wantError(t, err, ErrInvalid, "mass")
	_, err = s.Sinkhorn(ctx, []float64{1, 1}, nil, ones, 0.1)
	wantError(t, err, ErrInvalid, "marginals")
	_, err = s.Sinkhorn(ctx, nil, nil, &CostMatrix{Rows: 2, Cols: 2, Data: []float64{1}}, 0.1)
	wantError(t, err, ErrInvalid, "cost matrix")
	_, err = s.Sinkhorn(ctx, nil, nil, &CostMatrix{Rows: 1, Cols: 2, Data: []float64{1, math.NaN()}}, 0.1)
	wantError(t, err, ErrNumeric)
	// An iteration cap that cannot be met: no convergence, by status.
	must[any](t)(nil, s.Set(ctx, "max_iter", 1))
	must[any](t)(nil, s.Set(ctx, "anneal", 0))
	a, b, cost := otFixture(t, ctx, "ot_sinkhorn")
	_, err = s.Sinkhorn(ctx, a, b, cost, 0.001)
	wantError(t, err, ErrNumeric)
	var nilCosts Costs
	_, err = s.Sinkhorn(ctx, nil, nil, nilCosts, 0.1)
	wantError(t, err, ErrInvalid, "costs")
}
