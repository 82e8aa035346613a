// SPDX-License-Identifier: MIT

package subsel

import (
	"errors"
	"fmt"
	"path/filepath"
	"testing"
)

// The library counts every byte it holds for a context's handles against
// "memory_limit". The test finds the smallest limit one round of every
// kind of call fits in (on fresh contexts, by bisection), then runs 200
// rounds on one context under that limit plus 64 KiB: a Close that leaked
// anything (a handle, a selection, an array: 330 bytes a round; the
// trainer's smallest, its 12 x 16 decoder, 768; a LoRS handle's set, 704)
// would pass it and fail with ErrNoMem. Valgrind cannot see such a leak,
// since the Go heap still points at the block.
func TestNoLeaksUnderAMemoryLimit(t *testing.T) {
	dir := t.TempDir()
	fits := func(limit int64, rounds int) error {
		ctx, err := NewContext()
		if err != nil {
			return err
		}
		defer ctx.Close()
		if err := ctx.Set("threads", 1); err != nil {
			return err
		}
		if err := ctx.Set("memory_limit", limit); err != nil {
			return err
		}
		for r := 0; r < rounds; r++ {
			if err := leakRound(ctx, dir); err != nil {
				return fmt.Errorf("round %d: %w", r, err)
			}
		}
		return nil
	}
	lo, hi := int64(0), int64(64<<20)
	if err := fits(hi, 1); err != nil {
		t.Fatal(err)
	}
	for hi-lo > 4096 {
		mid := (lo + hi) / 2
		err := fits(mid, 1)
		if err != nil && !errors.Is(err, ErrNoMem) {
			t.Fatal(err)
		}
		if err == nil {
			hi = mid
		} else {
			lo = mid
		}
	}
	if err := fits(hi+64<<10, 200); err != nil {
		t.Fatalf("one round fits in %d bytes, 200 rounds do not fit in 64 KiB more: %v", hi, err)
	}
	t.Logf("one round of every call fits in %d bytes; 200 rounds fit in 64 KiB more", hi)
}

// leakRound makes, uses and closes one of everything; dir is a folder for
// the trainer's checkpoint and LoRS's files.
func leakRound(ctx *Context, dir string) (err error) {
	var closers []interface{ Close() error }
	defer func() {
		for _, c := range closers {
			c.Close()
		}
	}()
	keep := func(c interface{ Close() error }) { closers = append(closers, c) }
	z, err := LoadCsrNPZ(ctx, fx("fb", "Z.npz"))
	if err != nil {
		return err
	}
	keep(z)
	fb, err := NewFB(ctx, z, Log1p, 0, nil)
	if err != nil {
		return err
	}
	keep(fb)
	opt, err := NewOptimizer(ctx, Lazy)
	if err != nil {
		return err
	}
	keep(opt)
	if err = opt.Set(ctx, "budget", 5); err != nil {
		return err
	}
	if _, err = opt.Run(ctx, fb); err != nil {
		return err
	}
	if _, err = fb.DoubleGreedy(ctx, []int64{1, 2, 3}, true); err != nil {
		return err
	}
	view, err := z.ViewRows(ctx, 2, 5)
	if err != nil {
		return err
	}
	keep(view)
	if _, err = ReadNPYFloat64(ctx, fx("fb", "w.npy")); err != nil {
		return err
	}
	s, err := LoadDenseNPY(ctx, fx("uniprot", "S.npy"))
	if err != nil {
		return err
	}
	keep(s)
	u, err := NewUniPROT(ctx, s, 5, 0.1)
	if err != nil {
		return err
	}
	keep(u)
	if _, err = opt.Run(ctx, u); err != nil {
		return err
	}
	if _, _, err = u.Plan(ctx, []int64{0, 1}); err != nil {
		return err
	}
	solver, err := NewOTSolver(ctx)
	if err != nil {
		return err
	}
	keep(solver)
	if _, err = solver.Sinkhorn(ctx, nil, nil, &PointCosts{X: s, Y: s, Metric: Euclidean}, 1); err != nil {
		return err
	}
	cand, err := LoadDenseNPY(ctx, fx("tarot", "candidates.npy"))
	if err != nil {
		return err
	}
	keep(cand)
	targ, err := LoadDenseNPY(ctx, fx("tarot", "targets.npy"))
	if err != nil {
		return err
	}
	keep(targ)
	tr, err := NewTarot(ctx, cand, targ)
	if err != nil {
		return err
	}
	keep(tr)
	sel, err := tr.SelectFixed(ctx, 10)
	if err != nil {
		return err
	}
	uv, vv, err := tr.Whiten(ctx)
	if err != nil {
		return err
	}
	keep(uv)
	keep(vv)
	if _, err = TarotWeights(ctx, sel.Gains, 20); err != nil {
		return err
	}
	cc, err := NewClipCov(ctx, cand, cand, nil, make([]int64, cand.Rows()), false)
	if err != nil {
		return err
	}
	keep(cc) // the candidates as images and as captions: any n x d will do
	greedy, err := cc.Optimizer(ctx, 5)
	if err != nil {
		return err
	}
	keep(greedy)
	if _, _, err = cc.Select(ctx, greedy, FilterDeterministic); err != nil {
		return err
	}
	sae, err := LoadSAE(ctx, data("sae"))
	if err != nil {
		return err
	}
	keep(sae)
	x, err := LoadDenseNPY(ctx, data("sae", "X.npy"))
	if err != nil {
		return err
	}
	keep(x)
	codes, err := sae.Encode(ctx, x, 8)
	if err != nil {
		return err
	}
	keep(codes)
	// Summaries: two parts of Z (views), their merge, the byte form and
	// its parse, the rows.
	var parts []*Summary
	for _, r := range [][2]int64{{0, 5}, {5, 5}} {
		v, err := z.ViewRows(ctx, r[0], r[1])
		if err != nil {
			return err
		}
		keep(v)
		f, err := NewFB(ctx, v, Log1p, 0, nil)
		if err != nil {
			return err
		}
		keep(f)
		s, err := SummarySelect(ctx, opt, f, r[0], z.Rows())
		if err != nil {
			return err
		}
		keep(s)
		parts = append(parts, s)
	}
	merged, err := SummaryMerge(ctx, opt, fb, parts...)
	if err != nil {
		return err
	}
	keep(merged)
	b, err := merged.Bytes(ctx)
	if err != nil {
		return err
	}
	back, err := SummaryFromBytes(ctx, b)
	if err != nil {
		return err
	}
	keep(back)
	summaryRows, err := back.Rows(ctx)
	if err != nil {
		return err
	}
	keep(summaryRows)
	if _, err = back.Selection(ctx); err != nil {
		return err
	}
	// The SAE trainer on the encoder's inputs (30 x 12): steps, an
	// evaluation, an epoch, the encoder and decoder it exports, a
	// checkpoint and its load, and a load that fails.
	trainer, err := NewSAETrainer(ctx, 12, 16)
	if err != nil {
		return err
	}
	keep(trainer)
	for _, p := range []struct {
		name  string
		value any
	}{{"k", 2}, {"set_size", 4}, {"reservoir", 16}, {"batch", 16}, {"auxk", 2}} {
		if err = trainer.Set(ctx, p.name, p.value); err != nil {
			return err
		}
	}
	if _, err = trainer.Step(ctx, x); err != nil {
		return err
	}
	if _, _, err = trainer.Evaluate(ctx, x); err != nil {
		return err
	}
	if err = trainer.Fit(ctx, []string{data("sae", "X.npy")}, 1, "", ""); err != nil {
		return err
	}
	enc, err := trainer.Encoder(ctx)
	if err != nil {
		return err
	}
	keep(enc)
	trained, err := enc.Encode(ctx, x, 2)
	if err != nil {
		return err
	}
	keep(trained)
	wDec, err := trainer.Decoder(ctx)
	if err != nil {
		return err
	}
	keep(wDec)
	if err = trainer.Save(ctx, dir); err != nil {
		return err
	}
	back2, err := LoadSAETrainer(ctx, dir)
	if err != nil {
		return err
	}
	keep(back2)
	if _, err = back2.Step(ctx, x); err != nil {
		return err
	}
	if _, err := LoadSAETrainer(ctx, filepath.Join(dir, "absent")); !errors.Is(err, ErrIO) {
		return fmt.Errorf("loading a missing checkpoint: %v", err)
	}
	return lorsRound(ctx, dir, keep)
}

// lorsRound is leakRound's part for LoRS on 16 pairs: trajectories,
// distillation, what the set exposes, both evaluations, the baselines, a
// save and its load continued, and a load that fails.
func lorsRound(ctx *Context, dir string, keep func(interface{ Close() error })) error {
	x, y := pairedRows(9, 16)
	images, err := NewDense(ctx, 16, lorsImageDim, x, 0)
	if err != nil {
		return err
	}
	keep(images)
	texts, err := NewDense(ctx, 16, lorsTextDim, y, 0)
	if err != nil {
		return err
	}
	keep(texts)
	l, err := NewLoRS(ctx, lorsImageDim, lorsTextDim)
	if err != nil {
		return err
	}
	keep(l)
	for _, p := range []struct {
		name  string
		value int
	}{{"embed_dim", 4}, {"pairs", 4}, {"syn_steps", 2}, {"batch", 2}, {"rank", 2},
		{"experts", 1}, {"buffer_epochs", 2}, {"expert_batch", 8}, {"eval_epochs", 1}} {
		if err = l.Set(ctx, p.name, p.value); err != nil {
			return err
		}
	}
	buffer, saved := filepath.Join(dir, "lors-buffer"), filepath.Join(dir, "lors-saved")
	if err = l.Buffer(ctx, images, texts, buffer, ""); err != nil {
		return err
	}
	if err = l.Distill(ctx, images, texts, buffer, 1, ""); err != nil {
		return err
	}
	if _, err = l.LastLoss(ctx); err != nil {
		return err
	}
	if _, err = l.Synthetic(ctx); err != nil {
		return err
	}
	if _, err = l.Similarity(ctx); err != nil {
		return err
	}
	if _, _, err = l.Eta(ctx); err != nil {
		return err
	}
	if _, err = l.Evaluate(ctx, nil, images, texts, nil); err != nil {
		return err
	}
	if _, err = l.Evaluate(ctx, &LoRSTraining{Images: images, Texts: texts}, images, texts, nil); err != nil {
		return err
	}
	for _, method := range []LoRSBaseline{LoRSKCenter, LoRSHerding} {
		if _, err = l.Baseline(ctx, method, images, texts, 3); err != nil {
			return err
		}
	}
	if err = l.Save(ctx, saved); err != nil {
		return err
	}
	back, err := LoadLoRS(ctx, saved)
	if err != nil {
		return err
	}
	keep(back)
	if err = back.Distill(ctx, nil, nil, buffer, 1, ""); err != nil {
		return err
	}
	if _, err := LoadLoRS(ctx, buffer); !errors.Is(err, ErrFormat) {
		return fmt.Errorf("loading a folder that is no saved set: %v", err)
	}
	return nil
}
