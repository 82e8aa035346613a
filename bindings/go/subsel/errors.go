// SPDX-License-Identifier: MIT

// Package subsel binds libsubsel, the C library for data subset selection
// (SDM and feature-based objectives, greedy-family optimizers), through
// cgo. Handles (Context, Csr, Dense, FB, SDM, Optimizer) wrap the library's
// reference-counted handles: Close releases the Go side's reference, a
// finalizer does it for handles that were never closed, and the library
// keeps what each handle reads alive by itself. See docs/go.md.
package subsel

/*
#cgo pkg-config: subsel
#define SUBSEL_NO_DEPRECATED
#include <subsel.h>
*/
import "C"

import (
	"fmt"
	"runtime"
)

// Status is one of the library's SUBSEL_E_* codes. Each is an error value
// of its own, so that errors.Is(err, subsel.ErrInvalid) tells the kind of
// any error this package returns.
type Status int

// The library's status codes; the numbers come from subsel.h.
const (
	ErrInvalid     Status = C.SUBSEL_E_INVALID
	ErrNoMem       Status = C.SUBSEL_E_NOMEM
	ErrIO          Status = C.SUBSEL_E_IO
	ErrFormat      Status = C.SUBSEL_E_FORMAT
	ErrNumeric     Status = C.SUBSEL_E_NUMERIC
	ErrUnsupported Status = C.SUBSEL_E_UNSUPPORTED
	ErrCancelled   Status = C.SUBSEL_E_CANCELLED
	ErrState       Status = C.SUBSEL_E_STATE
)

// Error returns the library's name for the status ("invalid argument");
// an unknown code reads "unknown status", as the ABI asks bindings to show.
func (s Status) Error() string {
	return C.GoString(C.subsel_status_string(C.int(s)))
}

// Error is a failed call: the status and the message the library left
// (it names the C function and what was wrong), or, for the few checks
// this package makes before calling C (a closed handle, a slice shorter
// than its sizes say), a message of the same form.
type Error struct {
	Status  Status
	Message string
}

func (e *Error) Error() string {
	if e.Message == "" {
		return "subsel: " + e.Status.Error()
	}
	return "subsel: " + e.Status.Error() + ": " + e.Message
}

// Unwrap gives the Status, so errors.Is matches the code.
func (e *Error) Unwrap() error { return e.Status }

// errorf makes an Error for a check made on the Go side.
func errorf(s Status, format string, args ...any) error {
	return &Error{Status: s, Message: fmt.Sprintf(format, args...)}
}

// check is the one conversion of a status returned by a call on ctx: the
// message is the context's, read before any other call can replace it.
// A progress callback that panicked during the call is re-raised here, on
// the caller's goroutine, after C has returned (a panic must not unwind
// through C frames).
func (c *Context) check(status C.int) error {
	if p := c.progress.takePanic(); p != nil {
		panic(p)
	}
	if status >= 0 {
		return nil
	}
	msg := C.GoString(C.subsel_ctx_last_error(c.cptr()))
	runtime.KeepAlive(c.handle)
	return &Error{Status: Status(status), Message: msg}
}

// threadCall runs a call made without a context, whose message is kept
// per OS thread: the goroutine stays on one thread from the call to
// reading the message, or it could read another thread's.
func threadCall(call func() C.int) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	status := call()
	if status >= 0 {
		return nil
	}
	return &Error{Status: Status(status), Message: C.GoString(C.subsel_ctx_last_error(nil))}
}
