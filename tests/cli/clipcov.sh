#!/bin/sh
# SPDX-License-Identifier: MIT
# `subsel clipcov` end to end on tests/data/clipcov: one JSON object on
# stdout with consistent counts (at most the budget, never below the greedy
# result), the indices file, the same selection with 1 and 2 threads and
# again with the same seed; and for bad arguments or files, a non-zero exit
# with one line on stderr and nothing on stdout.
#   cli_clipcov.sh SUBSEL DATA_DIR
set -u
SUBSEL=$1
COMMAND=clipcov
. "$(dirname "$0")/lib.sh"
DATA=$2
IN="--image $DATA/image.npy --text $DATA/text.npy --label-embeddings $DATA/label_emb.npy"

run() { # name, then arguments after `clipcov`
    name=$1
    shift
    "$SUBSEL" clipcov $IN "$@" --out "$TMP/$name.npy" >"$TMP/$name.json" 2>"$TMP/$name.err" ||
        fail "$name exited $?: $(cat "$TMP/$name.err")"
    [ "$(wc -l <"$TMP/$name.json")" -eq 1 ] || fail "$name: stdout is not one line"
    grep -q '^{.*}$' "$TMP/$name.json" || fail "$name: not a JSON object: $(cat "$TMP/$name.json")"
    [ -s "$TMP/$name.npy" ] || fail "$name: no indices file"
}

run given --labels "$DATA/labels.npy" --budget 150 --threads 1
j="$TMP/given.json"
[ "$(json_number pairs "$j")" = 200 ] || fail "pairs: $(cat "$j")"
stages "$j" load build select write
[ "$(json_number dim "$j")" = 16 ] || fail "dim: $(cat "$j")"
[ "$(json_number classes "$j")" = 5 ] || fail "classes: $(cat "$j")"
[ "$(json_number zero_shot "$j")" = 0 ] || fail "zero_shot: $(cat "$j")"
[ "$(json_string filter "$j")" = deterministic ] || fail "filter: $(cat "$j")"
sel=$(json_number selected "$j")
[ "$sel" -ge 1 ] && [ "$sel" -le 150 ] || fail "selected $sel outside [1, 150]"
[ "$(json_number greedy_selected "$j")" -ge "$sel" ] || fail "filtered set larger than greedy"
awk -v a="$(json_number objective "$j")" -v b="$(json_number greedy_objective "$j")" \
    'BEGIN { exit !(a >= b) }' || fail "objective below greedy: $(cat "$j")"
case "$(json_string optimizer "$j")" in lazy|stochastic) ;; *) fail "optimizer: $(cat "$j")" ;; esac
# the budget, and whether the filter left the selection short of it: said
# in the JSON and, when short, in one warning line on stderr (issue 9)
[ "$(json_number budget "$j")" = 150 ] || fail "budget: $(cat "$j")"
[ "$(json_number short "$j")" = 0 ] || fail "short: $(cat "$j")"
[ ! -s "$TMP/given.err" ] || fail "a full selection warned: $(cat "$TMP/given.err")"
# alpha: the paper's, from the data, by default (clipcov_crosscheck.py
# compares its value with NumPy's); --alpha 0.5 the constant
[ "$(json_string alpha_source "$j")" = data ] || fail "alpha_source: $(cat "$j")"
awk -v a="$(json_number alpha "$j")" 'BEGIN { exit !(a > 0.6 && a < 0.66) }' ||
    fail "alpha from the data: $(cat "$j")"
run half --labels "$DATA/labels.npy" --budget 150 --threads 1 --alpha 0.5
[ "$(json_number alpha "$TMP/half.json")" = 0.5 ] || fail "--alpha 0.5: $(cat "$TMP/half.json")"
[ "$(json_string alpha_source "$TMP/half.json")" = given ] || fail "--alpha 0.5: $(cat "$TMP/half.json")"
run auto --labels "$DATA/labels.npy" --budget 150 --threads 1 --alpha auto
cmp -s "$TMP/given.npy" "$TMP/auto.npy" || fail "--alpha auto is not the default"
run filtered --budget 190 --threads 1
j="$TMP/filtered.json"
sel=$(json_number selected "$j")
[ "$sel" -lt 190 ] || fail "filtered: not short: $(cat "$j")"
[ "$(json_number budget "$j")" = 190 ] || fail "filtered: budget: $(cat "$j")"
[ "$(json_number short "$j")" = 1 ] || fail "filtered: short: $(cat "$j")"
json_string short_reason "$j" | grep -q "double greedy" || fail "filtered: short_reason: $(cat "$j")"
[ "$(wc -l <"$TMP/filtered.err")" -eq 1 ] &&
    grep -q "^subsel clipcov: warning: selected $sel of the budget of 190: " "$TMP/filtered.err" ||
    fail "filtered: no one-line warning: $(cat "$TMP/filtered.err")"

# labels without label embeddings are classes however large their numbers
# (issue 9: a label of 3e8 asked for 38 GB, INT64_MAX overflowed): the same
# selection as with the labels 0..4
"$SUBSEL" clipcov --image "$DATA/image.npy" --text "$DATA/text.npy" --labels "$DATA/labels.npy" \
    --budget 150 --threads 1 --out "$TMP/dense.npy" >"$TMP/dense.json" 2>"$TMP/dense.err" ||
    fail "dense labels exited $?: $(cat "$TMP/dense.err")"
"$SUBSEL" clipcov --image "$DATA/image.npy" --text "$DATA/text.npy" \
    --labels "$DATA/labels_sparse.npy" --budget 150 --threads 1 --out "$TMP/sparse.npy" \
    >"$TMP/sparse.json" 2>"$TMP/sparse.err" || fail "sparse labels exited $?: $(cat "$TMP/sparse.err")"
[ "$(json_number classes "$TMP/sparse.json")" = 5 ] || fail "sparse classes: $(cat "$TMP/sparse.json")"
cmp -s "$TMP/dense.npy" "$TMP/sparse.npy" || fail "sparse labels select differently"

# thread count and repetition do not change the selection
run given2 --labels "$DATA/labels.npy" --budget 150 --threads 2
cmp -s "$TMP/given.npy" "$TMP/given2.npy" || fail "1 and 2 threads select differently"
run rnd --budget 120 --filter randomized --seed 4 --normalize --alpha 0.3 \
    --term-weights 2,1,0.5,1,1 --exact-check
run rnd2 --budget 120 --filter randomized --seed 4 --normalize --alpha 0.3 \
    --term-weights 2,1,0.5,1,1 --exact-check --threads 1
cmp -s "$TMP/rnd.npy" "$TMP/rnd2.npy" || fail "same seed, different selection"
[ "$(json_number zero_shot "$TMP/rnd.json")" = 1 ] || fail "zero_shot: $(cat "$TMP/rnd.json")"
run naive --labels "$DATA/labels.npy" --budget 20 --optimizer naive --filter none
[ "$(json_number selected "$TMP/naive.json")" = "$(json_number greedy_selected "$TMP/naive.json")" ] ||
    fail "--filter none changed the greedy result"

O="--out $TMP/bad.npy"
bad
bad $IN --budget 10
bad --image "$DATA/image.npy" --text "$DATA/text.npy" --budget 10 $O
bad $IN --budget 0 $O
bad $IN --budget 201 $O
bad $IN --budget ten $O
bad $IN --budget 10 --filter maybe $O
bad $IN --budget 10 --optimizer fastest $O
bad $IN --budget 10 --alpha -1 $O
bad $IN --budget 10 --alpha automatic $O
bad $IN --budget 10 --alpha nan $O
bad $IN --budget 10 --term-weights 1,1,1 $O
bad $IN --budget 10 --term-weights 1,1,1,1,-1 $O
bad $IN --budget 10 --labels "$DATA/image.npy" $O
bad $IN --budget 10 --labels "$DATA/label_emb.npy" $O
bad --image "$DATA/image.npy" --text "$DATA/label_emb.npy" --label-embeddings "$DATA/label_emb.npy" --budget 10 $O
bad --image "$TMP/missing.npy" --text "$DATA/text.npy" --label-embeddings "$DATA/label_emb.npy" --budget 10 $O
bad $IN --budget 10 --out "$TMP/missing/sel.npy"
bad $IN --budget 10 --threads -1 $O
bad $IN --budget 10 $O --unknown
[ ! -e "$TMP/bad.npy" ] || fail "a failed run left $TMP/bad.npy"
echo "ok"
