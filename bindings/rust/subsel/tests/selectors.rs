// SPDX-License-Identifier: MIT
// TAROT, ClipCov and double greedy on the data and figures of the CLI
// tests (tests/cli/tarot.sh on tests/fixtures/tarot, tests/cli/clipcov.sh
// on tests/data/clipcov); errors by kind and message; inputs dropped
// before the selector runs.
mod common;

use common::{data, fixture};
use subsel::{
    double_greedy, tarot_folds, tarot_weights, tarot_weights_reference, ClipCov, Context, Dense, ErrorKind,
    Filter, ShortReason, Tarot, Value,
};

fn sorted(mut v: Vec<i64>) -> Vec<i64> {
    v.sort_unstable();
    v
}

fn one_thread() -> Context {
    let mut ctx = Context::new().unwrap();
    ctx.set_threads(1).unwrap();
    ctx
}

fn tarot(ctx: &Context) -> Tarot<'static> {
    // Loaded (owned) matrices, dropped at once: the selector keeps them.
    let candidates = Dense::load_npy(ctx, fixture("tarot/candidates.npy")).unwrap();
    let targets = Dense::load_npy(ctx, fixture("tarot/targets.npy")).unwrap();
    Tarot::new(ctx, &candidates, &targets).unwrap()
}

#[test]
fn tarot_fixed_size_as_the_cli() {
    // --ratio 0.2 --reference-compatible --weights 0: 40 selected of their
    // budget, the fixture's set; reference weights for 40 + 50 targets
    // summing to N = 200.
    let ctx = one_thread();
    let mut t = tarot(&ctx);
    t.set_param(&ctx, "reference", 1i64).unwrap();
    assert_eq!(t.param(&ctx, "reference").unwrap(), Value::Int(1));
    let sel = t.select_fixed(&ctx, 40).unwrap();
    assert_eq!((sel.indices.len(), sel.budget), (40, 40));
    assert_eq!(sel.short_reason, ShortReason::None);
    let want = subsel::read_npy_i64(&ctx, fixture("tarot/fixed_size_reference.npy")).unwrap();
    assert_eq!(sorted(sel.indices.clone()), sorted(want));
    let w = tarot_weights_reference(&ctx, &sel.gains, t.targets(), 200).unwrap();
    assert_eq!(w.len(), 90);
    assert_eq!(w.iter().sum::<i64>(), 200);
    // The largest total, 2^53, is exact; one more is refused.
    let w = tarot_weights(&ctx, &sel.gains, 1 << 53).unwrap();
    assert_eq!(w.iter().sum::<i64>(), 1 << 53);
    let e = tarot_weights(&ctx, &sel.gains, (1 << 53) + 1).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Invalid);
    assert!(e.message().contains("2^53"), "{e}");
}

#[test]
fn tarot_otm_as_the_cli() {
    let ctx = one_thread();
    let folds = subsel::read_npy_i64(&ctx, fixture("tarot/target_folds.npy")).unwrap();
    // --otm --folds 5 --target-folds --reference-compatible: 158, the fixture's.
    let mut t = tarot(&ctx);
    t.set_param(&ctx, "reference", 1i64).unwrap();
    let sel = t.select_otm(&ctx, 5, Some(&folds)).unwrap();
    let want = subsel::read_npy_i64(&ctx, fixture("tarot/otm_reference.npy")).unwrap();
    assert_eq!(sel.indices, want); // byte for byte, ascending
                                   // The default keeps the minimum: 147, the fixture's argmin; weights 250.
    let mut t = tarot(&ctx);
    let sel = t.select_otm(&ctx, 5, Some(&folds)).unwrap();
    assert_eq!(
        sel.indices,
        subsel::read_npy_i64(&ctx, fixture("tarot/otm_argmin.npy")).unwrap()
    );
    assert_eq!(sel.budget, 147);
    let w = tarot_weights(&ctx, &sel.gains, 250).unwrap();
    assert_eq!((w.len(), w.iter().sum::<i64>()), (147, 250));
}

#[test]
fn tarot_seeded_projection_repeats_itself() {
    // --otm --folds 4 --proj-dim 8 --proj-kind gaussian --whiten zca --seed 3
    let run = |threads: i64| {
        let mut ctx = Context::new().unwrap();
        ctx.set_seed(3).unwrap();
        ctx.set_threads(threads).unwrap();
        let mut t = tarot(&ctx);
        t.set_param(&ctx, "proj_dim", 8i64).unwrap();
        t.set_param(&ctx, "proj_kind", subsel::sys::SUBSEL_PROJ_GAUSSIAN)
            .unwrap();
        t.set_param(&ctx, "whiten", subsel::sys::SUBSEL_WHITEN_ZCA)
            .unwrap();
        let folds = tarot_folds(&ctx, t.targets(), 4).unwrap();
        assert!(folds.iter().all(|&f| (0..4).contains(&f)));
        let sel = t.select_otm(&ctx, 4, None).unwrap();
        // Whitening parameters are fixed once the rows are whitened.
        let e = t.set_param(&ctx, "proj_dim", 4i64).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::State, "{e}");
        sel
    };
    let (a, b) = (run(0), run(1));
    assert_eq!(a.indices, b.indices);
    assert_eq!(a.value.to_bits(), b.value.to_bits());
}

#[test]
fn tarot_errors_as_the_cli() {
    let ctx = one_thread();
    let mut t = tarot(&ctx);
    let e = t.select_fixed(&ctx, 201).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Invalid);
    let e = t.select_otm(&ctx, 1, None).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Invalid);
    assert!(e.message().contains("fold"), "{e}");
    let e = t.set_param(&ctx, "eps", -1.0).unwrap_err();
    assert!(e.message().contains("eps"), "{e}");
    // ot_memory bounds each OT solve's stored costs: the same selection.
    let mut lean = tarot(&ctx);
    assert_eq!(lean.param(&ctx, "ot_memory").unwrap(), Value::Int(512 << 20));
    lean.set_param(&ctx, "ot_memory", 0i64).unwrap();
    let stored = tarot(&ctx).select_fixed(&ctx, 40).unwrap();
    assert_eq!(lean.select_fixed(&ctx, 40).unwrap().indices, stored.indices);
    let e = lean.set_param(&ctx, "ot_memory", -1i64).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Invalid, "{e}");
    let e = t.select_otm(&ctx, 5, Some(&[0, 1])).unwrap_err();
    assert!(e.message().contains("2 folds given for 50 targets"), "{e}");
    // A projection whose covariance cannot fit fails at once, naming it.
    let mut t = tarot(&ctx);
    t.set_param(&ctx, "proj_dim", 1_048_576i64).unwrap();
    let e = t.select_fixed(&ctx, 40).unwrap_err();
    assert!(e.message().contains("covariance"), "{e}");
    // Candidates and targets of different widths.
    let c = Dense::load_npy(&ctx, fixture("tarot/candidates.npy")).unwrap();
    let x = Dense::copied(&ctx, 2, 3, &[0.0f32; 6]).unwrap();
    let e = Tarot::new(&ctx, &c, &x).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Invalid);
}

struct ClipData {
    image: Vec<f32>,
    text: Vec<f32>,
    label_emb: Vec<f32>,
    labels: Vec<i64>,
}

fn clip_data(ctx: &Context) -> ClipData {
    let rows = |name: &str| {
        let d = Dense::load_npy(ctx, data(&format!("clipcov/{name}.npy"))).unwrap();
        (0..d.rows())
            .flat_map(|r| d.row(r).unwrap().to_vec())
            .collect::<Vec<f32>>()
    };
    ClipData {
        image: rows("image"),
        text: rows("text"),
        label_emb: rows("label_emb"),
        labels: subsel::read_npy_i64(ctx, data("clipcov/labels.npy")).unwrap(),
    }
}

#[test]
fn clipcov_given_labels_as_the_cli() {
    // tests/cli/clipcov.sh "given": 200 pairs, 5 classes, budget 150, full.
    let ctx = one_thread();
    let d = clip_data(&ctx);
    let image = Dense::borrowed(&ctx, 200, 16, &d.image, 0).unwrap();
    assert_eq!(image.data_ptr(), d.image.as_ptr()); // zero-copy
    let text = Dense::borrowed(&ctx, 200, 16, &d.text, 0).unwrap();
    let labels = Dense::borrowed(&ctx, d.label_emb.len() / 16, 16, &d.label_emb, 0).unwrap();
    let mut obj = ClipCov::new(&ctx, &image, &text, Some(&labels), Some(&d.labels), false).unwrap();
    drop((image, text, labels)); // the objective keeps them
    assert_eq!((obj.size(), obj.class_count()), (200, 5));
    assert_eq!(obj.classes(&ctx).unwrap(), d.labels);
    // The paper's alpha from the data: NumPy's mean(sim) / mean(text.text)
    // on these embeddings (tests/cli/clipcov_crosscheck.py) is
    // 0.6304482343464631; reading it leaves alpha at the library's 0.5.
    let alpha = obj.data_alpha(&ctx).unwrap();
    assert!((alpha - 0.6304482343464631).abs() < 1e-12, "{}", alpha);
    let greedy = obj.optimizer(&ctx, 150).unwrap();
    let (sel, all) = obj.select(&ctx, &greedy, Filter::Deterministic).unwrap();
    assert!(!sel.indices.is_empty() && sel.indices.len() <= 150 && all.indices.len() >= sel.indices.len());
    assert!(sel.value >= all.value);
    assert_eq!((sel.budget, sel.short_reason), (150, ShortReason::None));
    // Threads do not change it.
    let mut two = Context::new().unwrap();
    two.set_threads(2).unwrap();
    let (again, _) = obj.select(&two, &greedy, Filter::Deterministic).unwrap();
    assert_eq!(again.indices, sel.indices);
    // Double greedy over the greedy result keeps a subset of it.
    let dg = double_greedy(&ctx, &obj, Some(&all.indices), false).unwrap();
    assert!(dg.indices.iter().all(|i| all.indices.contains(i)));
    assert_eq!(dg.evaluations, 2 * all.indices.len() as i64);
}

#[test]
fn clipcov_filtered_as_the_cli() {
    // "filtered": zero-shot classes, budget 190: the filter leaves it short
    // and says so; `subsel clipcov` (0.7.0) prints 166 selected, objective
    // 165.3747379052248.
    let ctx = one_thread();
    let d = clip_data(&ctx);
    let image = Dense::borrowed(&ctx, 200, 16, &d.image, 0).unwrap();
    let text = Dense::borrowed(&ctx, 200, 16, &d.text, 0).unwrap();
    let labels = Dense::borrowed(&ctx, d.label_emb.len() / 16, 16, &d.label_emb, 0).unwrap();
    let mut obj = ClipCov::new(&ctx, &image, &text, Some(&labels), None, false).unwrap();
    let greedy = obj.optimizer(&ctx, 190).unwrap();
    let (sel, all) = obj.select(&ctx, &greedy, Filter::Deterministic).unwrap();
    assert_eq!((sel.indices.len(), sel.budget), (166, 190));
    assert_eq!(sel.short_reason, ShortReason::Filtered);
    assert!(
        sel.short_reason_text.contains("double greedy"),
        "{}",
        sel.short_reason_text
    );
    assert!(
        (sel.value - 165.3747379052248).abs() <= 1e-9 * 165.4,
        "{}",
        sel.value
    );
    let (none, again) = obj.select(&ctx, &greedy, Filter::None).unwrap();
    assert_eq!(none.indices, again.indices);
    assert_eq!(again.indices, all.indices);
    obj.set_param(&ctx, "alpha", 0.25).unwrap();
    assert_eq!(obj.param(&ctx, "alpha").unwrap(), Value::Real(0.25));
}

#[test]
fn clipcov_errors_carry_the_library_message() {
    let ctx = one_thread();
    let d = clip_data(&ctx);
    let image = Dense::borrowed(&ctx, 200, 16, &d.image, 0).unwrap();
    let text = Dense::borrowed(&ctx, 100, 16, &d.text, 0).unwrap();
    let e = ClipCov::new(&ctx, &image, &text, None, Some(&d.labels), false).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Invalid);
    assert!(e.message().contains("clipcov"), "{e}");
    let text = Dense::borrowed(&ctx, 200, 16, &d.text, 0).unwrap();
    // Zero-shot classes need label embeddings.
    let e = ClipCov::new(&ctx, &image, &text, None, None, false).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Invalid);
    let e = ClipCov::new(&ctx, &image, &text, None, Some(&d.labels[..3]), false).unwrap_err();
    assert!(e.message().contains("3 labels for 200 pairs"), "{e}");
    let mut obj = ClipCov::new(&ctx, &image, &text, None, Some(&d.labels), false).unwrap();
    let e = obj.optimizer(&ctx, 201).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Invalid);
    let e = obj.set_param(&ctx, "weight_inter", -1.0).unwrap_err();
    assert!(e.message().contains("weight_inter"), "{e}");
}
