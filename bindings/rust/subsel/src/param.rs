// SPDX-License-Identifier: MIT
//! Parameters of every handle kind, by name, fed by the library's own table
//! (`subsel_param_*`): names, types, bounds, defaults and descriptions come
//! from the library loaded at run time, never from copies in this crate.
use std::ffi::{c_void, CStr, CString};
use std::os::raw::{c_char, c_int};
use std::ptr;

use subsel_sys as sys;

use crate::context::Context;
use crate::error::{check_thread, Error, Result};

/// A parameter value: integer parameters take `Int`, real ones `Real` (an
/// `Int` given to a real parameter is converted).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value {
    Int(i64),
    Real(f64),
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<i32> for Value {
    fn from(v: i32) -> Self {
        Value::Int(v.into())
    }
}
impl From<usize> for Value {
    fn from(v: usize) -> Self {
        Value::Int(i64::try_from(v).unwrap_or(i64::MAX))
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Real(v)
    }
}

/// The range and default of a parameter.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Bounds {
    /// Both ends included.
    Int { min: i64, max: i64, default: i64 },
    /// `open_min` / `open_max`: the end is excluded.
    Real {
        min: f64,
        max: f64,
        default: f64,
        open_min: bool,
        open_max: bool,
    },
}

/// One row of the library's parameter table.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamInfo {
    /// Its `SUBSEL_P_*` number.
    pub id: i32,
    /// The `SUBSEL_KIND_*` of the handles it belongs to.
    pub kind: i32,
    pub name: &'static str,
    /// A one-line description.
    pub doc: &'static str,
    pub bounds: Bounds,
}

fn static_str(p: *const c_char) -> &'static str {
    // The table's strings are static in the library.
    if p.is_null() {
        ""
    } else {
        unsafe { CStr::from_ptr(p) }.to_str().unwrap_or("")
    }
}

/// Describes parameter number `id`.
pub fn info(id: i32) -> Result<ParamInfo> {
    let (mut kind, mut ty) = (0, 0);
    let (mut name, mut doc) = (ptr::null(), ptr::null());
    check_thread(unsafe { sys::subsel_param_info(id, &mut kind, &mut ty, &mut name, &mut doc) })?;
    let bounds = if ty == sys::SUBSEL_TYPE_INT {
        let (mut min, mut max, mut default) = (0, 0, 0);
        check_thread(unsafe { sys::subsel_param_int_bounds(id, &mut min, &mut max, &mut default) })?;
        Bounds::Int { min, max, default }
    } else {
        let (mut min, mut max, mut default, mut open) = (0.0, 0.0, 0.0, 0);
        check_thread(unsafe {
            sys::subsel_param_real_bounds(id, &mut min, &mut max, &mut default, &mut open)
        })?;
        Bounds::Real {
            min,
            max,
            default,
            open_min: open & sys::SUBSEL_BOUND_OPEN_MIN != 0,
            open_max: open & sys::SUBSEL_BOUND_OPEN_MAX != 0,
        }
    };
    Ok(ParamInfo {
        id,
        kind,
        name: static_str(name),
        doc: static_str(doc),
        bounds,
    })
}

/// Every parameter of handles of `kind` (`SUBSEL_KIND_*`; all kinds for
/// `None`), in the library's order.
pub fn list(kind: Option<i32>) -> Result<Vec<ParamInfo>> {
    let count = unsafe { sys::subsel_param_count() };
    let mut out = Vec::new();
    for index in 0..count {
        let mut id = 0;
        check_thread(unsafe { sys::subsel_param_at(index, &mut id) })?;
        let p = info(id)?;
        if kind.map_or(true, |k| k == p.kind) {
            out.push(p);
        }
    }
    Ok(out)
}

/// The parameter `name` of the live handle at `handle` (whose kind the
/// library reports).
fn find(handle: *const c_void, name: &str) -> Result<ParamInfo> {
    let kind = unsafe { sys::subsel_handle_kind(handle) };
    check_thread(kind)?;
    let cname =
        CString::new(name).map_err(|_| Error::invalid(format!("parameter name {name:?} holds a NUL")))?;
    let mut id: c_int = 0;
    check_thread(unsafe { sys::subsel_param_find(kind, cname.as_ptr(), &mut id) })?;
    info(id)
}

/// Sets parameter `name` of `handle`; the library checks kind and bounds.
pub(crate) fn set(ctx: &Context, handle: *mut c_void, name: &str, value: Value) -> Result<()> {
    let p = find(handle, name)?;
    let status = match (p.bounds, value) {
        (Bounds::Int { .. }, Value::Int(v)) => unsafe {
            sys::subsel_param_set_int(ctx.as_ptr(), handle, p.id, v)
        },
        (Bounds::Real { .. }, Value::Real(v)) => unsafe {
            sys::subsel_param_set_real(ctx.as_ptr(), handle, p.id, v)
        },
        (Bounds::Real { .. }, Value::Int(v)) => unsafe {
            sys::subsel_param_set_real(ctx.as_ptr(), handle, p.id, v as f64)
        },
        (Bounds::Int { .. }, Value::Real(v)) => {
            return Err(Error::invalid(format!(
                "parameter \"{name}\" is an integer, not {v}"
            )))
        }
    };
    ctx.check(status)
}

/// Reads parameter `name` of `handle`.
pub(crate) fn get(ctx: &Context, handle: *const c_void, name: &str) -> Result<Value> {
    let p = find(handle, name)?;
    match p.bounds {
        Bounds::Int { .. } => {
            let mut v = 0;
            ctx.check(unsafe { sys::subsel_param_get_int(ctx.as_ptr(), handle, p.id, &mut v) })?;
            Ok(Value::Int(v))
        }
        Bounds::Real { .. } => {
            let mut v = 0.0;
            ctx.check(unsafe { sys::subsel_param_get_real(ctx.as_ptr(), handle, p.id, &mut v) })?;
            Ok(Value::Real(v))
        }
    }
}
