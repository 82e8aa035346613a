// SPDX-License-Identifier: MIT
// Selection across processes, in one process, as tests/test_distributed.c
// checks it: row-range parts of a random pool (views, SDM with the whole
// pool as target), global ids in range, values against the whole pool's
// objective, GreeDi's merge (at least the best part, order-independent,
// within 1% of one lazy greedy over the whole pool), the byte form (round
// trip, every flipped byte refused), files, SDM's quality bins carried
// with the rows, and errors with the library's message.
mod common;

use common::fixture;
use subsel::{
    csr_npz_shape, mpi_available, Algorithm, Context, Csr, CsrRow, Dense, ErrorKind, Optimizer, RowIndices,
    Sdm, Summary, UniProt,
};

/// A random nonnegative n x d CSR pool, about `per_row` entries a row,
/// concentrated on low columns (as the C tests' random_pool), from a
/// fixed xorshift so the test is the same on every run.
fn random_pool(ctx: &Context, seed: u64, n: usize, d: usize, per_row: usize) -> Csr<'static> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut uniform = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let (mut indptr, mut indices, mut values) = (vec![0i64], Vec::new(), Vec::new());
    for _ in 0..n {
        let mut cols: Vec<i64> = (0..per_row)
            .map(|_| {
                let u = uniform();
                (u * u * u * d as f64) as i64
            })
            .collect();
        cols.sort_unstable();
        cols.dedup();
        for c in cols {
            indices.push(c);
            values.push((0.1 + uniform()) as f32);
        }
        indptr.push(indices.len() as i64);
    }
    Csr::copied(ctx, d, &indptr, &indices, &values).unwrap()
}

/// SDM over rows `first .. first + count` of `pool` (a view, no copy), with
/// the whole pool as the target, so every part measures the same thing.
fn sdm_part<'a>(ctx: &Context, pool: &Csr<'a>, first: usize, count: usize) -> Sdm<'a> {
    let view = pool.view_rows(ctx, first, count).unwrap();
    let mut sdm = Sdm::new(ctx, &view).unwrap();
    sdm.set_target(ctx, pool).unwrap();
    sdm
}

fn optimizer(ctx: &Context, algorithm: Algorithm, budget: i64) -> Optimizer {
    let mut opt = Optimizer::new(ctx, algorithm).unwrap();
    opt.set_budget(ctx, budget).unwrap();
    opt
}

/// The summaries of `parts` row ranges of `pool` (sizes differing by one).
fn summarise(ctx: &Context, pool: &Csr<'_>, opt: &Optimizer, parts: usize) -> Vec<Summary> {
    let n = pool.rows();
    (0..parts)
        .map(|j| {
            let (first, last) = (n * j / parts, n * (j + 1) / parts);
            let part = sdm_part(ctx, pool, first, last - first);
            Summary::select(ctx, opt, &part, first as i64, n as i64).unwrap()
        })
        .collect()
}

/// The summary's f is f of its ids on the whole pool, and its ids are
/// distinct and in range (evaluate refuses others); gives f.
fn assert_consistent(ctx: &Context, s: &Summary, whole: &Sdm<'_>) -> f64 {
    let sel = s.selection(ctx).unwrap();
    assert_eq!(sel.indices.len() as i64, s.count());
    assert_eq!(sel.gains.len(), sel.indices.len());
    let v = whole.evaluate(ctx, &sel.indices).unwrap();
    assert!((v - sel.value).abs() <= 1e-9 * v.abs(), "{v} != {}", sel.value);
    sel.value
}

/// Whether row `a` of `x` and row `b` of `y` hold the same entries.
fn same_row(x: &Csr<'_>, a: usize, y: &Csr<'_>, b: usize) -> bool {
    // As i64: the summary holds its rows with int32 indices whatever the
    // width of the pool's.
    fn wide(r: &CsrRow<'_>) -> Vec<i64> {
        match r.indices {
            RowIndices::I32(i) => i.iter().map(|&c| c.into()).collect(),
            RowIndices::I64(i) => i.to_vec(),
        }
    }
    let (r, s) = (x.row(a).unwrap(), y.row(b).unwrap());
    wide(&r) == wide(&s) && r.values == s.values
}

#[test]
fn parts_summarise_with_global_ids() {
    let ctx = Context::new().unwrap();
    let pool = random_pool(&ctx, 5, 900, 48, 6);
    let whole = sdm_part(&ctx, &pool, 0, 900);
    let opt = optimizer(&ctx, Algorithm::Lazy, 40);
    let parts = summarise(&ctx, &pool, &opt, 3);
    for (j, s) in parts.iter().enumerate() {
        assert_eq!((s.count(), s.total()), (40, 900));
        assert_consistent(&ctx, s, &whole);
        let sel = s.selection(&ctx).unwrap();
        let rows = s.rows(&ctx).unwrap();
        assert_eq!((rows.rows(), rows.cols()), (40, 48));
        for (i, &id) in sel.indices.iter().enumerate() {
            assert!(
                id >= 300 * j as i64 && id < 300 * (j as i64 + 1),
                "part {j}: id {id}"
            );
            // Row i of the summary is the pool's row `id`, bit for bit.
            assert!(
                same_row(&rows, i, &pool, id as usize),
                "part {j}: row {i} (id {id})"
            );
        }
    }
    // A part smaller than the budget selects all it has.
    let small = sdm_part(&ctx, &pool, 890, 10);
    let s = Summary::select(&ctx, &opt, &small, 890, 900).unwrap();
    assert_eq!(s.count(), 10);
    let mut ids = s.selection(&ctx).unwrap().indices;
    ids.sort_unstable();
    assert_eq!(ids, (890..900).collect::<Vec<i64>>());
}

#[test]
fn merges_follow_greedi() {
    let ctx = Context::new().unwrap();
    let pool = random_pool(&ctx, 9, 2000, 64, 8);
    let whole = sdm_part(&ctx, &pool, 0, 2000);
    let opt = optimizer(&ctx, Algorithm::Lazy, 60);
    let single = opt.run(&ctx, &whole).unwrap();
    let parts = summarise(&ctx, &pool, &opt, 4);
    let best = parts
        .iter()
        .map(|s| assert_consistent(&ctx, s, &whole))
        .fold(f64::NEG_INFINITY, f64::max);
    let refs: Vec<&Summary> = parts.iter().collect();
    let reversed: Vec<&Summary> = parts.iter().rev().collect();
    // Any part's objective will do as `like`.
    let like = sdm_part(&ctx, &pool, 500, 500);
    let merged = Summary::merge(&ctx, &opt, &like, &refs).unwrap();
    let again = Summary::merge(&ctx, &opt, &whole, &reversed).unwrap();
    let (a, b) = (merged.selection(&ctx).unwrap(), again.selection(&ctx).unwrap());
    assert_eq!(a.indices.len(), 60);
    assert_eq!(
        a.indices, b.indices,
        "the merge depends on the order of the summaries"
    );
    let value = assert_consistent(&ctx, &merged, &whole);
    assert!(value >= best, "merged {value} < best part {best}");
    assert!(
        value >= 0.99 * single.value,
        "merged {value}, one greedy {}",
        single.value
    );
    assert!(a.evaluations > 4 * 60, "{} evaluations", a.evaluations);
    assert_eq!(merged.total(), 2000);

    // Two rounds of two: multi-round GreeDi.
    let left = Summary::merge(&ctx, &opt, &like, &refs[..2]).unwrap();
    let right = Summary::merge(&ctx, &opt, &like, &refs[2..]).unwrap();
    let tree = Summary::merge(&ctx, &opt, &like, &[&left, &right]).unwrap();
    let value = assert_consistent(&ctx, &tree, &whole);
    assert!(
        value >= 0.99 * single.value,
        "two rounds {value}, one greedy {}",
        single.value
    );
}

#[test]
fn summaries_are_read_from_threads() {
    // Send + Sync: one summary read by several threads, each with its own
    // context, and merged there.
    let ctx = Context::new().unwrap();
    let pool = random_pool(&ctx, 12, 400, 24, 5);
    let opt = optimizer(&ctx, Algorithm::Lazy, 10);
    let parts = summarise(&ctx, &pool, &opt, 2);
    let want = parts[0].to_bytes(&ctx).unwrap();
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                let ctx = Context::new().unwrap();
                assert_eq!(parts[0].to_bytes(&ctx).unwrap(), want);
                let like = sdm_part(&ctx, &pool, 0, 10);
                let opt = optimizer(&ctx, Algorithm::Lazy, 10);
                let m = Summary::merge(&ctx, &opt, &like, &[&parts[0], &parts[1]]).unwrap();
                assert_eq!(m.count(), 10);
            });
        }
    });
}

#[test]
fn bins_travel_with_rows() {
    // SDM's quality bins by edges (the same on every part) travel with the
    // summaries' rows: the merge's value is f on the whole pool with bins;
    // an objective without bins cannot merge rows that have them.
    let ctx = Context::new().unwrap();
    let pool = random_pool(&ctx, 21, 600, 32, 5);
    let quality: Vec<f64> = (0..600).map(|j| ((j * 37) % 100) as f64 / 100.0).collect();
    let edges = [0.3, 0.7];
    let mut whole = sdm_part(&ctx, &pool, 0, 600);
    whole.set_quality_edges(&ctx, &quality, &edges).unwrap();
    let opt = optimizer(&ctx, Algorithm::Lazy, 25);
    let mut parts = Vec::new();
    let mut summaries = Vec::new();
    for j in 0..2 {
        let mut part = sdm_part(&ctx, &pool, 300 * j, 300);
        part.set_quality_edges(&ctx, &quality[300 * j..300 * (j + 1)], &edges)
            .unwrap();
        let s = Summary::select(&ctx, &opt, &part, 300 * j as i64, 600).unwrap();
        assert_consistent(&ctx, &s, &whole);
        parts.push(part);
        summaries.push(s);
    }
    let refs: Vec<&Summary> = summaries.iter().collect();
    let merged = Summary::merge(&ctx, &opt, &parts[1], &refs).unwrap();
    assert_consistent(&ctx, &merged, &whole);
    let plain = sdm_part(&ctx, &pool, 0, 10);
    let e = Summary::merge(&ctx, &opt, &plain, &refs).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Invalid);
    assert!(e.message().contains("quality bins"), "{e}");
}

#[test]
fn bytes_round_trip_and_refuse_damage() {
    let ctx = Context::new().unwrap();
    let pool = random_pool(&ctx, 3, 200, 16, 4);
    let part = sdm_part(&ctx, &pool, 100, 100);
    let opt = optimizer(&ctx, Algorithm::Stochastic, 12);
    let s = Summary::select(&ctx, &opt, &part, 100, 200).unwrap();
    let bytes = s.to_bytes(&ctx).unwrap();
    let back = Summary::from_bytes(&ctx, &bytes).unwrap();
    assert_eq!(back.to_bytes(&ctx).unwrap(), bytes);
    assert_eq!(back.selection(&ctx).unwrap(), s.selection(&ctx).unwrap());
    for i in 0..bytes.len() {
        let mut copy = bytes.clone();
        copy[i] ^= 0x41;
        let e = Summary::from_bytes(&ctx, &copy).unwrap_err();
        // The CRC is checked first: every damaged byte (also in the
        // format version) is Format.
        assert_eq!(e.kind(), ErrorKind::Format, "byte {i}: {e}");
    }
    for cut in [0, 1, bytes.len() / 2, bytes.len() - 1] {
        let e = Summary::from_bytes(&ctx, &bytes[..cut]).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Format, "{cut} bytes: {e}");
    }
    // Files: the same bytes.
    let dir = std::env::temp_dir().join(format!("subsel-rust-summary-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("part.sss");
    s.save(&ctx, &path).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
    let loaded = Summary::load(&ctx, &path).unwrap();
    assert_eq!(loaded.to_bytes(&ctx).unwrap(), bytes);
    std::fs::remove_dir_all(&dir).unwrap();
    let e = Summary::load(&ctx, "/nonexistent/x.sss").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Io, "{e}");
}

#[test]
fn errors_are_clear() {
    let ctx = Context::new().unwrap();
    let pool = random_pool(&ctx, 4, 100, 12, 3);
    let part = sdm_part(&ctx, &pool, 0, 50);
    let opt = optimizer(&ctx, Algorithm::Lazy, 5);
    let e = Summary::select(&ctx, &opt, &part, 60, 100).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Invalid);
    assert!(e.message().contains("does not fit a pool"), "{e}");
    assert_eq!(
        Summary::select(&ctx, &opt, &part, -1, 100).unwrap_err().kind(),
        ErrorKind::Invalid
    );

    // Objectives not over CSR rows cannot be split.
    let points = Dense::copied(&ctx, 4, 2, &[1.0f32, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0, 0.0]).unwrap();
    let uniprot = UniProt::new(&ctx, &points, 2, 0.1).unwrap();
    let e = Summary::select(&ctx, &opt, &uniprot, 0, 4).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
    assert!(e.message().contains("FB or SDM"), "{e}");

    // Merges: none, of different pools, overlapping, other columns.
    let a = Summary::select(&ctx, &opt, &part, 0, 100).unwrap();
    let other_pool = Summary::select(&ctx, &opt, &part, 0, 101).unwrap();
    assert_eq!(
        Summary::merge(&ctx, &opt, &part, &[]).unwrap_err().kind(),
        ErrorKind::Invalid
    );
    let e = Summary::merge(&ctx, &opt, &part, &[&a, &other_pool]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Invalid);
    assert!(e.message().contains("not parts of one pool"), "{e}");
    let e = Summary::merge(&ctx, &opt, &part, &[&a, &a]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Invalid);
    assert!(e.message().contains("disjoint"), "{e}");
    let narrow_pool = random_pool(&ctx, 4, 10, 13, 3);
    let narrow = sdm_part(&ctx, &narrow_pool, 0, 10);
    let e = Summary::merge(&ctx, &opt, &narrow, &[&a]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Invalid);
    assert!(e.message().contains("columns"), "{e}");
    let e = Summary::merge(&ctx, &opt, &uniprot, &[&a]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}");

    // The shape of a shard without its arrays.
    let path = fixture("sdm/source.npz");
    let m = Csr::load_npz(&ctx, &path).unwrap();
    assert_eq!(csr_npz_shape(&ctx, &path).unwrap(), (m.rows(), m.cols()));
    let e = csr_npz_shape(&ctx, "/nonexistent.npz").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Io, "{e}");
}

#[test]
fn mpi_select_fails_cleanly_without_mpi() {
    // Without an MPI component, or with MPI not initialised, the call is
    // refused with a message (the MPI runs themselves are tests/mpi's).
    let ctx = Context::new().unwrap();
    let pool = random_pool(&ctx, 4, 50, 8, 3);
    let part = sdm_part(&ctx, &pool, 0, 50);
    let opt = optimizer(&ctx, Algorithm::Stochastic, 5);
    let e = unsafe { subsel::mpi_select(&ctx, &opt, &part, subsel::Distributed::Exact, 0) }.unwrap_err();
    if mpi_available() {
        assert_eq!(e.kind(), ErrorKind::State, "{e}");
        assert!(e.message().contains("not initialised"), "{e}");
    } else {
        assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}");
    }
}

#[test]
fn fanin_is_an_optimizer_parameter() {
    // From the library's table, as every parameter: no constant here.
    let ctx = Context::new().unwrap();
    let mut opt = Optimizer::new(&ctx, Algorithm::Lazy).unwrap();
    let info = subsel::params()
        .unwrap()
        .into_iter()
        .find(|p| p.name == "fanin")
        .unwrap();
    assert_eq!(info.id, subsel::sys::SUBSEL_P_FANIN);
    opt.set_param(&ctx, "fanin", 3i64).unwrap();
    assert_eq!(opt.param(&ctx, "fanin").unwrap(), subsel::Value::Int(3));
}
