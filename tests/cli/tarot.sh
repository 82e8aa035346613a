#!/bin/sh
# SPDX-License-Identifier: MIT
# `subsel tarot` end to end on the fixture (tests/fixtures/tarot): one JSON
# object on stdout with the expected counts, the selected indices written
# as .npy (byte for byte the fixture's OTM selections, both int64 vectors),
# weights that sum to the asked total; and for bad arguments or files, a
# non-zero exit with a prefixed error as the last line on stderr and
# nothing on stdout.
#   cli_tarot.sh SUBSEL FIXTURE_DIR
set -u
SUBSEL=$1
COMMAND=tarot
. "$(dirname "$0")/lib.sh"
F=$2

run() {
    "$SUBSEL" tarot --candidates "$F/candidates.npy" --targets "$F/targets.npy" "$@" \
        >"$TMP/out" 2>"$TMP/err" || fail "tarot $* exited $?: $(cat "$TMP/err")"
    [ "$(wc -l <"$TMP/out")" -eq 1 ] || fail "stdout is not one line: $(cat "$TMP/out")"
    grep -q '^{.*}$' "$TMP/out" || fail "stdout is not a JSON object: $(cat "$TMP/out")"
    [ -n "$(json_number seconds "$TMP/out")" ] || fail "no seconds: $(cat "$TMP/out")"
    [ -n "$(json_number ot_distance "$TMP/out")" ] || fail "no ot_distance: $(cat "$TMP/out")"
    [ -s "$TMP/err" ] || fail "no progress on stderr"
    stages "$TMP/out" load build whiten select write
}
expect() { # key value
    [ "$(json_number "$1" "$TMP/out")" = "$2" ] || fail "$1: expected $2: $(cat "$TMP/out")"
}

# Fixed size, 20 %: 40 candidates; reference weights cover them and the
# 50 targets and sum to N = 200.
run --ratio 0.2 --reference-compatible --out "$TMP/fixed.npy" --weights 0 --weights-out "$TMP/w.npy"
expect selected 40
expect budget 40
expect short 0
expect weights_total 200
[ -s "$TMP/fixed.npy" ] && [ -s "$TMP/w.npy" ] || fail "outputs not written"
[ "$(payload "$TMP/w.npy" 90 | wc -w)" -eq 720 ] || fail "w.npy is not 90 int64 values"

# OTM with the fixture's folds: the fixture's selections, byte for byte.
run --otm --folds 5 --target-folds "$F/target_folds.npy" --reference-compatible --out "$TMP/otm.npy"
expect selected 158
[ "$(payload "$TMP/otm.npy" 158)" = "$(payload "$F/otm_reference.npy" 158)" ] || fail "OTM (reference) differs from the fixture"
# Without --folds, a --target-folds file sets the folds (its 5 here).
run --otm --target-folds "$F/target_folds.npy" --out "$TMP/otm.npy" --weights 250 --weights-out "$TMP/w2.npy" --threads 1
expect folds 5
expect selected 147
expect weights_total 250
[ "$(payload "$TMP/otm.npy" 147)" = "$(payload "$F/otm_argmin.npy" 147)" ] || fail "OTM (argmin) differs from the fixture"

# The largest weight total, 2^53, is exact (issue 9).
run --ratio 0.2 --out "$TMP/big.npy" --weights 9007199254740992 --weights-out "$TMP/wbig.npy"
expect weights_total 9007199254740992
[ "$(tail -c 320 "$TMP/wbig.npy" | od -An -td8 -v | awk '{ for (i = 1; i <= NF; i++) s += $i } END { printf "%.0f", s }')" = 9007199254740992 ] ||
    fail "the weights do not sum to 2^53"

# OTM's default is the paper's 10 folds (section 4.3; 5 before 0.15),
# in --help and in the JSON; fewer targets than 10: one fold each. The
# seeded split with 10 folds is what --folds 10 gives.
"$SUBSEL" tarot --help >"$TMP/help" || fail "tarot --help exited $?"
grep -q -- "--folds X .*(default: 10, or M when fewer targets" "$TMP/help" ||
    fail "--help does not give the default of 10 folds: $(grep -- --folds "$TMP/help")"
run --otm --seed 2 --out "$TMP/otm10.npy"
expect folds 10
run --otm --seed 2 --folds 10 --out "$TMP/otm10b.npy"
cmp -s "$TMP/otm10.npy" "$TMP/otm10b.npy" || fail "default folds differ from --folds 10"
# The first 6 targets as their own .npy (float64, 6 x 16): 6 folds.
dict="{'descr': '<f8', 'fortran_order': False, 'shape': (6, 16), }"
skip=$((10 + $(od -An -tu2 -j8 -N2 "$F/targets.npy" | tr -d ' ')))
{ printf '\223NUMPY\001\000\166\000%s%57s\n' "$dict" ''
  tail -c +$((skip + 1)) "$F/targets.npy" | head -c 768; } >"$TMP/six.npy"
"$SUBSEL" tarot --candidates "$F/candidates.npy" --targets "$TMP/six.npy" --otm --out "$TMP/six_sel.npy" \
    >"$TMP/out" 2>"$TMP/err" || fail "6 targets exited $?: $(cat "$TMP/err")"
expect targets 6
expect folds 6
# Projection, ZCA, seeded folds: runs, and repeats itself exactly.
run --otm --folds 4 --proj-dim 8 --proj-kind gaussian --whiten zca --seed 3 --out "$TMP/a.npy"
cp "$TMP/out" "$TMP/out_a"
run --otm --folds 4 --proj-dim 8 --proj-kind gaussian --whiten zca --seed 3 --out "$TMP/b.npy" --threads 1
cmp -s "$TMP/a.npy" "$TMP/b.npy" || fail "seeded OTM differs between runs"
[ "$(json_number ot_distance "$TMP/out")" = "$(json_number ot_distance "$TMP/out_a")" ] || fail "ot_distance differs between runs"

# --ot-memory 0 recomputes every OT cost at every pass: the same selection.
run --ratio 0.2 --out "$TMP/mem_default.npy"
run --ratio 0.2 --ot-memory 0 --out "$TMP/mem0.npy"
cmp -s "$TMP/mem_default.npy" "$TMP/mem0.npy" || fail "--ot-memory 0 changed the selection"

# Each case: the arguments after `tarot`; it must fail cleanly.
C="--candidates $F/candidates.npy"
T="--targets $F/targets.npy"
bad
bad $C $T --ratio 0.2
bad $C $T --out "$TMP/x.npy"
bad $C $T --ratio 0.2 --otm --out "$TMP/x.npy"
bad $C $T --ratio 0 --out "$TMP/x.npy"
bad $C $T --ratio 1.5 --out "$TMP/x.npy"
bad $C $T --ratio 0.2 --whiten pca --out "$TMP/x.npy"
bad $C $T --ratio 0.2 --proj-kind sparse --out "$TMP/x.npy"
bad $C $T --ratio 0.2 --eps -1 --out "$TMP/x.npy"
# a projection whose covariance cannot fit fails at once, before any
# progress (issue 9: 30 s and 2.5 GB before an 8 TB covariance failed)
bad $C $T --ratio 0.2 --proj-dim 1048576 --out "$TMP/x.npy"
grep -q "covariance" "$TMP/bad_err" && ! grep -q "project [0-9]" "$TMP/bad_err" ||
    fail "--proj-dim 1048576: $(cat "$TMP/bad_err")"
bad $C $T --ratio 0.2 --weights -3 --out "$TMP/x.npy"
# totals above 2^53 are usage errors, refused before any work (issue 9:
# INT64_MAX overflowed the apportionment and then looped ~2^63 times)
for total in 9223372036854775807 9223372036854775806 9007199254740993; do
    bad $C $T --ratio 0.2 --weights $total --out "$TMP/x.npy"
    [ "$bad_status" -eq 2 ] || fail "--weights $total: exit $bad_status, not 2"
    grep -q "2^53" "$TMP/bad_err" || fail "--weights $total: $(cat "$TMP/bad_err")"
done
bad $C $T --otm --folds 1 --out "$TMP/x.npy"
bad $C $T --otm --target-folds "$F/f.npy" --out "$TMP/x.npy"
bad $C $T --otm --target-folds "$F/missing.npy" --out "$TMP/x.npy"
bad $C --targets "$F/target_folds.npy" --ratio 0.2 --out "$TMP/x.npy"
bad --candidates "$F/missing.npy" $T --ratio 0.2 --out "$TMP/x.npy"
bad $C $T --ratio 0.2 --out "$TMP/missing/x.npy"
bad $C $T --ratio 0.2 --out "$TMP/x.npy" --threads -1
exit 0
