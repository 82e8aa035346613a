# SPDX-License-Identifier: MIT
"""Every subsel command on tiny inputs, for the tests that check what all of
them share (the summary's schema, --ids, --quiet and the progress bar).

    runs(subsel, tmp) -> [(name, argv, selecting)], in an order where each
    run's inputs exist once the runs before it are done (encode reads
    sae-train's autoencoder, lors distill the buffer).
"""
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
FIX = os.path.join(TESTS, "fixtures")
DATA = os.path.join(TESTS, "data")


# The input whose rows are the pool of each selecting command (its key in
# the summary's "input_arrays").
POOL = {"fb": "features", "sdm": "source", "uniprot": "source",
        "uniprot-batch": "batch", "tarot": "candidates", "clipcov": "image",
        "lors baseline": "images"}


def make_inputs(tmp):
    """The inputs no fixture has: TAROT's features, embeddings for the
    autoencoder and LoRS's image-text pairs."""
    rng = np.random.default_rng(16)
    np.save(os.path.join(tmp, "cand.npy"), rng.normal(size=(60, 5)).astype(np.float32))
    np.save(os.path.join(tmp, "targ.npy"), rng.normal(size=(20, 5)).astype(np.float32))
    atoms = np.abs(rng.normal(size=(6, 12)))
    mix = rng.random((300, 6)) * (rng.random((300, 6)) < 0.3)
    np.save(os.path.join(tmp, "emb.npy"), (mix @ atoms).astype(np.float32))
    z = rng.normal(size=(60, 4))
    np.save(os.path.join(tmp, "img.npy"), (z @ rng.normal(size=(4, 10))).astype(np.float32))
    np.save(os.path.join(tmp, "txt.npy"), (z @ rng.normal(size=(4, 6))).astype(np.float32))


def runs(tmp):
    make_inputs(tmp)
    p = lambda name: os.path.join(tmp, name)  # noqa: E731
    sdm = os.path.join(FIX, "sdm")
    uni = os.path.join(DATA, "uniprot")
    clip = os.path.join(DATA, "clipcov")
    lors_data = ["--images", p("img.npy"), "--texts", p("txt.npy")]
    towers = ["--tower", "0", "--embed-dim", "8"]
    return [
        ("info", ["info"], False),
        ("fb", ["fb", "--features", os.path.join(sdm, "source.npz"), "-k", "4",
                "-o", p("fb.npy")], True),
        ("sdm", ["sdm", "--source", os.path.join(sdm, "source.npz"), "--target",
                 os.path.join(sdm, "target.npz"), "-k", "4", "-o", p("sdm.npy")], True),
        ("uniprot", ["uniprot", "--source", os.path.join(uni, "source.npy"), "--target",
                     os.path.join(uni, "target.npy"), "-k", "4", "-o", p("uni.npy")], True),
        ("uniprot-batch", ["uniprot-batch", "--batch", os.path.join(uni, "source.npy"),
                           "--fraction", "0.1", "-o", p("unib.npy")], True),
        ("tarot", ["tarot", "--candidates", p("cand.npy"), "--targets", p("targ.npy"),
                   "--ratio", "0.1", "-o", p("tarot.npy")], True),
        ("clipcov", ["clipcov", "--image", os.path.join(clip, "image.npy"), "--text",
                     os.path.join(clip, "text.npy"), "--label-embeddings",
                     os.path.join(clip, "label_emb.npy"), "--labels",
                     os.path.join(clip, "labels.npy"), "-k", "4", "-o", p("clip.npy")], True),
        ("sae-train", ["sae-train", "--input", p("emb.npy"), "--latents", "16", "--k", "2",
                       "--batch", "64", "--set-size", "16", "--reservoir", "100",
                       "--out", p("sae")], False),
        ("encode", ["encode", "--sae", p("sae"), "--input", p("emb.npy"), "--k", "2",
                    "--out", p("codes.npz")], False),
        ("sae-score", ["sae-score", "--codes", p("codes.npz"), "--input", p("emb.npy")],
         False),
        ("lors buffer", ["lors", "buffer", *lors_data, *towers, "--out", p("buf"),
                         "--experts", "1", "--buffer-epochs", "2", "--expert-batch", "16"],
         False),
        ("lors distill", ["lors", "distill", *lors_data, *towers, "--buffer", p("buf"),
                          "--pairs", "6", "--syn-steps", "2", "--batch", "4", "--rank", "2",
                          "--iterations", "2", "--eval-epochs", "2", "--eval-batch", "8",
                          "--out", p("set")], False),
        ("lors eval", ["lors", "eval", "--test-images", p("img.npy"), "--test-texts",
                       p("txt.npy"), "--set", p("set"), "--eval-epochs", "2",
                       "--eval-batch", "8"], False),
        ("lors baseline", ["lors", "baseline", *lors_data, "--method", "herding",
                           "--count", "5", "--out", p("base.npy")], True),
    ]
