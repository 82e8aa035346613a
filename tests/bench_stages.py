# SPDX-License-Identifier: MIT
"""Every benchmark reports where its time went: each program given runs on
a tiny problem (SUBSEL_BENCH_SCALE), and every line it prints must be a JSON
object with a "stages" object of named, nonnegative seconds, at least one
line of each program naming a stage. (The Python benchmarks share
bench/stages.py; this checks the C programs, which `./run bench` runs.)

    python3 tests/bench_stages.py BENCH_PROGRAM...
"""
import json
import math
import os
import shutil
import subprocess
import sys

# Problem sizes small enough to run in seconds, large enough to be valid
# (bench_sae_train needs a batch of 128 rows: 4096 x 0.05).
SCALE = {"bench_sae_train": "0.05"}


def check(program: str) -> list:
    name = os.path.basename(program)
    cmd = [program]
    if "mpi" in name:
        mpirun = shutil.which("mpirun")
        if mpirun is None:
            return [f"{name}: no mpirun to run it under"]
        cmd = [mpirun, "--oversubscribe", "--allow-run-as-root", "-np", "2", program]
    env = dict(os.environ, SUBSEL_BENCH_SCALE=SCALE.get(name, "0.01"),
               OMPI_MCA_rmaps_base_oversubscribe="1")
    run = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    if run.returncode != 0:
        return [f"{name}: exit {run.returncode}: {run.stderr[-2000:]}"]
    errors, named = [], 0
    lines = run.stdout.splitlines()
    if not lines:
        errors.append(f"{name}: printed nothing")
    for line in lines:
        try:
            obj = json.loads(line)
        except ValueError:
            errors.append(f"{name}: not JSON: {line}")
            continue
        stages = obj.get("stages") if isinstance(obj, dict) else None
        if not isinstance(stages, dict):
            errors.append(f"{name}: no stages: {line}")
            continue
        for stage, seconds in stages.items():
            if not stage or not isinstance(seconds, (int, float)) or \
                    not math.isfinite(seconds) or seconds < 0:
                errors.append(f"{name}: stage {stage!r}: {seconds!r}")
        named += bool(stages)
    if lines and not named:
        errors.append(f"{name}: no line names a stage")
    return errors


def main() -> int:
    errors = []
    for program in sys.argv[1:]:
        errors += check(program)
    for e in errors:
        print(e, file=sys.stderr)
    print(f"{len(sys.argv) - 1} benchmarks, {len(errors)} problems")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
