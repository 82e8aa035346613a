#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The layer check of one lib/ folder, run by ninja before the folder's objects.

lib/meson.build builds the folders lowest layer first; each folder's
meson.build lists, in `layer_uses`, the lower folders whose headers it may
include. This script reads every .c and .h file under the folder and fails
(so the build fails) when one includes a header of a folder that is not the
folder itself or one of its declared uses: a folder above it, a folder below
it that it did not declare, or anything outside lib/. It also fails when a
declared use is not below the folder, or is never included (so the list a
reader sees is exactly what the folder uses). On success it writes an empty
stamp header, which the folder's libraries list among their sources (meson
then orders every compilation after it), and a depfile naming every file
read, so that ninja runs the check again whenever one of them changes.

Usage: check_layers.py LIB_DIR FOLDER STAMP DEPFILE BELOW USES...
  BELOW  the folders built before FOLDER, comma-separated (may be empty)
  USES   the folders FOLDER declares in layer_uses

Only #include lines are read: a call into another folder without its header
is caught by the compiler instead (-Werror=implicit-function-declaration).
"""
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s*(?:"([^"]*)"|<([^>]*)>|(.*))')
# Headers every folder may include: the public contract and the build's
# configuration.
ANYWHERE = {"subsel.h", "subsel_config.h"}
SOURCES = (".c", ".h")


def sources_of(folder):
    """Every .c and .h file under folder, sorted, and the directories read."""
    found, dirs = [], []
    for root, subdirs, files in os.walk(folder):
        subdirs.sort()
        dirs.append(root)
        found.extend(os.path.join(root, f) for f in sorted(files)
                     if f.endswith(SOURCES))
    return found, dirs


def folder_of(lib_dir, path, name, quoted):
    """(folder, problem) for header `name` as included from `path`: the lib
    folder it belongs to ("" for a header every folder may include, None for
    a system header), or a problem saying why it cannot be included."""
    if quoted:
        # The compiler looks next to the including file first.
        beside = os.path.normpath(os.path.join(os.path.dirname(path), name))
        if os.path.isfile(beside):
            rel = os.path.relpath(beside, lib_dir)
            if rel == ".." or rel.startswith(".." + os.sep):
                return None, "it is outside lib/"
            return (rel.split(os.sep)[0] if os.sep in rel else ""), None
    if name in ANYWHERE:
        return "", None
    first = name.split("/")[0]
    if "/" in name and os.path.isdir(os.path.join(lib_dir, first)):
        return first, None
    if quoted:
        return None, "it is not a header of a lib/ folder"
    return None, None


def escape(path):
    return path.replace("\\", "\\\\").replace(" ", "\\ ").replace("#", "\\#")


def main(argv):
    if len(argv) < 6:
        sys.stderr.write(__doc__)
        return 2
    lib_dir = os.path.abspath(argv[1])
    folder = argv[2]
    stamp, depfile = argv[3], argv[4]
    below = [b for b in argv[5].split(",") if b]
    uses = argv[6:]
    meson_file = "lib/%s/meson.build" % folder
    errors = []

    for use in uses:
        if use == folder:
            errors.append("%s: layer_uses lists %s itself" % (meson_file, folder))
        elif use not in below:
            errors.append("%s: layer_uses lists '%s', which is not below %s "
                          "in lib/meson.build's layer order (below it: %s)"
                          % (meson_file, use, folder, ", ".join(below) or "nothing"))

    files, dirs = sources_of(os.path.join(lib_dir, folder))
    used = set()
    for path in files:
        rel = os.path.relpath(path, os.path.dirname(lib_dir))
        with open(path, encoding="utf-8", errors="replace") as f:
            for number, line in enumerate(f, 1):
                m = INCLUDE.match(line)
                if m is None:
                    continue
                quoted, angled, other = m.groups()
                if other is not None:
                    errors.append("%s:%d: a computed #include cannot be checked "
                                  "against the layer order" % (rel, number))
                    continue
                name = quoted if quoted is not None else angled
                owner, problem = folder_of(lib_dir, path, name,
                                           quoted is not None)
                if problem is not None:
                    errors.append("%s:%d: includes \"%s\", but %s"
                                  % (rel, number, name, problem))
                    continue
                if not owner or owner == folder:
                    continue
                if owner in uses:
                    used.add(owner)
                    continue
                if owner in below:
                    why = ("%s is below %s, so add '%s' to layer_uses in %s "
                           "if %s is meant to use it"
                           % (owner, folder, owner, meson_file, folder))
                else:
                    why = ("%s is not below %s in lib/meson.build's layer "
                           "order: a folder uses only the folders before it "
                           "(docs/internals.md)" % (owner, folder))
                errors.append("%s:%d: includes \"%s\": lib/%s may not use "
                              "lib/%s (its layer_uses: %s); %s"
                              % (rel, number, name, folder, owner,
                                 ", ".join(uses) or "none", why))

    for use in uses:
        if use in below and use not in used:
            errors.append("%s: layer_uses lists '%s', but no file of lib/%s "
                          "includes a header of it: remove it"
                          % (meson_file, use, folder))

    if errors:
        for e in errors:
            sys.stderr.write("layer check: %s\n" % e)
        return 1

    with open(depfile, "w", encoding="utf-8") as f:
        f.write("%s: %s\n" % (escape(stamp),
                              " ".join(escape(p) for p in dirs + files)))
    with open(stamp, "w", encoding="utf-8") as f:
        f.write("/* lib/%s passed the layer check (lib/check_layers.py); "
                "uses: %s */\n" % (folder, ", ".join(uses) or "none"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
