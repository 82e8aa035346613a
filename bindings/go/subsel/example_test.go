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

// Trains a small sparse autoencoder on the rows of a .npy file (30
// embeddings of 12 dimensions), saves it, and encodes with the saved
// folder: a checkpoint is an encoder folder (LoadSAE, `subsel encode`).
// Given a folder, Fit also saves a checkpoint after each epoch; a long run
// cancelled from the progress callback continues from
// LoadSAETrainer(ctx, dir) with the same Fit call.
func ExampleSAETrainer() {
	ctx, err := subsel.NewContext()
	if err != nil {
		log.Fatal(err)
	}
	defer ctx.Close()
	x := filepath.Join("..", "..", "..", "tests", "data", "sae", "X.npy")
	_, inputs, err := subsel.DenseNPYShape(ctx, x)
	if err != nil {
		log.Fatal(err)
	}
	tr, err := subsel.NewSAETrainer(ctx, inputs, 16)
	if err != nil {
		log.Fatal(err)
	}
	defer tr.Close()
	// Parameters by the library's names: 4 latents a row, 10 rows a step,
	// sets of 4 rows for the monotonicity loss.
	for name, value := range map[string]any{"k": 4, "batch": 10, "lr": 1e-2, "set_size": 4, "reservoir": 16} {
		if err := tr.Set(ctx, name, value); err != nil {
			log.Fatal(err)
		}
	}
	dir, err := os.MkdirTemp("", "subsel-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := tr.Fit(ctx, []string{x}, 1, "", ""); err != nil {
		log.Fatal(err)
	}
	first, _ := tr.Losses(ctx)
	if err := tr.Fit(ctx, []string{x}, 50, "", ""); err != nil { // 50 epochs in all
		log.Fatal(err)
	}
	last, _ := tr.Losses(ctx)
	if err := tr.Save(ctx, dir); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d epochs, %d steps, reconstruction error down %v\n",
		tr.Epochs(), tr.Steps(), last.Recons < first.Recons/2)

	sae, err := subsel.LoadSAE(ctx, dir)
	if err != nil {
		log.Fatal(err)
	}
	defer sae.Close()
	rows, err := subsel.LoadDenseNPY(ctx, x)
	if err != nil {
		log.Fatal(err)
	}
	defer rows.Close()
	codes, err := sae.Encode(ctx, rows, 4)
	if err != nil {
		log.Fatal(err)
	}
	defer codes.Close()
	fmt.Printf("codes %d x %d\n", codes.Rows(), codes.Cols())
	// Output:
	// 50 epochs, 150 steps, reconstruction error down true
	// codes 30 x 16
}
