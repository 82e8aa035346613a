#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""docs/choosing-parameters.md names every method's key parameters (each
under the method's own section), and docs/index.md and README.md link it
and docs/large-pools.md.

    check_parameter_docs.py SOURCE_DIR
"""
import re
import sys
from pathlib import Path

KEYS = {
    "Stochastic greedy": ["epsilon", "runs", "min-runs"],
    "SDM": ["lambda", "bins", "bin weights"],
    "UniPROT": ["reg", "k"],
    "TAROT": ["folds", "ratio", "blur", "scaling"],
    "ClipCov": ["alpha", "term weights"],
    "LoRS": ["rank", "loss"],
}


def main():
    top = Path(sys.argv[1])
    text = (top / "docs" / "choosing-parameters.md").read_text()
    sections = re.split(r"^## ", text, flags=re.M)[1:]
    missing = []
    for method, keys in KEYS.items():
        body = next((s for s in sections if s.startswith(method)), None)
        if body is None:
            missing.append(f"no section for {method}")
            continue
        title, rest = body.split("\n", 1)
        rest = " ".join(rest.split())
        for key in keys:
            # in the title, and explained in the body
            if key not in title or not re.search(rf"\b{re.escape(key)}\b", rest):
                missing.append(f"{method}: {key}")
        if "| " not in rest:
            missing.append(f"{method}: no measured table")
    for page in ("docs/index.md", "README.md"):
        body = (top / page).read_text()
        for link in ("choosing-parameters.md", "large-pools.md"):
            if link not in body:
                missing.append(f"{page} does not link {link}")
    if missing:
        print("\n".join(missing), file=sys.stderr)
        sys.exit(1)
    print(f"ok: {sum(map(len, KEYS.values()))} parameters of {len(KEYS)} sections")


if __name__ == "__main__":
    main()
