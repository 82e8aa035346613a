// SPDX-License-Identifier: MIT
// LoRS distillation (tests/test_lors.c's public cases through the safe
// API) on small paired data sharing a latent: shapes of what comes back;
// save, load and more iterations equal to one uninterrupted run, bit for
// bit; recalls ordered, in [0, 1] and above chance for towers trained on
// the real pairs; baselines distinct and in range; parameters from the
// library's table; errors by kind and message; nothing kept by the
// library after a round of every call (under a memory limit).
use std::ops::ControlFlow;
use std::path::Path;

mod common;

use common::{assert_rounds_keep_nothing, Rng, TempDir};
use subsel::{Bounds, Context, Dense, ErrorKind, Lors, LorsBaseline, LorsRecalls, LorsTraining, Value};

const IMAGE_DIM: usize = 6;
const TEXT_DIM: usize = 5;
const PAIRS: usize = 12;

/// `n` pairs sharing a latent z of 4 dimensions: image = A z + noise,
/// text = B z + noise (the same A, B for every seed), so that retrieval
/// can be learnt (tests/test_lors.c's paired_rows).
fn paired_rows(seed: u64, n: usize) -> (Vec<f32>, Vec<f32>) {
    const K: usize = 4;
    let mut maps = Rng::seeded(1000);
    let a: Vec<f64> = (0..IMAGE_DIM * K).map(|_| maps.normal()).collect();
    let b: Vec<f64> = (0..TEXT_DIM * K).map(|_| maps.normal()).collect();
    let mut rng = Rng::seeded(seed);
    let (mut x, mut y) = (
        Vec::with_capacity(n * IMAGE_DIM),
        Vec::with_capacity(n * TEXT_DIM),
    );
    for _ in 0..n {
        let z: Vec<f64> = (0..K).map(|_| rng.normal()).collect();
        for (map, d, out) in [(&a, IMAGE_DIM, &mut x), (&b, TEXT_DIM, &mut y)] {
            for c in 0..d {
                let v: f64 = (0..K).map(|j| map[c * K + j] * z[j]).sum();
                out.push((v + 0.3 * rng.normal()) as f32);
            }
        }
    }
    (x, y)
}

/// tests/test_lors.c's small_lors: towers of embed_dim 8, 12 pairs, 3
/// student steps on batches of 4, 2 experts of 3 epochs.
fn small_lors(ctx: &Context) -> Lors {
    let mut l = Lors::new(ctx, IMAGE_DIM, TEXT_DIM).unwrap();
    for (name, value) in [
        ("embed_dim", Value::Int(8)),
        ("pairs", Value::Int(PAIRS as i64)),
        ("syn_steps", Value::Int(3)),
        ("batch", Value::Int(4)),
        ("rank", Value::Int(2)),
        ("experts", Value::Int(2)),
        ("buffer_epochs", Value::Int(3)),
        ("expert_batch", Value::Int(16)),
        ("eval_epochs", Value::Int(5)),
        ("lr_image", Value::Real(1.0)),
        ("lr_text", Value::Real(1.0)),
        ("lr_sim", Value::Real(1.0)),
    ] {
        l.set_param(ctx, name, value).unwrap();
    }
    l
}

/// The real pairs of a test as matrices over its vectors.
struct Pairs {
    images: Vec<f32>,
    texts: Vec<f32>,
}

impl Pairs {
    fn new(seed: u64, n: usize) -> Pairs {
        let (images, texts) = paired_rows(seed, n);
        Pairs { images, texts }
    }
    fn dense<'a>(&'a self, ctx: &Context) -> (Dense<'a>, Dense<'a>) {
        let n = self.images.len() / IMAGE_DIM;
        (
            Dense::borrowed(ctx, n, IMAGE_DIM, &self.images, 0).unwrap(),
            Dense::borrowed(ctx, n, TEXT_DIM, &self.texts, 0).unwrap(),
        )
    }
}

/// Everything the distilled state exposes, as bits: x, y, S~, eta, the
/// last loss and the iterations.
fn snapshot(ctx: &Context, l: &Lors) -> Vec<u64> {
    let set = l.synthetic(ctx).unwrap();
    let (eta_image, eta_text) = l.eta(ctx).unwrap();
    let mut bits: Vec<u64> = set
        .images
        .iter()
        .chain(&set.texts)
        .map(|v| u64::from(v.to_bits()))
        .collect();
    bits.extend(l.similarity(ctx).unwrap().iter().map(|v| u64::from(v.to_bits())));
    bits.extend([eta_image, eta_text, l.last_loss(ctx).unwrap()].map(f64::to_bits));
    bits.push(l.iterations());
    bits
}

fn assert_recalls_ordered(r: &LorsRecalls) {
    for (at1, at5, at10) in [(r.ir1, r.ir5, r.ir10), (r.tr1, r.tr5, r.tr10)] {
        assert!(0.0 <= at1 && at1 <= at5 && at5 <= at10 && at10 <= 1.0, "{r:?}");
    }
}

#[test]
fn distillation_shapes_and_resume_bit_for_bit() {
    let ctx = Context::new().unwrap();
    let tmp = TempDir::new("lors-resume");
    let real = Pairs::new(3, 64);
    let (images, texts) = real.dense(&ctx);
    let buffer = tmp.join("buffer");
    let log = tmp.join("buffer.jsonl");

    let mut straight = small_lors(&ctx);
    assert_eq!((straight.image_dim(), straight.text_dim()), (IMAGE_DIM, TEXT_DIM));
    straight
        .buffer(&ctx, &images, &texts, &buffer, Some(&log))
        .unwrap();
    // One JSON line per expert epoch: 2 experts of 3.
    let lines = std::fs::read_to_string(&log).unwrap();
    assert_eq!(lines.lines().count(), 6, "{lines}");
    assert!(buffer.join("expert_0000.npy").is_file() && buffer.join("expert_0001.npy").is_file());
    assert!(!buffer.join("expert_0002.npy").exists());

    assert_eq!(straight.iterations(), 0);
    assert!(straight.last_loss(&ctx).unwrap().is_nan());
    straight
        .distill(&ctx, Some((&images, &texts)), &buffer, 3, None)
        .unwrap();
    assert_eq!(straight.iterations(), 3);
    let loss = straight.last_loss(&ctx).unwrap();
    assert!(loss.is_finite() && loss > 0.0, "{loss}");

    // Shapes, and a similarity that has left the identity.
    let set = straight.synthetic(&ctx).unwrap();
    assert_eq!(
        (set.pairs, set.image_dim, set.text_dim),
        (PAIRS, IMAGE_DIM, TEXT_DIM)
    );
    assert_eq!(
        (set.images.len(), set.texts.len()),
        (PAIRS * IMAGE_DIM, PAIRS * TEXT_DIM)
    );
    assert!(set.images.iter().chain(&set.texts).all(|v| v.is_finite()));
    let s = straight.similarity(&ctx).unwrap();
    assert_eq!(s.len(), PAIRS * PAIRS);
    let off: f64 = s
        .iter()
        .enumerate()
        .map(|(i, &v)| (f64::from(v) - if i % (PAIRS + 1) == 0 { 1.0 } else { 0.0 }).abs())
        .sum();
    assert!(off > 1e-6, "S~ never left the identity");
    let (eta_image, eta_text) = straight.eta(&ctx).unwrap();
    assert!(
        eta_image.is_finite() && eta_text.is_finite(),
        "{eta_image} {eta_text}"
    );

    // One iteration (with a log), saved, loaded on another context with
    // one thread, two more: the straight run's bits.
    let mut first = small_lors(&ctx);
    let distill_log = tmp.join("distill.jsonl");
    first
        .distill(&ctx, Some((&images, &texts)), &buffer, 1, Some(&distill_log))
        .unwrap();
    assert_eq!(std::fs::read_to_string(&distill_log).unwrap().lines().count(), 1);
    first.save(&ctx, tmp.join("saved")).unwrap();
    for name in ["images.npy", "texts.npy", "similarity.npy", "eta.npy"] {
        assert!(tmp.join("saved").join(name).is_file(), "{name}");
    }
    assert_eq!(
        subsel::dense_npy_shape(&ctx, tmp.join("saved").join("similarity.npy")).unwrap(),
        (PAIRS, PAIRS)
    );
    let mut one = Context::new().unwrap();
    one.set_threads(1).unwrap();
    let mut resumed = Lors::load(&one, tmp.join("saved")).unwrap();
    assert_eq!((resumed.image_dim(), resumed.text_dim()), (IMAGE_DIM, TEXT_DIM));
    assert_eq!(resumed.iterations(), 1);
    assert_eq!(resumed.param(&one, "syn_steps").unwrap(), Value::Int(3));
    assert_eq!(resumed.param(&one, "lr_sim").unwrap(), Value::Real(1.0));
    assert_eq!(snapshot(&one, &resumed), snapshot(&ctx, &first));
    resumed.distill(&one, None, &buffer, 2, None).unwrap();
    assert_eq!(snapshot(&one, &resumed), snapshot(&ctx, &straight));
    // The first handle continues in memory to the same bits.
    first.distill(&ctx, None, &buffer, 2, None).unwrap();
    assert_eq!(snapshot(&ctx, &first), snapshot(&ctx, &straight));
}

#[test]
fn a_cancelled_distillation_continues() {
    let mut ctx = Context::new().unwrap();
    let tmp = TempDir::new("lors-cancel");
    let real = Pairs::new(4, 40);
    let (images, texts) = real.dense(&ctx);
    let buffer = tmp.join("buffer");
    let mut straight = small_lors(&ctx);
    straight.buffer(&ctx, &images, &texts, &buffer, None).unwrap();
    straight
        .distill(&ctx, Some((&images, &texts)), &buffer, 3, None)
        .unwrap();

    let mut l = small_lors(&ctx);
    let (tx, rx) = std::sync::mpsc::channel();
    ctx.set_progress(move |stage, done, total| {
        tx.send((stage.to_owned(), done, total)).unwrap();
        if stage == "distill" && done == 1 {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    })
    .unwrap();
    let e = l
        .distill(&ctx, Some((&images, &texts)), &buffer, 3, None)
        .unwrap_err();
    ctx.clear_progress().unwrap();
    assert_eq!(e.kind(), ErrorKind::Cancelled, "{e}");
    // Stage "distill": iterations done by this call, of 3 (reading the
    // trajectories reports a stage of its own).
    let calls: Vec<_> = rx.try_iter().filter(|c| c.0 == "distill").collect();
    assert_eq!(calls.last(), Some(&("distill".to_owned(), 1, 3)), "{calls:?}");
    assert!(calls.iter().all(|c| c.2 == 3), "{calls:?}");
    assert_eq!(l.iterations(), 1);
    l.distill(&ctx, None, &buffer, 2, None).unwrap();
    assert_eq!(snapshot(&ctx, &l), snapshot(&ctx, &straight));
}

#[test]
fn evaluation_recalls() {
    let mut ctx = Context::new().unwrap();
    ctx.set_threads(1).unwrap();
    let tmp = TempDir::new("lors-evaluate");
    let train = Pairs::new(21, 200);
    let test = Pairs::new(22, 30);
    let (images, texts) = train.dense(&ctx);
    let (test_images, test_texts) = test.dense(&ctx);
    let mut l = small_lors(&ctx);
    // Nothing distilled: the distilled set cannot be the training set.
    let e = l
        .evaluate(&ctx, None, &test_images, &test_texts, None)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::State, "{e}");
    assert!(e.message().contains("subsel_lors_evaluate"), "{e}");

    // Towers trained on the real pairs retrieve held-out pairs far above
    // chance (1/30 at 1): the shared latent is learnable.
    l.set_param(&ctx, "eval_epochs", 30).unwrap();
    l.set_param(&ctx, "loss", subsel::sys::SUBSEL_LORS_LOSS_INFONCE)
        .unwrap();
    let pairs = LorsTraining::pairs(&images, &texts);
    let r = l
        .evaluate(&ctx, Some(&pairs), &test_images, &test_texts, None)
        .unwrap();
    assert_recalls_ordered(&r);
    assert!(r.ir1 > 0.3 && r.tr1 > 0.3, "{r:?}");
    // The same again: seeded.
    assert_eq!(
        l.evaluate(&ctx, Some(&pairs), &test_images, &test_texts, None)
            .unwrap(),
        r
    );
    // The identity given as a matrix, and text t to image t given as
    // owners, change nothing.
    let mut identity = vec![0f32; 200 * 200];
    for k in 0..200 {
        identity[k * 200 + k] = 1.0;
    }
    let with_matrix = LorsTraining {
        similarity: Some(&identity),
        ..pairs
    };
    let owners: Vec<i64> = (0..30).collect();
    let again = l
        .evaluate(&ctx, Some(&with_matrix), &test_images, &test_texts, Some(&owners))
        .unwrap();
    assert_eq!(again, r);
    // Several texts per image: texts 30..39 are copies of texts 0..9.
    let mut more = test.texts.clone();
    more.extend_from_slice(&test.texts[..10 * TEXT_DIM]);
    let more_texts = Dense::borrowed(&ctx, 40, TEXT_DIM, &more, 0).unwrap();
    let owners: Vec<i64> = (0..40).map(|t| t % 30).collect();
    let r40 = l
        .evaluate(&ctx, Some(&pairs), &test_images, &more_texts, Some(&owners))
        .unwrap();
    assert_recalls_ordered(&r40);

    // On the distilled set, with its S~ and eta.
    l.set_param(&ctx, "eval_epochs", 5).unwrap();
    l.buffer(&ctx, &images, &texts, tmp.join("buffer"), None).unwrap();
    l.distill(&ctx, Some((&images, &texts)), tmp.join("buffer"), 3, None)
        .unwrap();
    let distilled = l.evaluate(&ctx, None, &test_images, &test_texts, None).unwrap();
    assert_recalls_ordered(&distilled);

    // The crate checks the lengths the library would read past.
    let e = l
        .evaluate(&ctx, None, &test_images, &test_texts, Some(&owners[..29]))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Invalid);
    assert!(e.message().contains("text_image"), "{e}");
    let short = LorsTraining {
        similarity: Some(&identity[..100]),
        ..pairs
    };
    let e = l
        .evaluate(&ctx, Some(&short), &test_images, &test_texts, None)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Invalid);
    assert!(e.message().contains("similarity"), "{e}");
    // An image out of range, an image without a text: the library's.
    let mut bad: Vec<i64> = (0..30).collect();
    bad[29] = 30;
    let e = l
        .evaluate(&ctx, None, &test_images, &test_texts, Some(&bad))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Invalid, "{e}");
    bad[29] = 28;
    let e = l
        .evaluate(&ctx, None, &test_images, &test_texts, Some(&bad))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Invalid, "{e}");
}

#[test]
fn baselines_are_distinct_indices_in_range() {
    let ctx = Context::new().unwrap();
    let real = Pairs::new(11, 40);
    let (images, texts) = real.dense(&ctx);
    let l = Lors::new(&ctx, IMAGE_DIM, TEXT_DIM).unwrap();
    for method in [LorsBaseline::Random, LorsBaseline::KCenter, LorsBaseline::Herding] {
        let idx = l.baseline(&ctx, method, &images, &texts, 7).unwrap();
        assert_eq!(idx.len(), 7);
        let mut sorted = idx.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), 7, "{method:?}: {idx:?}");
        assert!(idx.iter().all(|&i| (0..40).contains(&i)), "{method:?}: {idx:?}");
        // Seeded: the same choice again.
        assert_eq!(l.baseline(&ctx, method, &images, &texts, 7).unwrap(), idx);
        // All the pairs.
        let all = l.baseline(&ctx, method, &images, &texts, 40).unwrap();
        let mut sorted = all.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..40).collect::<Vec<i64>>(), "{method:?}");
    }
    // Herding's first pick is the pair nearest the mean of all.
    let herding = l
        .baseline(&ctx, LorsBaseline::Herding, &images, &texts, 1)
        .unwrap();
    let unit = |v: &[f32]| -> Vec<f64> {
        let n = v.iter().map(|&x| f64::from(x) * f64::from(x)).sum::<f64>().sqrt();
        v.iter().map(|&x| f64::from(x) / n).collect()
    };
    let features: Vec<Vec<f64>> = (0..40)
        .map(|i| {
            let mut f = unit(&real.images[i * IMAGE_DIM..(i + 1) * IMAGE_DIM]);
            f.extend(unit(&real.texts[i * TEXT_DIM..(i + 1) * TEXT_DIM]));
            f
        })
        .collect();
    let mean: Vec<f64> = (0..IMAGE_DIM + TEXT_DIM)
        .map(|c| features.iter().map(|f| f[c]).sum::<f64>() / 40.0)
        .collect();
    let dist = |f: &Vec<f64>| f.iter().zip(&mean).map(|(a, b)| (a - b) * (a - b)).sum::<f64>();
    let nearest = (0..40)
        .min_by(|&a, &b| dist(&features[a]).partial_cmp(&dist(&features[b])).unwrap())
        .unwrap();
    assert_eq!(herding, vec![nearest as i64]);

    for count in [0, 41] {
        let e = l
            .baseline(&ctx, LorsBaseline::KCenter, &images, &texts, count)
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Invalid, "{count}: {e}");
        assert!(e.message().contains("subsel_lors_baseline"), "{e}");
    }
    // Pairs of other columns.
    let e = l
        .baseline(&ctx, LorsBaseline::Random, &texts, &texts, 3)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Invalid, "{e}");
}

#[test]
fn parameters_come_from_the_library_table() {
    let ctx = Context::new().unwrap();
    let mut l = Lors::new(&ctx, 3, 2).unwrap();
    assert_eq!(l.param(&ctx, "embed_dim").unwrap(), Value::Int(256));
    assert_eq!(l.param(&ctx, "temperature").unwrap(), Value::Real(0.07));
    assert_eq!(
        l.param(&ctx, "loss").unwrap(),
        Value::Int(subsel::sys::SUBSEL_LORS_LOSS_WBCE.into())
    );
    let all = subsel::params().unwrap();
    let mine: Vec<_> = all
        .iter()
        .filter(|p| p.kind == subsel::sys::SUBSEL_KIND_LORS)
        .collect();
    assert_eq!(subsel::sys::SUBSEL_KIND_LORS, 15);
    assert_eq!(
        mine.len(),
        28,
        "{:?}",
        mine.iter().map(|p| p.name).collect::<Vec<_>>()
    );
    let pairs = mine.iter().find(|p| p.name == "pairs").unwrap();
    assert_eq!(pairs.id, subsel::sys::SUBSEL_P_LORS_PAIRS);
    assert!(
        matches!(
            pairs.bounds,
            Bounds::Int {
                min: 1,
                default: 100,
                ..
            }
        ),
        "{pairs:?}"
    );
    let info = subsel::param_info(subsel::sys::SUBSEL_P_LORS_TEMPERATURE).unwrap();
    assert!(
        matches!(
            info.bounds,
            Bounds::Real {
                open_min: true,
                open_max: true,
                ..
            }
        ),
        "{info:?}"
    );
    // An integer given to a real parameter is converted.
    l.set_param(&ctx, "alpha", 2).unwrap();
    assert_eq!(l.param(&ctx, "alpha").unwrap(), Value::Real(2.0));
    l.set_param(&ctx, "tower", subsel::sys::SUBSEL_LORS_TOWER_LINEAR)
        .unwrap();
    assert_eq!(l.param(&ctx, "tower").unwrap(), Value::Int(0));
}

#[test]
fn errors_carry_the_library_messages() {
    let ctx = Context::new().unwrap();
    let tmp = TempDir::new("lors-errors");
    for (di, dt) in [(0, 5), (6, 0), (1 << 25, 5)] {
        let e = Lors::new(&ctx, di, dt).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Invalid);
        assert!(e.message().contains("subsel_lors_create"), "{e}");
    }
    let mut l = small_lors(&ctx);
    let e = l.set_param(&ctx, "no_such", 1).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Invalid);
    assert!(e.message().contains("no_such"), "{e}");
    let e = l.set_param(&ctx, "temperature", 0.0).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Invalid);
    assert!(e.message().contains("temperature"), "{e}");
    let e = l.set_param(&ctx, "pairs", 1.5).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Invalid);

    let real = Pairs::new(1, 30);
    let (images, texts) = real.dense(&ctx);
    let buffer = tmp.join("buffer");
    // Wrong dimensions: texts for images; rows that differ.
    let e = l.buffer(&ctx, &texts, &texts, &buffer, None).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Invalid);
    assert!(e.message().contains("subsel_lors_buffer"), "{e}");
    let two = Dense::borrowed(&ctx, 2, IMAGE_DIM, &real.images[..2 * IMAGE_DIM], 0).unwrap();
    let e = l.buffer(&ctx, &two, &texts, &buffer, None).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Invalid, "{e}");

    // Nothing distilled yet: the STATE status, the library's message.
    let e = l.synthetic(&ctx).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::State);
    assert!(e.message().contains("nothing is distilled yet"), "{e}");
    assert_eq!(l.similarity(&ctx).unwrap_err().kind(), ErrorKind::State);
    assert_eq!(l.eta(&ctx).unwrap_err().kind(), ErrorKind::State);
    assert_eq!(
        l.save(&ctx, tmp.join("saved")).unwrap_err().kind(),
        ErrorKind::State
    );
    assert!(l.last_loss(&ctx).unwrap().is_nan());

    // No buffer there; a first distillation without real pairs.
    let e = l
        .distill(&ctx, Some((&images, &texts)), tmp.join("none"), 1, None)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Io, "{e}");
    l.buffer(&ctx, &images, &texts, &buffer, None).unwrap();
    let e = l.distill(&ctx, None, &buffer, 1, None).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Invalid, "{e}");
    assert!(e.message().contains("subsel_lors_distill"), "{e}");
    // A buffer of other towers.
    let mut other = small_lors(&ctx);
    other.set_param(&ctx, "embed_dim", 9).unwrap();
    let e = other
        .distill(&ctx, Some((&images, &texts)), &buffer, 1, None)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Format, "{e}");
    assert_eq!(other.iterations(), 0);
    // Real pairs of another width.
    let e = l
        .distill(&ctx, Some((&texts, &texts)), &buffer, 1, None)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Invalid, "{e}");

    // Fixed once started; others still change.
    l.distill(&ctx, Some((&images, &texts)), &buffer, 1, None)
        .unwrap();
    let e = l.set_param(&ctx, "pairs", 5).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::State);
    assert!(e.message().contains("pairs"), "{e}");
    l.set_param(&ctx, "lr_sim", 2.0).unwrap();

    // Loading: no folder, a folder that is no saved set; saving where a
    // folder cannot be made.
    let e = Lors::load(&ctx, tmp.join("absent")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Format, "{e}");
    let e = Lors::load(&ctx, &buffer).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Format);
    assert!(e.message().contains("not a saved LoRS set"), "{e}");
    let file = buffer.join("expert_0000.npy");
    let e = l.save(&ctx, file.join("sub")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Io, "{e}");
    let e = l.save(&ctx, "nul\0dir").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Invalid);
    assert!(e.message().contains("NUL"), "{e}");
}

/// One round of every LoRS call on a context.
fn round(ctx: &Context, real: &Pairs, dir: &Path) -> subsel::Result<()> {
    let (images, texts) = (
        Dense::borrowed(ctx, 16, IMAGE_DIM, &real.images, 0)?,
        Dense::borrowed(ctx, 16, TEXT_DIM, &real.texts, 0)?,
    );
    let mut l = Lors::new(ctx, IMAGE_DIM, TEXT_DIM)?;
    for (name, value) in [
        ("embed_dim", 4),
        ("pairs", 4),
        ("syn_steps", 2),
        ("batch", 2),
        ("rank", 2),
        ("experts", 1),
        ("buffer_epochs", 2),
        ("expert_batch", 8),
        ("eval_epochs", 1),
    ] {
        l.set_param(ctx, name, value)?;
    }
    let buffer = dir.join("buffer");
    l.buffer(ctx, &images, &texts, &buffer, None)?;
    l.distill(ctx, Some((&images, &texts)), &buffer, 1, None)?;
    l.last_loss(ctx)?;
    l.synthetic(ctx)?;
    l.similarity(ctx)?;
    l.eta(ctx)?;
    l.evaluate(ctx, None, &images, &texts, None)?;
    l.evaluate(
        ctx,
        Some(&LorsTraining::pairs(&images, &texts)),
        &images,
        &texts,
        None,
    )?;
    l.baseline(ctx, LorsBaseline::KCenter, &images, &texts, 3)?;
    l.baseline(ctx, LorsBaseline::Herding, &images, &texts, 3)?;
    let saved = dir.join("saved");
    l.save(ctx, &saved)?;
    let mut back = Lors::load(ctx, &saved)?;
    back.distill(ctx, None, &buffer, 1, None)?;
    // Failing calls free what they made.
    assert!(Lors::load(ctx, &buffer).is_err());
    assert!(Lors::new(ctx, 0, 1).is_err());
    Ok(())
}

#[test]
fn nothing_is_kept_after_a_round_under_a_memory_limit() {
    // As sae_train.rs's: the smallest memory limit one round fits in (to
    // 1 KiB), then 30 rounds on one context under it plus 4 KiB. A handle
    // the crate forgot to free would pass it and fail with NoMemory: the
    // smallest holds a set of 4 pairs of 6 + 5 columns and their momenta
    // in doubles, 704 bytes, 21 KiB over 30 rounds.
    let tmp = TempDir::new("lors-leak");
    let real = Pairs::new(9, 16);
    let fits = assert_rounds_keep_nothing(|ctx| round(ctx, &real, &tmp.0), 1024, 4 << 10, 30);
    assert!(
        fits > 4 << 10,
        "one round fits in {fits} bytes: is the handle counted?"
    );
}

#[test]
fn a_handle_moves_to_another_thread() {
    fn send<T: Send>(_: &T) {}
    let ctx = Context::new().unwrap();
    let l = small_lors(&ctx);
    send(&l);
    let real = Pairs::new(5, 20);
    let tmp = TempDir::new("lors-thread");
    let dir = tmp.0.clone();
    let iterations = std::thread::spawn(move || {
        let ctx = Context::new().unwrap();
        let mut l = l;
        let (images, texts) = real.dense(&ctx);
        l.buffer(&ctx, &images, &texts, dir.join("buffer"), None).unwrap();
        l.distill(&ctx, Some((&images, &texts)), dir.join("buffer"), 1, None)
            .unwrap();
        l.iterations()
    })
    .join()
    .unwrap();
    assert_eq!(iterations, 1);
}
