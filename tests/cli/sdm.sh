#!/bin/sh
# SPDX-License-Identifier: MIT
# The subsel program end to end: --help and info (with the SUBSEL_ISA
# variable), fb and sdm on the reference fixtures (the selections must be
# byte for byte the fixtures' greedy orders), and the errors a user sees for
# bad arguments and files.
#   sdm.sh SUBSEL FIXTURES
set -u
SUBSEL=$1
COMMAND=sdm
. "$(dirname "$0")/lib.sh"
F=$2

ok() { # ok COMMAND ARGS...: must succeed with one JSON line on stdout
    "$SUBSEL" "$@" >"$TMP/out" 2>"$TMP/err" || fail "$* exited $?: $(cat "$TMP/err")"
    grep -q '^{.*}$' "$TMP/out" || fail "$*: stdout is not a JSON object: $(cat "$TMP/out")"
}
contains() { grep -q -- "$2" "$1" || fail "'$2' not in $(cat "$1")"; }

"$SUBSEL" --help >"$TMP/out" 2>&1 || fail "--help"
ok info
contains "$TMP/out" '"selected": "'
SUBSEL_ISA=bogus "$SUBSEL" info >"$TMP/out" 2>"$TMP/err" || fail "info with a bad SUBSEL_ISA"
contains "$TMP/err" "ignored"
SUBSEL_ISA=scalar "$SUBSEL" info >"$TMP/out" 2>&1
contains "$TMP/out" '"selected": "scalar"'

for concave in log1p sqrt; do
    ok fb --features "$F/fb/Z.npz" --weights "$F/fb/w.npy" --concave $concave \
        --budget 12 --optimizer naive --out "$TMP/fb.npy"
    [ "$(payload "$TMP/fb.npy" 12)" = "$(payload "$F/fb/order_$concave.npy" 12)" ] ||
        fail "fb $concave: the selection is not the fixture's order"
    contains "$TMP/out" '"selected": 12'
    stages "$TMP/out" load validate build select write
done
ok sdm --source "$F/sdm/source.npz" --target "$F/sdm/target.npz" \
    --quality "$F/sdm/quality.npy" --bins 3 --bin-weights 0,0.01,0.99 --lambda 0.7 \
    --budget 12 --optimizer lazy --out "$TMP/sdm.npy"
[ "$(payload "$TMP/sdm.npy" 12)" = "$(payload "$F/sdm/order.npy" 12)" ] ||
    fail "sdm: the selection is not the fixture's order"
contains "$TMP/out" '"kl": null'
ok sdm --source "$F/sdm/source_uncompressed.npz" --target-dist "$F/sdm/p_target.npy" \
    --budget 20 --optimizer lazier --runs 3 --seed 5 --threads 2 --out "$TMP/runs.npy"
contains "$TMP/out" '"runs": 3'
# random parts: the same selection on 1 and 2 threads; RandGreeDi with one
# part per row merges over the whole pool, so it is the fixture's greedy order
for threads in 1 2; do
    ok sdm --source "$F/sdm/source.npz" --target-dist "$F/sdm/p_target.npy" \
        --budget 20 --optimizer stochastic --parts 3 --threads $threads --out "$TMP/parts$threads.npy"
done
cmp -s "$TMP/parts1.npy" "$TMP/parts2.npy" || fail "--parts 3: 1 and 2 threads differ"
contains "$TMP/out" '"parts": 3'
contains "$TMP/out" '"merge": "union"'
ok sdm --source "$F/sdm/source.npz" --target "$F/sdm/target.npz" \
    --quality "$F/sdm/quality.npy" --bins 3 --bin-weights 0,0.01,0.99 --lambda 0.7 \
    --budget 12 --optimizer lazy --parts 80 --merge greedi --out "$TMP/greedi.npy"
[ "$(payload "$TMP/greedi.npy" 12)" = "$(payload "$F/sdm/order.npy" 12)" ] ||
    fail "sdm --parts 80 --merge greedi: the selection is not the fixture's order"
contains "$TMP/out" '"merge": "greedi"'

"$SUBSEL" fb --features "$F/fb/Z.npz" --out "$TMP/x.npy" >/dev/null 2>&1
[ $? -eq 2 ] || fail "a missing --budget is not a usage error (exit 2)"
bad --source "$F/sdm/source.npz" --target "$F/sdm/target.npz" --bogus 1
bad --source "$F/sdm/source.npz" --target "$F/sdm/target.npz" --budget ten --out "$TMP/x.npy"
bad --source "$TMP/none.npz" --target "$F/sdm/target.npz" --budget 3 --out "$TMP/x.npy"
bad --source "$F/sdm/source.npz" --target "$F/sdm/target.npz" --budget 1000 --out "$TMP/x.npy"
bad --source "$F/sdm/source.npz" --target "$F/sdm/target.npz" \
    --target-dist "$F/sdm/p_target.npy" --budget 3 --out "$TMP/x.npy"
bad --source "$F/sdm/source.npz" --target "$F/sdm/target.npz" \
    --quality "$F/sdm/quality.npy" --bin-weights 1,2 --budget 3 --out "$TMP/x.npy"
bad --source "$F/sdm/source.npz" --target "$F/sdm/target.npz" --lambda 2 --budget 3 --out "$TMP/x.npy"
bad --source "$F/sdm/source.npz" --target "$F/sdm/target.npz" --budget 3 --merge best \
    --out "$TMP/x.npy"
bad --source "$F/sdm/source.npz" --target "$F/sdm/target.npz" --budget 3 --parts 81 \
    --out "$TMP/x.npy"
bad --source "$F/sdm/source.npz" --target "$F/sdm/target.npz" --budget 3 \
    --out "$TMP/no/such/dir/x.npy"
COMMAND=fb
bad --features "$F/fb/Z.npz" --concave cube --budget 3 --out "$TMP/x.npy"
bad --features "$F/fb/Z.npz" --weights "$F/sdm/quality.npy" --budget 3 --out "$TMP/x.npy"
exit 0
