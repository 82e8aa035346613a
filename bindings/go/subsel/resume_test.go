// SPDX-License-Identifier: MIT

package subsel

import (
	"path/filepath"
	"reflect"
	"testing"
)

// Warm starts and resumed runs (issue 16) on tests/data/sparse_pool: lazy
// greedy from naive greedy's first items gives its selection back; a
// stochastic run resumed from the checkpoint it wrote on schedule gives the
// uninterrupted selection; bad items and mismatched checkpoints fail with
// the library's status and message.
func TestInitialSetsAndResumedRuns(t *testing.T) {
	ctx := newCtx(t)
	z := must[*Csr](t)(LoadCsrNPZ(ctx, filepath.Join("..", "..", "..", "tests", "data", "sparse_pool", "pool.npz")))
	f := must[*FB](t)(NewFB(ctx, z, Log1p, 0, nil))
	opt := func(a Algorithm, budget int) *Optimizer {
		o := must[*Optimizer](t)(NewOptimizer(ctx, a))
		if err := o.Set(ctx, "budget", budget); err != nil {
			t.Fatal(err)
		}
		return o
	}
	whole := must[*Selection](t)(opt(Naive, 40).Run(ctx, f))
	warm := opt(Lazy, 40)
	if err := warm.SetInitial(ctx, whole.Indices[:9]); err != nil {
		t.Fatal(err)
	}
	if got := must[*Selection](t)(warm.Run(ctx, f)); !reflect.DeepEqual(got.Indices, whole.Indices) {
		t.Fatalf("warm start %v, greedy %v", got.Indices, whole.Indices)
	}

	path := filepath.Join(t.TempDir(), "run.ckpt.npz")
	plain := must[*Selection](t)(opt(Stochastic, 60).Run(ctx, f))
	o := opt(Stochastic, 60)
	if err := o.SetCheckpoint(ctx, path); err != nil {
		t.Fatal(err)
	}
	if err := o.Set(ctx, "checkpoint_every", 25); err != nil {
		t.Fatal(err)
	}
	must[*Selection](t)(o.Run(ctx, f))
	if err := o.SetCheckpoint(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if err := o.Resume(ctx, path); err != nil {
		t.Fatal(err)
	}
	resumed := must[*Selection](t)(o.Run(ctx, f))
	if !reflect.DeepEqual(resumed.Indices, plain.Indices) || !reflect.DeepEqual(resumed.Gains, plain.Gains) {
		t.Fatalf("resumed %v, uninterrupted %v", resumed.Indices, plain.Indices)
	}
	if err := o.Set(ctx, "budget", 61); err != nil {
		t.Fatal(err)
	}
	_, err := o.Run(ctx, f)
	wantError(t, err, ErrInvalid, "budget is 60, this run's 61")
	wantError(t, o.SetInitial(ctx, []int64{4, 2, 4}), ErrInvalid, "more than once")
	wantError(t, o.Resume(ctx, filepath.Join(t.TempDir(), "missing.npz")), ErrIO)
}
