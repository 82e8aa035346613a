#!/bin/sh
# SPDX-License-Identifier: MIT
# `subsel sae-score` end to end on the committed encoder in tests/data/sae:
# one JSON object on stdout, the same scores from the encoder (--sae --k)
# and from the codes it wrote (--codes), with 1 and 2 threads, histograms
# that count every scored latent, the per-latent files; and for bad
# arguments or files, a non-zero exit with one line on stderr and nothing
# on stdout.
#   sae_score.sh SUBSEL DATA_DIR
set -u
SUBSEL=$1
COMMAND=sae-score
. "$(dirname "$0")/lib.sh"
DATA=$2

"$SUBSEL" sae-score --sae "$DATA" --input "$DATA/X.npy" --k 8 --bins 5 \
    --ms-out "$TMP/ms.npy" --mt-out "$TMP/mt.npy" \
    >"$TMP/out" 2>"$TMP/err" || fail "sae-score exited $?: $(cat "$TMP/err")"
[ "$(wc -l <"$TMP/out")" -eq 1 ] || fail "stdout is not one line: $(cat "$TMP/out")"
grep -q '^{.*}$' "$TMP/out" || fail "stdout is not a JSON object: $(cat "$TMP/out")"
stages "$TMP/out" load encode validate score write
for key in rows features k nnz ms mt ms_latents mt_latents mt_min mt_max; do
    [ -n "$(json_number "$key" "$TMP/out")" ] || fail "no $key: $(cat "$TMP/out")"
done
[ "$(json_number features "$TMP/out")" = 40 ] || fail "features: $(cat "$TMP/out")"
[ "$(json_number nnz "$TMP/out")" = "$(json_number nnz "$DATA/expected.json")" ] ||
    fail "nnz differs from expected.json: $(cat "$TMP/out")"
# every scored latent in some bin: 5 bins each
for kind in ms mt; do
    bins=$(sed -n 's/.*"'$kind'_histogram": \[\([0-9, ]*\)\].*/\1/p' "$TMP/out")
    [ "$(echo "$bins" | tr ',' '\n' | wc -l)" -eq 5 ] || fail "$kind histogram: '$bins'"
    total=$(echo "$bins" | tr ',' '\n' | awk '{ s += $1 } END { print s }')
    [ "$total" = "$(json_number ${kind}_latents "$TMP/out")" ] ||
        fail "$kind histogram counts $total latents: $(cat "$TMP/out")"
done
# 40 float64 values after a 128-byte header
[ "$(wc -c <"$TMP/ms.npy")" -eq $((128 + 40 * 8)) ] || fail "ms.npy: $(wc -c <"$TMP/ms.npy") bytes"
[ "$(wc -c <"$TMP/mt.npy")" -eq $((128 + 40 * 8)) ] || fail "mt.npy: $(wc -c <"$TMP/mt.npy") bytes"

# The same codes from the file, on one thread: the same scores to the bit.
"$SUBSEL" sae-score --codes "$DATA/expected_Z.npz" --input "$DATA/X.npy" --bins 5 \
    --threads 1 >"$TMP/out1" 2>/dev/null || fail "--codes --threads 1 failed"
for key in ms mt ms_latents mt_latents mt_min mt_max; do
    [ "$(json_number "$key" "$TMP/out1")" = "$(json_number "$key" "$TMP/out")" ] ||
        fail "$key differs with --codes and 1 thread: $(cat "$TMP/out1") vs $(cat "$TMP/out")"
done
grep -q '"ms_histogram"' "$TMP/out1" || fail "no histogram with --codes"

# Each case: the arguments after `sae-score`; it must fail cleanly.
bad
bad --input "$DATA/X.npy"
bad --sae "$DATA" --input "$DATA/X.npy"
bad --sae "$DATA" --input "$DATA/X.npy" --k 0
bad --sae "$DATA" --input "$DATA/X.npy" --k 41
bad --sae "$DATA" --codes "$DATA/expected_Z.npz" --input "$DATA/X.npy" --k 8
bad --codes "$DATA/expected_Z.npz" --input "$DATA/X.npy" --k 8
bad --codes "$DATA/expected_Z.npz" --input "$DATA/X.npy" --bins 0
bad --codes "$DATA/expected_Z.npz" --input "$DATA/W_enc.npy"
[ "$bad_status" -eq 1 ] || fail "rows mismatch: exit $bad_status"
grep -q "codes has 30 rows but --input has 40" "$TMP/bad_err" || fail "rows mismatch: $(cat "$TMP/bad_err")"
bad --codes "$TMP/missing.npz" --input "$DATA/X.npy"
bad --codes "$DATA/X.npy" --input "$DATA/X.npy"
bad --sae "$TMP/missing" --input "$DATA/X.npy" --k 8
bad --codes "$DATA/expected_Z.npz" --input "$TMP/missing.npy"
bad --codes "$DATA/expected_Z.npz" --input "$DATA/X.npy" --ms-out "$TMP/missing/ms.npy"
bad --codes "$DATA/expected_Z.npz" --input "$DATA/X.npy" --ms-out "$TMP/a.npy" --mt-out "$TMP/a.npy"
bad --codes "$DATA/expected_Z.npz" --input "$DATA/X.npy" --threads -1
bad --codes "$DATA/expected_Z.npz" --input "$DATA/X.npy" --unknown
echo "ok"
