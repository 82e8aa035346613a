// SPDX-License-Identifier: MIT
// The SAE encoder on tests/data/sae (tests/cli/encode.sh's encoder, with
// NumPy's codes in expected_*.npy), errors by kind and message,
// cancellation, the encoder outliving its W_enc handle; float16 input.
mod common;

use std::ops::ControlFlow;

use common::{assert_all_close, data};
use subsel::{Context, Csr, Dense, ErrorKind, RowIndices, Sae, F16};

fn codes(csr: &Csr<'_>) -> (Vec<i64>, Vec<i64>, Vec<f64>) {
    let (mut indptr, mut indices, mut values) = (vec![0i64], Vec::new(), Vec::new());
    for r in 0..csr.rows() {
        let row = csr.row(r).unwrap();
        match row.indices {
            RowIndices::I32(ix) => indices.extend(ix.iter().map(|&i| i64::from(i))),
            RowIndices::I64(ix) => indices.extend_from_slice(ix),
        }
        values.extend(row.values.iter().map(|&v| f64::from(v)));
        indptr.push(indices.len() as i64);
    }
    (indptr, indices, values)
}

#[test]
fn sae_encode_gives_numpy_codes() {
    // encode.sh: --sae tests/data/sae --input X.npy --k 8: 30 rows, 40
    // features, 227 codes, NumPy's indices and values.
    let mut ctx = Context::new().unwrap();
    let sae = Sae::load(&ctx, data("sae")).unwrap();
    assert_eq!((sae.inputs(), sae.features()), (12, 40));
    let x = Dense::load_npy(&ctx, data("sae/X.npy")).unwrap();
    let z = sae.encode(&ctx, &x, 8).unwrap();
    assert_eq!((z.rows(), z.cols(), z.nnz()), (30, 40, 227));
    let (indptr, indices, values) = codes(&z);
    assert_eq!(
        indptr,
        subsel::read_npy_i64(&ctx, data("sae/expected_indptr.npy")).unwrap()
    );
    assert_eq!(
        indices,
        subsel::read_npy_i64(&ctx, data("sae/expected_indices.npy")).unwrap()
    );
    let want = subsel::read_npy_f64(&ctx, data("sae/expected_values.npy")).unwrap();
    assert_all_close(&values, &want, 1e-4);
    // One thread gives the same codes.
    ctx.set_threads(1).unwrap();
    assert_eq!(codes(&sae.encode(&ctx, &x, 8).unwrap()).1, indices);
}

#[test]
fn sae_from_borrowed_arrays_outlives_its_matrix() {
    // A 3 x 2 encoder by hand: codes of x = [1, 2] are TopK(ReLU(W x + b)).
    let ctx = Context::new().unwrap();
    let w = [1.0f32, 0.0, 0.0, 1.0, -1.0, -1.0];
    let w_enc = Dense::borrowed(&ctx, 3, 2, &w, 0).unwrap();
    assert_eq!(w_enc.data_ptr(), w.as_ptr()); // zero-copy
    let sae = Sae::new(&ctx, &w_enc, Some(&[0.5, 0.0, 0.0]), None).unwrap();
    drop(w_enc); // the encoder keeps it
    let x = Dense::copied(&ctx, 2, 2, &[1.0f32, 2.0, -3.0, -4.0]).unwrap();
    let z = sae.encode(&ctx, &x, 1).unwrap();
    let row = z.row(0).unwrap();
    assert!(matches!(row.indices, RowIndices::I32(&[1])), "{row:?}");
    assert_eq!(row.values, &[2.0]);
    // W x = [-3, -4, 7]: only the third activation is positive.
    let row = z.row(1).unwrap();
    assert!(matches!(row.indices, RowIndices::I32(&[2])), "{row:?}");
    assert_eq!(row.values, &[7.0]);
}

#[test]
fn sae_errors_and_cancellation() {
    let mut ctx = Context::new().unwrap();
    let sae = Sae::load(&ctx, data("sae")).unwrap();
    let x = Dense::load_npy(&ctx, data("sae/X.npy")).unwrap();
    let e = sae.encode(&ctx, &x, 41).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Invalid);
    assert!(e.message().contains('k'), "{e}");
    let narrow = Dense::copied(&ctx, 1, 3, &[1.0f32; 3]).unwrap();
    let e = sae.encode(&ctx, &narrow, 8).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Invalid);
    // The message names the file at fault.
    let e = Sae::load(&ctx, data("uniprot")).unwrap_err();
    assert!(e.message().contains("W_enc.npy"), "{e}");
    let w = Dense::copied(&ctx, 2, 2, &[1.0f32; 4]).unwrap();
    let e = Sae::new(&ctx, &w, Some(&[1.0]), None).unwrap_err();
    assert!(e.message().contains("b_enc holds 1 values, not 2"), "{e}");
    let e = Sae::new(&ctx, &w, Some(&[f32::NAN, 0.0]), None).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Numeric, "{e}");
    ctx.set_progress(|stage, _, _| {
        assert_eq!(stage, "encode");
        ControlFlow::Break(())
    })
    .unwrap();
    assert_eq!(sae.encode(&ctx, &x, 8).unwrap_err().kind(), ErrorKind::Cancelled);
}

#[test]
fn float16_values_are_converted_once() {
    let ctx = Context::new().unwrap();
    // 1, 0.5, -2, 0.25 in IEEE half precision.
    let bits = [0x3C00u16, 0x3800, 0xC000, 0x3400];
    let halves = F16::from_bits_slice(&bits);
    assert_eq!(halves.as_ptr() as usize, bits.as_ptr() as usize);
    let d = Dense::borrowed(&ctx, 2, 2, halves, 0).unwrap();
    assert_ne!(d.data_ptr() as usize, bits.as_ptr() as usize); // a float32 copy
    assert_eq!(d.row(0).unwrap(), &[1.0, 0.5]);
    assert_eq!(d.row(1).unwrap(), &[-2.0, 0.25]);
    // Strided: every other value.
    let d = Dense::borrowed(&ctx, 2, 1, halves, 2).unwrap();
    assert_eq!(
        (d.row(0).unwrap(), d.row(1).unwrap()),
        (&[1.0f32][..], &[-2.0f32][..])
    );
    let (indptr, indices) = ([0i32, 2, 4], [0i32, 1, 0, 1]);
    let csr = Csr::borrowed(&ctx, 2, &indptr, &indices, halves).unwrap();
    assert_eq!(csr.row(1).unwrap().values, &[-2.0, 0.25]);
    // The infinity of half precision is refused like any other.
    let inf = [0x7C00u16];
    let e = Dense::borrowed(&ctx, 1, 1, F16::from_bits_slice(&inf), 0).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Numeric, "{e}");
}

#[test]
fn sae_scores_of_rows_pointing_one_way() {
    // Three rows along (1, 2), all active in latent 0 (by activation: rows
    // 2, 0, 1), none in latent 1: MS 1, MT the mean of <x2, x0> and <x0, x1>.
    let ctx = Context::new().unwrap();
    let xv = [1.0f32, 2.0, 2.0, 4.0, 3.0, 6.0];
    let x = Dense::borrowed(&ctx, 3, 2, &xv, 0).unwrap();
    let (indptr, indices, values) = ([0i64, 1, 2, 3], [0i64, 0, 0], [2.0f32, 1.0, 3.0]);
    let z = Csr::borrowed(&ctx, 2, &indptr, &indices, &values).unwrap();
    let r = subsel::sae_scores(&ctx, &x, &z).unwrap();
    assert!((r.ms - 1.0).abs() < 1e-15, "{r:?}");
    assert_eq!(r.mt, (15.0 + 10.0) / 2.0);
    assert_eq!((r.ms_latents, r.mt_latents), (1, 1));
    assert!(r.ms_per_latent[1].is_nan() && r.mt_per_latent[1].is_nan());
    // one row fewer than codes: refused with the library's message
    let x2 = Dense::borrowed(&ctx, 2, 2, &xv[..4], 0).unwrap();
    let err = subsel::sae_scores(&ctx, &x2, &z).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Invalid);
    assert!(err.message().contains("codes has 3 rows but x has 2"), "{err}");
}

#[test]
fn sae_scores_of_the_encoder_do_not_depend_on_threads() {
    // tests/cli/sae_score.sh's data: 37 of the 40 latents scored, k = 8.
    let mut ctx = Context::new().unwrap();
    let sae = Sae::load(&ctx, data("sae")).unwrap();
    let x = Dense::load_npy(&ctx, data("sae/X.npy")).unwrap();
    let z = sae.encode(&ctx, &x, 8).unwrap();
    let r = subsel::sae_scores(&ctx, &x, &z).unwrap();
    assert_eq!((r.ms_latents, r.mt_latents), (37, 37));
    assert!(r.ms > 0.0 && r.ms <= 1.0, "{r:?}");
    ctx.set_threads(1).unwrap();
    let one = subsel::sae_scores(&ctx, &x, &z).unwrap();
    let bits = |v: &[f64]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
    assert_eq!(
        (one.ms.to_bits(), one.mt.to_bits()),
        (r.ms.to_bits(), r.mt.to_bits())
    );
    assert_eq!(bits(&one.ms_per_latent), bits(&r.ms_per_latent));
    assert_eq!(bits(&one.mt_per_latent), bits(&r.mt_per_latent));
}
