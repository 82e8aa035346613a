#!/bin/sh
# SPDX-License-Identifier: MIT
# The subsel program's options, the same in every command: short options
# only -k, -o, -t (and -h), each with one meaning; an option given twice is
# refused; usage errors exit 2 and failures 1; --help shows every default;
# messages name CLI options, never C constants or functions; the JSON
# summary has numbers or null, never "inf" strings.
#   options.sh SUBSEL FIXTURES
set -u
SUBSEL=$1
COMMAND=sdm
. "$(dirname "$0")/lib.sh"
F=$2
S="--source $F/sdm/source.npz"
TG="--target $F/sdm/target.npz"
Q="--quality $F/sdm/quality.npy"
OUT="--out $TMP/x.npy"

# exits CODE COMMAND ARGS...: must exit CODE with a prefixed error line
# that names no C constant or function.
exits() {
    want=$1
    shift
    COMMAND=$1
    shift
    bad "$@"
    [ "$bad_status" -eq "$want" ] ||
        fail "$COMMAND $*: exit $bad_status, not $want: $(cat "$TMP/bad_err")"
}
has() { grep -q -- "$2" "$1" || fail "'$2' not in: $(cat "$1")"; }

# --- --help: every default, only the common short options ----------------
for cmd in info fb sdm encode sae-score uniprot uniprot-batch tarot clipcov; do
    "$SUBSEL" "$cmd" --help >"$TMP/help" 2>&1 || fail "$cmd --help exited $?"
    # every option line: required, a flag, or its default
    sed -n 's/^  \(-.*\)$/\1/p' "$TMP/help" | while IFS= read -r line; do
        case $line in
        *"(required)"* | *"(default: "*) ;;
        "-h, --help"*) ;;
        *)  # a flag: no value placeholder
            echo "$line" | grep -q -- '--[a-z-]* X ' &&
                fail "$cmd --help: no default shown: $line" ;;
        esac
    done || exit 1
    shorts=$(sed -n 's/^  -\([a-zA-Z]\), .*/\1/p' "$TMP/help" | tr -d '\n')
    echo "$shorts" | grep -q '[^koth]' &&
        fail "$cmd --help: short options '$shorts' beyond -k -o -t -h"
done
"$SUBSEL" sdm --help >"$TMP/help"
has "$TMP/help" 'optimizer X.*(default: stochastic)'
has "$TMP/help" 'bins X.*(default: 3)'
"$SUBSEL" fb --help >"$TMP/help"
has "$TMP/help" 'optimizer X.*(default: lazy)'
has "$TMP/help" 'concave X.*(default: log1p)'
"$SUBSEL" clipcov --help >"$TMP/help"
has "$TMP/help" 'optimizer X.*(default: auto)'
"$SUBSEL" uniprot --help >"$TMP/help"
has "$TMP/help" 'optimizer X.*(default: naive)'
has "$TMP/help" 'reg X.*(default: 0.01)'

# --- one rule for short options ----------------------------------------------
# -s was --source in sdm and --seed in tarot; -w --weights in fb and
# --whiten in tarot: now long only
exits 2 sdm -s "$F/sdm/source.npz" $TG --budget 3 $OUT
has "$TMP/bad_err" "the short options are -k, -o, -t and -h"
exits 2 tarot --candidates "$F/tarot/candidates.npy" --targets "$F/tarot/targets.npy" \
    --ratio 0.2 -s 3 $OUT
exits 2 fb --features "$F/fb/Z.npz" -w "$F/fb/w.npy" --budget 3 $OUT
# the common ones work everywhere
"$SUBSEL" fb --features "$F/fb/Z.npz" -k 3 -t 1 -o "$TMP/k.npy" >"$TMP/out" 2>&1 ||
    fail "fb -k -t -o: $(cat "$TMP/out")"
has "$TMP/out" '"selected": 3'

# --- an option given twice ---------------------------------------------------
exits 2 sdm $S $TG --budget 3 --budget 4 $OUT
has "$TMP/bad_err" "given twice"
exits 2 fb --features "$F/fb/Z.npz" -k 3 --budget 4 $OUT
exits 2 sdm $S $TG --budget 3 $OUT --out "$TMP/y.npy"

# --- usage errors exit 2 -----------------------------------------------------
exits 2 sdm $S --budget 3 $OUT                                  # no target
exits 2 sdm $S $TG --budget 3 --epsilon 1.5 $OUT
exits 2 sdm $S $TG --budget 3 --threads -1 $OUT
exits 2 sdm $S $TG --budget 3 --seed -1 $OUT
exits 2 sdm $S $TG --budget 3 --runs 0 $OUT
exits 2 sdm $S $TG --budget 3 --runs 3 --min-runs 4 $OUT
exits 2 sdm $S $TG --budget 3 --lambda 2 $OUT
exits 2 sdm $S $TG --budget 1000 $OUT                           # more than the pool
exits 2 sdm $S $TG --budget 0 $OUT
exits 2 sdm $S $TG --budget 3 --optimizer greedy $OUT
# combinations the library would refuse with C names
exits 2 sdm $S $TG --budget 3 --runs 5 --optimizer lazy $OUT
has "$TMP/bad_err" "needs --optimizer stochastic or lazier"
exits 2 sdm $S $TG $Q --bins 5 --budget 3 $OUT
has "$TMP/bad_err" "need --bin-weights"
exits 2 sdm $S $TG $Q --bin-weights 1,2 --budget 3 $OUT
exits 2 sdm $S $TG $Q --bins 2 --bin-edges 0.5 --budget 3 $OUT
exits 2 sdm $S $TG $Q --bin-edges 0.5,0.2 --budget 3 $OUT
exits 2 sdm $S $TG --bins 2 --budget 3 $OUT                     # --bins without --quality
exits 2 fb --features "$F/fb/Z.npz" --concave pow --param 2 --budget 3 $OUT
exits 2 fb --features "$F/fb/Z.npz" --concave cube --budget 3 $OUT
exits 2 fb --features "$F/fb/Z.npz" --budget 3 --keep-nonpositive $OUT
exits 2 info --threads -1
# --- library parameters: default, range and check come from the library ---
# (subsel_param_*: written once, in the library's parameter table)
"$SUBSEL" sdm --help >"$TMP/help"
has "$TMP/help" 'epsilon X  *stochastic sample accuracy, in (0, 1) (default: 0.001)'
has "$TMP/help" 'lambda X.*, in \[0, 1\] (default: 0.7)'
has "$TMP/help" 'runs X.*, in \[1, 1024\] (default: 1)'
has "$TMP/help" 'seed X  *seed of every random choice, >= 0 (default: 0)'
"$SUBSEL" uniprot --help >"$TMP/help"
has "$TMP/help" 'tol X.*, in \[1e-15, 0.01\] (default: 1e-09)'
has "$TMP/help" 'max-iter X.*, in \[1, 1000000000\] (default: 1000)'
has "$TMP/help" 'gain-memory X.*, >= 0 (default: 536870912)'
"$SUBSEL" tarot --help >"$TMP/help"
has "$TMP/help" 'scaling X.*, in \[0.01, 0.99\] (default: 0.5)'
has "$TMP/help" 'max-rank X.*, >= 1 (default: 2000)'
has "$TMP/help" 'ot-memory X.*, >= 0 (default: 536870912)'
"$SUBSEL" clipcov --help >"$TMP/help"
has "$TMP/help" 'alpha X  *factor of the label term: auto (the paper.s: .*(default: auto)'
exits 2 sdm $S $TG --budget 3 --epsilon 1 $OUT
has "$TMP/bad_err" "subsel sdm: --epsilon 1 is not in (0, 1)"
exits 2 uniprot --source "$TMP/none.npy" -k 3 --max-iter 0 $OUT
has "$TMP/bad_err" "subsel uniprot: --max-iter 0 is not in \[1, 1000000000\]"
exits 2 uniprot --source "$TMP/none.npy" -k 3 --tol 0.5 $OUT
exits 2 tarot --candidates "$TMP/none.npy" --targets "$TMP/none.npy" --ratio 0.5 \
    --scaling 1 $OUT
has "$TMP/bad_err" "subsel tarot: --scaling 1 is not in \[0.01, 0.99\]"
exits 2 tarot --candidates "$TMP/none.npy" --targets "$TMP/none.npy" --ratio 0.5 \
    --max-rank 0 $OUT
has "$TMP/bad_err" "subsel tarot: --max-rank 0 is not >= 1"
exits 2 tarot --candidates "$TMP/none.npy" --targets "$TMP/none.npy" --ratio 0.5 \
    --ot-memory -1 $OUT
has "$TMP/bad_err" "subsel tarot: --ot-memory -1 is not >= 0"
exits 2 clipcov --image "$TMP/none.npy" --text "$TMP/none.npy" --labels "$TMP/none.npy" \
    -k 3 --alpha -1 $OUT
has "$TMP/bad_err" "subsel clipcov: --alpha -1 is not >= 0"
exits 2 info --threads 5000
has "$TMP/bad_err" "subsel info: --threads 5000 is not in \[0, 4096\]"

# --- failures exit 1 ---------------------------------------------------------
exits 1 sdm --source "$TMP/none.npz" $TG --budget 3 $OUT
exits 1 sdm $S $TG --budget 3 --out "$TMP/no/such/dir/x.npy"
exits 1 fb --features "$F/fb/Z.npz" --weights "$F/sdm/quality.npy" --budget 3 $OUT

# --- stopping early is opt-in, the same flag everywhere ---------------------
for cmd in fb sdm uniprot clipcov; do
    "$SUBSEL" "$cmd" --help >"$TMP/help"
    has "$TMP/help" '--stop-nonpositive '
    grep -q -- '--keep-nonpositive' "$TMP/help" && fail "$cmd still has --keep-nonpositive"
done

# --- JSON: numbers or null ---------------------------------------------------
# the target has columns no selected row covers: KL is +inf, written null
"$SUBSEL" sdm $S $TG --budget 2 --optimizer lazy $OUT >"$TMP/out" 2>"$TMP/err" ||
    fail "sdm: $(cat "$TMP/err")"
has "$TMP/out" '"kl": null'
grep -q '"inf"\|"nan"\|"-inf"' "$TMP/out" && fail "a non-finite number as a string: $(cat "$TMP/out")"
if [ -x /usr/bin/python3 ]; then
    /usr/bin/python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
assert d["kl"] is None and isinstance(d["objective"], float), d' "$TMP/out" ||
        fail "the JSON does not parse as expected: $(cat "$TMP/out")"
fi
exit 0
