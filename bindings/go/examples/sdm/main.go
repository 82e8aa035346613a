// SPDX-License-Identifier: MIT

// Command sdm selects rows of a pool whose features match a target's
// distribution (SDM, stochastic greedy), from scipy.sparse .npz files:
//
//	go run ./examples/sdm -source pool.npz -target target.npz -budget 12
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"

	"subsel.dev/go/subsel"
)

func main() {
	source := flag.String("source", "../../tests/fixtures/sdm/source.npz", "pool features (CSR .npz)")
	target := flag.String("target", "../../tests/fixtures/sdm/target.npz", "target features (CSR .npz)")
	budget := flag.Int64("budget", 12, "rows to select")
	seed := flag.Int64("seed", 0, "seed of the random samples")
	flag.Parse()
	if err := run(*source, *target, *budget, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "sdm:", err)
		if errors.Is(err, subsel.ErrIO) {
			os.Exit(3)
		}
		os.Exit(1)
	}
}

func run(sourcePath, targetPath string, budget, seed int64) error {
	ctx, err := subsel.NewContext()
	if err != nil {
		return err
	}
	defer ctx.Close()
	if err := ctx.Set("seed", seed); err != nil {
		return err
	}
	pool, err := subsel.LoadCsrNPZ(ctx, sourcePath)
	if err != nil {
		return err
	}
	obj, err := subsel.NewSDM(ctx, pool)
	pool.Close() // the objective keeps the matrix it reads
	if err != nil {
		return err
	}
	defer obj.Close()
	target, err := subsel.LoadCsrNPZ(ctx, targetPath)
	if err != nil {
		return err
	}
	err = obj.SetTarget(ctx, target)
	target.Close()
	if err != nil {
		return err
	}
	opt, err := subsel.NewOptimizer(ctx, subsel.Stochastic)
	if err != nil {
		return err
	}
	defer opt.Close()
	if err := opt.Set(ctx, "budget", budget); err != nil {
		return err
	}
	sel, err := opt.Run(ctx, obj)
	if err != nil {
		return err
	}
	kl, err := obj.KL(ctx, sel.Indices)
	if err != nil {
		return err
	}
	fmt.Printf("selected %d of %d rows: %v\nf = %.6f, KL = %g, %d gains evaluated\n",
		len(sel.Indices), obj.Size(), sel.Indices, sel.Value, kl, sel.Evaluations)
	if sel.Short != subsel.ShortNone {
		fmt.Println("short:", sel.Short)
	}
	return nil
}
