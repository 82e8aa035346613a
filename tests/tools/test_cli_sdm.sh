#!/bin/sh
# SPDX-License-Identifier: MIT
# The subsel program end to end: info, fb and sdm on the reference fixtures
# (the selections must equal the fixtures' greedy orders), and the errors a
# user sees for bad arguments and files. Usage: test_cli_sdm.sh SUBSEL FIXTURES
set -u
subsel=$1 fixtures=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
check() { # check DESCRIPTION COMMAND...: the command must succeed
    desc=$1; shift
    if ! "$@" >"$tmp/out" 2>"$tmp/err"; then
        echo "FAIL: $desc"; cat "$tmp/err"; fail=1
    fi
}
expect_exit() { # expect_exit CODE DESCRIPTION COMMAND...
    code=$1 desc=$2; shift 2
    "$@" >"$tmp/out" 2>"$tmp/err"
    got=$?
    if [ "$got" -ne "$code" ]; then
        echo "FAIL: $desc: exit $got, wanted $code"; cat "$tmp/err"; fail=1
    elif [ "$code" -ne 0 ] && [ "$(wc -l < "$tmp/err")" -ne 1 ]; then
        echo "FAIL: $desc: wanted one line on stderr, got:"; cat "$tmp/err"; fail=1
    fi
}
same_int64s() { # same_int64s A.npy B.npy N: the last N int64 values agree
    bytes=$(($3 * 8))
    if [ "$(tail -c "$bytes" "$1" | od -An -tx1)" != "$(tail -c "$bytes" "$2" | od -An -tx1)" ]; then
        echo "FAIL: $1 differs from $2"; fail=1
    fi
}
contains() { # contains FILE TEXT
    grep -q -- "$2" "$1" || { echo "FAIL: '$2' not in $(cat "$1")"; fail=1; }
}

check "help" "$subsel" --help
check "info" "$subsel" info
contains "$tmp/out" '"selected": "'
SUBSEL_ISA=bogus "$subsel" info >"$tmp/out" 2>"$tmp/err" || { echo "FAIL: info with a bad SUBSEL_ISA"; fail=1; }
contains "$tmp/err" "ignored"
SUBSEL_ISA=scalar "$subsel" info >"$tmp/out" 2>&1
contains "$tmp/out" '"selected": "scalar"'

for concave in log1p sqrt; do
    check "fb $concave" "$subsel" fb --features "$fixtures/fb/Z.npz" --weights "$fixtures/fb/w.npy" \
        --concave $concave --budget 12 --optimizer naive --out "$tmp/fb.npy"
    same_int64s "$tmp/fb.npy" "$fixtures/fb/order_$concave.npy" 12
    contains "$tmp/out" '"selected": 12'
done
check "sdm" "$subsel" sdm --source "$fixtures/sdm/source.npz" --target "$fixtures/sdm/target.npz" \
    --quality "$fixtures/sdm/quality.npy" --bins 3 --bin-weights 0,0.01,0.99 --lambda 0.7 \
    --budget 12 --optimizer lazy --out "$tmp/sdm.npy"
same_int64s "$tmp/sdm.npy" "$fixtures/sdm/order.npy" 12
contains "$tmp/out" '"kl": "inf"'
check "sdm from a distribution, 3 intersected runs" "$subsel" sdm \
    --source "$fixtures/sdm/source_uncompressed.npz" --target-dist "$fixtures/sdm/p_target.npy" \
    --budget 20 --optimizer lazier --runs 3 --seed 5 --threads 2 --out "$tmp/runs.npy"
contains "$tmp/out" '"runs": 3'

expect_exit 2 "missing --budget" "$subsel" fb --features "$fixtures/fb/Z.npz" --out "$tmp/x.npy"
expect_exit 2 "unknown option" "$subsel" fb --bogus 1
expect_exit 2 "bad number" "$subsel" fb --features "$fixtures/fb/Z.npz" --budget ten --out "$tmp/x.npy"
expect_exit 1 "missing file" "$subsel" fb --features "$tmp/none.npz" --budget 3 --out "$tmp/x.npy"
expect_exit 1 "budget above the pool" "$subsel" fb --features "$fixtures/fb/Z.npz" --budget 1000 --out "$tmp/x.npy"
expect_exit 1 "unknown concave" "$subsel" fb --features "$fixtures/fb/Z.npz" --concave cube --budget 3 --out "$tmp/x.npy"
expect_exit 1 "both targets" "$subsel" sdm --source "$fixtures/sdm/source.npz" --target "$fixtures/sdm/target.npz" \
    --target-dist "$fixtures/sdm/p_target.npy" --budget 3 --out "$tmp/x.npy"
expect_exit 1 "bad bin weights" "$subsel" sdm --source "$fixtures/sdm/source.npz" --target "$fixtures/sdm/target.npz" \
    --quality "$fixtures/sdm/quality.npy" --bin-weights 1,2 --budget 3 --out "$tmp/x.npy"
expect_exit 1 "lambda out of range" "$subsel" sdm --source "$fixtures/sdm/source.npz" --target "$fixtures/sdm/target.npz" \
    --lambda 2 --budget 3 --out "$tmp/x.npy"
expect_exit 1 "unwritable output" "$subsel" fb --features "$fixtures/fb/Z.npz" --budget 3 --out "$tmp/no/such/dir/x.npy"
exit $fail
