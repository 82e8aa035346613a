// SPDX-License-Identifier: MIT
//! The one conversion of C status codes into Rust errors: every failing call
//! becomes an [`Error`] with the status and the library's own message.
use std::ffi::CStr;
use std::fmt;
use std::os::raw::{c_char, c_int};

use subsel_sys as sys;

/// What kind of failure a status code names (`SUBSEL_E_*`). Codes added to
/// the library after this crate was built come out as `Other`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Invalid argument: NULL, size, range, type of parameter ...
    Invalid,
    /// An allocation failed (or the context's memory limit was reached).
    NoMemory,
    /// Open, read or write failed.
    Io,
    /// Malformed or truncated file or data.
    Format,
    /// NaN/Inf, or an iteration did not converge.
    Numeric,
    /// Valid, but not supported by this build.
    Unsupported,
    /// The progress callback asked to stop.
    Cancelled,
    /// The call is not valid in the handle's state (e.g. no target set).
    State,
    /// A status code this crate does not know.
    Other,
}

/// A failed call: its status code and the message the library left
/// (naming the function and what was wrong).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    status: c_int,
    message: String,
}

/// `Result<T, subsel::Error>`.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// An error for a status and a message (used by the crate for checks it
    /// makes before calling the library, such as slice lengths).
    pub(crate) fn new(status: c_int, message: impl Into<String>) -> Self {
        Error {
            status,
            message: message.into(),
        }
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Error::new(sys::SUBSEL_E_INVALID, message)
    }

    /// The status and the message at `message` (a library string, copied
    /// at once because the next failing call overwrites it).
    pub(crate) unsafe fn from_raw(status: c_int, message: *const c_char) -> Self {
        let text = if message.is_null() {
            String::new()
        } else {
            CStr::from_ptr(message).to_string_lossy().into_owned()
        };
        Error::new(status, text)
    }

    /// The `SUBSEL_E_*` status code (negative).
    pub fn status(&self) -> i32 {
        self.status
    }

    /// The kind of failure.
    pub fn kind(&self) -> ErrorKind {
        match self.status {
            sys::SUBSEL_E_INVALID => ErrorKind::Invalid,
            sys::SUBSEL_E_NOMEM => ErrorKind::NoMemory,
            sys::SUBSEL_E_IO => ErrorKind::Io,
            sys::SUBSEL_E_FORMAT => ErrorKind::Format,
            sys::SUBSEL_E_NUMERIC => ErrorKind::Numeric,
            sys::SUBSEL_E_UNSUPPORTED => ErrorKind::Unsupported,
            sys::SUBSEL_E_CANCELLED => ErrorKind::Cancelled,
            sys::SUBSEL_E_STATE => ErrorKind::State,
            _ => ErrorKind::Other,
        }
    }

    /// The library's detailed message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The library's static name of the status, then its message.
        let name = unsafe { CStr::from_ptr(sys::subsel_status_string(self.status)) };
        write!(f, "{}: {}", name.to_string_lossy(), self.message)
    }
}

impl std::error::Error for Error {}

/// Checks the status of a call made without a context: its message is the
/// calling thread's (`subsel_ctx_last_error(NULL)`), read at once.
pub(crate) fn check_thread(status: c_int) -> Result<()> {
    if status >= 0 {
        Ok(())
    } else {
        Err(unsafe { Error::from_raw(status, sys::subsel_ctx_last_error(std::ptr::null())) })
    }
}
