#!/bin/sh
# SPDX-License-Identifier: MIT
# The measured examples of docs/choosing-parameters.md: each method's key
# parameters moved one at a time on small Fashion-MNIST inputs, one line
# per run: the parameter, what the command printed (selected, objective,
# seconds...) and what the selection holds (share of the target's classes,
# mean quality, largest class share), computed by NumPy from its indices.
#
#   examples/parameters.sh [BUILD_DIR] [WORK_DIR] [FASHION_MNIST_DIR]
#
# Inputs come from examples/parameters_data.py (and the two views of
# build/examples/lors_fashion_mnist --write-views) into WORK_DIR; about a
# minute of CPU in all, single-threaded so the seconds compare.
set -eu
B=${1:-build}
W=${2:-/tmp/subsel-parameters}
FM=${3:-/usr/share/datasets/fashion-mnist}
S="$B/tools/subsel"
PY=/usr/bin/python3
here=$(dirname "$0")
mkdir -p "$W"
[ -s "$W/views/train_texts.npy" ] ||
    "$B/examples/lors_fashion_mnist" "$FM" --write-views "$W/views" seeds=0 >/dev/null
[ -s "$W/dense/pool.npy" ] || $PY "$here/parameters_data.py" "$FM" "$W"

# what a selection holds: share of classes 5, 7, 9 (footwear, the target's),
# mean of a score, largest class share
held() { # indices.npy labels.npy [scores.npy]
    $PY - "$@" <<'EOF'
import sys, numpy as np
sel = np.load(sys.argv[1]); y = np.load(sys.argv[2])[sel]
out = {"footwear": round(float(np.isin(y, [5, 7, 9]).mean()), 3) if len(sel) else None,
       "largest_class": round(float(np.bincount(y).max() / len(sel)), 3) if len(sel) else None}
if len(sys.argv) > 3:
    out["mean_quality"] = round(float(np.load(sys.argv[3])[sel].mean()), 4)
print(out)
EOF
}
# selected, objective (or ot_distance...), seconds, and more keys from the JSON
summary() { # json keys...
    f=$1
    shift
    for k in "$@"; do
        printf '%s=%s ' "$k" "$(sed -n 's/.*"'"$k"'": \([^,}]*\).*/\1/p' "$f")"
    done
}
line() { echo "$*"; }

# ---- SDM: runs / min-runs, epsilon, lambda, bin weights, budget -------------
SDM="--source $W/sdm/pool.npz --target $W/sdm/target.npz --quality $W/sdm/quality.npy -t 1"
sdm() { # name, options
    name=$1
    shift
    "$S" sdm $SDM "$@" --out "$W/sdm_$name.npy" >"$W/sdm_$name.json"
    line "sdm $name ($*): $(summary "$W/sdm_$name.json" selected objective evaluations seconds)" \
        "$(held "$W/sdm_$name.npy" "$W/sdm/labels.npy" "$W/sdm/quality.npy")"
}
sdm runs1 --budget 2000
sdm runs5 --budget 2000 --runs 5
sdm runs5min3 --budget 2000 --runs 5 --min-runs 3
sdm runs5b2500 --budget 2500 --runs 5
sdm eps1e-2 --budget 2000 --epsilon 0.01
sdm eps1e-1 --budget 2000 --epsilon 0.1
sdm lazy --budget 2000 --optimizer lazy
sdm lambda1 --budget 2000 --lambda 1
sdm lambda0.3 --budget 2000 --lambda 0.3
sdm weights --budget 2000 --bin-weights 0,0.5,0.5
sdm bins5 --budget 2000 --bins 5 --bin-weights 0,0,0,0.01,0.99
sdm b1000 --budget 1000

# ---- UniPROT: reg, k ---------------------------------------------------------
UP="--source $W/dense/small.npy --target $W/dense/target_small.npy --labels $W/dense/small_labels.npy --target-labels $W/dense/target_small_labels.npy -t 1"
uniprot() {
    name=$1
    shift
    "$S" uniprot $UP "$@" --out "$W/up_$name.npy" >"$W/up_$name.json"
    line "uniprot $name ($*): $(summary "$W/up_$name.json" selected transport_similarity nn_accuracy evaluations seconds)"
}
uniprot reg0.01 -k 100
uniprot reg0.05 -k 100 --reg 0.05
uniprot reg0.1 -k 100 --reg 0.1
uniprot k30 -k 30
uniprot k300 -k 300
uniprot stoch -k 100 --optimizer stochastic

# ---- TAROT: folds, ratio, blur, scaling ------------------------------------------
TA="--candidates $W/dense/pool.npy --targets $W/dense/target.npy -t 1 --seed 1"
tarot() {
    name=$1
    shift
    "$S" tarot $TA "$@" --out "$W/ta_$name.npy" >"$W/ta_$name.json" 2>/dev/null
    line "tarot $name ($*): $(summary "$W/ta_$name.json" selected folds ot_distance ot_solves seconds)" \
        "$(held "$W/ta_$name.npy" "$W/dense/labels.npy")"
}
tarot otm10 --otm
tarot otm5 --otm --folds 5
tarot otm20 --otm --folds 20
tarot fixed5 --ratio 0.05
tarot fixed10 --ratio 0.1
tarot blur0.05 --ratio 0.1 --blur 0.05
tarot scaling0.9 --ratio 0.1 --scaling 0.9

# ---- ClipCov: alpha (CLIP-like pairs), term weights (the two views) ----------------
# alpha on tests/data/clipcov (200 CLIP-like pairs with a modality gap); the
# two views are centred, so their averages are near 0 and --alpha auto would
# fall back to 0.5 with a warning: they take --alpha 0.5 explicitly.
T="$here/../tests/data/clipcov"
CC="--image $T/image.npy --text $T/text.npy --label-embeddings $T/label_emb.npy --labels $T/labels.npy -t 1 --budget 100"
clipcov() {
    name=$1
    shift
    "$S" clipcov $CC "$@" --out "$W/cc_$name.npy" >"$W/cc_$name.json"
    line "clipcov $name ($*): $(summary "$W/cc_$name.json" selected alpha alpha_source objective greedy_selected seconds)" \
        "$(held "$W/cc_$name.npy" "$T/labels.npy")"
}
clipcov auto
clipcov half --alpha 0.5
clipcov alpha2 --alpha 2
clipcov alpha0 --alpha 0
CC="--image $W/views/train_images.npy --text $W/views/train_texts.npy --label-embeddings $W/clipcov/label_emb.npy --labels $W/clipcov/labels.npy --normalize -t 1 --budget 1000 --alpha 0.5"
T=$W/clipcov
clipcov views
clipcov views_inter3 --term-weights 1,1,3,1,1
clipcov views_intra0 --term-weights 0,1,1,1,1

# ---- LoRS: rank, loss (one seed each; the acceptance program) ---------------------
lors() {
    name=$1
    shift
    "$B/examples/lors_fashion_mnist" "$FM" seeds=1 "$@" 2>/dev/null | grep '"method":"lors","seeds"' |
        sed -n 's/.*"mean":{"mean":\([0-9.]*\).*/\1/p' | { read -r m; line "lors $name ($*): mean recall $m"; }
}
lors rank10
lors rank2 rank=2
lors rank40 rank=40
lors wbce loss=3
