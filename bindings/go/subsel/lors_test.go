// SPDX-License-Identifier: MIT

package subsel

import (
	"math"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// LoRS distillation (tests/test_lors.c's public cases through the
// package) on small paired data sharing a latent: shapes of what comes
// back; save, load and more iterations equal to one uninterrupted run,
// bit for bit; recalls ordered, in [0, 1] and above chance for towers
// trained on the real pairs; baselines distinct and in range; parameters
// from the library's table; errors by status and message. leak_test.go
// runs every LoRS call in its rounds.

const lorsImageDim, lorsTextDim, lorsPairs = 6, 5, 12

// pairedRows are n pairs sharing a latent z of 4 dimensions: image = A z
// + noise, text = B z + noise (the same A, B for every seed), so that
// retrieval can be learnt (tests/test_lors.c's paired_rows).
func pairedRows(seed uint64, n int) (images, texts []float32) {
	const k = 4
	maps := newXorshift(1000)
	a, b := make([]float64, lorsImageDim*k), make([]float64, lorsTextDim*k)
	for i := range a {
		a[i] = maps.normal()
	}
	for i := range b {
		b[i] = maps.normal()
	}
	rng := newXorshift(seed)
	z := make([]float64, k)
	for r := 0; r < n; r++ {
		for j := range z {
			z[j] = rng.normal()
		}
		for _, side := range []struct {
			m   []float64
			d   int
			out *[]float32
		}{{a, lorsImageDim, &images}, {b, lorsTextDim, &texts}} {
			for c := 0; c < side.d; c++ {
				v := 0.3 * rng.normal()
				for j := 0; j < k; j++ {
					v += side.m[c*k+j] * z[j]
				}
				*side.out = append(*side.out, float32(v))
			}
		}
	}
	return images, texts
}

// pairedDense are pairedRows as matrices, closed with the test.
func pairedDense(t *testing.T, ctx *Context, seed uint64, n int) (images, texts *Dense) {
	t.Helper()
	x, y := pairedRows(seed, n)
	images = must[*Dense](t)(NewDense(ctx, int64(n), lorsImageDim, x, 0))
	t.Cleanup(func() { images.Close() })
	texts = must[*Dense](t)(NewDense(ctx, int64(n), lorsTextDim, y, 0))
	t.Cleanup(func() { texts.Close() })
	return images, texts
}

// smallLoRS is tests/test_lors.c's small_lors: towers of embed_dim 8, 12
// pairs, 3 student steps on batches of 4, 2 experts of 3 epochs.
func smallLoRS(t *testing.T, ctx *Context) *LoRS {
	t.Helper()
	l := must[*LoRS](t)(NewLoRS(ctx, lorsImageDim, lorsTextDim))
	t.Cleanup(func() { l.Close() })
	for _, p := range []struct {
		name  string
		value any
	}{{"embed_dim", 8}, {"pairs", lorsPairs}, {"syn_steps", 3}, {"batch", 4}, {"rank", 2},
		{"experts", 2}, {"buffer_epochs", 3}, {"expert_batch", 16}, {"eval_epochs", 5},
		{"lr_image", 1.0}, {"lr_text", 1.0}, {"lr_sim", 1.0}} {
		if err := l.Set(ctx, p.name, p.value); err != nil {
			t.Fatal(err)
		}
	}
	return l
}

// lorsSnapshot is everything the distilled state exposes, as bits: x, y,
// S~, eta, the last loss and the iterations.
func lorsSnapshot(t *testing.T, ctx *Context, l *LoRS) []uint64 {
	t.Helper()
	set := must[*LoRSSet](t)(l.Synthetic(ctx))
	var bits []uint64
	for _, v := range append(append(set.Images, set.Texts...), must[[]float32](t)(l.Similarity(ctx))...) {
		bits = append(bits, uint64(math.Float32bits(v)))
	}
	ei, et, err := l.Eta(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []float64{ei, et, must[float64](t)(l.LastLoss(ctx))} {
		bits = append(bits, math.Float64bits(v))
	}
	return append(bits, uint64(l.Iterations()))
}

func wantRecallsOrdered(t *testing.T, r LoRSRecalls) {
	t.Helper()
	for _, at := range [][3]float64{{r.IR1, r.IR5, r.IR10}, {r.TR1, r.TR5, r.TR10}} {
		if !(0 <= at[0] && at[0] <= at[1] && at[1] <= at[2] && at[2] <= 1) {
			t.Fatalf("recalls %+v", r)
		}
	}
}

func TestLoRSDistillsAndResumesBitForBit(t *testing.T) {
	ctx := newCtx(t)
	tmp := t.TempDir()
	images, texts := pairedDense(t, ctx, 3, 64)
	buffer, logPath := filepath.Join(tmp, "buffer"), filepath.Join(tmp, "buffer.jsonl")

	straight := smallLoRS(t, ctx)
	if straight.ImageDim() != lorsImageDim || straight.TextDim() != lorsTextDim {
		t.Fatalf("dims %d, %d", straight.ImageDim(), straight.TextDim())
	}
	if err := straight.Buffer(ctx, images, texts, buffer, logPath); err != nil {
		t.Fatal(err)
	}
	// One JSON line per expert epoch: 2 experts of 3.
	text := string(must[[]byte](t)(os.ReadFile(logPath)))
	if n := strings.Count(text, "\n"); n != 6 {
		t.Fatalf("%d log lines:\n%s", n, text)
	}
	for _, name := range []string{"expert_0000.npy", "expert_0001.npy"} {
		if _, err := os.Stat(filepath.Join(buffer, name)); err != nil {
			t.Fatal(err)
		}
	}
	if straight.Iterations() != 0 || !math.IsNaN(must[float64](t)(straight.LastLoss(ctx))) {
		t.Fatal("a fresh handle has iterations or a loss")
	}
	if err := straight.Distill(ctx, images, texts, buffer, 3, ""); err != nil {
		t.Fatal(err)
	}
	if straight.Iterations() != 3 {
		t.Fatalf("%d iterations", straight.Iterations())
	}
	if loss := must[float64](t)(straight.LastLoss(ctx)); !(loss > 0 && !math.IsInf(loss, 0)) {
		t.Fatalf("loss %g", loss)
	}

	// Shapes, and a similarity that has left the identity.
	set := must[*LoRSSet](t)(straight.Synthetic(ctx))
	if set.Pairs != lorsPairs || set.ImageDim != lorsImageDim || set.TextDim != lorsTextDim ||
		len(set.Images) != lorsPairs*lorsImageDim || len(set.Texts) != lorsPairs*lorsTextDim {
		t.Fatalf("set %d x (%d, %d), %d and %d values", set.Pairs, set.ImageDim, set.TextDim,
			len(set.Images), len(set.Texts))
	}
	s := must[[]float32](t)(straight.Similarity(ctx))
	if len(s) != lorsPairs*lorsPairs {
		t.Fatalf("similarity of %d values", len(s))
	}
	off := 0.0
	for i, v := range s {
		want := 0.0
		if i%(lorsPairs+1) == 0 {
			want = 1
		}
		off += math.Abs(float64(v) - want)
	}
	if off <= 1e-6 {
		t.Fatal("S~ never left the identity")
	}

	// One iteration (with a log), saved, loaded on another context with
	// one thread, two more: the straight run's bits.
	first := smallLoRS(t, ctx)
	distillLog := filepath.Join(tmp, "distill.jsonl")
	if err := first.Distill(ctx, images, texts, buffer, 1, distillLog); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(must[[]byte](t)(os.ReadFile(distillLog))), "\n"); n != 1 {
		t.Fatalf("%d distill log lines", n)
	}
	saved := filepath.Join(tmp, "saved")
	if err := first.Save(ctx, saved); err != nil {
		t.Fatal(err)
	}
	if r, c, err := DenseNPYShape(ctx, filepath.Join(saved, "similarity.npy")); err != nil || r != lorsPairs || c != lorsPairs {
		t.Fatalf("similarity.npy %d x %d, %v", r, c, err)
	}
	one := newCtx(t)
	if err := one.Set("threads", 1); err != nil {
		t.Fatal(err)
	}
	resumed := must[*LoRS](t)(LoadLoRS(one, saved))
	defer resumed.Close()
	if resumed.ImageDim() != lorsImageDim || resumed.TextDim() != lorsTextDim || resumed.Iterations() != 1 {
		t.Fatalf("loaded: dims %d, %d, %d iterations", resumed.ImageDim(), resumed.TextDim(), resumed.Iterations())
	}
	if v, err := resumed.GetInt(one, "syn_steps"); err != nil || v != 3 {
		t.Fatalf("syn_steps %d, %v", v, err)
	}
	if v, err := resumed.GetReal(one, "lr_sim"); err != nil || v != 1 {
		t.Fatalf("lr_sim %g, %v", v, err)
	}
	if !reflect.DeepEqual(lorsSnapshot(t, one, resumed), lorsSnapshot(t, ctx, first)) {
		t.Fatal("the loaded set differs from the saved one")
	}
	if err := resumed.Distill(one, nil, nil, buffer, 2, ""); err != nil {
		t.Fatal(err)
	}
	want := lorsSnapshot(t, ctx, straight)
	if !reflect.DeepEqual(lorsSnapshot(t, one, resumed), want) {
		t.Fatal("saved, loaded and continued differs from the uninterrupted run")
	}
	// The first handle continues in memory to the same bits.
	if err := first.Distill(ctx, nil, nil, buffer, 2, ""); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(lorsSnapshot(t, ctx, first), want) {
		t.Fatal("continued in memory differs from the uninterrupted run")
	}
}

func TestLoRSCancelledDistillationContinues(t *testing.T) {
	ctx := newCtx(t)
	buffer := filepath.Join(t.TempDir(), "buffer")
	images, texts := pairedDense(t, ctx, 4, 40)
	straight := smallLoRS(t, ctx)
	if err := straight.Buffer(ctx, images, texts, buffer, ""); err != nil {
		t.Fatal(err)
	}
	if err := straight.Distill(ctx, images, texts, buffer, 3, ""); err != nil {
		t.Fatal(err)
	}
	l := smallLoRS(t, ctx)
	var calls []int64
	err := ctx.SetProgress(func(stage string, done, total int64) bool {
		// Reading the trajectories reports a stage of its own.
		if stage != "distill" {
			return true
		}
		if total != 3 {
			t.Errorf("progress %q %d/%d", stage, done, total)
		}
		calls = append(calls, done)
		return done != 1
	})
	if err != nil {
		t.Fatal(err)
	}
	wantError(t, l.Distill(ctx, images, texts, buffer, 3, ""), ErrCancelled)
	if err := ctx.SetProgress(nil); err != nil {
		t.Fatal(err)
	}
	if len(calls) == 0 || calls[len(calls)-1] != 1 || l.Iterations() != 1 {
		t.Fatalf("progress %v, %d iterations", calls, l.Iterations())
	}
	if err := l.Distill(ctx, nil, nil, buffer, 2, ""); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(lorsSnapshot(t, ctx, l), lorsSnapshot(t, ctx, straight)) {
		t.Fatal("cancelled and continued differs from the uninterrupted run")
	}
}

func TestLoRSEvaluate(t *testing.T) {
	ctx := newCtx(t)
	if err := ctx.Set("threads", 1); err != nil {
		t.Fatal(err)
	}
	images, texts := pairedDense(t, ctx, 21, 200)
	testImages, testTexts := pairedDense(t, ctx, 22, 30)
	l := smallLoRS(t, ctx)
	// Nothing distilled: the distilled set cannot be the training set.
	_, err := l.Evaluate(ctx, nil, testImages, testTexts, nil)
	wantError(t, err, ErrState, "subsel_lors_evaluate")

	// Towers trained on the real pairs retrieve held-out pairs far above
	// chance (1/30 at 1): the shared latent is learnable.
	if err := l.Set(ctx, "eval_epochs", 30); err != nil {
		t.Fatal(err)
	}
	if err := l.Set(ctx, "loss", 0); err != nil { // InfoNCE
		t.Fatal(err)
	}
	pairs := &LoRSTraining{Images: images, Texts: texts}
	r := must[LoRSRecalls](t)(l.Evaluate(ctx, pairs, testImages, testTexts, nil))
	wantRecallsOrdered(t, r)
	if r.IR1 <= 0.3 || r.TR1 <= 0.3 {
		t.Fatalf("recalls %+v", r)
	}
	if again := must[LoRSRecalls](t)(l.Evaluate(ctx, pairs, testImages, testTexts, nil)); again != r {
		t.Fatalf("seeded evaluation gave %+v, then %+v", r, again)
	}
	// The identity given as a matrix, and text t to image t given as
	// owners, change nothing.
	identity := make([]float32, 200*200)
	for k := 0; k < 200; k++ {
		identity[k*200+k] = 1
	}
	owners := make([]int64, 30)
	for k := range owners {
		owners[k] = int64(k)
	}
	withMatrix := &LoRSTraining{Images: images, Texts: texts, Similarity: identity}
	if got := must[LoRSRecalls](t)(l.Evaluate(ctx, withMatrix, testImages, testTexts, owners)); got != r {
		t.Fatalf("with the identity and owners %+v, without %+v", got, r)
	}
	// Several texts per image: texts 30..39 are copies of texts 0..9.
	_, y := pairedRows(22, 30)
	more := must[*Dense](t)(NewDense(ctx, 40, lorsTextDim, append(y, y[:10*lorsTextDim]...), 0))
	defer more.Close()
	owners40 := make([]int64, 40)
	for k := range owners40 {
		owners40[k] = int64(k % 30)
	}
	wantRecallsOrdered(t, must[LoRSRecalls](t)(l.Evaluate(ctx, pairs, testImages, more, owners40)))

	// On the distilled set, with its S~ and eta.
	if err := l.Set(ctx, "eval_epochs", 5); err != nil {
		t.Fatal(err)
	}
	buffer := filepath.Join(t.TempDir(), "buffer")
	if err := l.Buffer(ctx, images, texts, buffer, ""); err != nil {
		t.Fatal(err)
	}
	if err := l.Distill(ctx, images, texts, buffer, 3, ""); err != nil {
		t.Fatal(err)
	}
	wantRecallsOrdered(t, must[LoRSRecalls](t)(l.Evaluate(ctx, nil, testImages, testTexts, nil)))

	// The package checks the lengths the library would read past.
	_, err = l.Evaluate(ctx, nil, testImages, testTexts, owners[:29])
	wantError(t, err, ErrInvalid, "textImage")
	_, err = l.Evaluate(ctx, &LoRSTraining{Images: images, Texts: texts, Similarity: identity[:100]},
		testImages, testTexts, nil)
	wantError(t, err, ErrInvalid, "similarity")
	// An image out of range, an image without a text: the library's.
	owners[29] = 30
	_, err = l.Evaluate(ctx, nil, testImages, testTexts, owners)
	wantError(t, err, ErrInvalid, "subsel_lors_evaluate")
	owners[29] = 28
	_, err = l.Evaluate(ctx, nil, testImages, testTexts, owners)
	wantError(t, err, ErrInvalid, "subsel_lors_evaluate")
	// A nil or closed training matrix.
	_, err = l.Evaluate(ctx, &LoRSTraining{Images: images}, testImages, testTexts, nil)
	wantError(t, err, ErrInvalid)
}

func TestLoRSBaselines(t *testing.T) {
	ctx := newCtx(t)
	images, texts := pairedDense(t, ctx, 11, 40)
	l := must[*LoRS](t)(NewLoRS(ctx, lorsImageDim, lorsTextDim))
	defer l.Close()
	all := make([]int64, 40)
	for i := range all {
		all[i] = int64(i)
	}
	for _, method := range []LoRSBaseline{LoRSRandom, LoRSKCenter, LoRSHerding} {
		idx := must[[]int64](t)(l.Baseline(ctx, method, images, texts, 7))
		seen := map[int64]bool{}
		for _, i := range idx {
			if i < 0 || i >= 40 || seen[i] {
				t.Fatalf("method %d: %v", method, idx)
			}
			seen[i] = true
		}
		if len(idx) != 7 {
			t.Fatalf("method %d: %v", method, idx)
		}
		// Seeded: the same choice again.
		if again := must[[]int64](t)(l.Baseline(ctx, method, images, texts, 7)); !reflect.DeepEqual(again, idx) {
			t.Fatalf("method %d: %v, then %v", method, idx, again)
		}
		every := must[[]int64](t)(l.Baseline(ctx, method, images, texts, 40))
		sort.Slice(every, func(a, b int) bool { return every[a] < every[b] })
		if !reflect.DeepEqual(every, all) {
			t.Fatalf("method %d, all pairs: %v", method, every)
		}
	}
	// Herding's first pick is the pair nearest the mean of all, each pair
	// described by its unit image and text side by side.
	x, y := pairedRows(11, 40)
	unit := func(v []float32) []float64 {
		n := 0.0
		for _, e := range v {
			n += float64(e) * float64(e)
		}
		out := make([]float64, len(v))
		for i, e := range v {
			out[i] = float64(e) / math.Sqrt(n)
		}
		return out
	}
	features := make([][]float64, 40)
	mean := make([]float64, lorsImageDim+lorsTextDim)
	for i := range features {
		features[i] = append(unit(x[i*lorsImageDim:(i+1)*lorsImageDim]), unit(y[i*lorsTextDim:(i+1)*lorsTextDim])...)
		for c, v := range features[i] {
			mean[c] += v / 40
		}
	}
	nearest, best := -1, math.Inf(1)
	for i, f := range features {
		d := 0.0
		for c, v := range f {
			d += (v - mean[c]) * (v - mean[c])
		}
		if d < best {
			nearest, best = i, d
		}
	}
	if got := must[[]int64](t)(l.Baseline(ctx, LoRSHerding, images, texts, 1)); !reflect.DeepEqual(got, []int64{int64(nearest)}) {
		t.Fatalf("herding's first pick %v, the pair nearest the mean %d", got, nearest)
	}

	for _, count := range []int64{0, 41} {
		_, err := l.Baseline(ctx, LoRSKCenter, images, texts, count)
		wantError(t, err, ErrInvalid, "subsel_lors_baseline")
	}
	_, err := l.Baseline(ctx, LoRSBaseline(7), images, texts, 3)
	wantError(t, err, ErrInvalid, "subsel_lors_baseline")
	_, err = l.Baseline(ctx, LoRSRandom, texts, texts, 3)
	wantError(t, err, ErrInvalid, "subsel_lors_baseline")
}

func TestLoRSParameters(t *testing.T) {
	ctx := newCtx(t)
	if KindLoRS != 15 || KindLoRS.String() == "" {
		t.Fatalf("kind %d %q", int(KindLoRS), KindLoRS.String())
	}
	params := must[[]Param](t)(Params(KindLoRS))
	if len(params) != 28 {
		t.Fatalf("%d parameters: %+v", len(params), params)
	}
	p := must[Param](t)(FindParam(KindLoRS, "pairs"))
	if p.Type != IntParam || p.IntMin != 1 || p.IntDefault != 100 {
		t.Fatalf("%+v", p)
	}
	temp := must[Param](t)(FindParam(KindLoRS, "temperature"))
	if temp.Type != RealParam || temp.Default != 0.07 || !temp.OpenMin || !temp.OpenMax {
		t.Fatalf("%+v", temp)
	}
	l := must[*LoRS](t)(NewLoRS(ctx, 3, 2))
	defer l.Close()
	if v, err := l.GetInt(ctx, "embed_dim"); err != nil || v != 256 {
		t.Fatalf("embed_dim %d, %v", v, err)
	}
	// An integer given to a real parameter is converted.
	if err := l.Set(ctx, "alpha", 2); err != nil {
		t.Fatal(err)
	}
	if v, err := l.GetReal(ctx, "alpha"); err != nil || v != 2 {
		t.Fatalf("alpha %g, %v", v, err)
	}
}

func TestLoRSErrors(t *testing.T) {
	ctx := newCtx(t)
	tmp := t.TempDir()
	for _, dims := range [][2]int64{{0, 5}, {6, 0}, {1 << 25, 5}} {
		_, err := NewLoRS(ctx, dims[0], dims[1])
		wantError(t, err, ErrInvalid, "subsel_lors_create")
	}
	l := smallLoRS(t, ctx)
	wantError(t, l.Set(ctx, "no_such", 1), ErrInvalid, "no_such")
	wantError(t, l.Set(ctx, "temperature", 0.0), ErrInvalid, "temperature")
	wantError(t, l.Set(ctx, "pairs", 1.5), ErrInvalid)

	images, texts := pairedDense(t, ctx, 1, 30)
	buffer := filepath.Join(tmp, "buffer")
	// Wrong dimensions: texts for images; rows that differ.
	wantError(t, l.Buffer(ctx, texts, texts, buffer, ""), ErrInvalid, "subsel_lors_buffer")
	x, _ := pairedRows(1, 2)
	two := must[*Dense](t)(NewDense(ctx, 2, lorsImageDim, x, 0))
	defer two.Close()
	wantError(t, l.Buffer(ctx, two, texts, buffer, ""), ErrInvalid, "subsel_lors_buffer")

	// Nothing distilled yet: ErrState, the library's message.
	_, err := l.Synthetic(ctx)
	wantError(t, err, ErrState, "nothing is distilled yet")
	_, err = l.Similarity(ctx)
	wantError(t, err, ErrState)
	_, _, err = l.Eta(ctx)
	wantError(t, err, ErrState)
	wantError(t, l.Save(ctx, filepath.Join(tmp, "saved")), ErrState)

	// No buffer there; a first distillation without real pairs.
	wantError(t, l.Distill(ctx, images, texts, filepath.Join(tmp, "none"), 1, ""), ErrIO)
	if err := l.Buffer(ctx, images, texts, buffer, ""); err != nil {
		t.Fatal(err)
	}
	wantError(t, l.Distill(ctx, nil, nil, buffer, 1, ""), ErrInvalid, "subsel_lors_distill")
	// A buffer of other towers.
	other := smallLoRS(t, ctx)
	if err := other.Set(ctx, "embed_dim", 9); err != nil {
		t.Fatal(err)
	}
	wantError(t, other.Distill(ctx, images, texts, buffer, 1, ""), ErrFormat)
	if other.Iterations() != 0 {
		t.Fatalf("%d iterations", other.Iterations())
	}
	// Real pairs of another width; a negative count.
	wantError(t, l.Distill(ctx, texts, texts, buffer, 1, ""), ErrInvalid)
	wantError(t, l.Distill(ctx, images, texts, buffer, -1, ""), ErrInvalid)

	// Fixed once started; others still change.
	if err := l.Distill(ctx, images, texts, buffer, 1, ""); err != nil {
		t.Fatal(err)
	}
	wantError(t, l.Set(ctx, "pairs", 5), ErrState, "pairs")
	if err := l.Set(ctx, "lr_sim", 2.0); err != nil {
		t.Fatal(err)
	}

	// Loading: no folder, a folder that is no saved set; saving where a
	// folder cannot be made.
	_, err = LoadLoRS(ctx, filepath.Join(tmp, "absent"))
	wantError(t, err, ErrFormat)
	_, err = LoadLoRS(ctx, buffer)
	wantError(t, err, ErrFormat, "not a saved LoRS set")
	wantError(t, l.Save(ctx, filepath.Join(buffer, "expert_0000.npy", "sub")), ErrIO)

	// A closed handle.
	closed := must[*LoRS](t)(NewLoRS(ctx, 2, 2))
	closed.Close()
	closed.Close()
	_, err = closed.Synthetic(ctx)
	wantError(t, err, ErrInvalid)
	wantError(t, closed.Distill(ctx, nil, nil, buffer, 1, ""), ErrInvalid)
	if closed.Iterations() != -1 {
		t.Fatalf("a closed handle has %d iterations", closed.Iterations())
	}
}
