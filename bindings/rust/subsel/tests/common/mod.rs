// SPDX-License-Identifier: MIT
// Helpers shared by the integration tests: fixture paths, tolerances, a
// reader of 2-D float64 .npy files (cost matrices and plans), which the
// library's vector readers do not cover, temporary folders and a fixed
// random stream for generated data.
#![allow(dead_code)]
use std::path::PathBuf;

/// A file under tests/fixtures (the C and CLI tests' reference data).
pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../tests/fixtures")
        .join(name)
}

/// A file under tests/data (the CLI tests' inputs).
pub fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../tests/data")
        .join(name)
}

pub fn assert_all_close(got: &[f64], want: &[f64], atol: f64) {
    assert_eq!(got.len(), want.len());
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= atol, "element {i}: {g} != {w} (atol {atol})");
    }
}

/// A little-endian float64 C-order .npy: (shape, values).
pub fn npy_f64(path: PathBuf) -> (Vec<usize>, Vec<f64>) {
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(&bytes[..6], b"\x93NUMPY", "{}", path.display());
    let (start, len) = match bytes[6] {
        1 => (10, u16::from_le_bytes([bytes[8], bytes[9]]) as usize),
        _ => (
            12,
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
        ),
    };
    let header = std::str::from_utf8(&bytes[start..start + len]).unwrap();
    assert!(
        header.contains("'<f8'") && header.contains("'fortran_order': False"),
        "{header}"
    );
    let shape = header
        .split("'shape': (")
        .nth(1)
        .unwrap()
        .split(')')
        .next()
        .unwrap();
    let shape: Vec<usize> = shape
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect();
    let values = bytes[start + len..]
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
        .collect::<Vec<_>>();
    assert_eq!(values.len(), shape.iter().product::<usize>());
    (shape, values)
}

/// A folder of its own under the system's temporary folder
/// (subsel-rust-NAME-PID), removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("subsel-rust-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// xorshift64*: a fixed stream, so the data are the same on every run.
pub struct Rng(pub u64);

impl Rng {
    /// The stream of `seed` (any value, 0 included).
    pub fn seeded(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    /// Standard normal (Box-Muller).
    pub fn normal(&mut self) -> f64 {
        let u = 1.0 - self.uniform(); // in (0, 1]
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * self.uniform()).cos()
    }
}

/// The leak check: the smallest "memory_limit" one `round` fits in on a
/// fresh one-thread context (to `step` bytes, by bisection), then `rounds`
/// rounds on one context under it plus `slack`. Whatever a round leaves
/// behind in the library accumulates and fails with NoMemory. Returns the
/// limit one round fits in.
pub fn assert_rounds_keep_nothing(
    round: impl Fn(&subsel::Context) -> subsel::Result<()>,
    step: i64,
    slack: i64,
    rounds: usize,
) -> i64 {
    let fits = |limit: i64, rounds: usize| -> subsel::Result<()> {
        let mut ctx = subsel::Context::new()?;
        ctx.set_threads(1)?;
        ctx.set_param("memory_limit", limit)?;
        for _ in 0..rounds {
            round(&ctx)?;
        }
        Ok(())
    };
    let (mut lo, mut hi) = (0i64, 64 << 20);
    fits(hi, 1).unwrap();
    while hi - lo > step {
        let mid = (lo + hi) / 2;
        match fits(mid, 1) {
            Ok(()) => hi = mid,
            Err(e) if e.kind() == subsel::ErrorKind::NoMemory => lo = mid,
            Err(e) => panic!("{e}"),
        }
    }
    if let Err(e) = fits(hi + slack, rounds) {
        panic!("one round fits in {hi} bytes, {rounds} rounds do not fit in {slack} bytes more: {e}");
    }
    hi
}
