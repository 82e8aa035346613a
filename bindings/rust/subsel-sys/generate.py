#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Writes subsel-sys/src/lib.rs from include/subsel.h: every function the
header declares and every constant it defines, so the Rust side never holds
a hand-copied number.

Why a generator and not a C file asserting values: the header has ~170
functions and ~150 constants; hand-written declarations drift silently (a
wrong argument type is not an error anywhere), while a generated file is
either identical to what the header gives or `--check` fails. The C
compiler does the parsing that matters: gcc -E strips comments and
conditionals (with SUBSEL_NO_DEPRECATED, so deprecated constant aliases are
left out, as the header asks of generators), and the constants' values are
printed by a small C program compiled against the header, so expressions
such as SUBSEL_VERSION_NUMBER or INT64_C(...) are evaluated by C itself.

  generate.py            rewrite src/lib.rs
  generate.py --check    exit 1 (with a diff) if src/lib.rs is out of date
Environment: CC (default gcc); the header is ../../../include/subsel.h.
"""
import difflib
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
HEADER = os.path.normpath(os.path.join(HERE, "..", "..", "..", "include", "subsel.h"))
OUT = os.path.join(HERE, "src", "lib.rs")
CC = os.environ.get("CC", "gcc")

RUST_KEYWORDS = {"type", "fn", "ref", "in", "match", "mod", "move", "self",
                 "impl", "use", "where", "loop", "box", "crate", "super"}
SCALARS = {
    "int": "c_int", "double": "f64", "float": "f32", "int64_t": "i64",
    "int32_t": "i32", "uint16_t": "u16", "size_t": "usize", "char": "c_char",
    "void": "c_void",
}


def preprocess():
    return subprocess.run([CC, "-E", "-P", "-DSUBSEL_NO_DEPRECATED", HEADER],
                          check=True, capture_output=True, text=True).stdout


def rust_type(decl):
    """C type (without a name) to Rust: `const T **` -> `*mut *const T`."""
    stars = decl.count("*")
    words = decl.replace("*", " ").split()
    const = "const" in words
    base = [w for w in words if w != "const"]
    if len(base) != 1:
        raise SystemExit(f"generate.py: cannot map C type {decl!r}")
    name = base[0]
    rust = SCALARS.get(name, name)
    if stars == 0:
        return rust
    rust = ("*const " if const else "*mut ") + rust
    return "*mut " * (stars - 1) + rust


def split_decl(text):
    """`const char **name` -> (type text, name)."""
    m = re.match(r"^(.*?)(\w+)$", text.strip())
    return m.group(1).strip(), m.group(2)


def params(arglist):
    arglist = " ".join(arglist.split())
    if arglist in ("void", ""):
        return []
    out = []
    for arg in arglist.split(","):
        ctype, name = split_decl(arg)
        if name in RUST_KEYWORDS:
            name += "_"
        out.append(f"{name}: {rust_type(ctype)}")
    return out


def deprecated_functions(raw):
    """Names whose /*! ... */ comment in the header says "Deprecated:"."""
    names = set()
    for comment in re.findall(r"/\*!(.*?)\*/", raw, re.S):
        head = comment.split(":", 1)[0]
        if "Deprecated:" in comment:
            names.update(re.findall(r"(subsel_\w+)\(\)", head))
    return names


def constants(raw):
    """(name, kind) for every SUBSEL_ macro the header defines without its
    deprecated aliases; kind is 'str', 'i64' or 'c_int'."""
    macros = subprocess.run(
        [CC, "-E", "-dM", "-DSUBSEL_NO_DEPRECATED", HEADER],
        check=True, capture_output=True, text=True).stdout
    out = []
    for line in macros.splitlines():
        m = re.match(r"#define (SUBSEL_\w+) (.+)$", line)
        if not m or m.group(1) in ("SUBSEL_H", "SUBSEL_API"):
            continue
        name, value = m.groups()
        if value.startswith('"'):
            kind = "str"
        elif name.startswith("SUBSEL_LIMIT_"):
            kind = "i64"  # limits are compared with int64_t counts
        else:
            kind = "c_int"  # enumerations and codes are passed as int
        out.append((name, kind))
    # In the header's order, so the generated file reads like the header.
    order = {n: i for i, n in enumerate(re.findall(r"#define (SUBSEL_\w+)", raw))}
    out.sort(key=lambda c: order.get(c[0], 1 << 30))
    return out


def constant_values(consts):
    """Values as C computes them: compile and run a printer."""
    lines = ['#include <stdio.h>', '#include <inttypes.h>',
             f'#include "{HEADER}"', "int main(void) {"]
    for name, kind in consts:
        if kind == "str":
            lines.append(f'    printf("%s\\n", {name});')
        else:
            lines.append(f'    printf("%" PRId64 "\\n", (int64_t)({name}));')
    lines += ["    return 0;", "}"]
    with tempfile.TemporaryDirectory() as tmp:
        src, exe = os.path.join(tmp, "c.c"), os.path.join(tmp, "c")
        with open(src, "w") as f:
            f.write("\n".join(lines) + "\n")
        subprocess.run([CC, "-std=c99", "-DSUBSEL_NO_DEPRECATED", "-o", exe, src],
                       check=True)
        values = subprocess.run([exe], check=True, capture_output=True,
                                text=True).stdout.splitlines()
    return values


def generate():
    with open(HEADER) as f:
        raw = f.read()
    pp = preprocess()
    # Only what the header itself declares: from its first typedef or
    # function onwards (the system headers come first).
    pp = pp[pp.index("subsel_version_number") - len(" int "):]
    pp = pp[pp.rfind("\n", 0, pp.index("subsel_version_number")) + 1:]
    deprecated = deprecated_functions(raw)

    handles, callbacks, functions = [], [], []
    for stmt in " ".join(pp.split()).split(";"):
        stmt = stmt.strip()
        if not stmt:
            continue
        m = re.match(r"typedef struct (subsel_\w+) \1$", stmt)
        if m:
            handles.append(m.group(1))
            continue
        m = re.match(r"typedef (.+?)\(\*(\w+)\)\((.*)\)$", stmt)
        if m:
            ret, name, args = m.groups()
            ret = rust_type(ret)
            arrow = "" if ret == "c_void" else f" -> {ret}"
            callbacks.append(
                f"pub type {name} = Option<unsafe extern \"C\" fn({', '.join(params(args))}){arrow}>;")
            continue
        m = re.match(r"(.+?)\b(subsel_\w+)\((.*)\)$", stmt)
        if not m:
            raise SystemExit(f"generate.py: cannot parse {stmt!r}")
        ret, name, args = m.groups()
        ret = rust_type(ret)
        arrow = "" if ret == "c_void" else f" -> {ret}"
        attr = ("    #[deprecated(note = \"see include/subsel.h: use the _v2 form\")]\n"
                if name in deprecated else "")
        functions.append(f"{attr}    pub fn {name}({', '.join(params(args))}){arrow};")

    consts = constants(raw)
    values = constant_values(consts)
    out = [
        "// SPDX-License-Identifier: MIT",
        "// @generated by generate.py from include/subsel.h: do not edit;",
        "// run `/usr/bin/python3 generate.py` after changing the header",
        "// (the test header_sync fails until then).",
        "//! Raw declarations of libsubsel's C API (`include/subsel.h`): every",
        "//! function, handle type and constant, as the header has them. See the",
        "//! header for each function's contract; the `subsel` crate is the safe API.",
        "#![allow(non_camel_case_types)]",
        "",
        "// std::os::raw rather than core::ffi: Debian's rustc 1.63 lacks the",
        "// latter's C integer types.",
        "use std::ffi::c_void;",
        "use std::marker::{PhantomData, PhantomPinned};",
        "use std::os::raw::{c_char, c_int};",
        "",
        "// Constants (deprecated aliases left out, as with SUBSEL_NO_DEPRECATED).",
    ]
    for (name, kind), value in zip(consts, values):
        if kind == "str":
            out.append(f"pub const {name}: &str = \"{value}\";")
        else:
            out.append(f"pub const {name}: {kind} = {value};")
    out += ["", "// Opaque handles: never built or moved on the Rust side."]
    for h in handles:
        out.append("#[repr(C)]")
        out.append(f"pub struct {h} {{")
        out.append("    _data: [u8; 0],")
        out.append("    _marker: PhantomData<(*mut u8, PhantomPinned)>,")
        out.append("}")
    out += ["", "// Callbacks."] + callbacks
    out += ["", "extern \"C\" {"] + functions + ["}", ""]
    return "\n".join(out)


def main():
    text = generate()
    if "--check" in sys.argv[1:]:
        try:
            with open(OUT) as f:
                old = f.read()
        except FileNotFoundError:
            old = ""
        if old != text:
            sys.stdout.writelines(difflib.unified_diff(
                old.splitlines(True), text.splitlines(True), OUT, "generated"))
            print("subsel-sys/src/lib.rs is out of date with include/subsel.h: "
                  "run /usr/bin/python3 bindings/rust/subsel-sys/generate.py",
                  file=sys.stderr)
            return 1
        return 0
    with open(OUT, "w") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
