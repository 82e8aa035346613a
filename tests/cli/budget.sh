#!/bin/sh
# SPDX-License-Identifier: MIT
# Selections reach their budget (issue 9): on tests/data/sparse_pool, where
# 95% of the rows add nothing, `subsel sdm` and `subsel fb` with stochastic
# greedy return exactly the budget and say so in the JSON ("budget",
# "short": 0, no warning); several runs whose intersection is smaller than
# the budget say so in the JSON ("short": 1 and the reason) and in one
# warning line on stderr; --stop-nonpositive (opt-in) ends a run early,
# and the JSON and the warning say why.
#   budget.sh SUBSEL DATA_DIR
set -u
SUBSEL=$1
COMMAND=sdm
. "$(dirname "$0")/lib.sh"
D=$2
SDM="--source $D/pool.npz --target-dist $D/p_target.npy --budget 200"

run() { # name, then arguments after `subsel`
    name=$1
    shift
    "$SUBSEL" "$@" --out "$TMP/$name.npy" >"$TMP/$name.json" 2>"$TMP/$name.err" ||
        fail "$name exited $?: $(cat "$TMP/$name.err")"
    grep -q '^{.*}$' "$TMP/$name.json" || fail "$name: not a JSON object: $(cat "$TMP/$name.json")"
}
full() { # name: exactly the budget of 200, not short, no warning
    j="$TMP/$1.json"
    [ "$(json_number selected "$j")" = 200 ] || fail "$1: not 200 items: $(cat "$j")"
    [ "$(json_number budget "$j")" = 200 ] || fail "$1: budget: $(cat "$j")"
    [ "$(json_number short "$j")" = 0 ] || fail "$1: short: $(cat "$j")"
    [ ! -s "$TMP/$1.err" ] || fail "$1: unexpected stderr: $(cat "$TMP/$1.err")"
    [ "$(wc -c <"$TMP/$1.npy")" -eq $((128 + 200 * 8)) ] || fail "$1: the .npy does not hold 200 indices"
}

for optimizer in stochastic lazier naive lazy; do
    run "sdm_$optimizer" sdm $SDM --optimizer $optimizer
    full "sdm_$optimizer"
done
run sdm_stop sdm $SDM --stop-nonpositive
j="$TMP/sdm_stop.json"
sel=$(json_number selected "$j")
[ "$sel" -lt 200 ] || fail "sdm_stop: did not stop early: $(cat "$j")"
[ "$(json_number short "$j")" = 1 ] || fail "sdm_stop: not short: $(cat "$j")"
json_string short_reason "$j" | grep -q "gain was <= 0" || fail "sdm_stop: reason: $(cat "$j")"
grep -q "^subsel sdm: warning: selected $sel of the budget of 200: " "$TMP/sdm_stop.err" ||
    fail "sdm_stop: warning: $(cat "$TMP/sdm_stop.err")"
run fb fb --features "$D/pool.npz" --budget 200 --optimizer stochastic
full fb

# five runs: each fills the budget, their intersection is smaller
run runs sdm $SDM --runs 5
j="$TMP/runs.json"
sel=$(json_number selected "$j")
[ "$sel" -gt 100 ] && [ "$sel" -lt 200 ] || fail "runs: $sel items: $(cat "$j")"
[ "$(json_number budget "$j")" = 200 ] || fail "runs: budget: $(cat "$j")"
[ "$(json_number short "$j")" = 1 ] || fail "runs: not short: $(cat "$j")"
json_string short_reason "$j" | grep -q "runs" || fail "runs: reason: $(cat "$j")"
grep -q 'inf' "$j" && fail "runs: the KL is infinite: $(cat "$j")"
[ "$(wc -l <"$TMP/runs.err")" -eq 1 ] || fail "runs: not one warning line: $(cat "$TMP/runs.err")"
grep -q "^subsel sdm: warning: selected $sel of the budget of 200: " "$TMP/runs.err" ||
    fail "runs: warning: $(cat "$TMP/runs.err")"
exit 0
