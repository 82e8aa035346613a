// SPDX-License-Identifier: MIT
// Optimal transport and UniPROT against the fixtures of the C tests
// (tests/fixtures/ot_*, uniprot: POT's plans, NumPy's greedy) and the CLI
// test's data and figures (tests/cli/uniprot.sh); errors by kind and
// message; the objective outliving its matrix.
mod common;

use common::{assert_all_close, data, fixture, npy_f64, Rng};
use subsel::{
    double_greedy, nn_accuracy, uniprot_select_batch, uniprot_select_batch_v2, Algorithm, Context, Costs,
    Dense, ErrorKind, Metric, Optimizer, OtSolver, Similarity, UniProt, Update, Value,
};

fn expected(key: &str, field: &str) -> f64 {
    // expected.json is flat enough to read without a JSON crate: the
    // number after "field": inside the object "key".
    let text = std::fs::read_to_string(fixture("expected.json")).unwrap();
    let object = text.split(&format!("\"{key}\": {{")).nth(1).unwrap();
    let object = object.split("\n }").next().unwrap();
    let value = object.split(&format!("\"{field}\": ")).nth(1).unwrap();
    value.split([',', '\n']).next().unwrap().trim().parse().unwrap()
}

fn vector(path: std::path::PathBuf) -> Vec<f64> {
    npy_f64(path).1
}

/// `rows` x `cols` floats uniform in [-1, 1) from the fixed stream `seed`.
fn uniform_rows(seed: u64, rows: usize, cols: usize) -> Vec<f32> {
    let mut rng = Rng::seeded(seed);
    (0..rows * cols)
        .map(|_| (2.0 * rng.uniform() - 1.0) as f32)
        .collect()
}

#[test]
fn sinkhorn_reproduces_pot() {
    let ctx = Context::new().unwrap();
    let (shape, m) = npy_f64(fixture("ot_sinkhorn/M.npy"));
    let (a, b) = (
        vector(fixture("ot_sinkhorn/a.npy")),
        vector(fixture("ot_sinkhorn/b.npy")),
    );
    let want = vector(fixture("ot_sinkhorn/plan.npy"));
    let reg = expected("ot_sinkhorn", "reg");
    for anneal in [0i64, 1] {
        let mut solver = OtSolver::new(&ctx).unwrap();
        solver.set_param(&ctx, "anneal", anneal).unwrap();
        assert_eq!(solver.param(&ctx, "anneal").unwrap(), Value::Int(anneal));
        let costs = Costs::Matrix {
            values: &m,
            cols: shape[1],
        };
        let t = solver.sinkhorn(&ctx, Some(&a), Some(&b), costs, reg).unwrap();
        assert_eq!((t.rows, t.cols), (40, 30));
        assert_all_close(&t.plan, &want, 1e-7);
        assert!(
            (t.value - expected("ot_sinkhorn", "cost")).abs() <= 1e-8,
            "{}",
            t.value
        );
        // The potentials give the plan back.
        for i in 0..t.rows {
            for j in 0..t.cols {
                let p = ((t.f[i] + t.g[j] - m[i * t.cols + j]) / reg).exp();
                assert!((p - t.plan[i * t.cols + j]).abs() <= 1e-12);
            }
        }
        assert!(t.iterations > 0 && t.violation <= 1e-9, "{t:?}");
    }
}

#[test]
fn partial_reproduces_pot() {
    let ctx = Context::new().unwrap();
    let (shape, m) = npy_f64(fixture("ot_partial/M.npy"));
    let (a, b) = (
        vector(fixture("ot_partial/a.npy")),
        vector(fixture("ot_partial/b.npy")),
    );
    let mass = expected("ot_partial", "m");
    let mut solver = OtSolver::new(&ctx).unwrap();
    let costs = Costs::Matrix {
        values: &m,
        cols: shape[1],
    };
    let t = solver
        .partial(
            &ctx,
            Some(&a),
            Some(&b),
            costs,
            expected("ot_partial", "reg"),
            mass,
        )
        .unwrap();
    assert_all_close(&t.plan, &vector(fixture("ot_partial/plan.npy")), 1e-6);
    assert!((t.plan.iter().sum::<f64>() - mass).abs() <= 1e-8);
}

#[test]
fn sinkhorn_on_points_matches_the_cost_matrix() {
    let ctx = Context::new().unwrap();
    // Deterministic points; the squared distances computed here.
    let x: Vec<f32> = (0..21).map(|i| ((i * 7 % 11) as f32) / 11.0).collect();
    let y: Vec<f32> = (0..15).map(|i| ((i * 5 % 13) as f32) / 13.0).collect();
    let (xd, yd) = (
        Dense::borrowed(&ctx, 7, 3, &x, 0).unwrap(),
        Dense::borrowed(&ctx, 5, 3, &y, 0).unwrap(),
    );
    let mut cost = Vec::new();
    for i in 0..7 {
        for j in 0..5 {
            cost.push(
                (0..3)
                    .map(|d| (x[i * 3 + d] as f64 - y[j * 3 + d] as f64).powi(2))
                    .sum::<f64>(),
            );
        }
    }
    let mut solver = OtSolver::new(&ctx).unwrap();
    let points = Costs::Points {
        x: &xd,
        y: &yd,
        metric: Metric::SqEuclidean,
    };
    let p = solver.sinkhorn(&ctx, None, None, points, 0.1).unwrap();
    let q = solver
        .sinkhorn(
            &ctx,
            None,
            None,
            Costs::Matrix {
                values: &cost,
                cols: 5,
            },
            0.1,
        )
        .unwrap();
    assert_all_close(&p.plan, &q.plan, 1e-9);
    // Uniform marginals: rows sum to 1/7.
    for row in p.plan.chunks(5) {
        assert!((row.iter().sum::<f64>() - 1.0 / 7.0).abs() <= 1e-9);
    }
    let half = solver.partial(&ctx, None, None, points, 0.1, 0.5).unwrap();
    assert!((half.plan.iter().sum::<f64>() - 0.5).abs() <= 1e-8);
}

#[test]
fn ot_errors_carry_the_library_message() {
    let ctx = Context::new().unwrap();
    let m = vec![1.0; 12];
    let mut solver = OtSolver::new(&ctx).unwrap();
    let costs = Costs::Matrix { values: &m, cols: 4 };
    let e = solver.sinkhorn(&ctx, None, None, costs, 0.0).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Invalid);
    assert!(e.message().contains("reg"), "{e}");
    let e = solver.set_param(&ctx, "max_iter", 0i64).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Invalid);
    assert!(e.message().contains("max_iter"), "{e}");
    let e = solver.set_param(&ctx, "no_such", 1i64).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Invalid);
    // Lengths only this side knows.
    let e = solver
        .sinkhorn(&ctx, Some(&[0.5, 0.5]), None, costs, 0.1)
        .unwrap_err();
    assert!(e.message().contains("a holds 2 values for 3 points"), "{e}");
    let e = solver
        .sinkhorn(&ctx, None, None, Costs::Matrix { values: &m, cols: 5 }, 0.1)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Invalid);
    // A mass above the total.
    let e = solver.partial(&ctx, None, None, costs, 0.1, 2.0).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Invalid);
    assert!(e.message().contains("mass"), "{e}");
}

#[test]
fn uniprot_greedy_reproduces_the_fixture() {
    let ctx = Context::new().unwrap();
    let s = Dense::load_npy(&ctx, fixture("uniprot/S.npy")).unwrap();
    let obj = UniProt::new(&ctx, &s, 10, 0.1).unwrap();
    drop(s); // the objective keeps its matrix
    let mut opt = Optimizer::new(&ctx, Algorithm::Naive).unwrap();
    opt.set_budget(&ctx, 10).unwrap();
    opt.set_param(&ctx, "stop_nonpositive", 0i64).unwrap();
    let sel = opt.run(&ctx, &obj).unwrap();
    let order = subsel::read_npy_i64(&ctx, fixture("uniprot/order.npy")).unwrap();
    let values = vector(fixture("uniprot/values.npy"));
    assert_eq!(sel.indices, order);
    assert!((sel.value - values[9]).abs() <= 1e-6);
    for i in 0..10 {
        let f = obj.evaluate(&ctx, &order[..=i]).unwrap();
        assert!(
            (f - values[i]).abs() <= 1e-6,
            "f(first {}) = {f}, not {}",
            i + 1,
            values[i]
        );
    }
}

#[test]
fn uniprot_plan_of_the_first_five() {
    let ctx = Context::new().unwrap();
    let (shape, s) = npy_f64(fixture("uniprot/S.npy"));
    // Borrowed float64 is converted once; the objective borrows nothing then,
    // but keeps the library's copy.
    let sd = Dense::borrowed(&ctx, shape[0], shape[1], &s, 0).unwrap();
    let obj = UniProt::new(&ctx, &sd, 10, 0.1).unwrap();
    assert_eq!(obj.targets(), 80);
    let (plan, value) = obj.plan(&ctx, &[0, 1, 2, 3, 4]).unwrap();
    assert!((value - expected("uniprot", "f_first5")).abs() <= 1e-6, "{value}");
    assert_all_close(&plan, &vector(fixture("uniprot/plan_first5.npy")), 1e-6);
    for row in plan.chunks(80) {
        assert!((row.iter().sum::<f64>() - 1.0).abs() <= 1e-9);
    }
    assert_eq!(obj.param(&ctx, "max_iter").unwrap(), Value::Int(1000));
    let e = obj.plan(&ctx, &[0, 0]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Invalid);
    assert!(e.message().contains("repeats index 0"), "{e}");
}

#[test]
fn uniprot_from_features_as_the_cli() {
    // tests/cli/uniprot.sh: -k 8 --reg 0.05 (cosine, naive greedy): NumPy's
    // order, f = 7.590794962307694 within 1e-6, 1-NN accuracy 59/60.
    let mut ctx = Context::new().unwrap();
    ctx.set_threads(1).unwrap();
    let source = Dense::load_npy(&ctx, data("uniprot/source.npy")).unwrap();
    let target = Dense::load_npy(&ctx, data("uniprot/target.npy")).unwrap();
    let obj = UniProt::from_features(&ctx, &source, &target, Similarity::Cosine, 8, 0.05).unwrap();
    let mut opt = Optimizer::new(&ctx, Algorithm::Naive).unwrap();
    opt.set_budget(&ctx, 8).unwrap();
    // The CLI's default: to the budget whatever the gains.
    opt.set_param(&ctx, "stop_nonpositive", 0i64).unwrap();
    let sel = opt.run(&ctx, &obj).unwrap();
    assert_eq!(
        sel.indices,
        subsel::read_npy_i64(&ctx, data("uniprot/order.npy")).unwrap()
    );
    assert!((sel.value - 7.590794962307694).abs() < 1e-6, "{}", sel.value);
    let labels = subsel::read_npy_i64(&ctx, data("uniprot/source_labels.npy")).unwrap();
    let target_labels = subsel::read_npy_i64(&ctx, data("uniprot/target_labels.npy")).unwrap();
    let acc = nn_accuracy(
        &ctx,
        &source,
        &labels,
        &sel.indices,
        &target,
        &target_labels,
        Similarity::Cosine,
    )
    .unwrap();
    assert!((acc - 59.0 / 60.0).abs() < 1e-12, "{acc}");
    // --max-iter 1 at reg 0.001: the solve hits the cap and says so.
    let mut tight =
        UniProt::from_features(&ctx, &source, &target, Similarity::NegSqEuclidean, 6, 0.001).unwrap();
    tight.set_param(&ctx, "max_iter", 1i64).unwrap();
    let e = opt.run(&ctx, &tight).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Numeric);
    assert!(e.message().contains("iteration cap"), "{e}");
    // k above the candidates, tol out of bounds.
    let e = UniProt::from_features(&ctx, &source, &target, Similarity::Cosine, 41, 0.05).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Invalid);
    let e = tight.set_param(&ctx, "tol", 1.0).unwrap_err();
    assert!(e.message().contains("tol"), "{e}");
    // The per-batch variant picks round(0.25 x 40) = 10 rows.
    let batch = uniprot_select_batch(&ctx, &source, 0.25, 0.05, Similarity::Cosine).unwrap();
    assert_eq!(batch.indices.len(), 10);
}

#[test]
fn uniprot_gain_memory_changes_speed_not_selection() {
    // gain_memory is the objective's parameter, read, set and refused below
    // 0 by name. (These 40 rows are fewer than the 512-row scans that keep
    // weights; tests/test_uniprot.c checks that keeping them changes no bit.)
    let ctx = Context::new().unwrap();
    let source = Dense::load_npy(&ctx, data("uniprot/source.npy")).unwrap();
    let target = Dense::load_npy(&ctx, data("uniprot/target.npy")).unwrap();
    let uniprot = || UniProt::from_features(&ctx, &source, &target, Similarity::Cosine, 8, 0.05).unwrap();
    let kept = uniprot();
    assert_eq!(kept.param(&ctx, "gain_memory").unwrap(), Value::Int(512 << 20));
    let mut remade = uniprot();
    remade.set_param(&ctx, "gain_memory", 0i64).unwrap();
    let mut opt = Optimizer::new(&ctx, Algorithm::Naive).unwrap();
    opt.set_budget(&ctx, 8).unwrap();
    let (a, b) = (opt.run(&ctx, &kept).unwrap(), opt.run(&ctx, &remade).unwrap());
    assert_eq!(b.indices, a.indices);
    assert_eq!(b.value, a.value);
    let e = remade.set_param(&ctx, "gain_memory", -1i64).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Invalid, "{e}");
    assert!(e.message().contains("gain_memory"), "{e}");
}

#[test]
fn double_greedy_refuses_uniprot_with_the_library_message() {
    // UniPROT cannot remove items (ClipCov can: see tests/clipcov.rs).
    let ctx = Context::new().unwrap();
    let s = Dense::load_npy(&ctx, fixture("uniprot/S.npy")).unwrap();
    let obj = UniProt::new(&ctx, &s, 10, 0.1).unwrap();
    let e = double_greedy(&ctx, &obj, Some(&[3, 1, 4]), false).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
    assert!(e.message().contains("remove items"), "{e}");
}

#[test]
fn uniprot_transport_similarity_is_the_plans_similarity() {
    // S given as floats, which the objective keeps as they are: <S_P, G>
    // computed here from the plan is the library's to rounding.
    let ctx = Context::new().unwrap();
    let (m, n) = (30, 40);
    let s = uniform_rows(31, m, n);
    let sd = Dense::borrowed(&ctx, m, n, &s, 0).unwrap();
    let obj = UniProt::new(&ctx, &sd, 8, 0.1).unwrap();
    let set = [3i64, 17, 5, 29, 11];
    let (plan, value) = obj.plan(&ctx, &set).unwrap();
    let mut dot = 0.0;
    for (row, &i) in plan.chunks(n).zip(&set) {
        for (g, &sij) in row.iter().zip(&s[i as usize * n..(i as usize + 1) * n]) {
            dot += g * f64::from(sij);
        }
    }
    let (similarity, f) = obj.transport_similarity(&ctx, &set).unwrap();
    assert!(
        (similarity - dot).abs() <= 1e-9 * dot.abs(),
        "{similarity} != {dot}"
    );
    assert!((f - value).abs() <= 1e-9 * value.abs(), "{f} != {value}");
    // The entropy term reg H(G) is positive.
    assert!(f - similarity > 0.0, "{f} - {similarity}");
    assert_eq!(obj.transport_similarity(&ctx, &[]).unwrap(), (0.0, 0.0));
    // More rows than k, a repeated row.
    let e = obj
        .transport_similarity(&ctx, &[0, 1, 2, 3, 4, 5, 6, 7, 8])
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Invalid);
    let e = obj.transport_similarity(&ctx, &[1, 1]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Invalid);
    assert!(e.message().contains("repeats index 1"), "{e}");
}

#[test]
fn uniprot_batch_v2_without_sources_is_the_batch_mode() {
    let ctx = Context::new().unwrap();
    let x = uniform_rows(32, 40, 10);
    let batch = Dense::borrowed(&ctx, 40, 10, &x, 0).unwrap();
    let want = uniprot_select_batch(&ctx, &batch, 0.25, 0.05, Similarity::Cosine).unwrap();
    let got =
        uniprot_select_batch_v2(&ctx, &batch, None, 0.25, 0.05, Similarity::Cosine, Update::Append).unwrap();
    assert_eq!(got.indices.len(), 10);
    assert_eq!(got.indices, want.indices);
    assert_eq!(got.value, want.value);
    // Re-solved: naive greedy with re-solves on the batch against itself.
    let solved =
        uniprot_select_batch_v2(&ctx, &batch, None, 0.25, 0.05, Similarity::Cosine, Update::Solve).unwrap();
    let mut obj = UniProt::from_features(&ctx, &batch, &batch, Similarity::Cosine, 10, 0.05).unwrap();
    obj.set_param(
        &ctx,
        "update",
        i64::from(subsel::sys::SUBSEL_UNIPROT_UPDATE_SOLVE),
    )
    .unwrap();
    let mut opt = Optimizer::new(&ctx, Algorithm::Naive).unwrap();
    opt.set_budget(&ctx, 10).unwrap();
    opt.set_param(&ctx, "stop_nonpositive", 0i64).unwrap();
    assert_eq!(solved.indices, opt.run(&ctx, &obj).unwrap().indices);
    let f = obj.evaluate(&ctx, &solved.indices).unwrap();
    assert!((solved.value - f).abs() <= 1e-7, "{} != {f}", solved.value);
}

#[test]
fn uniprot_batch_v2_selects_within_each_source() {
    let ctx = Context::new().unwrap();
    let (b, d) = (45, 7);
    let x = uniform_rows(33, b, d);
    let batch = Dense::borrowed(&ctx, b, d, &x, 0).unwrap();
    // 18, 18, 8 and 1 rows, interleaved; labels neither sorted nor dense.
    let sources: Vec<i64> = (0..b)
        .map(|i| match i % 5 {
            _ if i == 44 => 100,
            0 | 1 => 9,
            2 | 3 => -5,
            _ => 2,
        })
        .collect();
    let mut labels = sources.clone();
    labels.sort_unstable();
    labels.dedup();
    assert_eq!(labels, [-5, 2, 9, 100]);
    let fraction = 0.3;
    for update in [Update::Solve, Update::Append] {
        for similarity in [Similarity::Cosine, Similarity::NegEuclidean] {
            let sel =
                uniprot_select_batch_v2(&ctx, &batch, Some(&sources), fraction, 0.05, similarity, update)
                    .unwrap();
            let mut at = 0;
            let mut value = 0.0;
            for &q in &labels {
                let rows: Vec<usize> = (0..b).filter(|&i| sources[i] == q).collect();
                let k = ((fraction * rows.len() as f64).round() as usize).max(1);
                let part = &sel.indices[at..at + k];
                // Every row of the source's run belongs to it.
                assert!(
                    part.iter().all(|&i| sources[i as usize] == q),
                    "{update:?} {similarity:?} source {q}: {part:?}"
                );
                // The source's own batch mode, in batch rows.
                let own: Vec<f32> = rows
                    .iter()
                    .flat_map(|&i| x[i * d..(i + 1) * d].to_vec())
                    .collect();
                let own = Dense::borrowed(&ctx, rows.len(), d, &own, 0).unwrap();
                let want =
                    uniprot_select_batch_v2(&ctx, &own, None, fraction, 0.05, similarity, update).unwrap();
                let want: Vec<i64> = want.indices.iter().map(|&i| rows[i as usize] as i64).collect();
                assert_eq!(part, &want[..], "{update:?} {similarity:?} source {q}");
                value += uniprot_select_batch_v2(&ctx, &own, None, fraction, 0.05, similarity, update)
                    .unwrap()
                    .value;
                at += k;
            }
            // 5 + 5 + 2 + 1 rows, nothing else.
            assert_eq!(at, 13);
            assert_eq!(sel.indices.len(), at);
            assert!(
                (sel.value - value).abs() <= 1e-12 * value.abs(),
                "{} != {value}",
                sel.value
            );
        }
    }
    // One source is the whole batch.
    let one = vec![7i64; b];
    let a = uniprot_select_batch_v2(
        &ctx,
        &batch,
        Some(&one),
        0.2,
        0.05,
        Similarity::Dot,
        Update::Append,
    )
    .unwrap();
    let p = uniprot_select_batch_v2(&ctx, &batch, None, 0.2, 0.05, Similarity::Dot, Update::Append).unwrap();
    assert_eq!(a.indices, p.indices);
    assert_eq!(a.gains, p.gains);
}

#[test]
fn uniprot_neg_euclidean_from_features() {
    // -|x - y| computed here: the objective from features is the one over
    // that matrix (to float rounding), and the per-batch mode takes it.
    let ctx = Context::new().unwrap();
    let (m, n, d) = (12, 9, 5);
    let (x, y) = (uniform_rows(34, m, d), uniform_rows(35, n, d));
    let (xd, yd) = (
        Dense::borrowed(&ctx, m, d, &x, 0).unwrap(),
        Dense::borrowed(&ctx, n, d, &y, 0).unwrap(),
    );
    let mut s = Vec::new();
    for i in 0..m {
        for j in 0..n {
            let sq: f64 = (0..d)
                .map(|c| (f64::from(x[i * d + c]) - f64::from(y[j * d + c])).powi(2))
                .sum();
            s.push(-sq.sqrt());
        }
    }
    let sd = Dense::borrowed(&ctx, m, n, &s, 0).unwrap();
    let by_hand = UniProt::new(&ctx, &sd, 4, 0.1).unwrap();
    let obj = UniProt::from_features(&ctx, &xd, &yd, Similarity::NegEuclidean, 4, 0.1).unwrap();
    let set = [2i64, 7, 0, 11];
    let (plan, value) = obj.plan(&ctx, &set).unwrap();
    let (want_plan, want_value) = by_hand.plan(&ctx, &set).unwrap();
    assert_all_close(&plan, &want_plan, 1e-5);
    assert!((value - want_value).abs() <= 1e-5, "{value} != {want_value}");
    let (similarity, f) = obj.transport_similarity(&ctx, &set).unwrap();
    assert!(similarity < 0.0 && f > similarity, "{similarity} {f}");
    // Its own rows at distance 0: every row its own prototype at fraction 1.
    let sel = uniprot_select_batch_v2(
        &ctx,
        &xd,
        None,
        1.0,
        0.05,
        Similarity::NegEuclidean,
        Update::Solve,
    )
    .unwrap();
    let mut all = sel.indices.clone();
    all.sort_unstable();
    assert_eq!(all, (0..m as i64).collect::<Vec<_>>());
}

#[test]
fn uniprot_batch_v2_errors() {
    let ctx = Context::new().unwrap();
    let x = uniform_rows(36, 10, 3);
    let batch = Dense::borrowed(&ctx, 10, 3, &x, 0).unwrap();
    // A label per row, checked here.
    for sources in [&[0i64; 9][..], &[0i64; 11][..], &[][..]] {
        let e = uniprot_select_batch_v2(
            &ctx,
            &batch,
            Some(sources),
            0.5,
            0.05,
            Similarity::Cosine,
            Update::Solve,
        )
        .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Invalid);
        assert!(
            e.message()
                .contains(&format!("{} sources for 10 rows", sources.len())),
            "{e}"
        );
    }
    // The library's checks, by name.
    let e = uniprot_select_batch_v2(&ctx, &batch, None, 0.0, 0.05, Similarity::Cosine, Update::Solve)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Invalid);
    assert!(e.message().contains("subsel_uniprot_select_batch_v2"), "{e}");
    assert!(e.message().contains("fraction"), "{e}");
    let e = uniprot_select_batch_v2(&ctx, &batch, None, 0.5, -1.0, Similarity::Cosine, Update::Append)
        .unwrap_err();
    assert!(e.message().contains("reg"), "{e}");
}
