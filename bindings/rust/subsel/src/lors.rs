// SPDX-License-Identifier: MIT
//! LoRS, multimodal dataset distillation (`subsel_lors`): image-text pairs
//! distilled into a few synthetic pairs and a learned similarity between
//! them, in the embedding space of frozen encoders (docs/lors.md).
use std::ffi::c_void;
use std::os::raw::c_int;
use std::path::Path;
use std::ptr::{self, NonNull};

use subsel_sys as sys;

use crate::context::Context;
use crate::error::{Error, Result};
use crate::matrix::{dense_npy_shape, path_cstring, Dense};
use crate::param::{self, Value};

/// The coreset baselines of the paper's tables ([`Lors::baseline`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LorsBaseline {
    /// A seeded uniform sample.
    Random,
    /// Greedy farthest-first from a seeded random first pair.
    KCenter,
    /// Welling's herding: each pick brings the chosen pairs' mean closest
    /// to the mean of all pairs.
    Herding,
}

impl LorsBaseline {
    fn raw(self) -> c_int {
        match self {
            LorsBaseline::Random => sys::SUBSEL_LORS_BASELINE_RANDOM,
            LorsBaseline::KCenter => sys::SUBSEL_LORS_BASELINE_KCENTER,
            LorsBaseline::Herding => sys::SUBSEL_LORS_BASELINE_HERDING,
        }
    }
}

/// The distilled pairs, copied out of the handle: `images` is `pairs x
/// image_dim` and `texts` `pairs x text_dim`, row-major.
#[derive(Clone, Debug, PartialEq)]
pub struct LorsSynthetic {
    pub pairs: usize,
    pub image_dim: usize,
    pub text_dim: usize,
    pub images: Vec<f32>,
    pub texts: Vec<f32>,
}

/// Retrieval recalls on held-out pairs, as fractions: `ir*` a text
/// querying the images (`SUBSEL_LORS_IR1` ...), `tr*` an image querying
/// the texts, at 1, 5 and 10.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LorsRecalls {
    pub ir1: f64,
    pub ir5: f64,
    pub ir10: f64,
    pub tr1: f64,
    pub tr5: f64,
    pub tr10: f64,
}

/// A training set of real (or any) pairs for [`Lors::evaluate`], instead
/// of the distilled one: row i of `images` with row i of `texts`, the soft
/// labels `similarity` (rows x rows, row-major; `None`: the identity) and
/// the towers' step sizes (`<= 0`: "expert_lr").
#[derive(Clone, Copy, Debug)]
pub struct LorsTraining<'m> {
    pub images: &'m Dense<'m>,
    pub texts: &'m Dense<'m>,
    pub similarity: Option<&'m [f32]>,
    pub eta_image: f64,
    pub eta_text: f64,
}

impl<'m> LorsTraining<'m> {
    /// The pairs with the identity as similarity and "expert_lr" as steps.
    pub fn pairs(images: &'m Dense<'m>, texts: &'m Dense<'m>) -> LorsTraining<'m> {
        LorsTraining {
            images,
            texts,
            similarity: None,
            eta_image: 0.0,
            eta_text: 0.0,
        }
    }
}

/// A LoRS distiller for image embeddings of `image_dim` columns and text
/// embeddings of `text_dim`: expert trajectories ([`Lors::buffer`]),
/// trajectory matching ([`Lors::distill`]) and evaluation by retrieval
/// ([`Lors::evaluate`]). Parameters by name ("embed_dim", "pairs",
/// "syn_steps", "loss", ...; see [`crate::params`]); those that shape the
/// distilled set fail with `ErrorKind::State` once distillation has
/// started. Its random choices come from the context's seed when it was
/// made. Owns everything it holds; `Send`, not `Sync`: one thread at a
/// time, so the calls that change it take `&mut self`.
///
/// ```compile_fail
/// fn shared<T: Sync>() {}
/// shared::<subsel::Lors>(); // refused: one thread at a time
/// ```
pub struct Lors {
    raw: NonNull<sys::subsel_lors>,
    image_dim: usize,
    text_dim: usize,
}

unsafe impl Send for Lors {}

impl Lors {
    /// A distiller with the default parameters and the context's seed
    /// (read now).
    pub fn new(ctx: &Context, image_dim: usize, text_dim: usize) -> Result<Lors> {
        let mut raw = ptr::null_mut();
        ctx.check(unsafe {
            sys::subsel_lors_create(
                ctx.as_ptr(),
                i64::try_from(image_dim).unwrap_or(i64::MAX),
                i64::try_from(text_dim).unwrap_or(i64::MAX),
                &mut raw,
            )
        })?;
        Ok(Lors::from_raw(raw, image_dim, text_dim))
    }

    /// A distiller from a folder of [`Lors::save`]: the same parameters
    /// and distilled set; distillation continues bit for bit where it
    /// stopped.
    pub fn load(ctx: &Context, dir: impl AsRef<Path>) -> Result<Lors> {
        let dir = dir.as_ref();
        let cdir = path_cstring(dir)?;
        let mut raw = ptr::null_mut();
        ctx.check(unsafe { sys::subsel_lors_load(ctx.as_ptr(), cdir.as_ptr(), &mut raw) })?;
        // The library does not say a handle's dimensions; the saved set's
        // images.npy and texts.npy (pairs x image_dim, pairs x text_dim)
        // do. Dropping the handle on an error frees it.
        let mut l = Lors::from_raw(raw, 0, 0);
        let (rows, image_dim) = dense_npy_shape(ctx, dir.join("images.npy"))?;
        let (text_rows, text_dim) = dense_npy_shape(ctx, dir.join("texts.npy"))?;
        let pairs = l.pairs(ctx)?;
        if rows != pairs || text_rows != pairs {
            return Err(Error::new(
                sys::SUBSEL_E_FORMAT,
                format!(
                    "Lors::load: {} holds {rows} images and {text_rows} texts for {pairs} pairs",
                    dir.display()
                ),
            ));
        }
        l.image_dim = image_dim;
        l.text_dim = text_dim;
        Ok(l)
    }

    fn from_raw(raw: *mut sys::subsel_lors, image_dim: usize, text_dim: usize) -> Lors {
        Lors {
            raw: NonNull::new(raw).expect("OK and NULL"),
            image_dim,
            text_dim,
        }
    }

    pub fn as_ptr(&self) -> *const sys::subsel_lors {
        self.raw.as_ptr()
    }

    /// Columns of the image embeddings.
    pub fn image_dim(&self) -> usize {
        self.image_dim
    }

    /// Columns of the text embeddings.
    pub fn text_dim(&self) -> usize {
        self.text_dim
    }

    /// Sets a parameter by its name in the library's table.
    pub fn set_param(&mut self, ctx: &Context, name: &str, value: impl Into<Value>) -> Result<()> {
        param::set(ctx, self.raw.as_ptr().cast::<c_void>(), name, value.into())
    }

    /// Reads a parameter by name.
    pub fn param(&self, ctx: &Context, name: &str) -> Result<Value> {
        param::get(ctx, self.raw.as_ptr().cast::<c_void>(), name)
    }

    /// Synthetic pairs ("pairs", fixed once distillation has started).
    fn pairs(&self, ctx: &Context) -> Result<usize> {
        match self.param(ctx, "pairs")? {
            Value::Int(n) => Ok(n as usize),
            Value::Real(_) => Err(Error::invalid("parameter \"pairs\" is not an integer")),
        }
    }

    /// Trains "experts" experts (each "buffer_epochs" epochs of SGD with
    /// InfoNCE) on the real pairs, row i of `images` with row i of
    /// `texts`, and writes their trajectories to the folder `dir` (made if
    /// missing). With `log`, one JSON line per expert epoch. Progress:
    /// stage "buffer" (epochs); cancelling keeps the experts finished.
    pub fn buffer(
        &mut self,
        ctx: &Context,
        images: &Dense<'_>,
        texts: &Dense<'_>,
        dir: impl AsRef<Path>,
        log: Option<&Path>,
    ) -> Result<()> {
        let dir = path_cstring(dir.as_ref())?;
        let log = log.map(path_cstring).transpose()?;
        ctx.check(unsafe {
            sys::subsel_lors_buffer(
                ctx.as_ptr(),
                self.raw.as_ptr(),
                images.as_ptr(),
                texts.as_ptr(),
                dir.as_ptr(),
                log.as_ref().map_or(ptr::null(), |c| c.as_ptr()),
            )
        })
    }

    /// Runs `iterations` iterations of trajectory matching on the
    /// trajectories in `buffer_dir`. The first call on a new handle takes
    /// the real pairs `real` (images, texts) to start the synthetic set
    /// from ("init"); later calls, and calls on a loaded handle, continue
    /// and may pass `None`. With `log`, one JSON line per iteration.
    /// Progress: stage "distill" (iterations); cancelling stops between
    /// iterations, and with `ErrorKind::Numeric` the set is as before the
    /// failing iteration.
    pub fn distill(
        &mut self,
        ctx: &Context,
        real: Option<(&Dense<'_>, &Dense<'_>)>,
        buffer_dir: impl AsRef<Path>,
        iterations: usize,
        log: Option<&Path>,
    ) -> Result<()> {
        let dir = path_cstring(buffer_dir.as_ref())?;
        let log = log.map(path_cstring).transpose()?;
        let (images, texts) = real.map_or((ptr::null(), ptr::null()), |(i, t)| (i.as_ptr(), t.as_ptr()));
        ctx.check(unsafe {
            sys::subsel_lors_distill(
                ctx.as_ptr(),
                self.raw.as_ptr(),
                images,
                texts,
                dir.as_ptr(),
                i64::try_from(iterations).unwrap_or(i64::MAX),
                log.as_ref().map_or(ptr::null(), |c| c.as_ptr()),
            )
        })
    }

    /// Iterations done by [`Lors::distill`] (0 before the first).
    pub fn iterations(&self) -> u64 {
        unsafe { sys::subsel_lors_iterations(self.as_ptr()) as u64 }
    }

    /// The matching loss of the last iteration (NaN before the first).
    pub fn last_loss(&self, ctx: &Context) -> Result<f64> {
        let mut loss = 0.0f64;
        ctx.check(unsafe { sys::subsel_lors_last_loss(ctx.as_ptr(), self.as_ptr(), &mut loss) })?;
        Ok(loss)
    }

    /// A copy of the synthetic pairs; `ErrorKind::State` before anything
    /// is distilled or loaded.
    pub fn synthetic(&self, ctx: &Context) -> Result<LorsSynthetic> {
        let pairs = self.pairs(ctx)?;
        let mut images = vec![0f32; pairs * self.image_dim];
        let mut texts = vec![0f32; pairs * self.text_dim];
        ctx.check(unsafe {
            sys::subsel_lors_synthetic(
                ctx.as_ptr(),
                self.as_ptr(),
                images.as_mut_ptr(),
                texts.as_mut_ptr(),
            )
        })?;
        Ok(LorsSynthetic {
            pairs,
            image_dim: self.image_dim,
            text_dim: self.text_dim,
            images,
            texts,
        })
    }

    /// The learned similarity S~, pairs x pairs, row-major (the identity
    /// for "similarity" 0); `ErrorKind::State` before anything is
    /// distilled.
    pub fn similarity(&self, ctx: &Context) -> Result<Vec<f32>> {
        let pairs = self.pairs(ctx)?;
        let mut s = vec![0f32; pairs * pairs];
        ctx.check(unsafe { sys::subsel_lors_similarity(ctx.as_ptr(), self.as_ptr(), s.as_mut_ptr()) })?;
        Ok(s)
    }

    /// The learned step sizes `(eta_image, eta_text)`.
    pub fn eta(&self, ctx: &Context) -> Result<(f64, f64)> {
        let (mut image, mut text) = (0.0f64, 0.0f64);
        ctx.check(unsafe { sys::subsel_lors_eta(ctx.as_ptr(), self.as_ptr(), &mut image, &mut text) })?;
        Ok((image, text))
    }

    /// Writes the distilled set and all that continuing needs to the
    /// folder `dir` (made if missing): images.npy, texts.npy,
    /// similarity.npy, eta.npy and the state [`Lors::load`] reads.
    pub fn save(&self, ctx: &Context, dir: impl AsRef<Path>) -> Result<()> {
        let dir = path_cstring(dir.as_ref())?;
        ctx.check(unsafe { sys::subsel_lors_save(ctx.as_ptr(), self.as_ptr(), dir.as_ptr()) })
    }

    /// Trains fresh towers (seeded; "eval_epochs", "eval_batch", ...) on
    /// `train`, or on the distilled set with its S~ and eta when `None`,
    /// and returns their recalls on the held-out pairs, where text t
    /// belongs to image `text_image[t]` (`None`: text t to image t, the
    /// same row counts).
    pub fn evaluate(
        &self,
        ctx: &Context,
        train: Option<&LorsTraining<'_>>,
        test_images: &Dense<'_>,
        test_texts: &Dense<'_>,
        text_image: Option<&[i64]>,
    ) -> Result<LorsRecalls> {
        if let Some(owners) = text_image {
            if owners.len() != test_texts.rows() {
                return Err(Error::invalid(format!(
                    "Lors::evaluate: text_image holds {} entries for {} texts",
                    owners.len(),
                    test_texts.rows()
                )));
            }
        }
        let (mut images, mut texts, mut similarity) = (ptr::null(), ptr::null(), ptr::null());
        let (mut eta_image, mut eta_text) = (0.0, 0.0);
        if let Some(t) = train {
            if let Some(s) = t.similarity {
                let rows = t.images.rows();
                if Some(s.len()) != rows.checked_mul(rows) {
                    return Err(Error::invalid(format!(
                        "Lors::evaluate: the similarity holds {} values for {rows} x {rows} pairs",
                        s.len()
                    )));
                }
                similarity = s.as_ptr();
            }
            images = t.images.as_ptr();
            texts = t.texts.as_ptr();
            eta_image = t.eta_image;
            eta_text = t.eta_text;
        }
        let mut r = [0.0f64; sys::SUBSEL_LORS_RECALLS as usize];
        ctx.check(unsafe {
            sys::subsel_lors_evaluate(
                ctx.as_ptr(),
                self.as_ptr(),
                images,
                texts,
                similarity,
                eta_image,
                eta_text,
                test_images.as_ptr(),
                test_texts.as_ptr(),
                text_image.map_or(ptr::null(), <[i64]>::as_ptr),
                r.as_mut_ptr(),
            )
        })?;
        Ok(LorsRecalls {
            ir1: r[sys::SUBSEL_LORS_IR1 as usize],
            ir5: r[sys::SUBSEL_LORS_IR5 as usize],
            ir10: r[sys::SUBSEL_LORS_IR10 as usize],
            tr1: r[sys::SUBSEL_LORS_TR1 as usize],
            tr5: r[sys::SUBSEL_LORS_TR5 as usize],
            tr10: r[sys::SUBSEL_LORS_TR10 as usize],
        })
    }

    /// `count` of the real pairs chosen by a coreset baseline, in the
    /// order chosen (each pair described by its unit-length image and text
    /// embeddings side by side; ties to the lowest index).
    pub fn baseline(
        &self,
        ctx: &Context,
        method: LorsBaseline,
        images: &Dense<'_>,
        texts: &Dense<'_>,
        count: usize,
    ) -> Result<Vec<i64>> {
        // Larger than the pairs is the library's error, before it writes.
        let mut indices = vec![0i64; count.min(images.rows())];
        ctx.check(unsafe {
            sys::subsel_lors_baseline(
                ctx.as_ptr(),
                self.as_ptr(),
                method.raw(),
                images.as_ptr(),
                texts.as_ptr(),
                i64::try_from(count).unwrap_or(i64::MAX),
                indices.as_mut_ptr(),
            )
        })?;
        Ok(indices)
    }
}

impl Drop for Lors {
    fn drop(&mut self) {
        unsafe { sys::subsel_lors_free(self.raw.as_ptr()) }
    }
}

impl std::fmt::Debug for Lors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Lors({} x {}, {} iterations)",
            self.image_dim,
            self.text_dim,
            self.iterations()
        )
    }
}
