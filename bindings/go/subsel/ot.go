// SPDX-License-Identifier: MIT

package subsel

/*
#define SUBSEL_NO_DEPRECATED
#include <subsel.h>
*/
import "C"

import (
	"runtime"
	"unsafe"
)

// Metric is the cost between two points of point clouds.
type Metric int

const (
	SqEuclidean Metric = C.SUBSEL_COST_SQEUCLID // |x - y|^2
	Euclidean   Metric = C.SUBSEL_COST_EUCLID   // |x - y|
	CosineCost  Metric = C.SUBSEL_COST_COSINE   // 1 - cos(x, y)
)

// Costs are the costs of a transport problem: a *CostMatrix, or a
// *PointCosts computed by the library between two point clouds.
type Costs interface{ size() (n, m int64) }

// CostMatrix is an n x m cost matrix, row-major (Data[i*Cols+j]), read
// during the call.
type CostMatrix struct {
	Rows, Cols int64
	Data       []float64
}

func (c *CostMatrix) size() (int64, int64) { return c.Rows, c.Cols }

// PointCosts are the costs Metric(x_i, y_j) between the rows of X (n x d)
// and Y (m x d), computed block by block by the library (read during the
// call, not kept).
type PointCosts struct {
	X, Y   *Dense
	Metric Metric
}

func (c *PointCosts) size() (int64, int64) { return c.X.Rows(), c.Y.Rows() }

// OTSolver holds the options of entropic OT solves ("max_iter", "tol",
// "anneal", "anneal_factor", "anneal_start", "memory":
// Params(KindOTSolver)) and records the iterations and violation of the
// last solve made with it. One goroutine at a time.
type OTSolver struct{ *handle }

// NewOTSolver creates a solver with the library's default options.
func NewOTSolver(ctx *Context) (*OTSolver, error) {
	var out *C.subsel_ot_solver
	if err := ctx.call(nil, func(c *C.subsel_ctx) C.int { return C.subsel_ot_solver_create(c, &out) }); err != nil {
		return nil, err
	}
	return &OTSolver{newHandle(unsafe.Pointer(out), "OTSolver", func(p unsafe.Pointer) {
		C.subsel_ot_solver_free((*C.subsel_ot_solver)(p))
	})}, nil
}

func (s *OTSolver) cptr() *C.subsel_ot_solver { return (*C.subsel_ot_solver)(s.ptr()) }

// Set sets an option by its library name; GetInt and GetReal read one.
func (s *OTSolver) Set(ctx *Context, name string, value any) error {
	return s.setParam(ctx, name, value)
}
func (s *OTSolver) GetInt(ctx *Context, name string) (int64, error)    { return s.getInt(ctx, name) }
func (s *OTSolver) GetReal(ctx *Context, name string) (float64, error) { return s.getReal(ctx, name) }

// Transport is an entropic OT solution: the plan (Rows x Cols, row-major),
// the potentials F (Rows) and G (Cols) with Plan[i*Cols+j] =
// exp((F[i] + G[j] - C[i][j]) / reg), Value = <Plan, C>, and the solver's
// iterations and final L1 marginal violation.
type Transport struct {
	Rows, Cols int64
	Plan       []float64
	F, G       []float64
	Value      float64
	Iterations int64
	Violation  float64
}

// At is Plan[i*Cols+j], the mass moved from i to j.
func (t *Transport) At(i, j int64) float64 { return t.Plan[i*t.Cols+j] }

// Sinkhorn solves balanced entropic OT (POT's ot.sinkhorn): min <P, C> +
// reg sum P (log P - 1) with P 1 = a and P^T 1 = b. a and b are positive
// marginals of n and m values, or nil for uniform ones; their totals must
// agree. Stable for any reg > 0 (log domain). Progress stage "ot".
func (s *OTSolver) Sinkhorn(ctx *Context, a, b []float64, costs Costs, reg float64) (*Transport, error) {
	return s.solve(ctx, a, b, costs, reg, 0, false)
}

// Partial solves entropic partial OT (POT's
// ot.partial.entropic_partial_wasserstein): moves mass (0 < mass <=
// min(sum a, sum b)) with P 1 <= a, P^T 1 <= b. Arguments as Sinkhorn.
func (s *OTSolver) Partial(ctx *Context, a, b []float64, costs Costs, reg, mass float64) (*Transport, error) {
	return s.solve(ctx, a, b, costs, reg, mass, true)
}

func (s *OTSolver) solve(ctx *Context, a, b []float64, costs Costs, reg, mass float64, partial bool) (*Transport, error) {
	switch costs.(type) {
	case *CostMatrix, *PointCosts:
	default:
		return nil, errorf(ErrInvalid, "OT: costs must be a *CostMatrix or *PointCosts, not %T", costs)
	}
	hs := []*handle{s.handle}
	if pc, ok := costs.(*PointCosts); ok {
		if pc.X == nil || pc.Y == nil {
			return nil, errorf(ErrInvalid, "OT: PointCosts needs X and Y")
		}
		hs = append(hs, pc.X.h(), pc.Y.h())
	}
	n, m := costs.size()
	// C reads n and m values of a and b, and n x m costs: a shorter slice
	// is an error here, not a read past its end.
	if (a != nil && int64(len(a)) != n) || (b != nil && int64(len(b)) != m) {
		return nil, errorf(ErrInvalid, "OT: %d x %d costs, but %d and %d marginals", n, m, len(a), len(b))
	}
	if cm, ok := costs.(*CostMatrix); ok && (n < 0 || m < 0 || int64(len(cm.Data)) != n*m) {
		return nil, errorf(ErrInvalid, "OT: a %d x %d cost matrix with %d values", n, m, len(cm.Data))
	}
	t := &Transport{Rows: n, Cols: m}
	if n > 0 && m > 0 {
		t.Plan, t.F, t.G = make([]float64, n*m), make([]float64, n), make([]float64, m)
	}
	var value C.double
	pa, pb := cDoubles(a), cDoubles(b)
	f, g, plan := cDoubles(t.F), cDoubles(t.G), cDoubles(t.Plan)
	fc, gc, pc := C.int64_t(len(t.F)), C.int64_t(len(t.G)), C.int64_t(len(t.Plan))
	err := ctx.call(hs, func(c *C.subsel_ctx) C.int {
		switch k := costs.(type) {
		case *CostMatrix:
			cost := cDoubles(k.Data)
			if partial {
				return C.subsel_ot_partial_v2(c, s.cptr(), pa, C.int64_t(n), pb, C.int64_t(m), cost,
					C.double(reg), C.double(mass), &value, f, fc, g, gc, plan, pc)
			}
			return C.subsel_ot_sinkhorn_v2(c, s.cptr(), pa, C.int64_t(n), pb, C.int64_t(m), cost,
				C.double(reg), &value, f, fc, g, gc, plan, pc)
		case *PointCosts:
			if partial {
				return C.subsel_ot_partial_points_v2(c, s.cptr(), pa, k.X.cptr(), pb, k.Y.cptr(),
					C.int(k.Metric), C.double(reg), C.double(mass), &value, f, fc, g, gc, plan, pc)
			}
			return C.subsel_ot_sinkhorn_points_v2(c, s.cptr(), pa, k.X.cptr(), pb, k.Y.cptr(),
				C.int(k.Metric), C.double(reg), &value, f, fc, g, gc, plan, pc)
		}
		panic("unreachable: checked above")
	})
	if err != nil {
		return nil, err
	}
	t.Value = float64(value)
	t.Iterations = int64(C.subsel_ot_solver_iterations(s.cptr()))
	t.Violation = float64(C.subsel_ot_solver_violation(s.cptr()))
	runtime.KeepAlive(s.handle)
	return t, nil
}
