// SPDX-License-Identifier: MIT
//! Safe Rust API of libsubsel, data subset selection.
//!
//! ```no_run
//! use subsel::{Algorithm, Context, Csr, Optimizer, Sdm};
//! # fn main() -> subsel::Result<()> {
//! let ctx = Context::new()?;
//! let source = Csr::load_npz(&ctx, "source.npz")?;
//! let target = Csr::load_npz(&ctx, "target.npz")?;
//! let mut sdm = Sdm::new(&ctx, &source)?;
//! sdm.set_target(&ctx, &target)?;
//! let mut opt = Optimizer::new(&ctx, Algorithm::Lazy)?;
//! opt.set_budget(&ctx, 12)?;
//! let selection = opt.run(&ctx, &sdm)?;
//! println!("{:?} f = {}", selection.indices, selection.value);
//! # Ok(()) }
//! ```
//!
//! Every call that can fail returns [`Result`], whose [`Error`] holds the
//! status code and the library's message. Handles free themselves on drop;
//! an objective keeps its matrices alive, and the lifetime `'a` of
//! [`Csr<'a>`] ties both to slices a matrix borrows without a copy:
//!
//! ```compile_fail
//! # use subsel::*;
//! # let ctx = Context::new().unwrap();
//! let indptr = vec![0i32, 1];
//! let indices = vec![0i32];
//! let values = vec![1.0f32];
//! let csr = Csr::borrowed(&ctx, 1, &indptr, &indices, &values).unwrap();
//! let fb = fb(&ctx, &csr, Concave::Sqrt, None).unwrap();
//! drop(csr); // fine: the objective keeps the matrix
//! drop(values); // refused: the matrix still reads it
//! fb.size();
//! ```
// First: its objective_kind! macro is used by the modules after it.
#[macro_use]
mod objective;
mod clipcov;
mod context;
mod error;
mod lors;
mod matrix;
mod optimizer;
mod ot;
mod param;
mod sae;
mod sae_train;
mod summary;
mod tarot;
mod uniprot;

pub use clipcov::{ClipCov, Filter};
pub use context::Context;
pub use error::{Error, ErrorKind, Result};
pub use lors::{Lors, LorsBaseline, LorsRecalls, LorsSynthetic, LorsTraining};
pub use matrix::{
    dense_npy_shape, read_npy_f64, read_npy_i64, Csr, CsrRow, Dense, Element, Index, RowIndices, F16,
};
pub use objective::{fb, Concave, Objective, Sdm};
pub use optimizer::{double_greedy, Algorithm, Optimizer, Selection, ShortReason};
pub use ot::{Costs, Metric, OtSolver, Transport};
pub use param::{Bounds, ParamInfo, Value};
pub use sae::{sae_scores, Sae, SaeScores};
pub use sae_train::{SaeLosses, SaeTrainer};
pub use subsel_sys as sys;
pub use summary::{csr_npz_shape, mpi_available, mpi_select, Distributed, Summary};
pub use tarot::{tarot_folds, tarot_weights, tarot_weights_reference, Tarot};
pub use uniprot::{nn_accuracy, uniprot_select_batch, uniprot_select_batch_v2, Similarity, UniProt, Update};

/// Every parameter of every handle kind, from the library's table.
pub fn params() -> Result<Vec<ParamInfo>> {
    param::list(None)
}

/// Describes parameter number `id` (`SUBSEL_P_*`).
pub fn param_info(id: i32) -> Result<ParamInfo> {
    param::info(id)
}

/// The version of the library actually loaded ("0.13.0").
pub fn version() -> &'static str {
    unsafe { std::ffi::CStr::from_ptr(sys::subsel_version_string()) }
        .to_str()
        .unwrap_or("")
}
