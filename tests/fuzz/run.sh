#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs every file-parser fuzzer of a -Dfuzz=true build for a fixed time:
#
#   tests/fuzz/run.sh BUILDDIR SECONDS
#
# Each fuzzer starts from a corpus in tests/fuzz/corpus-<name>/ (kept
# between runs, ignored by git), seeded with the fixtures and the files of
# tests/data (valid and malformed). Prints one line per fuzzer, "PASS <name>:
# ..." or "FAIL <name>: ...", and exits 1 if any fuzzer found a crash, a
# leak, a timeout or ran out of memory; the input that did it is saved in
# BUILDDIR/fuzz-artifacts/ and the log in BUILDDIR/fuzz-<name>.log.
set -u

if [ $# -ne 2 ]; then
    echo "usage: $0 BUILDDIR SECONDS" >&2
    exit 2
fi
builddir=$(cd "$1" && pwd) || exit 2
seconds=$2
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
status=0

# Copies every *.EXT under the test folders into the corpus, under names
# made from their paths (many fixtures share a base name).
seed() {
    local ext=$1 corpus=$2 f rel
    while IFS= read -r -d '' f; do
        rel=${f#"$root"/tests/}
        cp "$f" "$corpus/seed-${rel//\//_}"
    done < <(find "$root/tests/fixtures" "$root/tests/data" -name "*.$ext" -print0)
}

# Runs one fuzzer; prints its PASS/FAIL line and returns 1 when it failed.
run_one() {
    local name=$1 ext=$2 max_len=$3
    local exe="$builddir/tests/fuzz/$name"
    local corpus="$here/corpus-$ext" log="$builddir/fuzz-$name.log"
    local artifacts="$builddir/fuzz-artifacts/$name/" rc runs
    if [ ! -x "$exe" ]; then
        echo "FAIL $name: $exe is not built"
        return 1
    fi
    mkdir -p "$corpus" "$artifacts"
    seed "$ext" "$corpus"
    "$exe" -max_total_time="$seconds" -rss_limit_mb=2048 -max_len="$max_len" \
        -timeout=30 -dict="$here/$ext.dict" -artifact_prefix="$artifacts" \
        -print_final_stats=1 "$corpus" >"$log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    if [ "$rc" -eq 0 ]; then
        echo "PASS $name: ${runs:-?} runs in ${seconds} s, corpus of $(find "$corpus" -type f | wc -l) inputs"
    else
        echo "FAIL $name: exit $rc after ${runs:-?} runs; see $log and $artifacts"
        tail -n 40 "$log" >&2
        return 1
    fi
}

# The fuzzers run side by side, one per core (each has its own corpus), so
# every one still gets SECONDS of a core; their lines print in this order.
fuzzers=("fuzz_npy npy 65536" "fuzz_npz npz 65536" "fuzz_summary sss 65536")
cores=$(nproc)
pids=()
for spec in "${fuzzers[@]}"; do
    while [ "$(jobs -rp | wc -l)" -ge "$cores" ]; do
        wait -n
    done
    set -- $spec
    run_one "$@" >"$builddir/fuzz-$1.result" &
    pids+=($!)
done
for i in "${!fuzzers[@]}"; do
    set -- ${fuzzers[$i]}
    wait "${pids[$i]}" || status=1
    cat "$builddir/fuzz-$1.result"
done
exit "$status"
