# SPDX-License-Identifier: MIT
"""Checks the PNG files the pictures write (issue 16), with the standard
library only: the signature, every chunk's CRC, IHDR first with the
expected width and height, at least one IDAT, IEND last, and image data
that inflates to exactly the rows IHDR promises.

As a module: png_size(path) -> (width, height), raising ValueError for a
file that is not a valid PNG (python/tests/test_plot.py imports it).

As a program, the examples' PNG test in tests/meson.build:

    png_check.py OUT.png WIDTHxHEIGHT -- CMD ARGS... [:: CMD ARGS...]

makes OUT.png's folder, removes OUT.png, runs each command in turn (a
command that fails fails the test; one exiting 77 skips it, as does a
python3 without matplotlib), then checks OUT.png.
"""
import importlib.util
import os
import struct
import subprocess
import sys
import zlib

SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Samples per pixel of each PNG colour type.
CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


def png_size(path):
    """(width, height) of the PNG at `path`, after checking it whole."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != SIGNATURE:
        raise ValueError(f"{path}: not a PNG (signature {data[:8]!r})")
    pos, chunks, idat = 8, [], b""
    while pos < len(data):
        if pos + 12 > len(data):
            raise ValueError(f"{path}: truncated chunk at byte {pos}")
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if len(body) != length or pos + 12 + length > len(data):
            raise ValueError(f"{path}: truncated {kind!r} chunk")
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        if zlib.crc32(kind + body) != crc:
            raise ValueError(f"{path}: bad CRC in {kind!r} chunk")
        chunks.append((kind, body))
        if kind == b"IDAT":
            idat += body
        pos += 12 + length
    if not chunks or chunks[0][0] != b"IHDR" or len(chunks[0][1]) != 13:
        raise ValueError(f"{path}: IHDR is not the first chunk")
    if chunks[-1][0] != b"IEND":
        raise ValueError(f"{path}: IEND is not the last chunk")
    width, height, depth, colour, _, _, interlace = struct.unpack(
        ">IIBBBBB", chunks[0][1])
    if width == 0 or height == 0 or colour not in CHANNELS:
        raise ValueError(f"{path}: bad IHDR ({width}x{height}, type {colour})")
    if not idat:
        raise ValueError(f"{path}: no image data")
    raw = zlib.decompress(idat)
    if interlace == 0:
        row = 1 + (width * CHANNELS[colour] * depth + 7) // 8
        if len(raw) != row * height:
            raise ValueError(f"{path}: {len(raw)} bytes of pixels for "
                             f"{height} rows of {row}")
    return width, height


def main(argv):
    if len(argv) < 4 or argv[2] != "--":
        sys.stderr.write(__doc__)
        return 2
    out, want = argv[0], tuple(int(v) for v in argv[1].split("x"))
    commands, current = [], []
    for arg in argv[3:] + ["::"]:
        if arg == "::":
            commands.append(current)
            current = []
        else:
            current.append(arg)
    if importlib.util.find_spec("matplotlib") is None:
        print("png_check: this python3 lacks matplotlib "
              "(apt-get install python3-matplotlib)", file=sys.stderr)
        return 77
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    try:
        os.remove(out)
    except FileNotFoundError:
        pass
    for cmd in commands:
        status = subprocess.call(cmd)
        if status != 0:
            print(f"png_check: {cmd[0]} exited {status}", file=sys.stderr)
            return 77 if status == 77 else 1
    got = png_size(out)
    if got != want:
        print(f"png_check: {out} is {got[0]}x{got[1]}, not {want[0]}x{want[1]}",
              file=sys.stderr)
        return 1
    print(f"png_check: {out}: a valid {got[0]}x{got[1]} PNG")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
