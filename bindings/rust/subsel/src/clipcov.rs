// SPDX-License-Identifier: MIT
//! ClipCov: image-caption pairs whose cross-covariance matches the whole
//! set's, selected by greedy and then filtered by double greedy (the
//! paper's Algorithm 1).
use std::ptr;

use subsel_sys as sys;

use crate::context::Context;
use crate::error::{Error, Result};
use crate::matrix::Dense;
use crate::objective::Objective;
use crate::optimizer::{selection, Optimizer, Selection};

/// What [`ClipCov::select`] does after the greedy (`SUBSEL_CLIPCOV_FILTER_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Filter {
    /// The greedy result as it is.
    None,
    /// Deterministic double greedy (the CLI's default).
    Deterministic,
    /// Randomised double greedy, coins from the context's seed.
    Randomized,
}

impl Filter {
    fn raw(self) -> i32 {
        match self {
            Filter::None => sys::SUBSEL_CLIPCOV_FILTER_NONE,
            Filter::Deterministic => sys::SUBSEL_CLIPCOV_FILTER_DETERMINISTIC,
            Filter::Randomized => sys::SUBSEL_CLIPCOV_FILTER_RANDOMIZED,
        }
    }
}

/// The ClipCov objective over n pairs; derefs to [`Objective`]. Weights
/// and alpha by name ("weight_intra", ..., "alpha") with
/// [`Objective::set_param`].
pub struct ClipCov<'a> {
    obj: Objective<'a>,
}

objective_kind!(ClipCov, obj);

impl<'a> ClipCov<'a> {
    /// `image` and `text`: n x d (row i of each is pair i);
    /// `label_embeddings`: K x d, the class names' text embeddings;
    /// `labels`: n class numbers (copied), or `None` for zero-shot classes
    /// (the label embedding nearest each image; then `label_embeddings` is
    /// required). `normalize`: use every embedding divided by its norm.
    /// The matrices are kept by the objective.
    pub fn new(
        ctx: &Context,
        image: &Dense<'a>,
        text: &Dense<'a>,
        label_embeddings: Option<&Dense<'a>>,
        labels: Option<&[i64]>,
        normalize: bool,
    ) -> Result<ClipCov<'a>> {
        if let Some(l) = labels {
            // The library reads one label per pair.
            if l.len() != image.rows() {
                return Err(Error::invalid(format!(
                    "ClipCov: {} labels for {} pairs",
                    l.len(),
                    image.rows()
                )));
            }
        }
        let mut raw = ptr::null_mut();
        ctx.check(unsafe {
            sys::subsel_clipcov_create(
                ctx.as_ptr(),
                image.as_ptr(),
                text.as_ptr(),
                label_embeddings.map_or(ptr::null(), Dense::as_ptr),
                labels.map_or(ptr::null(), <[i64]>::as_ptr),
                normalize.into(),
                &mut raw,
            )
        })?;
        Ok(ClipCov {
            obj: Objective::from_raw(raw),
        })
    }

    /// The paper's alpha for this pool (appendix A.3): the mean
    /// cross-modal similarity sim(i, j) over all ordered pairs divided by
    /// the mean caption-caption similarity. Does not set alpha (still 0.5,
    /// the library's default): pass it to `set_param("alpha", ...)`, as
    /// `subsel clipcov` does by default. A pool without a usable ratio is
    /// a numeric error.
    pub fn data_alpha(&self, ctx: &Context) -> Result<f64> {
        let mut alpha = 0.0;
        ctx.check(unsafe { sys::subsel_clipcov_data_alpha(ctx.as_ptr(), self.as_ptr(), &mut alpha) })?;
        Ok(alpha)
    }

    /// K, the number of latent classes.
    pub fn class_count(&self) -> usize {
        unsafe { sys::subsel_clipcov_class_count(self.as_ptr()) as usize }
    }

    /// The class of every pair (the caller's numbers when labels were given).
    pub fn classes(&self, ctx: &Context) -> Result<Vec<i64>> {
        let mut out = vec![0i64; self.size()];
        ctx.check(unsafe {
            sys::subsel_clipcov_classes(ctx.as_ptr(), self.as_ptr(), out.as_mut_ptr(), out.len() as i64)
        })?;
        Ok(out)
    }

    /// Whether F is known to be submodular: proven cheaply at construction,
    /// or (`exact`) settled by computing every within-class similarity.
    pub fn check_submodular(&mut self, ctx: &Context, exact: bool) -> Result<bool> {
        let mut yes = 0;
        let raw = self.obj_raw();
        ctx.check(unsafe {
            sys::subsel_clipcov_check_submodular(ctx.as_ptr(), raw, exact.into(), &mut yes)
        })?;
        Ok(yes != 0)
    }

    /// The greedy optimizer ClipCov should run to `budget` (lazy when F is
    /// proven submodular, else stochastic), to adjust before [`select`](Self::select).
    pub fn optimizer(&mut self, ctx: &Context, budget: usize) -> Result<Optimizer> {
        let mut raw = ptr::null_mut();
        let obj = self.obj_raw();
        ctx.check(unsafe { sys::subsel_clipcov_optimizer(ctx.as_ptr(), obj, budget as i64, &mut raw) })?;
        Ok(Optimizer::from_raw(raw))
    }

    /// The paper's Algorithm 1: runs `greedy`, then `filter` over its
    /// result; returns (the selection, the greedy selection).
    pub fn select(
        &self,
        ctx: &Context,
        greedy: &Optimizer,
        filter: Filter,
    ) -> Result<(Selection, Selection)> {
        let mut greedy_raw = ptr::null_mut();
        let chosen = selection(ctx, |out| unsafe {
            sys::subsel_clipcov_select(
                ctx.as_ptr(),
                self.as_ptr(),
                greedy.as_ptr(),
                filter.raw(),
                out,
                &mut greedy_raw,
            )
        })?;
        Ok((chosen, unsafe { Selection::take(greedy_raw) }))
    }

    fn obj_raw(&mut self) -> *mut sys::subsel_objective {
        self.obj.as_ptr() as *mut _
    }
}
