// SPDX-License-Identifier: MIT
//! Objectives: the feature-based function (FB) and SDM. An objective keeps
//! its matrices alive through the library's reference counts, so the `Csr`
//! handles may be dropped first; the lifetime `'a` still ties it to any
//! slices those matrices borrowed.
use std::ffi::c_void;
use std::marker::PhantomData;
use std::ptr::{self, NonNull};

use subsel_sys as sys;

use crate::context::Context;
use crate::error::{Error, Result};
use crate::matrix::Csr;
use crate::param::{self, Value};

/// The one way an objective of a particular kind (`Sdm`, `UniProt`,
/// `ClipCov`) is also an [`Objective`]: it derefs to its `field` and
/// converts into it, so optimizers take any of them.
macro_rules! objective_kind {
    ($kind:ident, $field:tt) => {
        impl<'a> std::ops::Deref for $kind<'a> {
            type Target = $crate::objective::Objective<'a>;
            fn deref(&self) -> &Self::Target {
                &self.$field
            }
        }

        impl<'a> std::ops::DerefMut for $kind<'a> {
            fn deref_mut(&mut self) -> &mut Self::Target {
                &mut self.$field
            }
        }

        impl<'a> From<$kind<'a>> for $crate::objective::Objective<'a> {
            fn from(kind: $kind<'a>) -> Self {
                kind.$field
            }
        }

        impl std::fmt::Debug for $kind<'_> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}(n = {})", stringify!($kind), self.size())
            }
        }
    };
}

/// A set function f over the ground set {0, .., n-1} (`subsel_objective`).
/// `Send`, and `Sync` because every `&self` method is one of the calls the
/// library allows on many threads at once (those taking it `const`);
/// setters take `&mut self`.
pub struct Objective<'a> {
    raw: NonNull<sys::subsel_objective>,
    _borrow: PhantomData<&'a [u8]>,
}

unsafe impl Send for Objective<'_> {}
unsafe impl Sync for Objective<'_> {}

impl<'a> Objective<'a> {
    pub(crate) fn from_raw(raw: *mut sys::subsel_objective) -> Self {
        Objective {
            raw: NonNull::new(raw).expect("OK and NULL"),
            _borrow: PhantomData,
        }
    }

    pub fn as_ptr(&self) -> *const sys::subsel_objective {
        self.raw.as_ptr()
    }

    /// n, the size of the ground set.
    pub fn size(&self) -> usize {
        unsafe { sys::subsel_objective_size(self.raw.as_ptr()) as usize }
    }

    /// f(set), from scratch in double precision.
    pub fn evaluate(&self, ctx: &Context, set: &[i64]) -> Result<f64> {
        let mut value = 0.0;
        ctx.check(unsafe {
            sys::subsel_objective_evaluate(
                ctx.as_ptr(),
                self.as_ptr(),
                set.as_ptr(),
                set.len() as i64,
                &mut value,
            )
        })?;
        Ok(value)
    }

    /// f(set + {item}) - f(set), as the optimizers compute it.
    pub fn gain(&self, ctx: &Context, set: &[i64], item: i64) -> Result<f64> {
        let mut gain = 0.0;
        ctx.check(unsafe {
            sys::subsel_objective_gain(
                ctx.as_ptr(),
                self.as_ptr(),
                set.as_ptr(),
                set.len() as i64,
                item,
                &mut gain,
            )
        })?;
        Ok(gain)
    }

    /// Sets a parameter of this objective by name (SDM: "lambda").
    pub fn set_param(&mut self, ctx: &Context, name: &str, value: impl Into<Value>) -> Result<()> {
        param::set(ctx, self.raw.as_ptr().cast::<c_void>(), name, value.into())
    }

    /// Reads a parameter of this objective by name.
    pub fn param(&self, ctx: &Context, name: &str) -> Result<Value> {
        param::get(ctx, self.raw.as_ptr().cast::<c_void>(), name)
    }
}

impl Drop for Objective<'_> {
    fn drop(&mut self) {
        unsafe { sys::subsel_objective_free(self.raw.as_ptr()) }
    }
}

impl std::fmt::Debug for Objective<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Objective(n = {})", self.size())
    }
}

/// The concave function phi of FB, with its parameter where it takes one.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Concave {
    /// log(1 + x)
    Log1p,
    /// sqrt(x)
    Sqrt,
    /// x / (1 + x)
    Saturate,
    /// 1 - exp(-x / c), c > 0
    Exp(f64),
    /// min(x, c), c > 0
    Min(f64),
    /// x^a, 0 < a < 1
    Pow(f64),
}

impl Concave {
    fn raw(self) -> (i32, f64) {
        match self {
            Concave::Log1p => (sys::SUBSEL_CONCAVE_LOG1P, 0.0),
            Concave::Sqrt => (sys::SUBSEL_CONCAVE_SQRT, 0.0),
            Concave::Saturate => (sys::SUBSEL_CONCAVE_SATURATE, 0.0),
            Concave::Exp(c) => (sys::SUBSEL_CONCAVE_EXP, c),
            Concave::Min(c) => (sys::SUBSEL_CONCAVE_MIN, c),
            Concave::Pow(a) => (sys::SUBSEL_CONCAVE_POW, a),
        }
    }
}

/// The feature-based function f(A) = sum_i w_i phi(sum_{j in A} Z[j, i])
/// over the rows of the nonnegative `features`; `weights`: one per column
/// (copied), or `None` for all ones. Monotone submodular.
pub fn fb<'a>(
    ctx: &Context,
    features: &Csr<'a>,
    concave: Concave,
    weights: Option<&[f64]>,
) -> Result<Objective<'a>> {
    if let Some(w) = weights {
        if w.len() != features.cols() {
            return Err(Error::invalid(format!(
                "fb: {} weights for {} feature columns",
                w.len(),
                features.cols()
            )));
        }
    }
    let (kind, param) = concave.raw();
    let mut raw = ptr::null_mut();
    ctx.check(unsafe {
        sys::subsel_fb_create(
            ctx.as_ptr(),
            features.as_ptr(),
            kind,
            param,
            weights.map_or(ptr::null(), <[f64]>::as_ptr),
            &mut raw,
        )
    })?;
    Ok(Objective::from_raw(raw))
}

/// The SDM objective (Submodular Distribution Matching) over the rows of
/// the nonnegative `source`; derefs to [`Objective`]. A target (matrix or
/// distribution) is required before it can be evaluated or optimized.
pub struct Sdm<'a>(Objective<'a>);

impl<'a> Sdm<'a> {
    pub fn new(ctx: &Context, source: &Csr<'a>) -> Result<Sdm<'a>> {
        let mut raw = ptr::null_mut();
        ctx.check(unsafe { sys::subsel_sdm_create(ctx.as_ptr(), source.as_ptr(), &mut raw) })?;
        Ok(Sdm(Objective::from_raw(raw)))
    }

    fn raw(&mut self) -> *mut sys::subsel_objective {
        self.0.raw.as_ptr()
    }

    /// p = the normalised column sums of `target` (read here, not kept, so
    /// any lifetime will do).
    pub fn set_target(&mut self, ctx: &Context, target: &Csr<'_>) -> Result<()> {
        let obj = self.raw();
        ctx.check(unsafe { sys::subsel_sdm_set_target(ctx.as_ptr(), obj, target.as_ptr()) })
    }

    /// p from one nonnegative value per source column (normalised here).
    pub fn set_target_distribution(&mut self, ctx: &Context, p: &[f64]) -> Result<()> {
        let obj = self.raw();
        ctx.check(unsafe {
            sys::subsel_sdm_set_target_distribution(ctx.as_ptr(), obj, p.as_ptr(), p.len() as i64)
        })
    }

    /// One quality score per source row, in `bins` bins of equal size by rank.
    pub fn set_quality(&mut self, ctx: &Context, quality: &[f64], bins: i64) -> Result<()> {
        let obj = self.raw();
        ctx.check(unsafe {
            sys::subsel_sdm_set_quality(ctx.as_ptr(), obj, quality.as_ptr(), quality.len() as i64, bins)
        })
    }

    /// Quality scores binned by explicit strictly increasing `edges`
    /// (`edges.len() + 1` bins; a score goes to the bin numbered by how many
    /// edges are <= it, as numpy.digitize). Unlike [`Sdm::set_quality`],
    /// whose bins rank the rows of this objective only, edges mean the same
    /// on every part of a split pool (see [`crate::Summary`]).
    pub fn set_quality_edges(&mut self, ctx: &Context, quality: &[f64], edges: &[f64]) -> Result<()> {
        let obj = self.raw();
        ctx.check(unsafe {
            sys::subsel_sdm_set_quality_edges(
                ctx.as_ptr(),
                obj,
                quality.as_ptr(),
                quality.len() as i64,
                edges.as_ptr(),
                edges.len() as i64,
            )
        })
    }

    /// The weight of each quality bin, lowest first.
    pub fn set_bin_weights(&mut self, ctx: &Context, weights: &[f64]) -> Result<()> {
        let obj = self.raw();
        ctx.check(unsafe {
            sys::subsel_sdm_set_bin_weights(ctx.as_ptr(), obj, weights.as_ptr(), weights.len() as i64)
        })
    }

    /// lambda, the weight of distribution matching (the "lambda" parameter).
    pub fn set_lambda(&mut self, ctx: &Context, lambda: f64) -> Result<()> {
        self.0.set_param(ctx, "lambda", lambda)
    }

    /// The quality bin of every source row.
    pub fn quality_bins(&self, ctx: &Context) -> Result<Vec<i64>> {
        let mut out = vec![0i64; self.size()];
        ctx.check(unsafe {
            sys::subsel_sdm_quality_bins(ctx.as_ptr(), self.as_ptr(), out.as_mut_ptr(), out.len() as i64)
        })?;
        Ok(out)
    }

    /// KL(p || the distribution of the selected rows' features).
    pub fn kl(&self, ctx: &Context, set: &[i64]) -> Result<f64> {
        let mut kl = 0.0;
        ctx.check(unsafe {
            sys::subsel_sdm_kl(
                ctx.as_ptr(),
                self.as_ptr(),
                set.as_ptr(),
                set.len() as i64,
                &mut kl,
            )
        })?;
        Ok(kl)
    }
}

objective_kind!(Sdm, 0);
