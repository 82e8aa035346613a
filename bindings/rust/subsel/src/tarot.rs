// SPDX-License-Identifier: MIT
//! TAROT: candidates whose whitened features match the targets' by optimal
//! transport, at a fixed size or at the size minimising the held-out OT
//! distance (OTM), with the repetition weights of the selected items.
use std::ffi::c_void;
use std::marker::PhantomData;
use std::ptr::{self, NonNull};

use subsel_sys as sys;

use crate::context::Context;
use crate::error::Result;
use crate::matrix::Dense;
use crate::optimizer::{selection, Selection};
use crate::param::{self, Value};

/// A TAROT selector over candidates (N x D) and targets (M x D), which it
/// keeps (`'a`: slices they borrow). Parameters by name ("proj_dim",
/// "proj_kind", "whiten", "center", "reference", "max_rank", "eps",
/// "blur", "scaling", "ot_memory", ...; see [`crate::params`]). Its calls fill caches,
/// so they take `&mut self`; `Send`, not `Sync`.
pub struct Tarot<'a> {
    raw: NonNull<sys::subsel_tarot>,
    targets: usize,
    _borrow: PhantomData<&'a [u8]>,
}

unsafe impl Send for Tarot<'_> {}

impl<'a> Tarot<'a> {
    pub fn new(ctx: &Context, candidates: &Dense<'a>, targets: &Dense<'a>) -> Result<Tarot<'a>> {
        let mut raw = ptr::null_mut();
        ctx.check(unsafe {
            sys::subsel_tarot_create(ctx.as_ptr(), candidates.as_ptr(), targets.as_ptr(), &mut raw)
        })?;
        Ok(Tarot {
            raw: NonNull::new(raw).expect("OK and NULL"),
            targets: targets.rows(),
            _borrow: PhantomData,
        })
    }

    pub fn as_ptr(&self) -> *const sys::subsel_tarot {
        self.raw.as_ptr()
    }

    /// M, the number of targets.
    pub fn targets(&self) -> usize {
        self.targets
    }

    /// Sets a parameter by its name in the library's table (projection and
    /// whitening ones only before the first selection: `ErrorKind::State`).
    pub fn set_param(&mut self, ctx: &Context, name: &str, value: impl Into<Value>) -> Result<()> {
        param::set(ctx, self.raw.as_ptr().cast::<c_void>(), name, value.into())
    }

    /// Reads a parameter by name.
    pub fn param(&self, ctx: &Context, name: &str) -> Result<Value> {
        param::get(ctx, self.raw.as_ptr().cast::<c_void>(), name)
    }

    /// The `budget` candidates nearest the targets, rank by rank; gains are
    /// the items' OT potentials and the value the OT distance (with the
    /// "potentials" parameter, the default).
    pub fn select_fixed(&mut self, ctx: &Context, budget: usize) -> Result<Selection> {
        let raw = self.raw.as_ptr();
        selection(ctx, |out| unsafe {
            sys::subsel_tarot_select_fixed(ctx.as_ptr(), raw, budget as i64, out)
        })
    }

    /// OT-distance minimisation over `folds` folds of the targets:
    /// `fold_of_target` (one fold in [0, folds) per target) or `None` for
    /// [`tarot_folds`]'s seeded split. Chooses its own size.
    pub fn select_otm(
        &mut self,
        ctx: &Context,
        folds: usize,
        fold_of_target: Option<&[i64]>,
    ) -> Result<Selection> {
        if let Some(f) = fold_of_target {
            // The library reads one fold per target.
            if f.len() != self.targets {
                return Err(crate::Error::invalid(format!(
                    "Tarot::select_otm: {} folds given for {} targets",
                    f.len(),
                    self.targets
                )));
            }
        }
        let raw = self.raw.as_ptr();
        let folds_ptr = fold_of_target.map_or(ptr::null(), <[i64]>::as_ptr);
        selection(ctx, |out| unsafe {
            sys::subsel_tarot_select_otm(ctx.as_ptr(), raw, folds as i64, folds_ptr, out)
        })
    }
}

impl Drop for Tarot<'_> {
    fn drop(&mut self) {
        unsafe { sys::subsel_tarot_free(self.raw.as_ptr()) }
    }
}

impl std::fmt::Debug for Tarot<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tarot({} targets)", self.targets)
    }
}

/// The fold of each of `targets` targets as OTM draws it from the
/// context's seed.
pub fn tarot_folds(ctx: &Context, targets: usize, folds: usize) -> Result<Vec<i64>> {
    let mut out = vec![0i64; targets];
    ctx.check(unsafe {
        sys::subsel_tarot_folds_v2(
            ctx.as_ptr(),
            targets as i64,
            folds as i64,
            out.as_mut_ptr(),
            out.len() as i64,
        )
    })?;
    Ok(out)
}

/// Integer repetition counts for selected items from their OT potentials
/// (a TAROT selection's gains), summing exactly to `total` (at least the
/// item count, at most 2^53): a smaller potential gets more.
pub fn tarot_weights(ctx: &Context, potentials: &[f64], total: i64) -> Result<Vec<i64>> {
    let mut out = vec![0i64; potentials.len()];
    ctx.check(unsafe {
        sys::subsel_tarot_weights_v2(
            ctx.as_ptr(),
            potentials.as_ptr(),
            potentials.len() as i64,
            total,
            out.as_mut_ptr(),
            out.len() as i64,
        )
    })?;
    Ok(out)
}

/// The authors' weights: the potentials extended by `targets` copies of
/// their maximum, scaled to `total` (they use N); the targets' weights last.
pub fn tarot_weights_reference(
    ctx: &Context,
    potentials: &[f64],
    targets: usize,
    total: i64,
) -> Result<Vec<i64>> {
    let mut out = vec![0i64; potentials.len() + targets];
    ctx.check(unsafe {
        sys::subsel_tarot_weights_reference_v2(
            ctx.as_ptr(),
            potentials.as_ptr(),
            potentials.len() as i64,
            targets as i64,
            total,
            out.as_mut_ptr(),
            out.len() as i64,
        )
    })?;
    Ok(out)
}
