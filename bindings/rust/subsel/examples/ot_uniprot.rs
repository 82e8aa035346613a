// SPDX-License-Identifier: MIT
//! Optimal transport and UniPROT between two point clouds (2-D .npy):
//!   cargo run --offline --example ot_uniprot -- source.npy target.npy 8
//! e.g. with tests/data/uniprot/source.npy and target.npy.
use subsel::{Algorithm, Context, Costs, Dense, Metric, Optimizer, OtSolver, Similarity, UniProt};

fn main() -> subsel::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 4 {
        eprintln!("usage: {} SOURCE.npy TARGET.npy K", args[0]);
        std::process::exit(2);
    }
    let k: usize = args[3].parse().expect("K: a positive integer");
    let ctx = Context::new()?;
    let x = Dense::load_npy(&ctx, &args[1])?;
    let y = Dense::load_npy(&ctx, &args[2])?;

    // Balanced OT between the clouds: the plan as a Vec, row-major.
    let mut solver = OtSolver::new(&ctx)?;
    solver.set_param(&ctx, "anneal", 1)?; // follows reg down from the cost range
    let costs = Costs::Points {
        x: &x,
        y: &y,
        metric: Metric::SqEuclidean,
    };
    let t = solver.sinkhorn(&ctx, None, None, costs, 0.05)?;
    println!(
        "OT cost {} after {} iterations ({} x {} plan)",
        t.value, t.iterations, t.rows, t.cols
    );

    // k UniPROT prototypes of the rows of x covering the rows of y.
    let f = UniProt::from_features(&ctx, &x, &y, Similarity::Cosine, k, 0.05)?;
    let mut opt = Optimizer::new(&ctx, Algorithm::Naive)?;
    opt.set_budget(&ctx, k as i64)?;
    opt.set_param(&ctx, "stop_nonpositive", 0)?; // as the CLI: to the budget
    let prototypes = opt.run(&ctx, &f)?;
    let (plan, value) = f.plan(&ctx, &prototypes.indices)?;
    println!(
        "prototypes {:?}, f = {value}, plan of {} values",
        prototypes.indices,
        plan.len()
    );
    Ok(())
}
