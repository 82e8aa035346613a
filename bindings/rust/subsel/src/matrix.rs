// SPDX-License-Identifier: MIT
//! Matrices: CSR (`Csr`) and dense (`Dense`), either borrowing the caller's
//! slices without a copy (`Csr<'a>` lives no longer than the slices; so
//! does every objective made from it) or owning a copy (`'static`).
use std::ffi::{c_void, CString};
use std::marker::PhantomData;
use std::os::raw::c_int;
use std::path::Path;
use std::ptr::{self, NonNull};
use std::slice;

use subsel_sys as sys;

use crate::context::Context;
use crate::error::{check_thread, Error, Result};

mod sealed {
    pub trait Sealed {}
    impl Sealed for i32 {}
    impl Sealed for i64 {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
    impl Sealed for super::F16 {}
}

/// Integer types of CSR index arrays: `i32` and `i64` (as SciPy holds them).
pub trait Index: sealed::Sealed + Copy {
    #[doc(hidden)]
    const DTYPE: c_int;
    #[doc(hidden)]
    fn to_i64(self) -> i64;
}
impl Index for i32 {
    const DTYPE: c_int = sys::SUBSEL_DTYPE_INT32;
    fn to_i64(self) -> i64 {
        self.into()
    }
}
impl Index for i64 {
    const DTYPE: c_int = sys::SUBSEL_DTYPE_INT64;
    fn to_i64(self) -> i64 {
        self
    }
}

/// Element types of values: `f32` is borrowed as it is, `f64` and [`F16`]
/// converted once to a float32 array the matrix owns.
pub trait Element: sealed::Sealed + Copy {
    #[doc(hidden)]
    const DTYPE: c_int;
}
impl Element for f32 {
    const DTYPE: c_int = sys::SUBSEL_DTYPE_FLOAT32;
}
impl Element for f64 {
    const DTYPE: c_int = sys::SUBSEL_DTYPE_FLOAT64;
}

/// An IEEE half-precision value by its bits (Rust has no stable `f16`):
/// values of this type are converted once to float32 by the library.
/// `#[repr(transparent)]`, so [`F16::from_bits_slice`] views a `&[u16]`
/// (bits from a file, another crate's f16) without a copy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[repr(transparent)]
pub struct F16(pub u16);

impl F16 {
    /// Views half-precision bits as `F16` values, without a copy.
    pub fn from_bits_slice(bits: &[u16]) -> &[F16] {
        // SAFETY: F16 is repr(transparent) over u16: same size, alignment
        // and validity.
        unsafe { slice::from_raw_parts(bits.as_ptr().cast::<F16>(), bits.len()) }
    }
}

impl Element for F16 {
    const DTYPE: c_int = sys::SUBSEL_DTYPE_FLOAT16;
}

pub(crate) fn path_cstring(path: &Path) -> Result<CString> {
    use std::os::unix::ffi::OsStrExt;
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| Error::invalid(format!("path {} holds a NUL byte", path.display())))
}

fn len_i64(n: usize) -> i64 {
    // Slices never hold more than isize::MAX elements.
    n as i64
}

/// A CSR matrix (`subsel_csr`). Immutable: `Send` and `Sync` (the library
/// lets many threads read a matrix at once). `'a` is the lifetime of the
/// borrowed slices (`'static` for copies and loaded files).
pub struct Csr<'a> {
    raw: NonNull<sys::subsel_csr>,
    _borrow: PhantomData<&'a [u8]>,
}

unsafe impl Send for Csr<'_> {}
unsafe impl Sync for Csr<'_> {}

/// The entries of one row, pointing into the matrix (or the borrowed slices).
#[derive(Debug)]
pub struct CsrRow<'m> {
    /// Column indices, in the matrix's index width.
    pub indices: RowIndices<'m>,
    pub values: &'m [f32],
}

/// Column indices of a row, in the width the matrix holds them.
#[derive(Debug)]
pub enum RowIndices<'m> {
    I32(&'m [i32]),
    I64(&'m [i64]),
}

impl<'a> Csr<'a> {
    fn create<I: Index, V: Element>(
        ctx: &Context,
        cols: usize,
        indptr: &[I],
        indices: &[I],
        values: &[V],
        flags: c_int,
    ) -> Result<Self> {
        // The library reads indptr[rows] entries of indices and values: the
        // slices must hold them, which only this side can know.
        let last = match indptr.last() {
            Some(last) => last,
            None => return Err(Error::invalid("Csr: indptr is empty (it holds rows + 1 offsets)")),
        };
        let nnz = last.to_i64();
        if nnz < 0 || nnz != len_i64(indices.len()) || nnz != len_i64(values.len()) {
            return Err(Error::invalid(format!(
                "Csr: indptr ends at {nnz} but indices hold {} and values {} entries",
                indices.len(),
                values.len()
            )));
        }
        let rows = len_i64(indptr.len() - 1);
        let mut raw = ptr::null_mut();
        let status = unsafe {
            sys::subsel_csr_create_v2(
                ctx.as_ptr(),
                rows,
                len_i64(cols),
                indptr.as_ptr().cast::<c_void>(),
                indices.as_ptr().cast::<c_void>(),
                I::DTYPE,
                values.as_ptr().cast::<c_void>(),
                V::DTYPE,
                flags,
                &mut raw,
            )
        };
        ctx.check(status)?;
        Ok(Self::wrap(raw))
    }

    /// The handle of a matrix the library just made (the constructor
    /// returned OK, so `raw` is not NULL).
    fn wrap(raw: *mut sys::subsel_csr) -> Self {
        Csr {
            raw: NonNull::new(raw).expect("OK and NULL"),
            _borrow: PhantomData,
        }
    }

    /// A `(indptr.len() - 1) x cols` matrix over the caller's arrays as they
    /// are (SUBSEL_OWN_BORROW): no copy of the index arrays nor of `f32`
    /// values (`f64` values are converted once). The slices stay borrowed
    /// for as long as the matrix or anything made from it lives.
    pub fn borrowed<I: Index, V: Element>(
        ctx: &Context,
        cols: usize,
        indptr: &'a [I],
        indices: &'a [I],
        values: &'a [V],
    ) -> Result<Csr<'a>> {
        Self::create(ctx, cols, indptr, indices, values, sys::SUBSEL_OWN_BORROW)
    }

    /// Pointer to the matrix's `subsel_csr`, for calls through `subsel-sys`.
    pub fn as_ptr(&self) -> *const sys::subsel_csr {
        self.raw.as_ptr()
    }

    pub fn rows(&self) -> usize {
        unsafe { sys::subsel_csr_rows(self.raw.as_ptr()) as usize }
    }
    pub fn cols(&self) -> usize {
        unsafe { sys::subsel_csr_cols(self.raw.as_ptr()) as usize }
    }
    pub fn nnz(&self) -> usize {
        unsafe { sys::subsel_csr_nnz(self.raw.as_ptr()) as usize }
    }

    /// Rows `first .. first + count` as a matrix of their own, without a
    /// copy (`subsel_csr_view_rows`): the view keeps this matrix alive in
    /// the library, and `'a` still ties it to the slices it borrows. Made
    /// for the parts of a pool split by rows (see [`crate::Summary`]).
    pub fn view_rows(&self, ctx: &Context, first: usize, count: usize) -> Result<Csr<'a>> {
        let mut raw = ptr::null_mut();
        ctx.check(unsafe {
            sys::subsel_csr_view_rows(
                ctx.as_ptr(),
                self.as_ptr(),
                len_i64(first),
                len_i64(count),
                &mut raw,
            )
        })?;
        Ok(Self::wrap(raw))
    }

    /// Row `row`'s entries, in place (no copy).
    pub fn row(&self, row: usize) -> Result<CsrRow<'_>> {
        let (mut indices, mut values, mut count) = (ptr::null(), ptr::null(), 0);
        check_thread(unsafe {
            sys::subsel_csr_row_v2(
                self.raw.as_ptr(),
                len_i64(row),
                &mut indices,
                &mut values,
                &mut count,
            )
        })?;
        let n = count as usize;
        // Empty rows may give NULL pointers, which slices may not hold.
        unsafe fn part<'m, T>(p: *const T, n: usize) -> &'m [T] {
            if n == 0 {
                &[]
            } else {
                slice::from_raw_parts(p, n)
            }
        }
        let wide = unsafe { sys::subsel_csr_index_type(self.raw.as_ptr()) } == sys::SUBSEL_DTYPE_INT64;
        unsafe {
            Ok(CsrRow {
                indices: if wide {
                    RowIndices::I64(part(indices.cast::<i64>(), n))
                } else {
                    RowIndices::I32(part(indices.cast::<i32>(), n))
                },
                values: part(values, n),
            })
        }
    }
}

impl Csr<'static> {
    /// A matrix holding copies of the arrays (SUBSEL_OWN_COPY).
    pub fn copied<I: Index, V: Element>(
        ctx: &Context,
        cols: usize,
        indptr: &[I],
        indices: &[I],
        values: &[V],
    ) -> Result<Csr<'static>> {
        Self::create(ctx, cols, indptr, indices, values, sys::SUBSEL_OWN_COPY)
    }

    /// Reads a SciPy `save_npz` file (compressed or not).
    pub fn load_npz(ctx: &Context, path: impl AsRef<Path>) -> Result<Csr<'static>> {
        let path = path_cstring(path.as_ref())?;
        let mut raw = ptr::null_mut();
        ctx.check(unsafe { sys::subsel_csr_load_npz(ctx.as_ptr(), path.as_ptr(), &mut raw) })?;
        Ok(Csr::from_raw(raw))
    }

    /// Wraps a matrix the library made and owns (loaded, encoded).
    pub(crate) fn from_raw(raw: *mut sys::subsel_csr) -> Csr<'static> {
        Csr::wrap(raw)
    }
}

impl Drop for Csr<'_> {
    fn drop(&mut self) {
        // Drops this reference only: objectives made from it keep theirs.
        unsafe { sys::subsel_csr_free(self.raw.as_ptr()) }
    }
}

impl std::fmt::Debug for Csr<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Csr({} x {}, {} entries)",
            self.rows(),
            self.cols(),
            self.nnz()
        )
    }
}

/// A dense row-major float32 matrix (`subsel_dense`), possibly with rows a
/// stride apart. Immutable: `Send` and `Sync`. `'a` as for [`Csr`].
pub struct Dense<'a> {
    raw: NonNull<sys::subsel_dense>,
    _borrow: PhantomData<&'a [u8]>,
}

unsafe impl Send for Dense<'_> {}
unsafe impl Sync for Dense<'_> {}

impl<'a> Dense<'a> {
    fn create<V: Element>(
        ctx: &Context,
        rows: usize,
        cols: usize,
        data: &[V],
        row_stride: usize,
        flags: c_int,
    ) -> Result<Self> {
        let stride = if row_stride == 0 { cols } else { row_stride };
        // The library reads rows - 1 strides plus one row: check the slice.
        let needed = if rows == 0 || cols == 0 {
            0
        } else {
            (rows - 1)
                .checked_mul(stride)
                .and_then(|n| n.checked_add(cols))
                .unwrap_or(usize::MAX)
        };
        if stride < cols || data.len() < needed {
            return Err(Error::invalid(format!(
                "Dense: {rows} x {cols} with a row stride of {stride} needs {needed} elements, the slice holds {}",
                data.len()
            )));
        }
        let mut raw = ptr::null_mut();
        let status = unsafe {
            sys::subsel_dense_create_v2(
                ctx.as_ptr(),
                len_i64(rows),
                len_i64(cols),
                data.as_ptr().cast::<c_void>(),
                V::DTYPE,
                len_i64(row_stride),
                flags,
                &mut raw,
            )
        };
        ctx.check(status)?;
        Ok(Self::wrap(raw))
    }

    /// The handle of a matrix the library just made (the constructor
    /// returned OK, so `raw` is not NULL).
    fn wrap(raw: *mut sys::subsel_dense) -> Self {
        Dense {
            raw: NonNull::new(raw).expect("OK and NULL"),
            _borrow: PhantomData,
        }
    }

    /// A `rows x cols` matrix over `data` where it is (row r starts at
    /// `r * row_stride`; 0 for packed rows): `f32` is not copied, `f64`
    /// converted once.
    pub fn borrowed<V: Element>(
        ctx: &Context,
        rows: usize,
        cols: usize,
        data: &'a [V],
        row_stride: usize,
    ) -> Result<Dense<'a>> {
        Self::create(ctx, rows, cols, data, row_stride, sys::SUBSEL_OWN_BORROW)
    }

    pub fn as_ptr(&self) -> *const sys::subsel_dense {
        self.raw.as_ptr()
    }
    pub fn rows(&self) -> usize {
        unsafe { sys::subsel_dense_rows(self.raw.as_ptr()) as usize }
    }
    pub fn cols(&self) -> usize {
        unsafe { sys::subsel_dense_cols(self.raw.as_ptr()) as usize }
    }
    /// Elements from one row's start to the next's.
    pub fn stride(&self) -> usize {
        unsafe { sys::subsel_dense_stride(self.raw.as_ptr()) as usize }
    }
    /// Where row 0 starts (the caller's memory when borrowed).
    pub fn data_ptr(&self) -> *const f32 {
        unsafe { sys::subsel_dense_data(self.raw.as_ptr()) }
    }
    /// Row `row`, in place; `None` when out of range.
    pub fn row(&self, row: usize) -> Option<&[f32]> {
        let p = unsafe { sys::subsel_dense_row(self.raw.as_ptr(), len_i64(row)) };
        if p.is_null() {
            None
        } else if self.cols() == 0 {
            Some(&[])
        } else {
            Some(unsafe { slice::from_raw_parts(p, self.cols()) })
        }
    }
}

impl Dense<'static> {
    /// A packed `rows x cols` matrix holding a float32 copy of `data`.
    pub fn copied<V: Element>(ctx: &Context, rows: usize, cols: usize, data: &[V]) -> Result<Dense<'static>> {
        Self::create(ctx, rows, cols, data, 0, sys::SUBSEL_OWN_COPY)
    }

    /// Reads a 2-D `.npy` file.
    pub fn load_npy(ctx: &Context, path: impl AsRef<Path>) -> Result<Dense<'static>> {
        let path = path_cstring(path.as_ref())?;
        let mut raw = ptr::null_mut();
        ctx.check(unsafe { sys::subsel_dense_load_npy(ctx.as_ptr(), path.as_ptr(), &mut raw) })?;
        Ok(Dense::wrap(raw))
    }

    /// Wraps a matrix the library made and owns (a trainer's decoder).
    pub(crate) fn from_raw(raw: *mut sys::subsel_dense) -> Dense<'static> {
        Dense::wrap(raw)
    }
}

impl Dense<'_> {
    /// Writes the matrix as a 2-D float32 `.npy` file (what
    /// [`crate::SaeTrainer::fit`] reads).
    pub fn save_npy(&self, ctx: &Context, path: impl AsRef<Path>) -> Result<()> {
        let path = path_cstring(path.as_ref())?;
        ctx.check(unsafe { sys::subsel_dense_save_npy(ctx.as_ptr(), self.as_ptr(), path.as_ptr()) })
    }
}

/// The (rows, columns) of a 2-D `.npy` file, read from its header without
/// loading it (`subsel_dense_npy_shape`): a trainer's inputs, or the rows
/// of a shard.
pub fn dense_npy_shape(ctx: &Context, path: impl AsRef<Path>) -> Result<(usize, usize)> {
    let path = path_cstring(path.as_ref())?;
    let (mut rows, mut cols) = (0i64, 0i64);
    ctx.check(unsafe { sys::subsel_dense_npy_shape(ctx.as_ptr(), path.as_ptr(), &mut rows, &mut cols) })?;
    Ok((rows as usize, cols as usize))
}

impl Drop for Dense<'_> {
    fn drop(&mut self) {
        unsafe { sys::subsel_dense_free(self.raw.as_ptr()) }
    }
}

impl std::fmt::Debug for Dense<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Dense({} x {}, stride {})",
            self.rows(),
            self.cols(),
            self.stride()
        )
    }
}

/// Reads a 1-D `.npy` of float64 (or a type NumPy would cast safely).
pub fn read_npy_f64(ctx: &Context, path: impl AsRef<Path>) -> Result<Vec<f64>> {
    let path = path_cstring(path.as_ref())?;
    let (mut values, mut count) = (ptr::null_mut(), 0);
    ctx.check(unsafe { sys::subsel_npy_load_f64(ctx.as_ptr(), path.as_ptr(), &mut values, &mut count) })?;
    let out = if count == 0 {
        Vec::new()
    } else {
        unsafe { slice::from_raw_parts(values, count as usize) }.to_vec()
    };
    unsafe { sys::subsel_array_free(values.cast::<c_void>()) };
    Ok(out)
}

/// Reads a 1-D `.npy` of int64 (or a narrower integer type).
pub fn read_npy_i64(ctx: &Context, path: impl AsRef<Path>) -> Result<Vec<i64>> {
    let path = path_cstring(path.as_ref())?;
    let (mut values, mut count) = (ptr::null_mut(), 0);
    ctx.check(unsafe { sys::subsel_npy_load_i64(ctx.as_ptr(), path.as_ptr(), &mut values, &mut count) })?;
    let out = if count == 0 {
        Vec::new()
    } else {
        unsafe { slice::from_raw_parts(values, count as usize) }.to_vec()
    };
    unsafe { sys::subsel_array_free(values.cast::<c_void>()) };
    Ok(out)
}
