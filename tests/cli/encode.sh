#!/bin/sh
# SPDX-License-Identifier: MIT
# `subsel encode` end to end on the committed encoder in tests/data/sae:
# one JSON object on stdout whose counts match expected.json (written by
# make_data.py from NumPy's codes), a non-empty Z.npz, progress on stderr;
# and for bad arguments or files, a non-zero exit with one line on stderr
# and nothing on stdout.
#   cli_encode.sh SUBSEL DATA_DIR
set -u
SUBSEL=$1
COMMAND=encode
. "$(dirname "$0")/lib.sh"
DATA=$2

# A number from the flat JSON object in file $2 (key $1).

"$SUBSEL" encode --sae "$DATA" --input "$DATA/X.npy" --k 8 --out "$TMP/Z.npz" \
    >"$TMP/out" 2>"$TMP/err" || fail "encode exited $?: $(cat "$TMP/err")"
[ "$(wc -l <"$TMP/out")" -eq 1 ] || fail "stdout is not one line: $(cat "$TMP/out")"
grep -q '^{.*}$' "$TMP/out" || fail "stdout is not a JSON object: $(cat "$TMP/out")"
stages "$TMP/out" load encode validate write
for key in rows features k nnz; do
    got=$(json_number "$key" "$TMP/out")
    want=$(json_number "$key" "$DATA/expected.json")
    [ -n "$want" ] && [ "$got" = "$want" ] || fail "$key: got '$got', expected '$want'"
done
# rows with fewer than k codes, from expected.json's row_counts
below=$(sed -n 's/.*"row_counts": \[\([0-9, ]*\)\].*/\1/p' "$DATA/expected.json" |
        tr ',' '\n' | awk '$1 < 8' | wc -l)
[ "$(json_number rows_below_k "$TMP/out")" = "$below" ] || fail "rows_below_k: expected $below: $(cat "$TMP/out")"
[ -n "$(json_number seconds "$TMP/out")" ] || fail "no seconds: $(cat "$TMP/out")"
[ -s "$TMP/Z.npz" ] || fail "Z.npz was not written"
grep -q 'encode 30/30 rows' "$TMP/err" || fail "no progress on stderr: $(cat "$TMP/err")"

# The same codes uncompressed, and with one thread: identical JSON counts.
"$SUBSEL" encode --sae "$DATA" --input "$DATA/X.npy" -k 8 -o "$TMP/Z1.npz" --threads 1 \
    --uncompressed >"$TMP/out1" 2>/dev/null || fail "--threads 1 --uncompressed failed"
[ "$(json_number nnz "$TMP/out1")" = "$(json_number nnz "$TMP/out")" ] || fail "nnz differs with 1 thread"

# Each case: the arguments after `encode`; it must fail cleanly.
bad
bad --sae "$DATA" --input "$DATA/X.npy" --k 8
bad --sae "$DATA" --input "$DATA/X.npy" --k 0 --out "$TMP/z.npz"
bad --sae "$DATA" --input "$DATA/X.npy" --k 41 --out "$TMP/z.npz"
bad --sae "$DATA" --input "$DATA/X.npy" --k eight --out "$TMP/z.npz"
bad --sae "$TMP/missing" --input "$DATA/X.npy" --k 8 --out "$TMP/z.npz"
bad --sae "$DATA" --input "$TMP/missing.npy" --k 8 --out "$TMP/z.npz"
bad --sae "$DATA" --input "$DATA/b_enc.npy" --k 8 --out "$TMP/z.npz"
bad --sae "$DATA" --input "$DATA/expected.json" --k 8 --out "$TMP/z.npz"
bad --sae "$DATA" --input "$DATA/X.npy" --k 8 --out "$TMP/missing/z.npz"
bad --sae "$DATA" --input "$DATA/X.npy" --k 8 --out "$TMP/z.npz" --threads -1
bad --sae "$DATA" --input "$DATA/X.npy" --k 8 --out "$TMP/z.npz" --unknown
[ ! -e "$TMP/z.npz" ] || fail "a failed run left $TMP/z.npz"
echo "ok"
