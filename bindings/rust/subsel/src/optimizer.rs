// SPDX-License-Identifier: MIT
//! Greedy-family optimizers and their results.
use std::ffi::{c_void, CStr};
use std::path::Path;
use std::ptr::{self, NonNull};
use std::slice;

use subsel_sys as sys;

use crate::context::Context;
use crate::error::Result;
use crate::matrix::path_cstring;
use crate::objective::Objective;
use crate::param::{self, Value};

/// The optimizer's algorithm (`SUBSEL_ALGORITHM_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    /// Every remaining item each step.
    Naive,
    /// Minoux's lazy greedy: the naive result, fewer evaluations.
    Lazy,
    /// Stochastic greedy: a random sample each step ("epsilon").
    Stochastic,
    /// Lazy evaluations over stochastic samples.
    Lazier,
    /// Deterministic double greedy over all n items (non-monotone f).
    DoubleGreedy,
    /// Randomised double greedy.
    DoubleGreedyRandom,
}

impl Algorithm {
    fn raw(self) -> i32 {
        match self {
            Algorithm::Naive => sys::SUBSEL_ALGORITHM_NAIVE,
            Algorithm::Lazy => sys::SUBSEL_ALGORITHM_LAZY,
            Algorithm::Stochastic => sys::SUBSEL_ALGORITHM_STOCHASTIC,
            Algorithm::Lazier => sys::SUBSEL_ALGORITHM_LAZIER,
            Algorithm::DoubleGreedy => sys::SUBSEL_ALGORITHM_DOUBLE_GREEDY,
            Algorithm::DoubleGreedyRandom => sys::SUBSEL_ALGORITHM_DOUBLE_GREEDY_RANDOM,
        }
    }
}

/// An optimizer (`subsel_optimizer`): an algorithm and its parameters
/// ("budget", "runs", "min_runs", "stop_nonpositive", "epsilon"; see
/// [`crate::params`]). `Send`, not `Sync`: the C API gives an optimizer to
/// one thread at a time.
pub struct Optimizer {
    raw: NonNull<sys::subsel_optimizer>,
}

unsafe impl Send for Optimizer {}

impl Optimizer {
    pub fn new(ctx: &Context, algorithm: Algorithm) -> Result<Optimizer> {
        let mut raw = ptr::null_mut();
        ctx.check(unsafe { sys::subsel_optimizer_create(ctx.as_ptr(), algorithm.raw(), &mut raw) })?;
        Ok(Optimizer::from_raw(raw))
    }

    pub fn as_ptr(&self) -> *const sys::subsel_optimizer {
        self.raw.as_ptr()
    }

    /// Sets a parameter by its name in the library's table; bounds are the
    /// library's, and a value out of them fails with its message.
    pub fn set_param(&mut self, ctx: &Context, name: &str, value: impl Into<Value>) -> Result<()> {
        param::set(ctx, self.raw.as_ptr().cast::<c_void>(), name, value.into())
    }

    /// Reads a parameter by name.
    pub fn param(&self, ctx: &Context, name: &str) -> Result<Value> {
        param::get(ctx, self.raw.as_ptr().cast::<c_void>(), name)
    }

    /// Items to select (0: the whole ground set).
    pub fn set_budget(&mut self, ctx: &Context, budget: i64) -> Result<()> {
        self.set_param(ctx, "budget", budget)
    }

    /// Seeded runs to intersect (randomised algorithms).
    pub fn set_runs(&mut self, ctx: &Context, runs: i64) -> Result<()> {
        self.set_param(ctx, "runs", runs)
    }

    /// Stochastic sample accuracy.
    pub fn set_epsilon(&mut self, ctx: &Context, epsilon: f64) -> Result<()> {
        self.set_param(ctx, "epsilon", epsilon)
    }

    /// Makes every run start from `items`, in order (a warm start): the
    /// selection lists them first, then what the algorithm adds up to the
    /// budget, which counts them. Copied; empty clears them. Negative or
    /// repeated items fail here, items outside the pool or more than the
    /// budget at [`Optimizer::run`].
    pub fn set_initial(&mut self, ctx: &Context, items: &[i64]) -> Result<()> {
        ctx.check(unsafe {
            sys::subsel_optimizer_set_initial(
                ctx.as_ptr(),
                self.raw.as_ptr(),
                items.as_ptr(),
                items.len() as i64,
            )
        })
    }

    /// Saves the selection so far to `path` (an .npz) every
    /// "checkpoint_every" items and when the progress callback cancels the
    /// run; `None`: no checkpoint.
    pub fn set_checkpoint(&mut self, ctx: &Context, path: Option<&Path>) -> Result<()> {
        let c = path.map(path_cstring).transpose()?;
        ctx.check(unsafe {
            sys::subsel_optimizer_set_checkpoint(
                ctx.as_ptr(),
                self.raw.as_ptr(),
                c.as_ref().map_or(ptr::null(), |c| c.as_ptr()),
            )
        })
    }

    /// Goes on from the checkpoint at `path` at the next run, which returns
    /// the selection of the uninterrupted run that wrote it (a run with
    /// other options, seed or pool fails, naming the difference).
    pub fn resume(&mut self, ctx: &Context, path: impl AsRef<Path>) -> Result<()> {
        let c = path_cstring(path.as_ref())?;
        ctx.check(unsafe { sys::subsel_optimizer_resume(ctx.as_ptr(), self.raw.as_ptr(), c.as_ptr()) })
    }

    /// Maximises `objective`.
    pub fn run(&self, ctx: &Context, objective: &Objective<'_>) -> Result<Selection> {
        selection(ctx, |out| unsafe {
            sys::subsel_optimizer_run(ctx.as_ptr(), self.as_ptr(), objective.as_ptr(), out)
        })
    }

    /// Wraps an optimizer the library made (ClipCov's).
    pub(crate) fn from_raw(raw: *mut sys::subsel_optimizer) -> Optimizer {
        Optimizer {
            raw: NonNull::new(raw).expect("OK and NULL"),
        }
    }
}

/// Makes the call `call(&mut out)` that returns a `subsel_selection`, and
/// copies the result into a [`Selection`]: the one place where selections
/// are taken over, copied into `Vec`s and released at once, so results
/// outlive nothing.
pub(crate) fn selection<F>(ctx: &Context, call: F) -> Result<Selection>
where
    F: FnOnce(*mut *mut sys::subsel_selection) -> std::os::raw::c_int,
{
    let mut raw = ptr::null_mut();
    ctx.check(call(&mut raw))?;
    Ok(unsafe { Selection::take(raw) })
}

/// Double greedy (Buchbinder et al.) for non-monotone objectives over
/// `ground` (distinct items, visited in that order; `None`: all items in
/// index order). It chooses its own size. `randomized`: coins drawn from
/// the context's seed (1/2-approximation in expectation), else the
/// deterministic 1/3-approximation.
pub fn double_greedy(
    ctx: &Context,
    objective: &Objective<'_>,
    ground: Option<&[i64]>,
    randomized: bool,
) -> Result<Selection> {
    let (ptr, count) = ground.map_or((ptr::null(), 0), |g| (g.as_ptr(), g.len() as i64));
    selection(ctx, |out| unsafe {
        sys::subsel_double_greedy(
            ctx.as_ptr(),
            objective.as_ptr(),
            ptr,
            count,
            randomized.into(),
            out,
        )
    })
}

impl Drop for Optimizer {
    fn drop(&mut self) {
        unsafe { sys::subsel_optimizer_free(self.raw.as_ptr()) }
    }
}

impl std::fmt::Debug for Optimizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Optimizer")
    }
}

/// Why a selection holds fewer items than its budget.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ShortReason {
    /// It holds its budget.
    None,
    /// A run stopped at a best gain <= 0.
    Nonpositive,
    /// Fewer items were chosen by enough runs.
    Intersection,
    /// No candidate was left.
    Exhausted,
    /// The double greedy filter dropped items.
    Filtered,
    /// A reason this crate does not know (its number).
    Other(i32),
}

/// A selection: items in the order chosen (ascending for intersected
/// runs), with the gain of each step.
#[derive(Clone, Debug, PartialEq)]
pub struct Selection {
    pub indices: Vec<i64>,
    pub gains: Vec<f64>,
    /// f(selection).
    pub value: f64,
    /// Marginal gains evaluated (all runs).
    pub evaluations: i64,
    /// Items asked for.
    pub budget: i64,
    pub short_reason: ShortReason,
    /// The library's description of `short_reason`.
    pub short_reason_text: String,
}

impl Selection {
    /// Copies `raw` and frees it.
    pub(crate) unsafe fn take(raw: *mut sys::subsel_selection) -> Selection {
        let selection = Selection::from_raw(raw);
        sys::subsel_selection_free(raw);
        selection
    }

    unsafe fn from_raw(raw: *const sys::subsel_selection) -> Selection {
        let n = sys::subsel_selection_count(raw) as usize;
        let copy = |p: *const _| {
            if n == 0 {
                Vec::new()
            } else {
                slice::from_raw_parts(p, n).to_vec()
            }
        };
        let indices: Vec<i64> = copy(sys::subsel_selection_indices(raw));
        let gains = if n == 0 {
            Vec::new()
        } else {
            slice::from_raw_parts(sys::subsel_selection_gains(raw), n).to_vec()
        };
        let reason = sys::subsel_selection_short_reason(raw);
        Selection {
            indices,
            gains,
            value: sys::subsel_selection_value(raw),
            evaluations: sys::subsel_selection_evaluations(raw),
            budget: sys::subsel_selection_budget(raw),
            short_reason: match reason {
                sys::SUBSEL_SHORT_NONE => ShortReason::None,
                sys::SUBSEL_SHORT_NONPOSITIVE => ShortReason::Nonpositive,
                sys::SUBSEL_SHORT_INTERSECTION => ShortReason::Intersection,
                sys::SUBSEL_SHORT_EXHAUSTED => ShortReason::Exhausted,
                sys::SUBSEL_SHORT_FILTERED => ShortReason::Filtered,
                other => ShortReason::Other(other),
            },
            short_reason_text: CStr::from_ptr(sys::subsel_short_reason_string(reason))
                .to_string_lossy()
                .into_owned(),
        }
    }
}
