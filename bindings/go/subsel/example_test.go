// SPDX-License-Identifier: MIT

package subsel_test

import (
	"fmt"
	"log"

	"subsel.dev/go/subsel"
)

// Balanced entropic transport between two points and two targets: each
// point ships its mass to the nearer target.
func ExampleOTSolver_Sinkhorn() {
	ctx, err := subsel.NewContext()
	if err != nil {
		log.Fatal(err)
	}
	defer ctx.Close()
	solver, err := subsel.NewOTSolver(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer solver.Close()
	cost := &subsel.CostMatrix{Rows: 2, Cols: 2, Data: []float64{0, 1, 1, 0}}
	t, err := solver.Sinkhorn(ctx, nil, nil, cost, 0.01) // nil: uniform marginals
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%.3f %.3f\n%.3f %.3f\nvalue %.3f\n", t.At(0, 0), t.At(0, 1), t.At(1, 0), t.At(1, 1), t.Value)
	// Output:
	// 0.500 0.000
	// 0.000 0.500
	// value 0.000
}

// UniPROT picks prototypes that cover the targets evenly: with two
// clusters of targets and k = 2, one prototype from each.
func ExampleNewUniPROT() {
	ctx, err := subsel.NewContext()
	if err != nil {
		log.Fatal(err)
	}
	defer ctx.Close()
	// 3 candidates x 4 targets: candidates 0 and 1 resemble targets 0-1,
	// candidate 2 targets 2-3.
	s, err := subsel.NewDense(ctx, 3, 4, []float32{
		1, 1, 0, 0,
		0.9, 0.9, 0, 0,
		0, 0, 1, 1,
	}, 0)
	if err != nil {
		log.Fatal(err)
	}
	obj, err := subsel.NewUniPROT(ctx, s, 2, 0.1)
	s.Close() // the objective keeps the similarities
	if err != nil {
		log.Fatal(err)
	}
	defer obj.Close()
	opt, err := subsel.NewOptimizer(ctx, subsel.Naive)
	if err != nil {
		log.Fatal(err)
	}
	defer opt.Close()
	if err := opt.Set(ctx, "budget", 2); err != nil {
		log.Fatal(err)
	}
	sel, err := opt.Run(ctx, obj)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(sel.Indices)
	// Output: [0 2]
}
