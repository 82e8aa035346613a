// SPDX-License-Identifier: MIT

package subsel

/*
#define SUBSEL_NO_DEPRECATED
#include <stdint.h>
#include <subsel.h>

int subselGoProgressTrampoline(void *user, const char *stage, int64_t done,
                               int64_t total);

// The handle number travels as the user pointer; converting it in C keeps
// Go from holding an integer disguised as a pointer.
static int subsel_go_set_progress(subsel_ctx *ctx, uintptr_t user)
{
    return subsel_ctx_set_progress(ctx, user ? subselGoProgressTrampoline : NULL,
                                   (void *)user);
}
*/
import "C"

import (
	"runtime"
	"runtime/cgo"
	"sync"
	"unsafe"
)

// Context holds the options of the calls made through it (threads, seed,
// ...), the progress callback and the message of the last failing call.
// Use one Context per goroutine that calls the library at a time: like the
// C context, it is not safe for concurrent use. Handles created through a
// context may outlive it.
type Context struct {
	*handle
	progress *progressState
}

// NewContext creates a context with the library's defaults.
func NewContext() (*Context, error) {
	var p *C.subsel_ctx
	if err := threadCall(func() C.int { return C.subsel_ctx_create(&p) }); err != nil {
		return nil, err
	}
	c := &Context{progress: &progressState{}}
	c.handle = newHandle(unsafe.Pointer(p), "Context", func(p unsafe.Pointer) {
		C.subsel_ctx_free((*C.subsel_ctx)(p))
	})
	c.handle.onClose = c.progress.reset
	return c, nil
}

func (c *Context) cptr() *C.subsel_ctx { return (*C.subsel_ctx)(c.ptr()) }

// Set sets a context parameter by the name the library gives it
// ("threads", "seed", "max_isa", "memory_limit", "parallel_gains",
// "map_files"; see
// Params(KindContext)).
func (c *Context) Set(name string, value any) error {
	return c.handle.setParam(c, name, value)
}

// GetInt reads an integer context parameter.
func (c *Context) GetInt(name string) (int64, error) { return c.handle.getInt(c, name) }

// Threads is the number of threads calls on this context use now.
func (c *Context) Threads() int {
	n := int(C.subsel_ctx_threads(c.cptr()))
	runtime.KeepAlive(c.handle)
	return n
}

// ProgressFunc receives the progress of long calls: stage names the phase
// ("select", "load", "validate", ...), done counts work out of total (0
// when unknown). Returning false cancels the call, which then fails with
// ErrCancelled. It runs on the goroutine that made the call.
type ProgressFunc func(stage string, done, total int64) bool

// SetProgress installs fn (nil removes it). A panic in fn cancels the call
// and is raised again from the call once C has returned.
func (c *Context) SetProgress(fn ProgressFunc) error {
	p, err := c.live()
	if err != nil {
		return err
	}
	var user C.uintptr_t
	var h cgo.Handle
	if fn != nil {
		// The library keeps the user pointer, so it gets a handle number,
		// not a Go pointer (cgo's pointer rules).
		h = cgo.NewHandle(progressCall{fn: fn, state: c.progress})
		user = C.uintptr_t(h)
	}
	status := C.subsel_go_set_progress((*C.subsel_ctx)(p), user)
	if err := c.check(status); err != nil {
		if h != 0 {
			h.Delete()
		}
		return err
	}
	c.progress.replace(h)
	return nil
}

// progressState is what a context knows of its callback; it refers to no
// handle, so the context's finalizer can still run.
type progressState struct {
	mu       sync.Mutex
	h        cgo.Handle
	panicked any
}

type progressCall struct {
	fn    ProgressFunc
	state *progressState
}

func (s *progressState) replace(h cgo.Handle) {
	s.mu.Lock()
	old := s.h
	s.h = h
	s.mu.Unlock()
	if old != 0 {
		old.Delete()
	}
}

func (s *progressState) reset() { s.replace(0) }

func (s *progressState) takePanic() any {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.panicked
	s.panicked = nil
	return p
}

//export goProgress
func goProgress(user C.uintptr_t, stage *C.char, done, total C.int64_t) (cancel C.int) {
	call := cgo.Handle(user).Value().(progressCall)
	defer func() {
		// A panic must not unwind through the library's frames: cancel,
		// and let Context.check raise it on the caller's side.
		if r := recover(); r != nil {
			call.state.mu.Lock()
			call.state.panicked = r
			call.state.mu.Unlock()
			cancel = 1
		}
	}()
	if call.fn(C.GoString(stage), int64(done), int64(total)) {
		return 0
	}
	return 1
}
