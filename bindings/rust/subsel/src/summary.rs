// SPDX-License-Identifier: MIT
//! Selection across processes and machines (`subsel_summary_*`, MPI,
//! `subsel_csr_npz_shape`): a pool split into row ranges, each part
//! summarised on its own (any engine: threads, a Slurm job array, MPI),
//! the summaries merged GreeDi's way. See docs/distributed.md.
use std::ffi::c_void;
use std::path::Path;
use std::ptr::{self, NonNull};

use subsel_sys as sys;

use crate::context::Context;
use crate::error::{Error, Result};
use crate::matrix::{path_cstring, Csr};
use crate::objective::Objective;
use crate::optimizer::{selection, Optimizer, Selection};

/// The summary of a selection from one part of a pool, or of a merge
/// (`subsel_summary`): global row ids in the order chosen, their gains,
/// f of the set, and copies of the chosen rows, so it borrows nothing
/// (`'static`). Immutable once made: `Send` and `Sync`, as the header says
/// any thread may read a summary.
///
/// Each task of a Slurm job array writes its part's summary, a final job
/// loads and merges them (docs/rust.md, "Distributed selection"):
///
/// ```no_run
/// use subsel::{csr_npz_shape, Algorithm, Context, Csr, Optimizer, Sdm, Summary};
///
/// // Task `task` of `shards.len()` (SLURM_ARRAY_TASK_ID): its offset is the
/// // row count of the shards before it, read without loading them.
/// fn part_job(ctx: &Context, shards: &[&str], task: usize, target: &Csr<'_>) -> subsel::Result<()> {
///     let mut offset = 0;
///     let mut total = 0;
///     for (i, shard) in shards.iter().enumerate() {
///         let (rows, _) = csr_npz_shape(ctx, shard)?;
///         if i < task { offset += rows; }
///         total += rows;
///     }
///     let rows = Csr::load_npz(ctx, shards[task])?;
///     let mut part = Sdm::new(ctx, &rows)?;
///     part.set_target(ctx, target)?;           // the same target on every part
///     let mut opt = Optimizer::new(ctx, Algorithm::Lazy)?;
///     opt.set_budget(ctx, 1000)?;
///     let summary = Summary::select(ctx, &opt, &part, offset as i64, total as i64)?;
///     summary.save(ctx, format!("part{task}.sss"))
/// }
///
/// // The final job (afterok on the array): load, merge, keep the global ids.
/// fn merge_job(ctx: &Context, tasks: usize, target: &Csr<'_>) -> subsel::Result<Vec<i64>> {
///     let parts = (0..tasks)
///         .map(|t| Summary::load(ctx, format!("part{t}.sss")))
///         .collect::<subsel::Result<Vec<_>>>()?;
///     // `like` gives the merge the objective's kind and parameters; its own
///     // rows are not used, so a summary's rows will do.
///     let rows = parts[0].rows(ctx)?;
///     let mut like = Sdm::new(ctx, &rows)?;
///     like.set_target(ctx, target)?;
///     let mut opt = Optimizer::new(ctx, Algorithm::Lazy)?;
///     opt.set_budget(ctx, 1000)?;
///     let refs: Vec<&Summary> = parts.iter().collect();
///     Ok(Summary::merge(ctx, &opt, &like, &refs)?.selection(ctx)?.indices)
/// }
/// # fn main() {}
/// ```
pub struct Summary {
    raw: NonNull<sys::subsel_summary>,
}

// SAFETY: include/subsel.h: "A summary is immutable: any thread may read
// it"; every method takes &self and calls a function taking it `const`.
unsafe impl Send for Summary {}
unsafe impl Sync for Summary {}

/// How [`mpi_select`] selects across the ranks (`SUBSEL_DISTRIBUTED_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Distributed {
    /// Every rank summarises its part, the summaries are merged in rounds
    /// of the optimizer's "fanin" on the lower ranks.
    GreeDi,
    /// Stochastic greedy over the whole pool, byte for byte
    /// `Optimizer::run` on one process with the same seed.
    Exact,
    /// Every rank selects its share of the budget from its rows; the
    /// selection is their union (for budgets that are a large fraction
    /// of the pool).
    Union,
}

impl Distributed {
    fn raw(self) -> i32 {
        match self {
            Distributed::GreeDi => sys::SUBSEL_DISTRIBUTED_GREEDI,
            Distributed::Exact => sys::SUBSEL_DISTRIBUTED_EXACT,
            Distributed::Union => sys::SUBSEL_DISTRIBUTED_UNION,
        }
    }
}

impl Summary {
    /// Makes the call `call(&mut out)` that creates a summary, and wraps it:
    /// the one place a summary handle is taken over.
    fn make<F>(ctx: &Context, call: F) -> Result<Summary>
    where
        F: FnOnce(*mut *mut sys::subsel_summary) -> std::os::raw::c_int,
    {
        let mut raw = ptr::null_mut();
        ctx.check(call(&mut raw))?;
        Ok(Summary {
            raw: NonNull::new(raw).expect("OK and NULL"),
        })
    }

    pub fn as_ptr(&self) -> *const sys::subsel_summary {
        self.raw.as_ptr()
    }

    /// Runs `opt` on one part's objective (its "budget" capped at the
    /// part's size) and summarises the selection, its items numbered
    /// `offset + item`: the part holds rows `offset ..` of a pool of
    /// `total` rows. Objectives over CSR rows (FB, SDM) only; others fail
    /// with `ErrorKind::Unsupported`.
    pub fn select(
        ctx: &Context,
        opt: &Optimizer,
        objective: &Objective<'_>,
        offset: i64,
        total: i64,
    ) -> Result<Summary> {
        Summary::make(ctx, |out| unsafe {
            sys::subsel_summary_select(ctx.as_ptr(), opt.as_ptr(), objective.as_ptr(), offset, total, out)
        })
    }

    /// GreeDi's merge: runs `opt` over the union of the summaries' rows on
    /// an objective of `like`'s kind and parameters (any part's objective
    /// will do: its own rows are not used) and keeps the better of that and
    /// the best input. The result does not depend on the order of
    /// `summaries`, and can be merged again (multi-round GreeDi).
    pub fn merge(
        ctx: &Context,
        opt: &Optimizer,
        like: &Objective<'_>,
        summaries: &[&Summary],
    ) -> Result<Summary> {
        let mut raws: Vec<*const sys::subsel_summary> = summaries.iter().map(|s| s.as_ptr()).collect();
        Summary::make(ctx, |out| unsafe {
            sys::subsel_summary_merge(
                ctx.as_ptr(),
                opt.as_ptr(),
                like.as_ptr(),
                // The header takes `const subsel_summary *const *`; the
                // generator drops the inner const, the library writes nothing.
                raws.as_mut_ptr(),
                raws.len() as i64,
                out,
            )
        })
    }

    /// The summary as a selection: global row ids in the order chosen,
    /// gains, f, and the evaluations of every part and merge behind it.
    pub fn selection(&self, ctx: &Context) -> Result<Selection> {
        selection(ctx, |out| unsafe {
            sys::subsel_summary_selection(ctx.as_ptr(), self.as_ptr(), out)
        })
    }

    /// The chosen rows, row i that of the i-th id (for example to build the
    /// `like` objective of a merge job that holds no part).
    pub fn rows(&self, ctx: &Context) -> Result<Csr<'static>> {
        let mut raw = ptr::null_mut();
        ctx.check(unsafe { sys::subsel_summary_rows(ctx.as_ptr(), self.as_ptr(), &mut raw) })?;
        Ok(Csr::from_raw(raw))
    }

    /// Items in the summary.
    pub fn count(&self) -> i64 {
        unsafe { sys::subsel_summary_count(self.as_ptr()) }
    }

    /// Rows of the pool it belongs to.
    pub fn total(&self) -> i64 {
        unsafe { sys::subsel_summary_total(self.as_ptr()) }
    }

    /// The byte form (little-endian, with a CRC-32; docs/distributed.md),
    /// to send between processes.
    pub fn to_bytes(&self, ctx: &Context) -> Result<Vec<u8>> {
        let mut size = 0i64;
        ctx.check(unsafe {
            sys::subsel_summary_to_bytes(ctx.as_ptr(), self.as_ptr(), ptr::null_mut(), 0, &mut size)
        })?;
        let mut buf = vec![0u8; size as usize];
        ctx.check(unsafe {
            sys::subsel_summary_to_bytes(
                ctx.as_ptr(),
                self.as_ptr(),
                buf.as_mut_ptr().cast::<c_void>(),
                size,
                &mut size,
            )
        })?;
        buf.truncate(size as usize);
        Ok(buf)
    }

    /// Parses the byte form, checking everything (sizes, ids, rows,
    /// checksum): damaged data fails with `ErrorKind::Format`.
    pub fn from_bytes(ctx: &Context, bytes: &[u8]) -> Result<Summary> {
        Summary::make(ctx, |out| unsafe {
            sys::subsel_summary_from_bytes(
                ctx.as_ptr(),
                bytes.as_ptr().cast::<c_void>(),
                bytes.len() as i64,
                out,
            )
        })
    }

    /// Writes the byte form to a file (atomically for regular files).
    pub fn save(&self, ctx: &Context, path: impl AsRef<Path>) -> Result<()> {
        let path = path_cstring(path.as_ref())?;
        ctx.check(unsafe { sys::subsel_summary_save(ctx.as_ptr(), self.as_ptr(), path.as_ptr()) })
    }

    /// Reads a file written by [`Summary::save`].
    pub fn load(ctx: &Context, path: impl AsRef<Path>) -> Result<Summary> {
        let path = path_cstring(path.as_ref())?;
        Summary::make(ctx, |out| unsafe {
            sys::subsel_summary_load(ctx.as_ptr(), path.as_ptr(), out)
        })
    }
}

impl Drop for Summary {
    fn drop(&mut self) {
        unsafe { sys::subsel_summary_free(self.raw.as_ptr()) }
    }
}

impl std::fmt::Debug for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Summary({} of {} rows)", self.count(), self.total())
    }
}

/// Whether the loaded library was built with its MPI component (without
/// it, [`mpi_select`] fails with `ErrorKind::Unsupported`).
pub fn mpi_available() -> bool {
    unsafe { sys::subsel_mpi_available() != 0 }
}

/// Selection across the ranks of an MPI communicator
/// (`subsel_mpi_select`): collective, every rank passes its own part's
/// objective (rank r holds the pool's rows after those of ranks 0 .. r-1)
/// and gets the same selection in global row ids.
///
/// `comm_f` is the communicator's Fortran handle, so this crate needs no
/// MPI crate: from C, `MPI_Comm_c2f(MPI_COMM_WORLD)`; from the `mpi` crate
/// (rsmpi), `mpi::ffi::MPI_Comm_c2f(world.as_raw())`; from mpi4py,
/// `comm.py2f()`.
///
/// # Safety
/// MPI must be initialised (at least `MPI_THREAD_FUNNELED`, called from
/// that thread) and `comm_f` a valid communicator handle of the MPI the
/// library was built with: the library cannot check either, and MPI may
/// abort the process or misbehave on a bad handle. Every rank of the
/// communicator must make the call.
pub unsafe fn mpi_select(
    ctx: &Context,
    opt: &Optimizer,
    objective: &Objective<'_>,
    method: Distributed,
    comm_f: i64,
) -> Result<Selection> {
    selection(ctx, |out| {
        sys::subsel_mpi_select(
            ctx.as_ptr(),
            opt.as_ptr(),
            objective.as_ptr(),
            method.raw(),
            comm_f,
            out,
        )
    })
}

/// The (rows, cols) of a SciPy `.npz` CSR file, reading only its shape: a
/// part of a sharded pool finds its offset from the shards before it.
pub fn csr_npz_shape(ctx: &Context, path: impl AsRef<Path>) -> Result<(usize, usize)> {
    let path = path_cstring(path.as_ref())?;
    let (mut rows, mut cols) = (0i64, 0i64);
    ctx.check(unsafe { sys::subsel_csr_npz_shape(ctx.as_ptr(), path.as_ptr(), &mut rows, &mut cols) })?;
    match (usize::try_from(rows), usize::try_from(cols)) {
        (Ok(r), Ok(c)) => Ok((r, c)),
        _ => Err(Error::invalid(format!("csr_npz_shape: shape ({rows}, {cols})"))),
    }
}
