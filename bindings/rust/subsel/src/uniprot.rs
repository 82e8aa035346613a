// SPDX-License-Identifier: MIT
//! UniPROT: k prototypes among the candidate rows that cover the targets
//! evenly by entropic optimal transport, an [`Objective`] for the greedy
//! optimizers; plus the per-batch variants and the paper's 1-NN accuracy.
use std::ptr;

use subsel_sys as sys;

use crate::context::Context;
use crate::error::{Error, Result};
use crate::matrix::Dense;
use crate::objective::Objective;
use crate::optimizer::{selection, Selection};

/// Similarity between a candidate and a target row (`SUBSEL_SIM_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Similarity {
    /// cos(x, y); 0 for a zero row.
    Cosine,
    /// x . y
    Dot,
    /// -|x - y|^2
    NegSqEuclidean,
    /// -|x - y|: the plain Euclidean cost.
    NegEuclidean,
}

impl Similarity {
    fn raw(self) -> i32 {
        match self {
            Similarity::Cosine => sys::SUBSEL_SIM_COSINE,
            Similarity::Dot => sys::SUBSEL_SIM_DOT,
            Similarity::NegSqEuclidean => sys::SUBSEL_SIM_NEG_SQEUCLID,
            Similarity::NegEuclidean => sys::SUBSEL_SIM_NEG_EUCLID,
        }
    }
}

/// How UniPROT's state follows an added prototype
/// (`SUBSEL_UNIPROT_UPDATE_*`; the objective's "update" parameter takes
/// the same values as integers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Update {
    /// Re-solve the OT problem with the new prototype, as the paper does:
    /// the state holds the optimal plan of its set.
    Solve,
    /// Append the new prototype's water-filling row to the current plan,
    /// with no solve: O(n) per prototype, a lower bound of f.
    Append,
}

impl Update {
    fn raw(self) -> i32 {
        match self {
            Update::Solve => sys::SUBSEL_UNIPROT_UPDATE_SOLVE,
            Update::Append => sys::SUBSEL_UNIPROT_UPDATE_APPEND,
        }
    }
}

/// The UniPROT objective over the rows of a similarity matrix S (candidates
/// x targets); derefs to [`Objective`]. Parameters by name ("gain",
/// "update", "tol", "max_iter", "gain_memory") with
/// [`Objective::set_param`].
pub struct UniProt<'a> {
    obj: Objective<'a>,
    targets: usize,
}

objective_kind!(UniProt, obj);

impl<'a> UniProt<'a> {
    /// UniPROT over `similarity` (|S| x n, kept by the objective), choosing
    /// `k` prototypes (1 <= k <= |S|) with regularisation `reg` > 0.
    pub fn new(ctx: &Context, similarity: &Dense<'a>, k: usize, reg: f64) -> Result<UniProt<'a>> {
        let mut raw = ptr::null_mut();
        ctx.check(unsafe {
            sys::subsel_uniprot_create(ctx.as_ptr(), similarity.as_ptr(), k as i64, reg, &mut raw)
        })?;
        Ok(UniProt {
            obj: Objective::from_raw(raw),
            targets: similarity.cols(),
        })
    }

    /// UniPROT with S computed by the library between the rows of `source`
    /// (candidates) and `target`; neither is kept, so the objective borrows
    /// nothing.
    pub fn from_features(
        ctx: &Context,
        source: &Dense<'_>,
        target: &Dense<'_>,
        similarity: Similarity,
        k: usize,
        reg: f64,
    ) -> Result<UniProt<'static>> {
        let mut raw = ptr::null_mut();
        ctx.check(unsafe {
            sys::subsel_uniprot_create_from_features(
                ctx.as_ptr(),
                source.as_ptr(),
                target.as_ptr(),
                similarity.raw(),
                k as i64,
                reg,
                &mut raw,
            )
        })?;
        Ok(UniProt {
            obj: Objective::from_raw(raw),
            targets: target.rows(),
        })
    }

    /// The number of targets (columns of S).
    pub fn targets(&self) -> usize {
        self.targets
    }

    /// f(set) solved from scratch, with its optimal plan (`set.len()` x
    /// [`targets`](Self::targets), row-major; row i belongs to `set[i]`).
    pub fn plan(&self, ctx: &Context, set: &[i64]) -> Result<(Vec<f64>, f64)> {
        let mut plan = vec![0.0; set.len() * self.targets];
        let mut value = 0.0;
        ctx.check(unsafe {
            sys::subsel_uniprot_plan_v2(
                ctx.as_ptr(),
                self.as_ptr(),
                set.as_ptr(),
                set.len() as i64,
                plan.as_mut_ptr(),
                plan.len() as i64,
                &mut value,
            )
        })?;
        Ok((plan, value))
    }

    /// The paper's objective of `set`, <S_P, G>: the similarity the optimal
    /// plan G of f(set) carries (solved from scratch as [`plan`](Self::plan)
    /// does), and the entropic value f(set) = <S_P, G> + reg H(G) the
    /// optimizers work with. An empty set gives (0, 0).
    pub fn transport_similarity(&self, ctx: &Context, set: &[i64]) -> Result<(f64, f64)> {
        let mut similarity = 0.0;
        let mut value = 0.0;
        ctx.check(unsafe {
            sys::subsel_uniprot_transport_similarity(
                ctx.as_ptr(),
                self.as_ptr(),
                set.as_ptr(),
                set.len() as i64,
                &mut similarity,
                &mut value,
            )
        })?;
        Ok((similarity, value))
    }
}

/// Per-batch UniPROT (UniPROT-PB): round(fraction x rows) rows of `batch`
/// as prototypes of the batch itself, greedy with appended plans and no OT
/// solve (fast enough for every training step).
pub fn uniprot_select_batch(
    ctx: &Context,
    batch: &Dense<'_>,
    fraction: f64,
    reg: f64,
    similarity: Similarity,
) -> Result<Selection> {
    selection(ctx, |out| unsafe {
        sys::subsel_uniprot_select_batch(ctx.as_ptr(), batch.as_ptr(), fraction, reg, similarity.raw(), out)
    })
}

/// The per-batch modes of the paper's supplement. `sources` `None`:
/// UniPROT-PB, round(fraction x rows) (at least 1) rows of `batch` as
/// prototypes of the whole batch. `Some(labels)`, one per row (the dataset
/// each example comes from, say): UniPROT-PS, round(fraction x B_q) (at
/// least 1) of the B_q rows of each source q as prototypes of that
/// source's rows. The selection lists batch rows source by source in
/// increasing label order; its value is the sum of the sources' values.
/// [`Update::Solve`] re-solves after every prototype (naive greedy, as the
/// paper); [`Update::Append`] solves nothing (lazy greedy, tens of times
/// faster: [`uniprot_select_batch`] with `sources` `None`).
pub fn uniprot_select_batch_v2(
    ctx: &Context,
    batch: &Dense<'_>,
    sources: Option<&[i64]>,
    fraction: f64,
    reg: f64,
    similarity: Similarity,
    update: Update,
) -> Result<Selection> {
    // The library reads one label per row: only this side knows the length.
    let sources = match sources {
        Some(s) if s.len() != batch.rows() => {
            return Err(Error::invalid(format!(
                "uniprot_select_batch_v2: {} sources for {} rows",
                s.len(),
                batch.rows()
            )))
        }
        Some(s) => s.as_ptr(),
        None => ptr::null(),
    };
    selection(ctx, |out| unsafe {
        sys::subsel_uniprot_select_batch_v2(
            ctx.as_ptr(),
            batch.as_ptr(),
            sources,
            fraction,
            reg,
            similarity.raw(),
            update.raw(),
            out,
        )
    })
}

/// The UniPROT paper's evaluation: every target takes the label of its
/// most similar prototype (rows `prototypes` of `source`); the fraction of
/// targets whose own label that is.
pub fn nn_accuracy(
    ctx: &Context,
    source: &Dense<'_>,
    source_labels: &[i64],
    prototypes: &[i64],
    target: &Dense<'_>,
    target_labels: &[i64],
    similarity: Similarity,
) -> Result<f64> {
    // The library reads one label per row: only this side knows the lengths.
    if source_labels.len() != source.rows() || target_labels.len() != target.rows() {
        return Err(Error::invalid(format!(
            "nn_accuracy: {} source labels for {} rows, {} target labels for {} rows",
            source_labels.len(),
            source.rows(),
            target_labels.len(),
            target.rows()
        )));
    }
    let mut accuracy = 0.0;
    ctx.check(unsafe {
        sys::subsel_nn_accuracy(
            ctx.as_ptr(),
            source.as_ptr(),
            source_labels.as_ptr(),
            prototypes.as_ptr(),
            prototypes.len() as i64,
            target.as_ptr(),
            target_labels.as_ptr(),
            similarity.raw(),
            &mut accuracy,
        )
    })?;
    Ok(accuracy)
}
