// SPDX-License-Identifier: MIT
//! The TopK sparse autoencoder's encoder: dense embeddings to the sparse
//! nonnegative codes SDM selects on; and the MS / MT scores of such codes.
use std::marker::PhantomData;
use std::path::Path;
use std::ptr::{self, NonNull};

use subsel_sys as sys;

use crate::context::Context;
use crate::error::{Error, Result};
use crate::matrix::{path_cstring, Csr, Dense};

/// h(x) = TopK(ReLU(W_enc (x - b_dec) + b_enc)) (`subsel_sae`). Immutable:
/// `Send` and `Sync` (several threads may encode at once, each with its
/// own context). `'a`: the slices W_enc borrows.
pub struct Sae<'a> {
    raw: NonNull<sys::subsel_sae>,
    _borrow: PhantomData<&'a [u8]>,
}

unsafe impl Send for Sae<'_> {}
unsafe impl Sync for Sae<'_> {}

impl<'a> Sae<'a> {
    /// An encoder from `w_enc` (features x inputs, kept by the encoder) and
    /// the biases `b_enc` (features values) and `b_dec` (inputs values),
    /// copied; `None` for zeros.
    pub fn new(
        ctx: &Context,
        w_enc: &Dense<'a>,
        b_enc: Option<&[f32]>,
        b_dec: Option<&[f32]>,
    ) -> Result<Sae<'a>> {
        // The library reads that many bias values: only this side knows the lengths.
        for (name, bias, len) in [("b_enc", b_enc, w_enc.rows()), ("b_dec", b_dec, w_enc.cols())] {
            if let Some(b) = bias {
                if b.len() != len {
                    return Err(Error::invalid(format!(
                        "Sae: {name} holds {} values, not {len}",
                        b.len()
                    )));
                }
            }
        }
        let mut raw = ptr::null_mut();
        ctx.check(unsafe {
            sys::subsel_sae_create(
                ctx.as_ptr(),
                w_enc.as_ptr(),
                b_enc.map_or(ptr::null(), <[f32]>::as_ptr),
                b_dec.map_or(ptr::null(), <[f32]>::as_ptr),
                &mut raw,
            )
        })?;
        Ok(Sae::from_raw(raw))
    }

    pub(crate) fn from_raw(raw: *mut sys::subsel_sae) -> Sae<'a> {
        Sae {
            raw: NonNull::new(raw).expect("OK and NULL"),
            _borrow: PhantomData,
        }
    }

    pub fn as_ptr(&self) -> *const sys::subsel_sae {
        self.raw.as_ptr()
    }

    /// Columns of the embeddings it encodes.
    pub fn inputs(&self) -> usize {
        unsafe { sys::subsel_sae_inputs(self.as_ptr()) as usize }
    }

    /// Columns of the codes.
    pub fn features(&self) -> usize {
        unsafe { sys::subsel_sae_features(self.as_ptr()) as usize }
    }

    /// The codes of the rows of `x` (rows x inputs): per row the `k`
    /// largest positive activations (ties to the lowest feature), as a CSR
    /// matrix the library owns. Progress stage "encode"; can be cancelled.
    pub fn encode(&self, ctx: &Context, x: &Dense<'_>, k: usize) -> Result<Csr<'static>> {
        let mut raw = ptr::null_mut();
        ctx.check(unsafe {
            sys::subsel_sae_encode(ctx.as_ptr(), self.as_ptr(), x.as_ptr(), k as i64, &mut raw)
        })?;
        Ok(Csr::from_raw(raw))
    }
}

impl Sae<'static> {
    /// Loads `dir`/W_enc.npy, b_enc.npy and b_dec.npy.
    pub fn load(ctx: &Context, dir: impl AsRef<Path>) -> Result<Sae<'static>> {
        let dir = path_cstring(dir.as_ref())?;
        let mut raw = ptr::null_mut();
        ctx.check(unsafe { sys::subsel_sae_load(ctx.as_ptr(), dir.as_ptr(), &mut raw) })?;
        Ok(Sae::from_raw(raw))
    }
}

/// The Monosemanticity (MS) and Monotonicity (MT) scores of sparse codes
/// ([`sae_scores`]): the means over the latents that have a score, how
/// many do, and every latent's score (NaN: fewer than 2 rows).
#[derive(Clone, Debug, PartialEq)]
pub struct SaeScores {
    pub ms: f64,
    pub mt: f64,
    pub ms_latents: usize,
    pub mt_latents: usize,
    pub ms_per_latent: Vec<f64>,
    pub mt_per_latent: Vec<f64>,
}

/// MS and MT of the latents of `codes` (rows x features; an entry > 0
/// means the row activates the latent) on their inputs `x` (rows x d, as
/// encoded), `subsel_sae_scores`. Of each latent, over its activating rows:
/// MS, the mean pairwise cosine similarity (rows of zero norm left out);
/// MT, the mean inner product of neighbours sorted by activation, largest
/// first (ties: lower row first). Progress stage "scores"; can be
/// cancelled.
pub fn sae_scores(ctx: &Context, x: &Dense<'_>, codes: &Csr<'_>) -> Result<SaeScores> {
    let features = codes.cols();
    let mut r = SaeScores {
        ms: 0.0,
        mt: 0.0,
        ms_latents: 0,
        mt_latents: 0,
        ms_per_latent: vec![0.0; features],
        mt_per_latent: vec![0.0; features],
    };
    let (mut ms_n, mut mt_n) = (0i64, 0i64);
    ctx.check(unsafe {
        sys::subsel_sae_scores(
            ctx.as_ptr(),
            x.as_ptr(),
            codes.as_ptr(),
            &mut r.ms,
            &mut r.mt,
            &mut ms_n,
            &mut mt_n,
            r.ms_per_latent.as_mut_ptr(),
            features as i64,
            r.mt_per_latent.as_mut_ptr(),
            features as i64,
        )
    })?;
    r.ms_latents = ms_n as usize;
    r.mt_latents = mt_n as usize;
    Ok(r)
}

impl Drop for Sae<'_> {
    fn drop(&mut self) {
        unsafe { sys::subsel_sae_free(self.raw.as_ptr()) }
    }
}

impl std::fmt::Debug for Sae<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Sae({} inputs -> {} features)", self.inputs(), self.features())
    }
}
