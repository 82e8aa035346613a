// SPDX-License-Identifier: MIT

package subsel

import (
	"runtime"
	"sync/atomic"
	"unsafe"
)

// handle is the one base of every handle type: the C pointer, the
// function that drops the Go side's reference on it, and what to undo with
// it (a context's progress callback). The library counts references itself
// (an objective keeps its matrix), so a handle only ever releases its own.
type handle struct {
	p       unsafe.Pointer // accessed atomically: Close may race a finalizer
	name    string         // the Go type, for messages
	release func(unsafe.Pointer)
	onClose func()
}

func newHandle(p unsafe.Pointer, name string, release func(unsafe.Pointer)) *handle {
	h := &handle{p: p, name: name, release: release}
	// The safety net for handles nobody closed: the finalizer holds no
	// reference to the wrapper types, so nothing keeps h reachable but them.
	runtime.SetFinalizer(h, (*handle).Close)
	return h
}

// Close releases the handle. It is idempotent and safe on a nil handle;
// what other handles keep of it (an objective's matrix) lives on in the
// library until they are closed too. It always returns nil (an error
// result lets it serve as an io.Closer).
func (h *handle) Close() error {
	if h == nil {
		return nil
	}
	if p := atomic.SwapPointer(&h.p, nil); p != nil {
		runtime.SetFinalizer(h, nil)
		h.release(p)
		if h.onClose != nil {
			h.onClose()
		}
	}
	return nil
}

// ptr is the C pointer, nil once closed. Callers keep h alive with
// runtime.KeepAlive until C is done with the pointer, or the finalizer
// could free it during the call.
func (h *handle) ptr() unsafe.Pointer {
	if h == nil {
		return nil
	}
	return atomic.LoadPointer(&h.p)
}

// live is ptr, or the error a closed (or zero-value) handle gives: using
// one must fail, never reach C with NULL or freed memory.
func (h *handle) live() (unsafe.Pointer, error) {
	p := h.ptr()
	if p == nil {
		name := "handle"
		if h != nil {
			name = h.name
		}
		return nil, errorf(ErrInvalid, "%s used after Close (or never created)", name)
	}
	return p, nil
}
