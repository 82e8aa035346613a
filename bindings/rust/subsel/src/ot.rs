// SPDX-License-Identifier: MIT
//! Entropic optimal transport: balanced (Sinkhorn) and partial, on a cost
//! matrix or between two point clouds, solved in the log domain by the
//! library. Plans and potentials come back as owned `Vec`s.
use std::ffi::c_void;
use std::ptr::{self, NonNull};

use subsel_sys as sys;

use crate::context::Context;
use crate::error::{Error, Result};
use crate::matrix::Dense;
use crate::param::{self, Value};

/// The ground cost between two points (`SUBSEL_COST_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    /// |x - y|^2
    SqEuclidean,
    /// |x - y|
    Euclidean,
    /// 1 - cos(x, y)
    Cosine,
}

impl Metric {
    fn raw(self) -> i32 {
        match self {
            Metric::SqEuclidean => sys::SUBSEL_COST_SQEUCLID,
            Metric::Euclidean => sys::SUBSEL_COST_EUCLID,
            Metric::Cosine => sys::SUBSEL_COST_COSINE,
        }
    }
}

/// The costs of a transport problem.
#[derive(Clone, Copy, Debug)]
pub enum Costs<'c> {
    /// An n x `cols` row-major matrix of finite costs (n = len / cols).
    Matrix { values: &'c [f64], cols: usize },
    /// cost(x_i, y_j) between the rows of `x` (n x d) and `y` (m x d),
    /// computed by the library in tiles (read during the call only).
    Points {
        x: &'c Dense<'c>,
        y: &'c Dense<'c>,
        metric: Metric,
    },
}

impl Costs<'_> {
    fn shape(&self) -> Result<(usize, usize)> {
        match *self {
            Costs::Matrix { values, cols } => {
                if cols == 0 || values.len() % cols != 0 {
                    return Err(Error::invalid(format!(
                        "ot: {} costs do not make rows of {cols}",
                        values.len()
                    )));
                }
                Ok((values.len() / cols, cols))
            }
            Costs::Points { x, y, .. } => Ok((x.rows(), y.rows())),
        }
    }
}

/// A solution: the plan (`rows x cols`, row-major) with
/// `plan[i * cols + j] = exp((f[i] + g[j] - C[i][j]) / reg)`, its cost
/// `<plan, C>`, and the solver's iterations and final L1 marginal violation.
#[derive(Clone, Debug, PartialEq)]
pub struct Transport {
    pub rows: usize,
    pub cols: usize,
    pub plan: Vec<f64>,
    pub f: Vec<f64>,
    pub g: Vec<f64>,
    pub value: f64,
    pub iterations: i64,
    pub violation: f64,
}

/// Options of OT solves ("max_iter", "tol", "anneal", "memory",
/// "anneal_factor", "anneal_start": see [`crate::params`]), and the record
/// of its last solve. `Send`, not `Sync`: a solve writes that record.
pub struct OtSolver {
    raw: NonNull<sys::subsel_ot_solver>,
}

unsafe impl Send for OtSolver {}

impl OtSolver {
    /// A solver with the library's defaults.
    pub fn new(ctx: &Context) -> Result<OtSolver> {
        let mut raw = ptr::null_mut();
        ctx.check(unsafe { sys::subsel_ot_solver_create(ctx.as_ptr(), &mut raw) })?;
        Ok(OtSolver {
            raw: NonNull::new(raw).expect("OK and NULL"),
        })
    }

    pub fn as_ptr(&self) -> *const sys::subsel_ot_solver {
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

    /// Balanced entropic OT (POT's `ot.sinkhorn`): min <P, C> + reg sum P
    /// (log P - 1) with P 1 = a and P^T 1 = b (`None`: uniform marginals).
    pub fn sinkhorn(
        &mut self,
        ctx: &Context,
        a: Option<&[f64]>,
        b: Option<&[f64]>,
        costs: Costs<'_>,
        reg: f64,
    ) -> Result<Transport> {
        self.solve(ctx, a, b, costs, reg, None)
    }

    /// Entropic partial OT (POT's `entropic_partial_wasserstein`): moves
    /// `mass` with P 1 <= a and P^T 1 <= b.
    pub fn partial(
        &mut self,
        ctx: &Context,
        a: Option<&[f64]>,
        b: Option<&[f64]>,
        costs: Costs<'_>,
        reg: f64,
        mass: f64,
    ) -> Result<Transport> {
        self.solve(ctx, a, b, costs, reg, Some(mass))
    }

    /// The four C entry points behind one shape check and one set of outputs.
    fn solve(
        &mut self,
        ctx: &Context,
        a: Option<&[f64]>,
        b: Option<&[f64]>,
        costs: Costs<'_>,
        reg: f64,
        mass: Option<f64>,
    ) -> Result<Transport> {
        let (n, m) = costs.shape()?;
        // The library reads n and m marginal values: only this side knows
        // the slices' lengths.
        for (name, marginal, len) in [("a", a, n), ("b", b, m)] {
            if let Some(v) = marginal {
                if v.len() != len {
                    return Err(Error::invalid(format!(
                        "ot: {name} holds {} values for {len} points",
                        v.len()
                    )));
                }
            }
        }
        let nm = n
            .checked_mul(m)
            .ok_or_else(|| Error::invalid(format!("ot: a {n} x {m} plan does not fit memory")))?;
        let (a, b) = (
            a.map_or(ptr::null(), <[f64]>::as_ptr),
            b.map_or(ptr::null(), <[f64]>::as_ptr),
        );
        let mut t = Transport {
            rows: n,
            cols: m,
            plan: vec![0.0; nm],
            f: vec![0.0; n],
            g: vec![0.0; m],
            value: 0.0,
            iterations: 0,
            violation: f64::NAN,
        };
        let (ni, mi, nm) = (n as i64, m as i64, nm as i64);
        let (c, s) = (ctx.as_ptr(), self.raw.as_ptr());
        let (value, f, g, plan) = (
            &mut t.value,
            t.f.as_mut_ptr(),
            t.g.as_mut_ptr(),
            t.plan.as_mut_ptr(),
        );
        let status = unsafe {
            match (costs, mass) {
                (Costs::Matrix { values, .. }, None) => sys::subsel_ot_sinkhorn_v2(
                    c,
                    s,
                    a,
                    ni,
                    b,
                    mi,
                    values.as_ptr(),
                    reg,
                    value,
                    f,
                    ni,
                    g,
                    mi,
                    plan,
                    nm,
                ),
                (Costs::Matrix { values, .. }, Some(mass)) => sys::subsel_ot_partial_v2(
                    c,
                    s,
                    a,
                    ni,
                    b,
                    mi,
                    values.as_ptr(),
                    reg,
                    mass,
                    value,
                    f,
                    ni,
                    g,
                    mi,
                    plan,
                    nm,
                ),
                (Costs::Points { x, y, metric }, None) => sys::subsel_ot_sinkhorn_points_v2(
                    c,
                    s,
                    a,
                    x.as_ptr(),
                    b,
                    y.as_ptr(),
                    metric.raw(),
                    reg,
                    value,
                    f,
                    ni,
                    g,
                    mi,
                    plan,
                    nm,
                ),
                (Costs::Points { x, y, metric }, Some(mass)) => sys::subsel_ot_partial_points_v2(
                    c,
                    s,
                    a,
                    x.as_ptr(),
                    b,
                    y.as_ptr(),
                    metric.raw(),
                    reg,
                    mass,
                    value,
                    f,
                    ni,
                    g,
                    mi,
                    plan,
                    nm,
                ),
            }
        };
        ctx.check(status)?;
        t.iterations = unsafe { sys::subsel_ot_solver_iterations(s) };
        t.violation = unsafe { sys::subsel_ot_solver_violation(s) };
        Ok(t)
    }
}

impl Drop for OtSolver {
    fn drop(&mut self) {
        unsafe { sys::subsel_ot_solver_free(self.raw.as_ptr()) }
    }
}

impl std::fmt::Debug for OtSolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OtSolver")
    }
}
