// SPDX-License-Identifier: MIT
//! The TopK sparse autoencoder's encoder: dense embeddings to the sparse
//! nonnegative codes SDM selects on.
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

    fn from_raw(raw: *mut sys::subsel_sae) -> Sae<'a> {
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
