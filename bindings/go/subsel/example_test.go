// SPDX-License-Identifier: MIT

package subsel_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

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

// Distributed selection in the shape of a Slurm job array: each task
// selects from its own row range of the pool and writes the summary to a
// file; a final job loads the summaries and merges them. Here the tasks
// run one after the other in one process.
func ExampleSummaryMerge() {
	ctx, err := subsel.NewContext()
	if err != nil {
		log.Fatal(err)
	}
	defer ctx.Close()
	// Six rows, each one feature: FB with sqrt rewards large values in
	// distinct columns. The best pair is rows 4 (sqrt 16) and 2 (sqrt 9).
	pool, err := subsel.NewCsr(ctx, 6, 4,
		[]int64{0, 1, 2, 3, 4, 5, 6},
		[]int64{0, 1, 0, 2, 3, 1},
		[]float32{1, 4, 9, 1, 16, 2})
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	dir, err := os.MkdirTemp("", "subsel-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	opt, err := subsel.NewOptimizer(ctx, subsel.Lazy)
	if err != nil {
		log.Fatal(err)
	}
	defer opt.Close()
	if err := opt.Set(ctx, "budget", 2); err != nil {
		log.Fatal(err)
	}

	// Task t of 2 (SLURM_ARRAY_TASK_ID): rows [3t, 3t + 3).
	var like subsel.Objective
	for task := int64(0); task < 2; task++ {
		part, err := pool.ViewRows(ctx, 3*task, 3)
		if err != nil {
			log.Fatal(err)
		}
		obj, err := subsel.NewFB(ctx, part, subsel.Sqrt, 0, nil)
		part.Close() // the objective keeps its rows
		if err != nil {
			log.Fatal(err)
		}
		s, err := subsel.SummarySelect(ctx, opt, obj, 3*task, pool.Rows())
		if err != nil {
			log.Fatal(err)
		}
		if err := s.Save(ctx, filepath.Join(dir, fmt.Sprintf("part%d.sss", task))); err != nil {
			log.Fatal(err)
		}
		s.Close()
		if like == nil {
			like = obj // any part's objective tells the merge the kind
		} else {
			obj.Close()
		}
	}
	defer like.Close()

	// The final job: load every part's summary and merge.
	var parts []*subsel.Summary
	for task := 0; task < 2; task++ {
		s, err := subsel.LoadSummary(ctx, filepath.Join(dir, fmt.Sprintf("part%d.sss", task)))
		if err != nil {
			log.Fatal(err)
		}
		defer s.Close()
		parts = append(parts, s)
	}
	merged, err := subsel.SummaryMerge(ctx, opt, like, parts...)
	if err != nil {
		log.Fatal(err)
	}
	defer merged.Close()
	sel, err := merged.Selection(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("rows %v of %d, f = %.1f\n", sel.Indices, merged.Total(), sel.Value)
	// Output:
	// rows [4 2] of 6, f = 7.0
}
