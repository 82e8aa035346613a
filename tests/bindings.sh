#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs one bindings suite against one libsubsel, found the way a user's
# build finds it: through pkg-config.
#
#   tests/bindings.sh SUITE [LIBDIR INCLUDEDIR WORKDIR]
#
# SUITE is python, rust or go. With LIBDIR, INCLUDEDIR and WORKDIR (meson's
# `bindings` suite, on the build tree), a subsel.pc naming them is written to
# WORKDIR, which also holds the suites' caches. Without them (.ci/run's
# stage 8, on an installed library) PKG_CONFIG_PATH must already point at
# the installed subsel.pc, and WORKDIR defaults to a temporary folder.
#
# Python: $SUBSEL_PYTHON (default Debian's /usr/bin/python3, which has NumPy,
# SciPy and pytest) runs python/tests. Unless SUBSEL_PYTHON_INSTALLED=1 says
# the package is installed in that interpreter, the source tree's is
# imported. $SUBSEL_CLI, when set, is the `subsel` program the tests compare
# with. Rust: cargo test --offline with the toolchain of the first cargo on
# PATH. Go: go test -v (one --- PASS / --- FAIL line per test).
set -eu

suite=$1

# A missing toolchain is a skip (77) with the reason, not a failure: ./run
# test installs them and counts a skip as a failure; meson test elsewhere
# says what is missing.
need() {
    command -v "$1" >/dev/null 2>&1 && return 0
    echo "bindings.sh: $1 not found: the $suite suite needs it" >&2
    exit 77
}
src=$(cd "$(dirname "$0")/.." && pwd)
if [ $# -ge 4 ]; then
    work=$4
    mkdir -p "$work/pkgconfig"
    # Every field a consumer reads: the include folder for cgo, the library
    # folder for the link and the Python loader.
    cat >"$work/pkgconfig/subsel.pc" <<EOF
libdir=$2
includedir=$3

Name: subsel
Description: libsubsel of the build tree, for the bindings' suites
Version: 0
Libs: -L\${libdir} -lsubsel
Cflags: -I\${includedir}
EOF
    PKG_CONFIG_PATH=$work/pkgconfig
    export PKG_CONFIG_PATH
else
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
fi
need pkg-config
libdir=$(pkg-config --variable=libdir subsel)
LD_LIBRARY_PATH=$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export LD_LIBRARY_PATH

case $suite in
python)
    python=${SUBSEL_PYTHON:-/usr/bin/python3}
    need "$python"
    "$python" -c 'import numpy, scipy, pytest' 2>/dev/null ||
        { echo "bindings.sh: $python lacks numpy, scipy or pytest" >&2; exit 77; }
    if [ "${SUBSEL_PYTHON_INSTALLED:-0}" != 1 ]; then
        PYTHONPATH=$src/python${PYTHONPATH:+:$PYTHONPATH}
        export PYTHONPATH
    fi
    # From outside the tree, so that an installed package is what imports.
    cd "$work"
    "$python" -m pytest -q -p no:cacheprovider "$src/python/tests"
    ;;
rust)
    need cargo
    cd "$src/bindings/rust"
    CARGO_TARGET_DIR=$work/rust-target cargo test --offline
    ;;
go)
    need go
    cd "$src/bindings/go"
    GOFLAGS=-mod=mod GOPROXY=off GOCACHE=$work/go-cache go test -v -count=1 ./...
    ;;
*)
    echo "bindings.sh: unknown suite '$suite' (python, rust or go)" >&2
    exit 2
    ;;
esac
