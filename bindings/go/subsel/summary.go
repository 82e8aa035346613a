// SPDX-License-Identifier: MIT

package subsel

/*
#define SUBSEL_NO_DEPRECATED
#include <stdlib.h>
#include <subsel.h>
*/
import "C"

import (
	"runtime"
	"unsafe"
)

// Selection across processes and machines (since 0.9; docs/go.md,
// "Distributed selection"): a pool too large for one process is split into
// row ranges or shard files, each part is summarised on its own by
// SummarySelect (in any engine: goroutines, a Slurm job array, MPI), and
// SummaryMerge merges the summaries GreeDi's way. Summaries travel as
// bytes (Bytes, SummaryFromBytes) or files (Save, LoadSummary).

// Summary is the summary of a selection from one part of a pool, or of a
// merge: global row ids in the order chosen, their gains, f of the set,
// and copies of the chosen rows. It is immutable, so any number of
// goroutines may read it at once (the header: "any thread may read it").
type Summary struct{ *handle }

func newSummary(p *C.subsel_summary) *Summary {
	return &Summary{newHandle(unsafe.Pointer(p), "Summary", func(p unsafe.Pointer) {
		C.subsel_summary_free((*C.subsel_summary)(p))
	})}
}

func (s *Summary) cptr() *C.subsel_summary { return (*C.subsel_summary)(s.h().ptr()) }

// h is the summary's handle, nil for a nil summary (an ErrInvalid like a
// closed one, not a nil-pointer panic).
func (s *Summary) h() *handle {
	if s == nil {
		return nil
	}
	return s.handle
}

// summary is call for the calls that make a summary.
func (c *Context) summary(hs []*handle, fn func(*C.subsel_ctx, **C.subsel_summary) C.int) (*Summary, error) {
	var out *C.subsel_summary
	if err := c.call(hs, func(cp *C.subsel_ctx) C.int { return fn(cp, &out) }); err != nil {
		return nil, err
	}
	return newSummary(out), nil
}

// objectiveHandle is obj's handle, or an error for a nil objective.
func objectiveHandle(caller string, obj Objective) (*objective, error) {
	if obj == nil {
		return nil, errorf(ErrInvalid, "%s: no objective", caller)
	}
	return obj.base(), nil
}

// SummarySelect runs opt on one part's objective (its "budget" capped at
// the part's size) and summarises the selection, its items numbered
// offset + item: the part holds the rows from offset on of a pool of
// total rows. Objectives over CSR rows (FB, SDM) only; others give
// ErrUnsupported.
func SummarySelect(ctx *Context, opt *Optimizer, obj Objective, offset, total int64) (*Summary, error) {
	ob, err := objectiveHandle("SummarySelect", obj)
	if err != nil {
		return nil, err
	}
	return ctx.summary([]*handle{opt.h(), ob.handle}, func(c *C.subsel_ctx, out **C.subsel_summary) C.int {
		return C.subsel_summary_select(c, opt.cptr(), ob.cptr(), C.int64_t(offset), C.int64_t(total), out)
	})
}

// SummaryMerge is GreeDi's merge: opt runs over the union of the
// summaries' rows on an objective of like's kind and parameters (any
// part's objective will do: its own rows are not used), and the better of
// that and the best input is kept. The result does not depend on the order
// of summaries and may be merged again (multi-round GreeDi).
func SummaryMerge(ctx *Context, opt *Optimizer, like Objective, summaries ...*Summary) (*Summary, error) {
	ob, err := objectiveHandle("SummaryMerge", like)
	if err != nil {
		return nil, err
	}
	hs := []*handle{opt.h(), ob.handle}
	for _, s := range summaries {
		hs = append(hs, s.h())
	}
	// C pointers in Go memory, for the duration of the call only.
	ptrs := make([]*C.subsel_summary, len(summaries))
	for i, s := range summaries {
		ptrs[i] = s.cptr()
	}
	return ctx.summary(hs, func(c *C.subsel_ctx, out **C.subsel_summary) C.int {
		return C.subsel_summary_merge(c, opt.cptr(), ob.cptr(),
			(**C.subsel_summary)(first(ptrs)), C.int64_t(len(ptrs)), out)
	})
}

// Selection is the summary as a selection: global row ids in the order
// chosen, gains, f, and the evaluations of every part and merge behind it.
func (s *Summary) Selection(ctx *Context) (*Selection, error) {
	return ctx.selection([]*handle{s.h()}, func(c *C.subsel_ctx, out **C.subsel_selection) C.int {
		return C.subsel_summary_selection(c, s.cptr(), out)
	})
}

// Rows is the chosen rows as a matrix, row i that of the i-th id (for
// example to build the like objective of a merge job that holds no part).
func (s *Summary) Rows(ctx *Context) (*Csr, error) {
	var out *C.subsel_csr
	err := ctx.call([]*handle{s.h()}, func(c *C.subsel_ctx) C.int {
		return C.subsel_summary_rows(c, s.cptr(), &out)
	})
	if err != nil {
		return nil, err
	}
	return newCsr(out), nil
}

// Count is the number of items in the summary, Total the size of the pool
// it belongs to (0 once closed).
func (s *Summary) Count() int64 {
	defer runtime.KeepAlive(s.h())
	return int64(C.subsel_summary_count(s.cptr()))
}
func (s *Summary) Total() int64 {
	defer runtime.KeepAlive(s.h())
	return int64(C.subsel_summary_total(s.cptr()))
}

// Bytes is the summary's byte form (little-endian, with a CRC-32), to send
// between processes.
func (s *Summary) Bytes(ctx *Context) ([]byte, error) {
	var size C.int64_t
	err := ctx.call([]*handle{s.h()}, func(c *C.subsel_ctx) C.int {
		return C.subsel_summary_to_bytes(c, s.cptr(), nil, 0, &size)
	})
	if err != nil {
		return nil, err
	}
	buf := make([]byte, int(size))
	err = ctx.call([]*handle{s.h()}, func(c *C.subsel_ctx) C.int {
		return C.subsel_summary_to_bytes(c, s.cptr(), first(buf), C.int64_t(len(buf)), &size)
	})
	if err != nil {
		return nil, err
	}
	return buf[:int(size)], nil
}

// SummaryFromBytes parses a summary's byte form, checking everything
// (sizes, ids, rows, checksum): damaged data is ErrFormat, another format
// version ErrUnsupported. The library copies what it keeps.
func SummaryFromBytes(ctx *Context, data []byte) (*Summary, error) {
	s, err := ctx.summary(nil, func(c *C.subsel_ctx, out **C.subsel_summary) C.int {
		return C.subsel_summary_from_bytes(c, first(data), C.int64_t(len(data)), out)
	})
	runtime.KeepAlive(data)
	return s, err
}

// Save writes the byte form to path (replacing a regular file atomically).
func (s *Summary) Save(ctx *Context, path string) error {
	return withPath(path, func(p *C.char) error {
		return ctx.call([]*handle{s.h()}, func(c *C.subsel_ctx) C.int {
			return C.subsel_summary_save(c, s.cptr(), p)
		})
	})
}

// LoadSummary reads a file written by Save.
func LoadSummary(ctx *Context, path string) (*Summary, error) {
	var s *Summary
	err := withPath(path, func(p *C.char) error {
		var err error
		s, err = ctx.summary(nil, func(c *C.subsel_ctx, out **C.subsel_summary) C.int {
			return C.subsel_summary_load(c, p, out)
		})
		return err
	})
	return s, err
}

// DistributedMethod is how MPISelect selects across the ranks.
type DistributedMethod int

const (
	// DistributedGreeDi: every rank summarises its part, the summaries are
	// merged in rounds of the optimizer's "fanin" on the lower ranks.
	DistributedGreeDi DistributedMethod = C.SUBSEL_DISTRIBUTED_GREEDI
	// DistributedExact: stochastic greedy over the whole pool, the
	// selection of Run on one process with the same seed.
	DistributedExact DistributedMethod = C.SUBSEL_DISTRIBUTED_EXACT
	// DistributedUnion: every rank selects its share of the budget from
	// its rows; the selection is their union (for budgets that are a
	// large fraction of the pool).
	DistributedUnion DistributedMethod = C.SUBSEL_DISTRIBUTED_UNION
)

// MPIAvailable reports whether the library was built with its MPI
// component (without it MPISelect gives ErrUnsupported).
func MPIAvailable() bool { return C.subsel_mpi_available() != 0 }

// MPISelect selects across the ranks of an MPI communicator: collective,
// every rank passes its own part's objective (rank r holds the pool's rows
// after those of ranks 0 .. r-1) and gets the same selection, in global
// row ids.
//
// commF is the communicator's Fortran handle, so this package needs no MPI
// package: from cgo, C.MPI_Comm_c2f(C.MPI_COMM_WORLD); from a Go MPI
// binding, its Fortran handle (or MPI_Comm_c2f of its C handle). MPI must
// be initialised (at least MPI_THREAD_FUNNELED) and the goroutine locked
// to the thread that initialised it (runtime.LockOSThread), since only
// that thread may call MPI. The library cannot check commF: a wrong handle
// may make MPI abort the process.
func MPISelect(ctx *Context, opt *Optimizer, obj Objective, method DistributedMethod, commF int64) (*Selection, error) {
	ob, err := objectiveHandle("MPISelect", obj)
	if err != nil {
		return nil, err
	}
	return ctx.selection([]*handle{opt.h(), ob.handle}, func(c *C.subsel_ctx, out **C.subsel_selection) C.int {
		return C.subsel_mpi_select(c, opt.cptr(), ob.cptr(), C.int(method), C.int64_t(commF), out)
	})
}

// CSRNpzShape reads only the shape of a SciPy .npz CSR file, without its
// arrays: a part of a sharded pool learns the global ids of its rows from
// the row counts of the shards before it.
func CSRNpzShape(ctx *Context, path string) (rows, cols int64, err error) {
	var r, c C.int64_t
	err = withPath(path, func(p *C.char) error {
		return ctx.call(nil, func(cp *C.subsel_ctx) C.int {
			return C.subsel_csr_npz_shape(cp, p, &r, &c)
		})
	})
	return int64(r), int64(c), err
}
