// SPDX-License-Identifier: MIT
// The safe API against the reference fixtures the CLI tests use
// (tests/cli/sdm.sh: fb and sdm must give the fixtures' greedy orders), plus
// zero-copy checked by pointer, errors by kind and message, lifetimes
// (drop the inputs, keep the objective, run), cancellation, panics in the
// progress callback, and objectives shared between threads.
use std::ops::ControlFlow;
use std::path::PathBuf;

use subsel::{
    fb, Algorithm, Bounds, Concave, Context, Csr, Dense, ErrorKind, Optimizer, RowIndices, Sdm, ShortReason,
    Value,
};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../tests/fixtures")
        .join(name)
}

fn assert_close(got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() <= 1e-4 * w.abs().max(1.0), "{got:?} != {want:?}");
    }
}

/// The arrays of a loaded CSR matrix, as a caller would hold them.
fn arrays(csr: &Csr<'_>) -> (Vec<i32>, Vec<i32>, Vec<f32>) {
    let (mut indptr, mut indices, mut values) = (vec![0i32], Vec::new(), Vec::new());
    for r in 0..csr.rows() {
        let row = csr.row(r).unwrap();
        match row.indices {
            RowIndices::I32(ix) => indices.extend_from_slice(ix),
            RowIndices::I64(ix) => indices.extend(ix.iter().map(|&i| i as i32)),
        }
        values.extend_from_slice(row.values);
        indptr.push(indices.len() as i32);
    }
    (indptr, indices, values)
}

fn fb_order(ctx: &Context, features: &Csr<'_>, concave: Concave, weights: &[f64]) -> subsel::Selection {
    let f = fb(ctx, features, concave, Some(weights)).unwrap();
    let mut opt = Optimizer::new(ctx, Algorithm::Naive).unwrap();
    opt.set_budget(ctx, 12).unwrap();
    opt.run(ctx, &f).unwrap()
}

#[test]
fn fb_gives_the_fixture_orders() {
    let ctx = Context::new().unwrap();
    let z = Csr::load_npz(&ctx, fixture("fb/Z.npz")).unwrap();
    let w = subsel::read_npy_f64(&ctx, fixture("fb/w.npy")).unwrap();
    for (concave, name) in [(Concave::Log1p, "log1p"), (Concave::Sqrt, "sqrt")] {
        let sel = fb_order(&ctx, &z, concave, &w);
        let order = subsel::read_npy_i64(&ctx, fixture(&format!("fb/order_{name}.npy"))).unwrap();
        assert_eq!(sel.indices, order, "fb {name}");
        let values = subsel::read_npy_f64(&ctx, fixture(&format!("fb/values_{name}.npy"))).unwrap();
        let running: Vec<f64> = sel
            .gains
            .iter()
            .scan(0.0, |s, g| {
                *s += g;
                Some(*s)
            })
            .collect();
        assert_close(&running, &values);
        assert_close(&[sel.value], &values[11..]);
        assert_eq!(sel.budget, 12);
        assert_eq!(sel.short_reason, ShortReason::None);
    }
}

fn sdm_fixture<'a>(ctx: &Context, source: &Csr<'a>) -> Sdm<'a> {
    let target = Csr::load_npz(ctx, fixture("sdm/target.npz")).unwrap();
    let quality = subsel::read_npy_f64(ctx, fixture("sdm/quality.npy")).unwrap();
    let mut sdm = Sdm::new(ctx, source).unwrap();
    sdm.set_target(ctx, &target).unwrap();
    sdm.set_quality(ctx, &quality, 3).unwrap();
    sdm.set_bin_weights(ctx, &[0.0, 0.01, 0.99]).unwrap();
    sdm.set_lambda(ctx, 0.7).unwrap();
    sdm
}

#[test]
fn sdm_gives_the_fixture_order() {
    let ctx = Context::new().unwrap();
    let source = Csr::load_npz(&ctx, fixture("sdm/source.npz")).unwrap();
    let sdm = sdm_fixture(&ctx, &source);
    assert_eq!(sdm.param(&ctx, "lambda").unwrap(), Value::Real(0.7));
    assert_eq!(
        sdm.quality_bins(&ctx).unwrap(),
        subsel::read_npy_i64(&ctx, fixture("sdm/bins.npy")).unwrap()
    );
    let mut opt = Optimizer::new(&ctx, Algorithm::Lazy).unwrap();
    opt.set_budget(&ctx, 12).unwrap();
    let sel = opt.run(&ctx, &sdm).unwrap();
    assert_eq!(
        sel.indices,
        subsel::read_npy_i64(&ctx, fixture("sdm/order.npy")).unwrap()
    );
    let values = subsel::read_npy_f64(&ctx, fixture("sdm/values.npy")).unwrap();
    assert_close(&[sel.value], &values[11..]);
    assert_close(&[sdm.evaluate(&ctx, &sel.indices).unwrap()], &values[11..]);
}

#[test]
fn sdm_random_parts() {
    // As the CLI's `--parts 3` (1 and 2 threads alike) and `--parts 80
    // --merge greedi`: RandGreeDi with a part per row is the greedy order.
    let mut ctx = Context::new().unwrap();
    let source = Csr::load_npz(&ctx, fixture("sdm/source.npz")).unwrap();
    let sdm = sdm_fixture(&ctx, &source);
    let mut selections = Vec::new();
    for threads in [1, 2] {
        ctx.set_threads(threads).unwrap();
        let mut opt = Optimizer::new(&ctx, Algorithm::Stochastic).unwrap();
        opt.set_budget(&ctx, 20).unwrap();
        opt.set_param(&ctx, "parts", 3).unwrap();
        selections.push(opt.run(&ctx, &sdm).unwrap().indices);
    }
    assert_eq!(selections[0], selections[1]);
    assert_eq!(selections[0].len(), 20);
    let mut opt = Optimizer::new(&ctx, Algorithm::Lazy).unwrap();
    opt.set_budget(&ctx, 12).unwrap();
    opt.set_param(&ctx, "parts", 80).unwrap();
    opt.set_param(&ctx, "merge", 1).unwrap();
    assert_eq!(
        opt.run(&ctx, &sdm).unwrap().indices,
        subsel::read_npy_i64(&ctx, fixture("sdm/order.npy")).unwrap()
    );
    opt.set_param(&ctx, "parts", 81).unwrap();
    let err = opt.run(&ctx, &sdm).unwrap_err();
    assert!(err.message().contains("parts 81 is larger than the pool"), "{err}");
}

#[test]
fn sdm_intersected_runs() {
    // As the CLI's `--target-dist --optimizer lazier --runs 3 --seed 5 --threads 2`.
    let mut ctx = Context::new().unwrap();
    ctx.set_seed(5).unwrap();
    ctx.set_threads(2).unwrap();
    let source = Csr::load_npz(&ctx, fixture("sdm/source_uncompressed.npz")).unwrap();
    let p = subsel::read_npy_f64(&ctx, fixture("sdm/p_target.npy")).unwrap();
    let mut sdm = Sdm::new(&ctx, &source).unwrap();
    sdm.set_target_distribution(&ctx, &p).unwrap();
    let mut opt = Optimizer::new(&ctx, Algorithm::Lazier).unwrap();
    opt.set_budget(&ctx, 20).unwrap();
    opt.set_runs(&ctx, 3).unwrap();
    let a = opt.run(&ctx, &sdm).unwrap();
    assert!(a.indices.len() <= 20 && !a.indices.is_empty());
    assert!(
        a.indices.windows(2).all(|w| w[0] < w[1]),
        "intersections are ascending"
    );
    assert_eq!(a, opt.run(&ctx, &sdm).unwrap(), "same seed, same selection");
}

#[test]
fn borrowed_csr_is_not_copied() {
    let ctx = Context::new().unwrap();
    let z = Csr::load_npz(&ctx, fixture("fb/Z.npz")).unwrap();
    let (indptr, indices, values) = arrays(&z);
    let borrowed = Csr::borrowed(&ctx, z.cols(), &indptr, &indices, &values).unwrap();
    let row = borrowed.row(0).unwrap();
    assert_eq!(row.values.as_ptr(), values.as_ptr());
    match row.indices {
        RowIndices::I32(ix) => assert_eq!(ix.as_ptr(), indices.as_ptr()),
        RowIndices::I64(_) => panic!("int32 indices came back as int64"),
    }
    // int64 indices are borrowed too.
    let indptr64: Vec<i64> = indptr.iter().map(|&i| i.into()).collect();
    let indices64: Vec<i64> = indices.iter().map(|&i| i.into()).collect();
    let wide = Csr::borrowed(&ctx, z.cols(), &indptr64, &indices64, &values).unwrap();
    match wide.row(1).unwrap().indices {
        RowIndices::I64(ix) => assert_eq!(ix.as_ptr(), indices64[indptr64[1] as usize..].as_ptr()),
        RowIndices::I32(_) => panic!("int64 indices came back as int32"),
    }
    // And select as the loaded matrix does.
    let w = subsel::read_npy_f64(&ctx, fixture("fb/w.npy")).unwrap();
    let order = subsel::read_npy_i64(&ctx, fixture("fb/order_sqrt.npy")).unwrap();
    assert_eq!(fb_order(&ctx, &wide, Concave::Sqrt, &w).indices, order);
    // A copy is elsewhere.
    let copy = Csr::copied(&ctx, z.cols(), &indptr, &indices, &values).unwrap();
    assert_ne!(copy.row(0).unwrap().values.as_ptr(), values.as_ptr());
}

#[test]
fn borrowed_dense_with_a_stride_is_not_copied() {
    let ctx = Context::new().unwrap();
    let data: Vec<f32> = (0..3 * 5).map(|i| i as f32).collect();
    let dense = Dense::borrowed(&ctx, 3, 4, &data, 5).unwrap();
    assert_eq!(dense.data_ptr(), data.as_ptr());
    assert_eq!(dense.stride(), 5);
    assert_eq!(dense.row(2).unwrap(), &data[10..14]);
    let copy = Dense::copied(&ctx, 2, 2, &[1.0f64, 2.0, 3.0, 4.0]).unwrap();
    assert_eq!(copy.row(1).unwrap(), &[3.0f32, 4.0]);
    let short = Dense::borrowed(&ctx, 3, 4, &data[..13], 5).unwrap_err();
    assert_eq!(short.kind(), ErrorKind::Invalid);
    assert!(short.message().contains("needs 14 elements"), "{short}");
}

#[test]
fn objective_outlives_its_matrix_handle() {
    let ctx = Context::new().unwrap();
    let w = subsel::read_npy_f64(&ctx, fixture("fb/w.npy")).unwrap();
    let (indptr, indices, values) = arrays(&Csr::load_npz(&ctx, fixture("fb/Z.npz")).unwrap());
    let csr = Csr::borrowed(&ctx, 50, &indptr, &indices, &values).unwrap();
    let objective = fb(&ctx, &csr, Concave::Log1p, Some(&w)).unwrap();
    drop(csr);
    let mut opt = Optimizer::new(&ctx, Algorithm::Lazy).unwrap();
    opt.set_budget(&ctx, 12).unwrap();
    let sel = opt.run(&ctx, &objective).unwrap();
    assert_eq!(
        sel.indices,
        subsel::read_npy_i64(&ctx, fixture("fb/order_log1p.npy")).unwrap()
    );
}

#[test]
fn errors_carry_kind_and_message() {
    let ctx = Context::new().unwrap();
    let source = Csr::load_npz(&ctx, fixture("sdm/source.npz")).unwrap();
    let mut sdm = Sdm::new(&ctx, &source).unwrap();
    let mut opt = Optimizer::new(&ctx, Algorithm::Lazy).unwrap();

    let e = opt.run(&ctx, &sdm).unwrap_err(); // no target yet
    assert_eq!(e.kind(), ErrorKind::State);
    assert!(e.message().contains("target"), "{e}");

    let e = sdm.set_lambda(&ctx, 2.0).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Invalid);
    assert!(e.message().contains("lambda"), "{e}");

    sdm.set_target(&ctx, &Csr::load_npz(&ctx, fixture("sdm/target.npz")).unwrap())
        .unwrap();
    opt.set_budget(&ctx, 1000).unwrap();
    let e = opt.run(&ctx, &sdm).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Invalid);
    assert!(e.message().contains("budget"), "{e}");
    assert!(e.to_string().starts_with("invalid argument: "), "{e}");

    let e = opt.set_param(&ctx, "bogus", 1).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Invalid);
    assert!(e.message().contains("bogus"), "{e}");
    let e = opt.set_budget(&ctx, -1).unwrap_err();
    assert!(e.message().contains("budget"), "{e}");

    let e = Csr::load_npz(&ctx, fixture("sdm/none.npz")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Io);
    assert!(e.message().contains("none.npz"), "{e}");

    let z = Csr::load_npz(&ctx, fixture("fb/Z.npz")).unwrap();
    let e = fb(&ctx, &z, Concave::Log1p, Some(&[1.0; 3])).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Invalid);
    let e = fb(&ctx, &z, Concave::Pow(2.0), None).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Invalid);

    // A structure the library refuses: the message names the row.
    let e = Csr::copied(&ctx, 2, &[0i32, 2], &[1, 0], &[1.0f32, 1.0]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Format);
    assert!(e.message().contains("row"), "{e}");
    let e = Csr::borrowed(&ctx, 2, &[0i32, 3], &[0, 1], &[1.0f32, 1.0]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Invalid);
}

#[test]
fn parameters_come_from_the_library_table() {
    let params = subsel::params().unwrap();
    let budget = params.iter().find(|p| p.name == "budget").expect("budget");
    assert_eq!(budget.id, subsel::sys::SUBSEL_P_BUDGET);
    assert!(matches!(budget.bounds, Bounds::Int { min: 0, .. }));
    let lambda = subsel::param_info(subsel::sys::SUBSEL_P_SDM_LAMBDA).unwrap();
    assert_eq!(lambda.name, "lambda");
    assert!(matches!(lambda.bounds, Bounds::Real { default, .. } if default == 0.7));
    let ctx = Context::new().unwrap();
    let mut opt = Optimizer::new(&ctx, Algorithm::Stochastic).unwrap();
    opt.set_param(&ctx, "epsilon", 0.25).unwrap();
    assert_eq!(opt.param(&ctx, "epsilon").unwrap(), Value::Real(0.25));
    assert_eq!(opt.param(&ctx, "budget").unwrap(), Value::Int(0));
}

#[test]
fn progress_reports_and_cancels() {
    let mut ctx = Context::new().unwrap();
    let source = Csr::load_npz(&ctx, fixture("sdm/source.npz")).unwrap();
    let sdm = sdm_fixture(&ctx, &source);
    let mut opt = Optimizer::new(&ctx, Algorithm::Lazy).unwrap();
    opt.set_budget(&ctx, 12).unwrap();

    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    ctx.set_progress(move |stage, done, total| {
        log.lock().unwrap().push((stage.to_owned(), done, total));
        ControlFlow::Continue(())
    })
    .unwrap();
    opt.run(&ctx, &sdm).unwrap();
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.first(), Some(&("select".to_owned(), 0, 12)));
    assert_eq!(seen.last(), Some(&("select".to_owned(), 12, 12)));

    ctx.set_progress(|_, done, _| {
        if done >= 3 {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    })
    .unwrap();
    let e = opt.run(&ctx, &sdm).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Cancelled);

    ctx.clear_progress().unwrap();
    assert_eq!(opt.run(&ctx, &sdm).unwrap().indices.len(), 12);
}

#[test]
fn a_panic_in_the_callback_reaches_the_caller() {
    let mut ctx = Context::new().unwrap();
    let source = Csr::load_npz(&ctx, fixture("sdm/source.npz")).unwrap();
    let sdm = sdm_fixture(&ctx, &source);
    let mut opt = Optimizer::new(&ctx, Algorithm::Lazy).unwrap();
    opt.set_budget(&ctx, 12).unwrap();
    ctx.set_progress(|_, done, _| {
        if done == 2 {
            panic!("stop at two")
        } else {
            ControlFlow::Continue(())
        }
    })
    .unwrap();
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| opt.run(&ctx, &sdm)));
    let payload = caught.expect_err("the panic came back");
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"stop at two"));
    // The context and the handles are still usable.
    ctx.clear_progress().unwrap();
    assert_eq!(opt.run(&ctx, &sdm).unwrap().indices.len(), 12);
}

#[test]
fn one_objective_many_threads() {
    let ctx = Context::new().unwrap();
    let source = Csr::load_npz(&ctx, fixture("sdm/source.npz")).unwrap();
    let sdm = sdm_fixture(&ctx, &source);
    let order = subsel::read_npy_i64(&ctx, fixture("sdm/order.npy")).unwrap();
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..3)
            .map(|_| {
                s.spawn(|| {
                    // A context per thread; the objective is shared (Sync).
                    let ctx = Context::new().unwrap();
                    let mut opt = Optimizer::new(&ctx, Algorithm::Lazy).unwrap();
                    opt.set_budget(&ctx, 12).unwrap();
                    opt.run(&ctx, &sdm).unwrap().indices
                })
            })
            .collect();
        for w in workers {
            assert_eq!(w.join().unwrap(), order);
        }
    });
}

/// map_files 1 (memory-mapped; SciPy's stored members copied from the
/// mapping) and 0 (streamed) read the same matrices, stored or deflated.
#[test]
fn mapped_and_copied_loads_agree() {
    let mut mapped = Context::new().unwrap();
    let mut copied = Context::new().unwrap();
    mapped.set_param("map_files", 1i64).unwrap();
    copied.set_param("map_files", 0i64).unwrap();
    assert_eq!(copied.param("map_files").unwrap(), Value::Int(0));
    for name in ["fb/Z_uncompressed.npz", "fb/Z.npz", "sdm/source_uncompressed.npz"] {
        let a = Csr::load_npz(&mapped, fixture(name)).unwrap();
        let b = Csr::load_npz(&copied, fixture(name)).unwrap();
        assert_eq!((a.rows(), a.cols(), a.nnz()), (b.rows(), b.cols(), b.nnz()), "{name}");
        for r in 0..a.rows() {
            let (x, y) = (a.row(r).unwrap(), b.row(r).unwrap());
            assert_eq!(x.values, y.values, "{name} row {r}");
            match (x.indices, y.indices) {
                (RowIndices::I32(p), RowIndices::I32(q)) => assert_eq!(p, q, "{name} row {r}"),
                (RowIndices::I64(p), RowIndices::I64(q)) => assert_eq!(p, q, "{name} row {r}"),
                _ => panic!("{name} row {r}: index widths differ"),
            }
        }
    }
}
