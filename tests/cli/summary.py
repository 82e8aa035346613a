# SPDX-License-Identifier: MIT
"""The JSON summary of a subsel command, as the Python CLI tests read it
(the shell tests' counterpart is lib.sh)."""
import json


def summary(stdout):
    """The summary on stdout, checked to say where its time went: a
    "stages" object of seconds (numbers >= 0), stage by stage."""
    out = json.loads(stdout)
    assert out["stages"] and all(isinstance(v, float) and v >= 0
                                 for v in out["stages"].values()), out
    return out
