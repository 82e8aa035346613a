// SPDX-License-Identifier: MIT
// Warm starts and resumed runs (issue 16) on tests/data/sparse_pool: naive
// greedy from its own first items gives its selection back; a stochastic
// run resumed from the checkpoint it wrote on schedule gives the
// uninterrupted selection; bad items and mismatched checkpoints fail with
// the library's kind and message.
mod common;

use common::data;
use subsel::{fb, Algorithm, Concave, Context, Csr, ErrorKind, Optimizer};

fn optimizer(ctx: &Context, algorithm: Algorithm, budget: i64) -> Optimizer {
    let mut opt = Optimizer::new(ctx, algorithm).unwrap();
    opt.set_budget(ctx, budget).unwrap();
    opt
}

#[test]
fn initial_sets_and_resumed_runs() {
    let ctx = Context::new().unwrap();
    let z = Csr::load_npz(&ctx, data("sparse_pool/pool.npz")).unwrap();
    let f = fb(&ctx, &z, Concave::Log1p, None).unwrap();

    let whole = optimizer(&ctx, Algorithm::Naive, 40).run(&ctx, &f).unwrap();
    let mut warm = optimizer(&ctx, Algorithm::Lazy, 40);
    warm.set_initial(&ctx, &whole.indices[..9]).unwrap();
    assert_eq!(warm.run(&ctx, &f).unwrap().indices, whole.indices);

    let dir = std::env::temp_dir().join(format!("subsel-rust-resume-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("run.ckpt.npz");
    let plain = optimizer(&ctx, Algorithm::Stochastic, 60).run(&ctx, &f).unwrap();
    let mut opt = optimizer(&ctx, Algorithm::Stochastic, 60);
    opt.set_checkpoint(&ctx, Some(&path)).unwrap();
    opt.set_param(&ctx, "checkpoint_every", 25i64).unwrap();
    assert_eq!(opt.run(&ctx, &f).unwrap().indices, plain.indices);
    opt.set_checkpoint(&ctx, None).unwrap();
    opt.resume(&ctx, &path).unwrap();
    let resumed = opt.run(&ctx, &f).unwrap();
    assert_eq!(resumed.indices, plain.indices);
    assert_eq!(resumed.gains, plain.gains);

    opt.set_budget(&ctx, 61).unwrap();
    let e = opt.run(&ctx, &f).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Invalid);
    assert!(e.message().contains("budget is 60, this run's 61"), "{e}");
    let e = opt.set_initial(&ctx, &[4, 2, 4]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Invalid);
    assert!(e.message().contains("more than once"), "{e}");
    let e = opt.resume(&ctx, dir.join("missing.npz")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Io);
    std::fs::remove_dir_all(&dir).unwrap();
}
