# SPDX-License-Identifier: MIT
"""Selection over random parts (parameters `parts` and `merge`), as the
CLI's tests/cli/sdm.sh checks it: the same selection on 1 and 2 threads,
and RandGreeDi with one part per row is the fixture's greedy order."""
import numpy as np
import pytest

import subsel


def test_parts_are_the_same_on_any_thread_count(fixtures, sdm_data):
    p = np.load(fixtures / "sdm" / "p_target.npy")
    runs = [subsel.sdm(sdm_data["source"], target_distribution=p, budget=20,
                       optimizer="stochastic", parts=3,
                       ctx=subsel.Context(threads=t))
            for t in (1, 2)]
    np.testing.assert_array_equal(runs[0].indices, runs[1].indices)
    assert len(runs[0].indices) == 20
    assert len(set(runs[0].indices.tolist())) == 20
    obj = subsel.SDM(sdm_data["source"], target_distribution=p)
    assert obj.evaluate(runs[0].indices) == pytest.approx(runs[0].value,
                                                          rel=1e-9)


def test_greedi_with_a_part_per_row_is_the_greedy_order(fixtures, sdm_data):
    d = fixtures / "sdm"
    r = subsel.sdm(sdm_data["source"], target=sdm_data["target"],
                   quality=sdm_data["quality"], bins=3,
                   bin_weights=[0, 0.01, 0.99], lambda_=0.7, budget=12,
                   optimizer="lazy", parts=80, merge=1)
    np.testing.assert_array_equal(r.indices, np.load(d / "order.npy"))


def test_parts_errors_carry_the_library_message(sdm_data):
    with pytest.raises(subsel.InvalidArgument, match="larger than the pool"):
        subsel.sdm(sdm_data["source"], target=sdm_data["target"], budget=3,
                   parts=81)
    with pytest.raises(subsel.InvalidArgument, match="merge"):
        subsel.sdm(sdm_data["source"], target=sdm_data["target"], budget=3,
                   merge=2)
