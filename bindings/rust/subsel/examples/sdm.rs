// SPDX-License-Identifier: MIT
//! Selects rows of a source matrix whose feature distribution matches a
//! target's, with SDM and lazy greedy: the Rust form of
//! `subsel sdm --source S --target T --budget K --optimizer lazy`.
//!
//!   cargo run --example sdm -- SOURCE.npz TARGET.npz [BUDGET]
//! (without arguments: the fixtures in tests/fixtures/sdm, budget 12)
use std::ops::ControlFlow;
use std::path::PathBuf;

use subsel::{Algorithm, Context, Csr, Optimizer, Sdm};

fn main() -> std::process::ExitCode {
    // Display, not Debug: the library's message as a user should read it.
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sdm: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../tests/fixtures/sdm");
    let mut args = std::env::args().skip(1);
    let source = args.next().map_or(fixtures.join("source.npz"), PathBuf::from);
    let target = args.next().map_or(fixtures.join("target.npz"), PathBuf::from);
    let budget: i64 = args.next().map_or(Ok(12), |b| b.parse())?;

    let mut ctx = Context::new()?;
    // Progress on stderr; returning Break would cancel the selection.
    ctx.set_progress(|stage, done, total| {
        eprint!("\r{stage}: {done}/{total}");
        if done == total {
            eprintln!();
        }
        ControlFlow::Continue(())
    })?;

    let source = Csr::load_npz(&ctx, &source)?;
    let mut sdm = Sdm::new(&ctx, &source)?;
    // The target is read here and not kept: it may be dropped at once.
    sdm.set_target(&ctx, &Csr::load_npz(&ctx, &target)?)?;

    let mut opt = Optimizer::new(&ctx, Algorithm::Lazy)?;
    opt.set_budget(&ctx, budget)?;
    let selection = opt.run(&ctx, &sdm)?;

    println!("selected: {:?}", selection.indices);
    println!(
        "f = {:.6}, evaluations = {}",
        selection.value, selection.evaluations
    );
    println!(
        "KL(target || selection) = {:.6}",
        sdm.kl(&ctx, &selection.indices)?
    );
    Ok(())
}
