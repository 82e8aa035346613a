// SPDX-License-Identifier: MIT
//! Training a monotone TopK sparse autoencoder (`subsel_sae_trainer`):
//! SDM's first step, whose encoder ([`Sae`]) turns embeddings into the
//! codes SDM selects on.
use std::ffi::{c_void, CString};
use std::os::raw::c_char;
use std::path::Path;
use std::ptr::{self, NonNull};

use subsel_sys as sys;

use crate::context::Context;
use crate::error::Result;
use crate::matrix::{path_cstring, Dense};
use crate::param::{self, Value};
use crate::sae::Sae;

/// The losses of a step (`SUBSEL_SAE_LOSS_*`), unweighted except `total`;
/// all NaN before the first step.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SaeLosses {
    /// The weighted sum `l_recons L_recons + l_mono L_mono + l_act L_act
    /// (+ aux_coef L_aux)`.
    pub total: f64,
    /// Mean squared reconstruction error per row.
    pub recons: f64,
    /// The monotonicity loss (0 when the step had no sets).
    pub mono: f64,
    /// Mean squared norm of the codes.
    pub act: f64,
    /// The AuxK loss (0 without AuxK or dead latents).
    pub aux: f64,
}

/// A trainer of a monotone TopK sparse autoencoder from `inputs`
/// dimensions to `features` latents, by Adam (docs/sae.md). Parameters by
/// name ("k", "lr", "l_mono", "batch", "auxk", ...; see [`crate::params`]);
/// those the library calls fixed fail with `ErrorKind::State` once a step
/// has run. Owns its data (`'static` results); `Send`, not `Sync`: one
/// thread at a time, so steps take `&mut self`.
///
/// ```compile_fail
/// fn shared<T: Sync>() {}
/// shared::<subsel::SaeTrainer>(); // refused: one thread at a time
/// ```
pub struct SaeTrainer {
    raw: NonNull<sys::subsel_sae_trainer>,
}

unsafe impl Send for SaeTrainer {}

impl SaeTrainer {
    /// A trainer with the default parameters and initial weights drawn
    /// from the context's seed (read now).
    pub fn new(ctx: &Context, inputs: usize, features: usize) -> Result<SaeTrainer> {
        let mut raw = ptr::null_mut();
        ctx.check(unsafe {
            sys::subsel_sae_trainer_create(
                ctx.as_ptr(),
                i64::try_from(inputs).unwrap_or(i64::MAX),
                i64::try_from(features).unwrap_or(i64::MAX),
                &mut raw,
            )
        })?;
        Ok(SaeTrainer::from_raw(raw))
    }

    /// A trainer from a checkpoint of [`SaeTrainer::save`] (or of `fit`'s
    /// checkpoint folder): training continued from it gives the weights an
    /// uninterrupted run gives, bit for bit, on the same machine (any
    /// thread count).
    pub fn load(ctx: &Context, dir: impl AsRef<Path>) -> Result<SaeTrainer> {
        let dir = path_cstring(dir.as_ref())?;
        let mut raw = ptr::null_mut();
        ctx.check(unsafe { sys::subsel_sae_trainer_load(ctx.as_ptr(), dir.as_ptr(), &mut raw) })?;
        Ok(SaeTrainer::from_raw(raw))
    }

    fn from_raw(raw: *mut sys::subsel_sae_trainer) -> SaeTrainer {
        SaeTrainer {
            raw: NonNull::new(raw).expect("OK and NULL"),
        }
    }

    pub fn as_ptr(&self) -> *const sys::subsel_sae_trainer {
        self.raw.as_ptr()
    }

    /// Sets a parameter by its name in the library's table.
    pub fn set_param(&mut self, ctx: &Context, name: &str, value: impl Into<Value>) -> Result<()> {
        param::set(ctx, self.raw.as_ptr().cast::<c_void>(), name, value.into())
    }

    /// Reads a parameter by name.
    pub fn param(&self, ctx: &Context, name: &str) -> Result<Value> {
        param::get(ctx, self.raw.as_ptr().cast::<c_void>(), name)
    }

    /// One Adam step on the rows of `batch` (rows x inputs, any row
    /// count), read during the call only; the losses of that step. With
    /// `ErrorKind::Numeric` (an input not finite) the weights are
    /// unchanged.
    pub fn step(&mut self, ctx: &Context, batch: &Dense<'_>) -> Result<SaeLosses> {
        ctx.check(unsafe { sys::subsel_sae_trainer_step(ctx.as_ptr(), self.raw.as_ptr(), batch.as_ptr()) })?;
        self.losses(ctx)
    }

    /// Held-out evaluation with the current weights, nothing updated: the
    /// mean over the rows of `x` (rows x inputs) of ||x - x~||^2 and of
    /// ||h(x)||^2, `(recons, act)`, as `recons` and `act` of a step on the
    /// same rows. The result does not depend on the thread count.
    pub fn evaluate(&self, ctx: &Context, x: &Dense<'_>) -> Result<(f64, f64)> {
        let (mut recons, mut act) = (0.0f64, 0.0f64);
        ctx.check(unsafe {
            sys::subsel_sae_trainer_evaluate(ctx.as_ptr(), self.as_ptr(), x.as_ptr(), &mut recons, &mut act)
        })?;
        Ok((recons, act))
    }

    /// Trains over the rows of the 2-D `.npy` files `paths` (float16, 32
    /// or 64, the same columns; one data set of their rows, in order),
    /// streamed in batches of "batch" rows, until `epochs` epochs have
    /// been done in all (not `epochs` more). With `checkpoint_dir` it saves
    /// a checkpoint there after each epoch and every "checkpoint_steps"
    /// steps; with `log` it appends one JSON line per step and per epoch.
    ///
    /// Progress: the context's callback, stage "train" (rows done by this
    /// call, of the rows it has to do), once at the start and after each
    /// step. `Break(())` stops between steps with
    /// `ErrorKind::Cancelled`, the trainer consistent: a later `fit` on the
    /// same files (in memory, or after `save` and `load`) continues where
    /// it stopped.
    pub fn fit<P: AsRef<Path>>(
        &mut self,
        ctx: &Context,
        paths: &[P],
        epochs: usize,
        checkpoint_dir: Option<&Path>,
        log: Option<&Path>,
    ) -> Result<()> {
        let paths = paths
            .iter()
            .map(|p| path_cstring(p.as_ref()))
            .collect::<Result<Vec<CString>>>()?;
        let mut ptrs: Vec<*const c_char> = paths.iter().map(|p| p.as_ptr()).collect();
        let checkpoint_dir = checkpoint_dir.map(path_cstring).transpose()?;
        let log = log.map(path_cstring).transpose()?;
        ctx.check(unsafe {
            sys::subsel_sae_trainer_fit(
                ctx.as_ptr(),
                self.raw.as_ptr(),
                // The library reads the array (`const char *const *`).
                ptrs.as_mut_ptr(),
                ptrs.len() as i64,
                i64::try_from(epochs).unwrap_or(i64::MAX),
                checkpoint_dir.as_ref().map_or(ptr::null(), |c| c.as_ptr()),
                log.as_ref().map_or(ptr::null(), |c| c.as_ptr()),
            )
        })
    }

    /// The losses of the last step (all NaN before the first).
    pub fn losses(&self, ctx: &Context) -> Result<SaeLosses> {
        let mut out = [0.0f64; sys::SUBSEL_SAE_LOSSES as usize];
        ctx.check(unsafe {
            sys::subsel_sae_trainer_losses(ctx.as_ptr(), self.as_ptr(), out.as_mut_ptr(), out.len() as i64)
        })?;
        Ok(SaeLosses {
            total: out[sys::SUBSEL_SAE_LOSS_TOTAL as usize],
            recons: out[sys::SUBSEL_SAE_LOSS_RECONS as usize],
            mono: out[sys::SUBSEL_SAE_LOSS_MONO as usize],
            act: out[sys::SUBSEL_SAE_LOSS_ACT as usize],
            aux: out[sys::SUBSEL_SAE_LOSS_AUX as usize],
        })
    }

    /// Steps taken (by `step` and `fit`).
    pub fn steps(&self) -> u64 {
        unsafe { sys::subsel_sae_trainer_steps(self.as_ptr()) as u64 }
    }

    /// Epochs completed by `fit`.
    pub fn epochs(&self) -> u64 {
        unsafe { sys::subsel_sae_trainer_epochs(self.as_ptr()) as u64 }
    }

    /// Latents dead at the last step ("dead_rows" rows without firing).
    pub fn dead(&self) -> usize {
        unsafe { sys::subsel_sae_trainer_dead(self.as_ptr()) as usize }
    }

    /// Writes a checkpoint to the folder `dir` (created if missing): an
    /// encoder folder ([`Sae::load`], `subsel encode`), W_dec.npy and the
    /// rest of the trainer ([`SaeTrainer::load`]).
    pub fn save(&self, ctx: &Context, dir: impl AsRef<Path>) -> Result<()> {
        let dir = path_cstring(dir.as_ref())?;
        ctx.check(unsafe { sys::subsel_sae_trainer_save(ctx.as_ptr(), self.as_ptr(), dir.as_ptr()) })
    }

    /// An encoder with a copy of the current weights, independent of the
    /// trainer.
    pub fn encoder(&self, ctx: &Context) -> Result<Sae<'static>> {
        let mut raw = ptr::null_mut();
        ctx.check(unsafe { sys::subsel_sae_trainer_encoder(ctx.as_ptr(), self.as_ptr(), &mut raw) })?;
        Ok(Sae::from_raw(raw))
    }

    /// A copy of W_dec, inputs x features, columns of unit norm: x~ =
    /// W_dec h + b_dec.
    pub fn decoder(&self, ctx: &Context) -> Result<Dense<'static>> {
        let mut raw = ptr::null_mut();
        ctx.check(unsafe { sys::subsel_sae_trainer_decoder(ctx.as_ptr(), self.as_ptr(), &mut raw) })?;
        Ok(Dense::from_raw(raw))
    }
}

impl Drop for SaeTrainer {
    fn drop(&mut self) {
        unsafe { sys::subsel_sae_trainer_free(self.raw.as_ptr()) }
    }
}

impl std::fmt::Debug for SaeTrainer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SaeTrainer({} steps, {} epochs)", self.steps(), self.epochs())
    }
}
