// SPDX-License-Identifier: MIT
//! The context: options, the progress callback, and the message of the last
//! failing call. Every call that takes one reports its errors through
//! [`Context::check`], the one place where statuses, messages and panics of
//! the progress callback come back to Rust.
use std::any::Any;
use std::cell::{Cell, RefCell};
use std::ffi::{c_void, CStr};
use std::ops::ControlFlow;
use std::os::raw::{c_char, c_int};
use std::panic::{self, AssertUnwindSafe};
use std::ptr::{self, NonNull};

use subsel_sys as sys;

use crate::error::{check_thread, Error, Result};
use crate::param::{self, Value};

type Callback = dyn FnMut(&str, i64, i64) -> ControlFlow<()> + Send;

/// What the C callback reaches through its `user` pointer. Boxed, so its
/// address stays put while the context moves.
struct Progress {
    callback: RefCell<Box<Callback>>,
    /// A panic caught in the callback, resumed by `check` once the C call
    /// has returned: unwinding through C frames is undefined behaviour.
    panic: Cell<Option<Box<dyn Any + Send>>>,
}

/// A library context (`subsel_ctx`). One per thread that calls the library:
/// it is `Send` (it may move to another thread) but not `Sync` (the C API
/// allows one thread at a time per handle).
pub struct Context {
    raw: NonNull<sys::subsel_ctx>,
    progress: Option<Box<Progress>>,
}

// SAFETY: the C API lets a context be used from any thread, one at a time;
// the callback is required to be Send.
unsafe impl Send for Context {}

impl Context {
    /// A context with default parameters.
    pub fn new() -> Result<Context> {
        let mut raw = ptr::null_mut();
        check_thread(unsafe { sys::subsel_ctx_create(&mut raw) })?;
        let raw = NonNull::new(raw).expect("subsel_ctx_create returned OK and NULL");
        Ok(Context { raw, progress: None })
    }

    pub(crate) fn as_ptr(&self) -> *mut sys::subsel_ctx {
        self.raw.as_ptr()
    }

    /// Turns the status of a call on this context into a `Result`, with the
    /// context's message. A panic of the progress callback during the call
    /// is resumed here, after the C frames are gone.
    pub(crate) fn check(&self, status: c_int) -> Result<()> {
        if let Some(progress) = &self.progress {
            if let Some(payload) = progress.panic.take() {
                panic::resume_unwind(payload);
            }
        }
        if status >= 0 {
            Ok(())
        } else {
            Err(unsafe { Error::from_raw(status, sys::subsel_ctx_last_error(self.as_ptr())) })
        }
    }

    /// Sets a context parameter by its name in the library's table
    /// ("threads", "seed", "max_isa", "memory_limit", "parallel_gains",
    /// "map_files").
    pub fn set_param(&mut self, name: &str, value: impl Into<Value>) -> Result<()> {
        let handle = self.as_ptr().cast::<c_void>();
        param::set(self, handle, name, value.into())
    }

    /// Reads a context parameter by name.
    pub fn param(&self, name: &str) -> Result<Value> {
        param::get(self, self.as_ptr().cast::<c_void>(), name)
    }

    /// Threads per call (0: the OpenMP default).
    pub fn set_threads(&mut self, threads: i64) -> Result<()> {
        self.set_param("threads", threads)
    }

    /// Seed of every random choice.
    pub fn set_seed(&mut self, seed: i64) -> Result<()> {
        self.set_param("seed", seed)
    }

    /// The number of threads calls on this context use now.
    pub fn threads(&self) -> i32 {
        unsafe { sys::subsel_ctx_threads(self.as_ptr()) }
    }

    /// Installs a progress callback: `callback(stage, done, total)` is called
    /// from the thread making the call; returning `ControlFlow::Break(())`
    /// cancels the call, which then fails with `ErrorKind::Cancelled`. A
    /// panic in the callback cancels the call and is resumed when it returns.
    pub fn set_progress<F>(&mut self, callback: F) -> Result<()>
    where
        F: FnMut(&str, i64, i64) -> ControlFlow<()> + Send + 'static,
    {
        let progress = Box::new(Progress {
            callback: RefCell::new(Box::new(callback)),
            panic: Cell::new(None),
        });
        let user = &*progress as *const Progress as *mut c_void;
        let status = unsafe { sys::subsel_ctx_set_progress(self.as_ptr(), Some(trampoline), user) };
        // Keep the old state until the library points at the new one.
        self.check(status)?;
        self.progress = Some(progress);
        Ok(())
    }

    /// Removes the progress callback.
    pub fn clear_progress(&mut self) -> Result<()> {
        let status = unsafe { sys::subsel_ctx_set_progress(self.as_ptr(), None, ptr::null_mut()) };
        self.check(status)?;
        self.progress = None;
        Ok(())
    }
}

unsafe extern "C" fn trampoline(user: *mut c_void, stage: *const c_char, done: i64, total: i64) -> c_int {
    // SAFETY: `user` is the Progress the context owns; the library calls
    // back only during a call on that context, which borrows it.
    let progress = &*(user as *const Progress);
    let stage = if stage.is_null() {
        ""
    } else {
        CStr::from_ptr(stage).to_str().unwrap_or("")
    };
    // A callback that calls the library on the same context re-enters here:
    // the RefCell refuses, and the inner call is cancelled instead.
    let mut callback = match progress.callback.try_borrow_mut() {
        Ok(callback) => callback,
        Err(_) => return 1,
    };
    match panic::catch_unwind(AssertUnwindSafe(|| callback(stage, done, total))) {
        Ok(ControlFlow::Continue(())) => 0,
        Ok(ControlFlow::Break(())) => 1,
        Err(payload) => {
            progress.panic.set(Some(payload));
            1
        }
    }
}

impl Drop for Context {
    fn drop(&mut self) {
        unsafe { sys::subsel_ctx_free(self.as_ptr()) }
    }
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("threads", &self.threads())
            .finish()
    }
}
