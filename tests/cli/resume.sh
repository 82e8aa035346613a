#!/bin/sh
# SPDX-License-Identifier: MIT
# Warm starts and resumed selections (issue 16), on tests/data/sparse_pool:
# for naive, lazy, stochastic and lazier greedy, a selection stopped twice
# (--stop-after, with --checkpoint written every 25 items and on stopping;
# exit 130) and resumed (--resume) writes the same .npy, byte for byte, as
# the uninterrupted run; for naive and lazy, --initial with the first items
# of the greedy selection continues to that selection; mismatched or bad
# inputs are refused with one error line.
#   resume.sh SUBSEL DATA_DIR
set -u
SUBSEL=$1
COMMAND=sdm
. "$(dirname "$0")/lib.sh"
D=$2
POOL="--source $D/pool.npz --target-dist $D/p_target.npy --seed 3"
SDM="$POOL --budget 200"

run() { # expected exit status, name, then arguments after `subsel`
    want=$1 name=$2
    shift 2
    "$SUBSEL" "$@" >"$TMP/$name.json" 2>"$TMP/$name.err"
    got=$?
    [ "$got" -eq "$want" ] || fail "$name exited $got, not $want: $(cat "$TMP/$name.err")"
}

for optimizer in naive lazy stochastic lazier; do
    ck="$TMP/$optimizer.ckpt.npz"
    run 0 "$optimizer-whole" sdm $SDM --optimizer $optimizer --out "$TMP/$optimizer-whole.npy"
    run 130 "$optimizer-first" sdm $SDM --optimizer $optimizer --checkpoint "$ck" \
        --checkpoint-every 25 --stop-after 70 --out "$TMP/$optimizer.npy"
    [ -s "$ck" ] || fail "$optimizer: no checkpoint"
    [ ! -e "$TMP/$optimizer.npy" ] || fail "$optimizer: a stopped run wrote --out"
    grep -q "^subsel sdm: stopped at 70 of 200 items; the checkpoint .* holds them (go on with --resume " \
        "$TMP/$optimizer-first.err" || fail "$optimizer: message: $(cat "$TMP/$optimizer-first.err")"
    run 130 "$optimizer-second" sdm $SDM --optimizer $optimizer --resume "$ck" \
        --checkpoint "$ck" --stop-after 130 --out "$TMP/$optimizer.npy"
    run 0 "$optimizer-last" sdm $SDM --optimizer $optimizer --resume "$ck" \
        --out "$TMP/$optimizer.npy"
    cmp "$TMP/$optimizer-whole.npy" "$TMP/$optimizer.npy" ||
        fail "$optimizer: the resumed selection differs from the uninterrupted one"
    [ "$(json_number selected "$TMP/$optimizer-last.json")" = 200 ] ||
        fail "$optimizer: $(cat "$TMP/$optimizer-last.json")"
done

# naive and lazy: the greedy selection's first 20 items as --initial give
# the greedy selection back (also through fb's own options)
run 0 prefix sdm $POOL --budget 20 --optimizer naive --out "$TMP/prefix.npy"
for optimizer in naive lazy; do
    run 0 "$optimizer-warm" sdm $SDM --optimizer $optimizer --initial "$TMP/prefix.npy" \
        --out "$TMP/$optimizer-warm.npy"
    cmp "$TMP/naive-whole.npy" "$TMP/$optimizer-warm.npy" ||
        fail "$optimizer: --initial with the greedy prefix changed the selection"
done
run 0 fb-whole fb --features "$D/pool.npz" --budget 50 --out "$TMP/fb-whole.npy"
run 0 fb-prefix fb --features "$D/pool.npz" --budget 7 --out "$TMP/fb-prefix.npy"
run 0 fb-warm fb --features "$D/pool.npz" --budget 50 --initial "$TMP/fb-prefix.npy" \
    --out "$TMP/fb-warm.npy"
cmp "$TMP/fb-whole.npy" "$TMP/fb-warm.npy" || fail "fb: --initial changed the selection"

# refused
ck="$TMP/stochastic.ckpt.npz"
bad $SDM --checkpoint-every 5 --out "$TMP/x.npy"
[ "$bad_status" -eq 2 ] || fail "--checkpoint-every without --checkpoint: exit $bad_status"
bad $SDM --resume "$ck" --initial "$TMP/prefix.npy" --out "$TMP/x.npy"
[ "$bad_status" -eq 2 ] || fail "--resume with --initial: exit $bad_status"
bad $SDM --optimizer stochastic --runs 3 --checkpoint "$ck" --out "$TMP/x.npy"
[ "$bad_status" -eq 2 ] || fail "--runs with --checkpoint: exit $bad_status"
bad $POOL --optimizer stochastic --resume "$ck" --budget 199 --out "$TMP/x.npy"
[ "$bad_status" -eq 1 ] || fail "another budget: exit $bad_status"
grep -q "budget is 200, this run's 199" "$TMP/bad_err" || fail "budget: $(cat "$TMP/bad_err")"
bad $SDM --optimizer lazier --resume "$ck" --out "$TMP/x.npy"
grep -q "was written by another run: its algorithm" "$TMP/bad_err" ||
    fail "algorithm: $(cat "$TMP/bad_err")"
bad $SDM --resume "$TMP/prefix.npy" --out "$TMP/x.npy"
[ "$bad_status" -eq 1 ] || fail "--resume of an .npy: exit $bad_status"
bad $POOL --initial "$TMP/fb-whole.npy" --budget 20 --out "$TMP/x.npy"
grep -q "more than the budget of 20" "$TMP/bad_err" || fail "too many: $(cat "$TMP/bad_err")"
bad $SDM --summary --checkpoint "$ck" --out "$TMP/x.npy"
[ "$bad_status" -eq 2 ] || fail "--summary with --checkpoint: exit $bad_status"
echo "resume: ok"
