#!/bin/sh
# SPDX-License-Identifier: MIT
# `subsel sdm` over a pool of 8 shard files (docs/distributed.md):
#  - one process reading every shard = one process reading the whole pool;
#  - a job array (--shard I --summary, then --merge-summaries, in one round
#    and in rounds of 2) within 1% of one lazy greedy over the whole pool;
#  - with SUBSEL_TEST_MPI=1, under mpirun on 1, 2, 3 and 4 ranks: the exact
#    mode byte for byte the single-process stochastic greedy (also with the
#    rows of one file split between the ranks), GreeDi within 1% of one lazy
#    greedy (one round and --fanin 2), the union of shares, a rank's failure
#    failing every rank;
#  - errors a user sees.
#   distributed.sh SUBSEL PYTHON
set -u
SUBSEL=$1
PYTHON=$2
COMMAND=sdm
. "$(dirname "$0")/lib.sh"
ok() { # must succeed with one JSON line on stdout
    "$@" >"$TMP/out" 2>"$TMP/err" || fail "$* exited $?: $(cat "$TMP/err")"
    grep -q '^{.*}$' "$TMP/out" || fail "$*: stdout is not one JSON object: $(cat "$TMP/out")"
}
# within_1pct A B: A >= 0.99 B
within_1pct() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= 0.99 * b) }' || fail "$3: $1 < 0.99 x $2"; }

D=$TMP/data
mkdir "$D"
"$PYTHON" "$(dirname "$0")/make_shards.py" "$D" || fail "making the shards"
T="--target $D/target.npz --budget 100"

ok "$SUBSEL" sdm --source "$D/pool.npz" $T --seed 5 --out "$TMP/single.npy"
KL_SINGLE=$(json_number kl "$TMP/out")
ok "$SUBSEL" sdm --source "$D/pool-*.npz" $T --seed 5 --out "$TMP/glob.npy"
cmp -s "$TMP/single.npy" "$TMP/glob.npy" || fail "the 8 shards are not the pool"
ok "$SUBSEL" sdm --source "$D/pool.npz" $T --optimizer lazy --out "$TMP/lazy.npy"
LAZY=$(json_number objective "$TMP/out")

# a job array and its merge
i=0
while [ $i -lt 8 ]; do
    ok "$SUBSEL" sdm --source "$D/pool-*.npz" $T --optimizer lazy --shard $i --summary \
        --out "$TMP/part-$i.sss"
    [ "$(json_number offset "$TMP/out")" = $((500 * i)) ] || fail "shard $i: offset"
    i=$((i + 1))
done
for fanin in 0 2; do
    ok "$SUBSEL" sdm --merge-summaries "$TMP/part-*.sss" $T --optimizer lazy --fanin $fanin \
        --out "$TMP/merged.npy"
    within_1pct "$(json_number objective "$TMP/out")" "$LAZY" "merge, fanin $fanin"
    [ "$(json_number selected "$TMP/out")" = 100 ] || fail "merge: not 100 selected"
    [ "$(json_string distributed "$TMP/out")" = summaries ] || fail "merge: JSON"
done
# the merged ids are global: they index the whole pool
"$PYTHON" - "$TMP/merged.npy" <<'PY' || fail "merged ids are not 100 distinct ids of the pool"
import sys, numpy as np
ids = np.load(sys.argv[1])
assert ids.dtype == np.int64 and len(set(ids.tolist())) == 100
assert ids.min() >= 0 and ids.max() < 4000 and ids.max() >= 500
PY

bad --source "$D/pool-*.npz" $T --summary --out "$TMP/x.sss"
grep -q "names 8 shards" "$TMP/bad_err" || fail "--summary without --shard: $(cat "$TMP/bad_err")"
bad --source "$D/pool-*.npz" $T --shard 8 --summary --out "$TMP/x.sss"
bad --source "$D/pool-*.npz" $T --shard 1 --out "$TMP/x.npy"
bad --source "$D/pool-*.npz" $T --distributed bogus --out "$TMP/x.npy"
bad --source "$D/none-*.npz" $T --out "$TMP/x.npy"
bad --source "$D/pool.npz" --merge-summaries "$TMP/part-*.sss" $T --out "$TMP/x.npy"
bad --merge-summaries "$D/pool.npz" $T --out "$TMP/x.npy"
grep -q "not a valid summary" "$TMP/bad_err" || fail "a .npz as a summary: $(cat "$TMP/bad_err")"
bad --source "$D/pool-*.npz" $T --quality "$D/quality.npy" --bins 3 --shard 0 --summary \
    --out "$TMP/x.sss"
grep -q "give --bin-edges" "$TMP/bad_err" || fail "--bins with parts: $(cat "$TMP/bad_err")"

[ "${SUBSEL_TEST_MPI:-0}" = 1 ] || exit 0

MPIRUN="mpirun --oversubscribe --allow-run-as-root"
for np in 1 2 3 4; do
    ok timeout 120 $MPIRUN -np $np "$SUBSEL" sdm --source "$D/pool-*.npz" $T --seed 5 \
        --distributed exact --out "$TMP/exact.npy"
    cmp -s "$TMP/single.npy" "$TMP/exact.npy" ||
        fail "exact on $np ranks is not the single-process selection"
    [ "$(json_number processes "$TMP/out")" = $np ] || fail "exact: JSON processes"
    # the summary's input is the whole pool, not rank 0's shards
    grep -q '"source": {"shape": \[4000, ' "$TMP/out" ||
        fail "exact on $np ranks: input_arrays is not the whole pool: $(cat "$TMP/out")"
    awk -v a="$(json_number kl "$TMP/out")" -v b="$KL_SINGLE" \
        'BEGIN { d = a - b; exit !(d < 1e-6 * b && -d < 1e-6 * b) }' ||
        fail "exact on $np ranks: KL $(json_number kl "$TMP/out") is not $KL_SINGLE"
    ok timeout 120 $MPIRUN -np $np "$SUBSEL" sdm --source "$D/pool-*.npz" $T --optimizer lazy \
        --distributed greedi --out "$TMP/greedi.npy"
    within_1pct "$(json_number objective "$TMP/out")" "$LAZY" "greedi on $np ranks"
done
# the union of the ranks' shares: 100 distinct ids; its loss against one
# greedy grows as the shares shrink (25 items a rank here; docs)
for np in 2 4; do
    ok timeout 120 $MPIRUN -np $np "$SUBSEL" sdm --source "$D/pool-*.npz" $T --optimizer lazy \
        --distributed union --out "$TMP/union.npy"
    awk -v a="$(json_number objective "$TMP/out")" -v b="$LAZY" \
        'BEGIN { exit !(a >= 0.97 * b) }' || fail "union on $np ranks: objective too low"
    "$PYTHON" -c "import sys, numpy as np; ids = np.load(sys.argv[1]); \
assert len(set(ids.tolist())) == 100 and ids.min() >= 0 and ids.max() < 4000" \
        "$TMP/union.npy" || fail "union on $np ranks: not 100 distinct pool ids"
done
# the job array's merge and mpirun group the same parts the same way: 5
# shards, fan-in 2 (groups of 2, 2 and 1, then 2 and 1, then 2)
i=0
while [ $i -lt 5 ]; do
    ok "$SUBSEL" sdm --source "$D/pool-[0-4].npz" $T --optimizer lazy --shard $i --summary \
        --out "$TMP/five-$i.sss"
    i=$((i + 1))
done
ok "$SUBSEL" sdm --merge-summaries "$TMP/five-*.sss" $T --optimizer lazy --fanin 2 \
    --out "$TMP/five-array.npy"
ok timeout 120 $MPIRUN -np 5 "$SUBSEL" sdm --source "$D/pool-[0-4].npz" $T --optimizer lazy \
    --distributed greedi --fanin 2 --out "$TMP/five-mpi.npy"
cmp -s "$TMP/five-array.npy" "$TMP/five-mpi.npy" ||
    fail "the job array's merge and mpirun's differ for the same parts and fan-in"
ok timeout 120 $MPIRUN -np 4 "$SUBSEL" sdm --source "$D/pool.npz" $T --seed 5 \
    --distributed exact --out "$TMP/exact.npy"
cmp -s "$TMP/single.npy" "$TMP/exact.npy" || fail "exact over one file's rows on 4 ranks"
ok timeout 120 $MPIRUN -np 4 "$SUBSEL" sdm --source "$D/pool-*.npz" $T --optimizer lazy \
    --distributed greedi --fanin 2 --out "$TMP/greedi.npy"
within_1pct "$(json_number objective "$TMP/out")" "$LAZY" "greedi, fanin 2"
# exact needs stochastic greedy: every rank fails, none hangs
timeout 120 $MPIRUN -np 2 "$SUBSEL" sdm --source "$D/pool-*.npz" $T --optimizer lazy \
    --distributed exact --out "$TMP/x.npy" >"$TMP/out" 2>"$TMP/err"
status=$?
[ $status -ne 0 ] && [ $status -ne 124 ] || fail "exact with lazy: exit $status"
grep -q "stochastic greedy" "$TMP/err" || fail "exact with lazy: $(cat "$TMP/err")"
# a shard that only rank 1 reads has a negative value: every rank ends,
# rank 1 saying why and the others naming rank 1
mkdir "$TMP/neg" && cp "$D"/pool-*.npz "$TMP/neg/"
"$PYTHON" - "$TMP/neg/pool-5.npz" <<'PY' || fail "writing the negative shard"
import sys, scipy.sparse as sp
z = sp.load_npz(sys.argv[1]); z.data[3] = -1; sp.save_npz(sys.argv[1], z)
PY
for method in exact greedi; do
    timeout 120 $MPIRUN -np 2 "$SUBSEL" sdm --source "$TMP/neg/pool-*.npz" $T --seed 5 \
        --distributed $method --out "$TMP/x.npy" >"$TMP/out" 2>"$TMP/err"
    status=$?
    [ $status -ne 0 ] && [ $status -ne 124 ] || fail "a bad shard, $method: exit $status"
    [ ! -s "$TMP/out" ] || fail "a bad shard, $method: JSON written"
    grep -q "negative" "$TMP/err" || fail "a bad shard, $method: $(cat "$TMP/err")"
    grep -q "rank 1 failed" "$TMP/err" || fail "a bad shard, $method: $(cat "$TMP/err")"
done
exit 0
