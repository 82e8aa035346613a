// SPDX-License-Identifier: MIT

package subsel

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// The SAE trainer (tests/test_sae_train.c's cases through the package):
// training reduces the loss on rows made of a few atoms; a run cancelled,
// saved, loaded and continued ends with the files of an uninterrupted
// run, byte for byte; Fit's log and checkpoint folder; parameters from the
// library's table; errors by status and message. leak_test.go runs every
// trainer call in its rounds.

// xorshift is a fixed xorshift64* stream, so that generated data are the
// same on every run.
type xorshift uint64

func newXorshift(seed uint64) *xorshift {
	s := xorshift(seed*0x9E3779B97F4A7C15 | 1)
	return &s
}

func (s *xorshift) next() uint64 {
	*s ^= *s >> 12
	*s ^= *s << 25
	*s ^= *s >> 27
	return uint64(*s) * 0x2545F4914F6CDD1D
}

// uniform is in [0, 1).
func (s *xorshift) uniform() float64 { return float64(s.next()>>11) / (1 << 53) }

// normal is a standard normal (Box-Muller).
func (s *xorshift) normal() float64 {
	u := 1 - s.uniform() // in (0, 1]
	return math.Sqrt(-2*math.Log(u)) * math.Cos(2*math.Pi*s.uniform())
}

// mixtureRows are rows made of 1 to 3 of `atoms` nonnegative directions
// with weights in [0.5, 1.5), plus a little noise: what a sparse
// autoencoder can learn (tests/test_sae_train.c's mixture_rows).
func mixtureRows(seed uint64, rows, d, atoms int) []float32 {
	rng := newXorshift(seed)
	dict := make([]float64, atoms*d)
	for i := range dict {
		dict[i] = 2 * rng.uniform()
	}
	x := make([]float32, rows*d)
	for r := 0; r < rows; r++ {
		for m := 1 + rng.next()%3; m > 0; m-- {
			j := int(rng.next() % uint64(atoms))
			w := 0.5 + rng.uniform()
			for c := 0; c < d; c++ {
				x[r*d+c] += float32(w * dict[j*d+c])
			}
		}
		for c := 0; c < d; c++ {
			x[r*d+c] += float32(0.01 * (rng.uniform() - 0.5))
		}
	}
	return x
}

// saveRows writes rows of d columns as a float32 .npy file, what Fit reads.
func saveRows(t *testing.T, ctx *Context, path string, x []float32, d int) {
	t.Helper()
	m := must[*Dense](t)(NewDense(ctx, int64(len(x)/d), int64(d), x, 0))
	defer m.Close()
	if err := m.SaveNPY(ctx, path); err != nil {
		t.Fatal(err)
	}
}

// smallTrainer is tests/test_sae_train.c's fit_trainer: 32 latents, k = 4,
// sets of 8, a reservoir of 64, batches of 64 rows.
func smallTrainer(t *testing.T, ctx *Context, d int64) *SAETrainer {
	t.Helper()
	tr := must[*SAETrainer](t)(NewSAETrainer(ctx, d, 32))
	t.Cleanup(func() { tr.Close() })
	for _, p := range []struct {
		name  string
		value any
	}{{"k", 4}, {"set_size", 8}, {"reservoir", 64}, {"batch", 64}, {"lr", 5e-3}, {"l_mono", 0.01}} {
		if err := tr.Set(ctx, p.name, p.value); err != nil {
			t.Fatal(err)
		}
	}
	return tr
}

func TestSAETrainerReducesTheLoss(t *testing.T) {
	ctx := newCtx(t)
	const d, rows = 16, 1024
	x := mixtureRows(31, rows, d, 12)
	path := filepath.Join(t.TempDir(), "mix.npy")
	saveRows(t, ctx, path, x, d)
	if r, c, err := DenseNPYShape(ctx, path); err != nil || r != rows || c != d {
		t.Fatalf("shape %d x %d, %v", r, c, err)
	}
	tr := smallTrainer(t, ctx, d)
	before := must[SAELosses](t)(tr.Losses(ctx))
	if !math.IsNaN(before.Total) || !math.IsNaN(before.Recons) || tr.Steps() != 0 || tr.Epochs() != 0 {
		t.Fatalf("before any step: %+v, %d steps, %d epochs", before, tr.Steps(), tr.Epochs())
	}
	if err := tr.Fit(ctx, []string{path}, 1, "", ""); err != nil {
		t.Fatal(err)
	}
	first := must[SAELosses](t)(tr.Losses(ctx))
	if err := tr.Fit(ctx, []string{path}, 30, "", ""); err != nil { // 30 in all: 29 more
		t.Fatal(err)
	}
	last := must[SAELosses](t)(tr.Losses(ctx))
	if tr.Epochs() != 30 || tr.Steps() != 30*16 {
		t.Fatalf("%d epochs, %d steps", tr.Epochs(), tr.Steps())
	}
	if !(last.Recons < 0.25*first.Recons) {
		t.Fatalf("reconstruction %g after 30 epochs, %g after 1", last.Recons, first.Recons)
	}
	if !(last.Mono > 0) {
		t.Fatalf("L_mono unused: %+v", last)
	}
	if w := last.Recons + 0.01*last.Mono + 1e-10*last.Act; math.Abs(last.Total-w) > 1e-9*w {
		t.Fatalf("total %g, weighted sum %g", last.Total, w)
	}
	if dead := tr.Dead(); dead < 0 || dead > 32 {
		t.Fatalf("%d dead latents", dead)
	}

	// The decoder: inputs x features, columns of unit norm.
	wDec := must[*Dense](t)(tr.Decoder(ctx))
	defer wDec.Close()
	if wDec.Rows() != d || wDec.Cols() != 32 {
		t.Fatalf("decoder %d x %d", wDec.Rows(), wDec.Cols())
	}
	norms := make([]float64, 32)
	for c := int64(0); c < d; c++ {
		for j, v := range wDec.Row(c) {
			norms[j] += float64(v) * float64(v)
		}
	}
	for j, n2 := range norms {
		if math.Abs(n2-1) > 1e-5 {
			t.Fatalf("column %d: norm^2 %g", j, n2)
		}
	}
	// The encoder is a copy: a further step does not change it.
	sae := must[*SAE](t)(tr.Encoder(ctx))
	defer sae.Close()
	if sae.Inputs() != d || sae.Features() != 32 {
		t.Fatalf("encoder %d -> %d", sae.Inputs(), sae.Features())
	}
	xs := must[*Dense](t)(NewDense(ctx, rows, d, x, 0))
	defer xs.Close()
	codes := must[*Csr](t)(sae.Encode(ctx, xs, 4))
	defer codes.Close()
	if codes.Rows() != rows || codes.Cols() != 32 || codes.NNZ() <= rows || codes.NNZ() > 4*rows {
		t.Fatalf("codes %d x %d, %d entries", codes.Rows(), codes.Cols(), codes.NNZ())
	}
	batch := must[*Dense](t)(NewDense(ctx, 64, d, x[:64*d], 0))
	defer batch.Close()
	stepped := must[SAELosses](t)(tr.Step(ctx, batch))
	if again := must[SAELosses](t)(tr.Losses(ctx)); stepped != again || tr.Steps() != 30*16+1 {
		t.Fatalf("step gave %+v, Losses %+v, %d steps", stepped, again, tr.Steps())
	}
	same := must[*Csr](t)(sae.Encode(ctx, xs, 4))
	defer same.Close()
	moved := must[*SAE](t)(tr.Encoder(ctx))
	defer moved.Close()
	other := must[*Csr](t)(moved.Encode(ctx, xs, 4))
	defer other.Close()
	changed := false
	for r := int64(0); r < rows; r++ {
		_, a, _ := codes.Row(r)
		_, b, _ := same.Row(r)
		_, c, _ := other.Row(r)
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("row %d: the encoder changed with the trainer", r)
		}
		changed = changed || !reflect.DeepEqual(a, c)
	}
	if !changed {
		t.Fatal("a step changed no code of the new encoder")
	}
}

func TestSAETrainerSteps(t *testing.T) {
	// Step alone, no files: the same four batches again and again.
	ctx := newCtx(t)
	const d = 8
	x := mixtureRows(5, 256, d, 6)
	tr := smallTrainer(t, ctx, d)
	var batches []*Dense
	for i := 0; i < 4; i++ {
		b := must[*Dense](t)(NewDense(ctx, 64, d, x[i*64*d:(i+1)*64*d], 0))
		defer b.Close()
		batches = append(batches, b)
	}
	pass := func() (sum float64) {
		for _, b := range batches {
			sum += must[SAELosses](t)(tr.Step(ctx, b)).Recons
		}
		return sum
	}
	first := pass()
	for i := 0; i < 40; i++ {
		pass()
	}
	if last := pass(); !(last < 0.25*first) {
		t.Fatalf("reconstruction %g, at first %g", last, first)
	}
	if tr.Steps() != 42*4 || tr.Epochs() != 0 {
		t.Fatalf("%d steps, %d epochs", tr.Steps(), tr.Epochs())
	}
}

// Evaluate gives the losses the next step reports for the same rows and
// updates nothing (tests/test_sae_train.c's test_evaluate_matches_the_step,
// on one thread). A first step sets b_dec from its batch; from then on a
// step reports the losses of the weights before its update.
func TestSAETrainerEvaluate(t *testing.T) {
	ctx := newCtx(t)
	if err := ctx.Set("threads", 1); err != nil {
		t.Fatal(err)
	}
	const d = 8
	x := mixtureRows(81, 64, d, 4)
	tr := smallTrainer(t, ctx, d)
	batch := must[*Dense](t)(NewDense(ctx, 64, d, x, 0))
	defer batch.Close()
	must[SAELosses](t)(tr.Step(ctx, batch))
	losses := must[SAELosses](t)(tr.Losses(ctx))
	wDec := must[*Dense](t)(tr.Decoder(ctx))
	defer wDec.Close()
	recons, act, err := tr.Evaluate(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	if !(recons > 0 && act > 0) {
		t.Fatalf("recons %g, act %g", recons, act)
	}
	// Nothing updated: the same result again, the steps, the losses of
	// the last step and the weights as they were.
	r2, a2, err := tr.Evaluate(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	if math.Float64bits(r2) != math.Float64bits(recons) || math.Float64bits(a2) != math.Float64bits(act) {
		t.Fatalf("again: %g %g, first %g %g", r2, a2, recons, act)
	}
	if tr.Steps() != 1 {
		t.Fatalf("%d steps", tr.Steps())
	}
	if l := must[SAELosses](t)(tr.Losses(ctx)); !reflect.DeepEqual(l, losses) {
		t.Fatalf("losses %+v, before %+v", l, losses)
	}
	after := must[*Dense](t)(tr.Decoder(ctx))
	defer after.Close()
	for r := int64(0); r < d; r++ {
		if !reflect.DeepEqual(after.Row(r), wDec.Row(r)) {
			t.Fatalf("W_dec row %d changed", r)
		}
	}
	// The next step on the same rows reports them.
	stepped := must[SAELosses](t)(tr.Step(ctx, batch))
	if math.Abs(recons-stepped.Recons) > 1e-6*stepped.Recons {
		t.Fatalf("evaluate %.9g, step %.9g", recons, stepped.Recons)
	}
	if act != stepped.Act {
		t.Fatalf("act: evaluate %.17g, step %.17g", act, stepped.Act)
	}
	if tr.Steps() != 2 {
		t.Fatalf("%d steps", tr.Steps())
	}
	// Rows of another width: the library's message, nothing changed; a
	// closed or nil matrix is refused.
	narrow := must[*Dense](t)(NewDense(ctx, 128, 4, x[:512], 0))
	defer narrow.Close()
	_, _, err = tr.Evaluate(ctx, narrow)
	wantError(t, err, ErrInvalid, "subsel_sae_trainer_evaluate", "4 columns")
	_, _, err = tr.Evaluate(ctx, nil)
	wantError(t, err, ErrInvalid)
	if tr.Steps() != 2 {
		t.Fatalf("%d steps", tr.Steps())
	}
}

// folderBytes is every file of a folder, by name.
func folderBytes(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, e := range entries {
		out[e.Name()] = must[[]byte](t)(os.ReadFile(filepath.Join(dir, e.Name())))
	}
	return out
}

// sameTrainer checks that a and b save the same files, byte for byte, and
// had the same last losses.
func sameTrainer(t *testing.T, ctx *Context, a, b *SAETrainer) {
	t.Helper()
	if a.Steps() != b.Steps() || a.Epochs() != b.Epochs() {
		t.Fatalf("steps %d, %d; epochs %d, %d", a.Steps(), b.Steps(), a.Epochs(), b.Epochs())
	}
	tmp := t.TempDir()
	da, db := filepath.Join(tmp, "a"), filepath.Join(tmp, "b")
	if err := a.Save(ctx, da); err != nil {
		t.Fatal(err)
	}
	if err := b.Save(ctx, db); err != nil {
		t.Fatal(err)
	}
	fa, fb := folderBytes(t, da), folderBytes(t, db)
	if len(fa) < 8 || len(fa) != len(fb) {
		t.Fatalf("%d files and %d", len(fa), len(fb))
	}
	for name, x := range fa {
		if !bytes.Equal(x, fb[name]) {
			t.Fatalf("%s differs", name)
		}
	}
	la, lb := must[SAELosses](t)(a.Losses(ctx)), must[SAELosses](t)(b.Losses(ctx))
	if la != lb {
		t.Fatalf("losses %+v and %+v", la, lb)
	}
}

func TestSAETrainerResumes(t *testing.T) {
	ctx := newCtx(t)
	tmp := t.TempDir()
	const d, rows = 8, 300
	x := mixtureRows(41, rows, d, 6)
	// Two files, one data set: 300 rows in batches of 64 are 5 steps an epoch.
	paths := []string{filepath.Join(tmp, "part1.npy"), filepath.Join(tmp, "part2.npy")}
	saveRows(t, ctx, paths[0], x[:100*d], d)
	saveRows(t, ctx, paths[1], x[100*d:], d)

	straight := smallTrainer(t, ctx, d)
	if err := straight.Fit(ctx, paths, 3, "", ""); err != nil {
		t.Fatal(err)
	}
	if straight.Steps() != 15 || straight.Epochs() != 3 {
		t.Fatalf("%d steps, %d epochs", straight.Steps(), straight.Epochs())
	}

	// Cancelled after the 6th step (epoch 2, batch 1 of 5): progress
	// reports the rows done after each step. With a checkpoint folder and
	// a log.
	first := smallTrainer(t, ctx, d)
	var calls []int64
	err := ctx.SetProgress(func(stage string, done, total int64) bool {
		if stage != "train" || total != 3*rows {
			t.Errorf("progress %q %d/%d", stage, done, total)
		}
		calls = append(calls, done)
		return done != rows+64
	})
	if err != nil {
		t.Fatal(err)
	}
	ckpt, logPath := filepath.Join(tmp, "ckpt"), filepath.Join(tmp, "log.jsonl")
	wantError(t, first.Fit(ctx, paths, 3, ckpt, logPath), ErrCancelled)
	if err := ctx.SetProgress(nil); err != nil {
		t.Fatal(err)
	}
	if want := []int64{0, 64, 128, 192, 256, 300, 364}; !reflect.DeepEqual(calls, want) {
		t.Fatalf("progress %v, want %v", calls, want)
	}
	if first.Steps() != 6 || first.Epochs() != 1 {
		t.Fatalf("%d steps, %d epochs", first.Steps(), first.Epochs())
	}
	// The log: one line per step, one per finished epoch. (The step the
	// callback cancels after has no line: Fit checks progress first.)
	text := string(must[[]byte](t)(os.ReadFile(logPath)))
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) < 6 {
		t.Fatalf("log:\n%s", text)
	}
	for i, line := range lines[:5] {
		if !strings.HasPrefix(line, `{"step": `+string(rune('1'+i))+`, "epoch": 0, "rows": `) {
			t.Fatalf("log line %d: %s", i, line)
		}
	}
	if !strings.HasPrefix(lines[5], `{"epoch_end": 1, "steps": 5,`) {
		t.Fatalf("log line 5: %s", lines[5])
	}
	for _, line := range lines[6:] {
		if !strings.HasPrefix(line, `{"step": 6, "epoch": 1,`) {
			t.Fatalf("log: %s", line)
		}
	}

	// Saved now, loaded, continued (on one thread: the weights do not
	// depend on the thread count): the uninterrupted run's files.
	mid := filepath.Join(tmp, "mid")
	if err := first.Save(ctx, mid); err != nil {
		t.Fatal(err)
	}
	one := newCtx(t)
	if err := one.Set("threads", 1); err != nil {
		t.Fatal(err)
	}
	resumed := must[*SAETrainer](t)(LoadSAETrainer(one, mid))
	defer resumed.Close()
	if resumed.Steps() != 6 || resumed.Epochs() != 1 {
		t.Fatalf("loaded: %d steps, %d epochs", resumed.Steps(), resumed.Epochs())
	}
	if b, err := resumed.GetInt(one, "batch"); err != nil || b != 64 {
		t.Fatalf("batch %d, %v", b, err)
	}
	if lr, err := resumed.GetReal(one, "lr"); err != nil || lr != 5e-3 {
		t.Fatalf("lr %g, %v", lr, err)
	}
	if err := resumed.Fit(one, paths, 3, "", ""); err != nil {
		t.Fatal(err)
	}
	sameTrainer(t, ctx, straight, resumed)
	// The cancelled one continues in memory as well.
	if err := first.Fit(ctx, paths, 3, "", ""); err != nil {
		t.Fatal(err)
	}
	sameTrainer(t, ctx, straight, first)
	// Fit's checkpoint folder (after epoch 1) continues to the same end.
	fromEpoch := must[*SAETrainer](t)(LoadSAETrainer(ctx, ckpt))
	defer fromEpoch.Close()
	if fromEpoch.Steps() != 5 || fromEpoch.Epochs() != 1 {
		t.Fatalf("checkpoint: %d steps, %d epochs", fromEpoch.Steps(), fromEpoch.Epochs())
	}
	if err := fromEpoch.Fit(ctx, paths, 3, "", ""); err != nil {
		t.Fatal(err)
	}
	sameTrainer(t, ctx, straight, fromEpoch)
	// A checkpoint is an encoder folder too.
	sae := must[*SAE](t)(LoadSAE(ctx, ckpt))
	defer sae.Close()
	if sae.Inputs() != d || sae.Features() != 32 {
		t.Fatalf("encoder %d -> %d", sae.Inputs(), sae.Features())
	}
}

func TestSAETrainerParameters(t *testing.T) {
	ctx := newCtx(t)
	tr := must[*SAETrainer](t)(NewSAETrainer(ctx, 4, 8))
	defer tr.Close()
	if k, err := tr.GetInt(ctx, "k"); err != nil || k != 128 {
		t.Fatalf("k %d, %v", k, err)
	}
	if lr, err := tr.GetReal(ctx, "lr"); err != nil || lr != 2e-4 {
		t.Fatalf("lr %g, %v", lr, err)
	}
	params := must[[]Param](t)(Params(KindSAETrainer))
	if len(params) != 16 || params[0].Name != "k" {
		t.Fatalf("%d parameters: %+v", len(params), params)
	}
	k := must[Param](t)(FindParam(KindSAETrainer, "k"))
	if k.Type != IntParam || k.IntMin != 1 || k.IntDefault != 128 || k.Doc == "" {
		t.Fatalf("%+v", k)
	}
	// An integer given to a real parameter is converted.
	if err := tr.Set(ctx, "l_mono", 1); err != nil {
		t.Fatal(err)
	}
	if v, err := tr.GetReal(ctx, "l_mono"); err != nil || v != 1 {
		t.Fatalf("l_mono %g, %v", v, err)
	}
	if err := tr.Set(ctx, "b_dec_init", 0); err != nil { // SUBSEL_SAE_INIT_MEAN
		t.Fatal(err)
	}
}

func TestSAETrainerErrors(t *testing.T) {
	ctx := newCtx(t)
	_, err := NewSAETrainer(ctx, 0, 4)
	wantError(t, err, ErrInvalid, "subsel_sae_trainer_create")

	tr := must[*SAETrainer](t)(NewSAETrainer(ctx, 4, 4))
	if err := tr.Set(ctx, "l_mono", 0); err != nil {
		t.Fatal(err)
	}
	wantError(t, tr.Set(ctx, "lr", 0.0), ErrInvalid, "lr")
	wantError(t, tr.Set(ctx, "no_such", 1), ErrInvalid, "no_such")
	wantError(t, tr.Set(ctx, "k", 1.5), ErrInvalid)
	wantError(t, tr.Set(ctx, "k", "four"), ErrInvalid, "string")

	// k above the latents is caught at the step, which changes nothing.
	if err := tr.Set(ctx, "k", 5); err != nil {
		t.Fatal(err)
	}
	x := []float32{1, 2, 3, 4, 5, 6, 7, 8}
	batch := must[*Dense](t)(NewDense(ctx, 2, 4, x, 0))
	defer batch.Close()
	_, err = tr.Step(ctx, batch)
	wantError(t, err, ErrInvalid, "k")
	if tr.Steps() != 0 {
		t.Fatalf("%d steps", tr.Steps())
	}
	if err := tr.Set(ctx, "k", 2); err != nil {
		t.Fatal(err)
	}
	must[SAELosses](t)(tr.Step(ctx, batch))
	// Fixed once a step has run; others still change.
	wantError(t, tr.Set(ctx, "k", 1), ErrState)
	if err := tr.Set(ctx, "lr", 1e-3); err != nil {
		t.Fatal(err)
	}
	// Wrong columns, a closed batch.
	narrow := must[*Dense](t)(NewDense(ctx, 4, 2, x, 0))
	defer narrow.Close()
	_, err = tr.Step(ctx, narrow)
	wantError(t, err, ErrInvalid, "columns")
	closed := must[*Dense](t)(NewDense(ctx, 2, 4, x, 0))
	closed.Close()
	_, err = tr.Step(ctx, closed)
	wantError(t, err, ErrInvalid, "Dense used after Close")
	_, err = tr.Step(ctx, nil)
	wantError(t, err, ErrInvalid)

	// Files: missing, none, of other columns, a negative epoch count.
	wantError(t, tr.Fit(ctx, []string{"/nonexistent/subsel-go.npy"}, 1, "", ""), ErrIO, "/nonexistent/subsel-go.npy")
	wantError(t, tr.Fit(ctx, nil, 1, "", ""), ErrInvalid)
	tmp := t.TempDir()
	three := filepath.Join(tmp, "three.npy")
	saveRows(t, ctx, three, x[:6], 3)
	wantError(t, tr.Fit(ctx, []string{three}, 1, "", ""), ErrInvalid, "3 columns")
	four := filepath.Join(tmp, "four.npy")
	saveRows(t, ctx, four, x, 4)
	wantError(t, tr.Fit(ctx, []string{four}, -1, "", ""), ErrInvalid, "epochs")
	wantError(t, tr.Fit(ctx, []string{four}, 1, "", filepath.Join(tmp, "absent", "log")), ErrIO, "log")

	// Loading: no folder, a folder without trainer.npy; saving where a
	// folder cannot be made.
	_, err = LoadSAETrainer(ctx, filepath.Join(tmp, "absent"))
	wantError(t, err, ErrIO)
	_, err = LoadSAETrainer(ctx, tmp)
	wantError(t, err, ErrIO, "not a complete checkpoint")
	wantError(t, tr.Save(ctx, filepath.Join(three, "sub")), ErrIO)

	// A closed trainer is refused, never a crash.
	tr.Close()
	tr.Close()
	_, err = tr.Step(ctx, batch)
	wantError(t, err, ErrInvalid, "SAETrainer used after Close")
	_, err = tr.Encoder(ctx)
	wantError(t, err, ErrInvalid, "SAETrainer used after Close")
	wantError(t, tr.Set(ctx, "lr", 1e-3), ErrInvalid, "SAETrainer used after Close")
	if tr.Steps() != -1 || tr.Epochs() != -1 || tr.Dead() != -1 {
		t.Fatalf("closed: %d %d %d", tr.Steps(), tr.Epochs(), tr.Dead())
	}
}

// A panic in the progress callback stops Fit between steps and is raised
// again from Fit; the trainer is consistent and continues.
func TestSAETrainerProgressPanic(t *testing.T) {
	ctx := newCtx(t)
	path := filepath.Join(t.TempDir(), "x.npy")
	saveRows(t, ctx, path, mixtureRows(3, 128, 8, 4), 8)
	tr := smallTrainer(t, ctx, 8)
	if err := ctx.SetProgress(func(_ string, done, _ int64) bool {
		if done > 0 {
			panic(errors.New("stop here"))
		}
		return true
	}); err != nil {
		t.Fatal(err)
	}
	func() {
		defer func() {
			if r := recover(); r == nil || r.(error).Error() != "stop here" {
				t.Fatalf("recovered %v", r)
			}
		}()
		tr.Fit(ctx, []string{path}, 1, "", "")
		t.Fatal("Fit returned")
	}()
	if tr.Steps() != 1 || tr.Epochs() != 0 {
		t.Fatalf("%d steps, %d epochs", tr.Steps(), tr.Epochs())
	}
	if err := ctx.SetProgress(nil); err != nil {
		t.Fatal(err)
	}
	if err := tr.Fit(ctx, []string{path}, 1, "", ""); err != nil {
		t.Fatal(err)
	}
	if tr.Steps() != 2 || tr.Epochs() != 1 {
		t.Fatalf("%d steps, %d epochs", tr.Steps(), tr.Epochs())
	}
}
