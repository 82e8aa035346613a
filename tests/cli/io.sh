#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The subsel program's files and pipes: every input read from a pipe (cat |
# ... /dev/stdin, process substitution, a FIFO) gives what the file gives,
# a truncated stream is a clean error, --out - writes the .npy to standard
# output (the JSON then goes to standard error), --out through a symbolic
# link writes the link's target, a FIFO is written in place, and two
# outputs naming one file are refused. Only paths in a temporary folder
# are written.
#   io.sh SUBSEL FIXTURES
set -u
SUBSEL=$1
COMMAND=fb
. "$(dirname "$0")/lib.sh"
F=$2

FB=(fb --features "$F/fb/Z.npz" --weights "$F/fb/w.npy" --budget 12 --optimizer naive)
SDM=(sdm --source "$F/sdm/source.npz" --target "$F/sdm/target.npz" --bins 3
     --budget 12 --optimizer lazy)

ok() { # ok ARGS...: must succeed with one JSON line on stdout
    "$SUBSEL" "$@" >"$TMP/out" 2>"$TMP/err" || fail "$* exited $?: $(cat "$TMP/err")"
    grep -q '^{.*}$' "$TMP/out" || fail "$*: stdout is not a JSON object: $(cat "$TMP/out")"
}
same() { cmp -s "$1" "$2" || fail "$3: $1 and $2 differ"; }

# Reference runs from files.
ok "${FB[@]}" --out "$TMP/fb.npy"
ok "${SDM[@]}" --quality "$F/sdm/quality.npy" --out "$TMP/sdm.npy"

# --- inputs from pipes ------------------------------------------------------
# a vector on /dev/stdin (this crashed with a double free, exit 139)
cat "$F/sdm/quality.npy" | ok "${SDM[@]}" --quality /dev/stdin --out "$TMP/sdm_pipe.npy"
same "$TMP/sdm.npy" "$TMP/sdm_pipe.npy" "--quality /dev/stdin"
# process substitution
ok fb --features "$F/fb/Z.npz" --weights <(cat "$F/fb/w.npy") --budget 12 --optimizer naive \
    --out "$TMP/fb_subst.npy"
same "$TMP/fb.npy" "$TMP/fb_subst.npy" "--weights <(...)"
# an .npz on /dev/stdin
cat "$F/fb/Z.npz" | ok fb --features /dev/stdin --weights "$F/fb/w.npy" --budget 12 \
    --optimizer naive --out "$TMP/fb_npz_pipe.npy"
same "$TMP/fb.npy" "$TMP/fb_npz_pipe.npy" "--features /dev/stdin"
# a FIFO
mkfifo "$TMP/w.fifo"
cat "$F/fb/w.npy" >"$TMP/w.fifo" &
ok fb --features "$F/fb/Z.npz" --weights "$TMP/w.fifo" --budget 12 --optimizer naive \
    --out "$TMP/fb_fifo.npy"
wait
same "$TMP/fb.npy" "$TMP/fb_fifo.npy" "--weights FIFO"
# a dense matrix on /dev/stdin
T=(tarot --targets "$F/tarot/targets.npy" --ratio 0.2)
ok "${T[@]}" --candidates "$F/tarot/candidates.npy" --out "$TMP/tarot.npy"
cat "$F/tarot/candidates.npy" | ok "${T[@]}" --candidates /dev/stdin --out "$TMP/tarot_pipe.npy"
same "$TMP/tarot.npy" "$TMP/tarot_pipe.npy" "--candidates /dev/stdin"
# a float32 matrix on /dev/stdin (files of it are used in place; a pipe is
# streamed: this failed "cannot tell the file position")
U=(uniprot -k 4 --reg 0.05)
ok "${U[@]}" --source "$F/../data/uniprot/source.npy" --out "$TMP/uniprot.npy"
cat "$F/../data/uniprot/source.npy" | ok "${U[@]}" --source /dev/stdin --out "$TMP/uniprot_pipe.npy"
same "$TMP/uniprot.npy" "$TMP/uniprot_pipe.npy" "--source /dev/stdin (float32)"

# A stream whose header claims 800 GB but holds 16 bytes: a clean format
# error naming the bytes, never an 800 GB allocation or a crash.
{
    printf '\223NUMPY\001\000\166\000'
    printf "{'descr': '<f8', 'fortran_order': False, 'shape': (100000000000,), }"
    printf '%*s\n' 49 ''
    printf '0123456789abcdef'
} >"$TMP/liar.npy"
[ "$(wc -c <"$TMP/liar.npy")" -eq 144 ] || fail "liar.npy is not 144 bytes"
cat "$TMP/liar.npy" | "$SUBSEL" "${SDM[@]}" --quality /dev/stdin --out "$TMP/x.npy" \
    >"$TMP/out" 2>"$TMP/err"
status=$?
[ "$status" -eq 1 ] || fail "a lying stream exited $status: $(cat "$TMP/err")"
grep -q "the data ends after 16 of 800000000000 bytes" "$TMP/err" ||
    fail "a lying stream: $(cat "$TMP/err")"
# and from a file, its size is checked before anything is allocated
COMMAND=sdm bad "${SDM[@]:1}" --quality "$TMP/liar.npy" --out "$TMP/x.npy"

# --- outputs ----------------------------------------------------------------
# --out -: the .npy on stdout, the JSON on stderr
"$SUBSEL" "${FB[@]}" --out - >"$TMP/stdout.npy" 2>"$TMP/err" || fail "--out - failed: $(cat "$TMP/err")"
same "$TMP/fb.npy" "$TMP/stdout.npy" "--out -"
grep -q '^{.*"out": "-".*}$' "$TMP/err" || fail "--out -: no JSON on stderr: $(cat "$TMP/err")"
[ ! -e ./- ] || fail "--out - created a file named -"
# the same through /dev/stdout into a pipe
"$SUBSEL" "${FB[@]}" --out /dev/stdout 2>"$TMP/err" | cat >"$TMP/devstdout.npy"
same "$TMP/fb.npy" "$TMP/devstdout.npy" "--out /dev/stdout | cat"
grep -q '^{.*}$' "$TMP/err" || fail "--out /dev/stdout: no JSON on stderr"
# a symbolic link: the target is written, the link stays
printf 'old' >"$TMP/target.npy"
ln -s target.npy "$TMP/link.npy"
ok "${FB[@]}" --out "$TMP/link.npy"
[ -L "$TMP/link.npy" ] || fail "--out link.npy replaced the link"
same "$TMP/fb.npy" "$TMP/target.npy" "--out link.npy"
# a FIFO is written in place
mkfifo "$TMP/out.fifo"
cat "$TMP/out.fifo" >"$TMP/from_fifo.npy" &
ok "${FB[@]}" --out "$TMP/out.fifo"
wait
[ -p "$TMP/out.fifo" ] || fail "--out FIFO replaced the FIFO"
same "$TMP/fb.npy" "$TMP/from_fifo.npy" "--out FIFO"
# a .npz to stdout (the zip writer seeks: through a temporary file)
"$SUBSEL" encode --sae "$(dirname "$F")/data/sae" --input "$(dirname "$F")/data/sae/X.npy" \
    --k 8 --out - 2>"$TMP/err" | cat >"$TMP/codes.npz" || fail "encode --out - failed"
grep -q '^{.*"nnz".*}$' "$TMP/err" || fail "encode --out -: no JSON on stderr: $(cat "$TMP/err")"
ok fb --features "$TMP/codes.npz" --budget 3 --out "$TMP/x.npy"
# a file name of 249 bytes (the temporary name must not add to it)
long="$TMP/$(printf 'a%.0s' $(seq 245)).npy"
ok "${FB[@]}" --out "$long"
same "$TMP/fb.npy" "$long" "a 249-byte name"
# no temporary file is left behind
ls -A "$TMP" | grep -q '^\.subsel-' && fail "a temporary file was left: $(ls -A "$TMP")"

# Two outputs naming one file are a usage error (exit 2), whatever the
# spelling.
C=(--candidates "$F/tarot/candidates.npy" --targets "$F/tarot/targets.npy" --ratio 0.2)
two() {
    "$SUBSEL" tarot "${C[@]}" "$@" >"$TMP/out" 2>"$TMP/err"
    status=$?
    [ "$status" -eq 2 ] || fail "tarot $*: exit $status, not 2: $(cat "$TMP/err")"
    grep -q "name the same file" "$TMP/err" || fail "tarot $*: $(cat "$TMP/err")"
}
two --out "$TMP/same.npy" --weights-out "$TMP/same.npy"
two --out "$TMP/target.npy" --weights-out "$TMP/link.npy"
two --out "$TMP/same.npy" --weights-out "$TMP/./same.npy"
two --out - --weights-out -
two --out - --weights-out /dev/stdout
[ ! -e "$TMP/same.npy" ] || fail "a refused command wrote same.npy"

# SUBSEL_MAP_FILES: 1 (the default: inputs memory-mapped) and 0 (copied)
# give the same selections, from SciPy's .npz, subsel's (aligned: used in
# place) and a .npy; anything else is a usage error.
"$SUBSEL" tarot "${C[@]}" --out "$TMP/tarot_default.npy" >/dev/null 2>"$TMP/err" ||
    fail "tarot: $(cat "$TMP/err")"
cp "$F/fb/Z_uncompressed.npz" "$TMP/scipy_stored.npz"
for map in 0 1; do
    SUBSEL_MAP_FILES=$map ok "${FB[@]}" --out "$TMP/fb_map$map.npy"
    same "$TMP/fb.npy" "$TMP/fb_map$map.npy" "fb, SUBSEL_MAP_FILES=$map"
    SUBSEL_MAP_FILES=$map ok fb --features "$TMP/scipy_stored.npz" --weights "$F/fb/w.npy" \
        --budget 12 --optimizer naive --out "$TMP/fb_stored_map$map.npy"
    same "$TMP/fb.npy" "$TMP/fb_stored_map$map.npy" "stored .npz, SUBSEL_MAP_FILES=$map"
    SUBSEL_MAP_FILES=$map ok tarot "${C[@]}" --out "$TMP/tarot_map$map.npy"
    same "$TMP/tarot_default.npy" "$TMP/tarot_map$map.npy" "tarot, SUBSEL_MAP_FILES=$map"
done
SUBSEL_MAP_FILES=yes "$SUBSEL" "${FB[@]}" --out "$TMP/fb_bad.npy" >"$TMP/out" 2>"$TMP/err"
status=$?
[ "$status" -eq 2 ] || fail "SUBSEL_MAP_FILES=yes: exit $status, not 2"
grep -q "SUBSEL_MAP_FILES must be 0 or 1, not 'yes'" "$TMP/err" ||
    fail "SUBSEL_MAP_FILES=yes: $(cat "$TMP/err")"
[ ! -e "$TMP/fb_bad.npy" ] || fail "a refused command wrote its output"

# SUBSEL_PARALLEL_GAINS: lazy greedy on 2 threads selects naive greedy's
# items in every mode (pipeline overlaps its heap with its gains); anything
# else is a usage error.
for mode in auto never always pipeline; do
    SUBSEL_PARALLEL_GAINS=$mode ok fb --features "$F/fb/Z.npz" --weights "$F/fb/w.npy" \
        --budget 12 --optimizer lazy --threads 2 --out "$TMP/fb_lazy_$mode.npy"
    same "$TMP/fb.npy" "$TMP/fb_lazy_$mode.npy" "lazy, SUBSEL_PARALLEL_GAINS=$mode"
done
SUBSEL_PARALLEL_GAINS=3 "$SUBSEL" "${FB[@]}" --out "$TMP/fb_bad.npy" >"$TMP/out" 2>"$TMP/err"
status=$?
[ "$status" -eq 2 ] || fail "SUBSEL_PARALLEL_GAINS=3: exit $status, not 2"
grep -q "SUBSEL_PARALLEL_GAINS must be auto, never, always or pipeline, not '3'" "$TMP/err" ||
    fail "SUBSEL_PARALLEL_GAINS=3: $(cat "$TMP/err")"
[ ! -e "$TMP/fb_bad.npy" ] || fail "a refused command wrote its output"
exit 0
