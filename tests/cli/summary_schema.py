# SPDX-License-Identifier: MIT
"""Every command's JSON summary against docs/summary.schema.json, the one
documented schema of the fields all of them print (version, inputs with
shapes and dtypes, seed, stages with seconds and peak memory), with a
validator of the part of JSON Schema that file uses (jsonschema is not
needed). The validator is checked to fail on broken summaries first, so a
validator that accepts everything cannot pass. Exits 77 without NumPy.

    summary_schema.py SUBSEL SCHEMA
"""
import json
import os
import re
import subprocess
import sys
import tempfile

try:
    import numpy  # noqa: F401  (every_command makes its inputs with it)
except ImportError:
    sys.exit(77)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from every_command import runs  # noqa: E402

KEYWORDS = {"$schema", "$id", "title", "description", "type", "const", "enum",
            "minimum", "pattern", "required", "properties",
            "additionalProperties", "items", "minItems", "maxItems", "if",
            "then", "else"}
TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "null": lambda v: v is None,
}


def errors(value, schema, where="$"):
    """The ways `value` breaks `schema` (JSON Schema 2020-12, the keywords
    in KEYWORDS), as messages naming the place."""
    unknown = set(schema) - KEYWORDS
    assert not unknown, f"{where}: the validator does not know {unknown}"
    out = []
    t = schema.get("type")
    if t is not None and not any(TYPES[k](value) for k in ([t] if isinstance(t, str) else t)):
        return [f"{where}: {value!r} is not of type {t}"]
    if "const" in schema and value != schema["const"]:
        out.append(f"{where}: {value!r} is not {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        out.append(f"{where}: {value!r} is not one of {schema['enum']}")
    if "minimum" in schema and TYPES["number"](value) and value < schema["minimum"]:
        out.append(f"{where}: {value} < {schema['minimum']}")
    if "pattern" in schema and isinstance(value, str) and not re.search(schema["pattern"], value):
        out.append(f"{where}: {value!r} does not match {schema['pattern']}")
    if isinstance(value, dict):
        for key in schema.get("required", []):
            if key not in value:
                out.append(f"{where}: no '{key}'")
        props = schema.get("properties", {})
        for key, v in value.items():
            if key in props:
                out += errors(v, props[key], f"{where}.{key}")
            elif isinstance(schema.get("additionalProperties"), dict):
                out += errors(v, schema["additionalProperties"], f"{where}.{key}")
            elif schema.get("additionalProperties") is False:
                out.append(f"{where}: unexpected '{key}'")
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            out.append(f"{where}: fewer than {schema['minItems']} items")
        if len(value) > schema.get("maxItems", len(value)):
            out.append(f"{where}: more than {schema['maxItems']} items")
        if "items" in schema:
            for i, v in enumerate(value):
                out += errors(v, schema["items"], f"{where}[{i}]")
    if "if" in schema:
        branch = "then" if not errors(value, schema["if"], where) else "else"
        out += errors(value, schema.get(branch, {}), where)
    return out


def unique_keys(pairs):
    """A JSON object whose keys are all different (a command's own field
    must not repeat a common one)."""
    keys = [k for k, _ in pairs]
    assert len(keys) == len(set(keys)), f"repeated keys: {keys}"
    return dict(pairs)


def check_validator(schema, good):
    """The validator refuses what the schema forbids (so it can fail)."""
    broken = [
        {k: v for k, v in good.items() if k != "version"},
        {**good, "seed": -1},
        {**good, "seed": 1.5},
        {**good, "input_arrays": {"source": {"shape": [3, "4"], "dtype": "float32"}}},
        {**good, "input_arrays": {"source": {"shape": [1, 2, 3], "dtype": "float32"}}},
        {**good, "input_arrays": {"source": {"dtype": "float32"}}},
        {**good, "stages": {"load": -0.1}},
        {**good, "stages": {"load": "0.1"}},
        {k: v for k, v in good.items() if k != "peak_rss_bytes"},
        {**good, "output": "rows"},
        {**good, "version": "x"},
    ]
    for b in broken:
        assert errors(b, schema), f"the validator accepts {b}"
    # info needs no stages, every other command does
    info = {k: good[k] for k in ("command", "version", "seed", "input_arrays")}
    assert not errors({**info, "command": "info"}, schema)
    assert errors(info, schema)


def main():
    subsel, schema_path = sys.argv[1], sys.argv[2]
    with open(schema_path) as f:
        schema = json.load(f)
    seen = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, argv, _ in runs(tmp):
            p = subprocess.run([subsel, *argv], capture_output=True, text=True)
            assert p.returncode == 0, (argv, p.returncode, p.stderr)
            out = json.loads(p.stdout, object_pairs_hook=unique_keys)
            problems = errors(out, schema)
            assert not problems, (name, problems, out)
            assert out["command"] == name, (name, out["command"])
            if name != "info":
                # the peaks are high-water marks, and the last is the run's
                peaks = list(out["stages_peak_rss_bytes"].values())
                assert list(out["stages_peak_rss_bytes"]) == list(out["stages"]), out
                assert peaks == sorted(peaks) and 0 < peaks[-1] <= out["peak_rss_bytes"], out
                assert out["input_arrays"], (name, "no inputs")
            seen.append(name)
            if name == "fb":
                check_validator(schema, out)
                assert out["input_arrays"] == {"features": {"shape": [80, 50],
                                                      "dtype": "float32 (int32 indices)"}}, out
            if name == "uniprot":
                assert out["input_arrays"]["source"] == {"shape": [40, 6], "dtype": "float32"}, out
                assert out["input_arrays"]["target"] == {"shape": [60, 6], "dtype": "float32"}, out
            if name == "clipcov":
                assert out["input_arrays"]["labels"] == {"shape": [200], "dtype": "int64"}, out
    # every command of `subsel --help` ran
    listed = subprocess.run([subsel, "--help"], capture_output=True, text=True).stdout
    commands = re.findall(r"^  ([a-z-]+) ", listed, re.M)
    assert commands and all(any(s.split()[0] == c for s in seen) for c in commands), (
        commands, seen)
    print(f"{len(seen)} summaries match {os.path.basename(schema_path)}")


if __name__ == "__main__":
    main()
