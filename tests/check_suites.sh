#!/bin/sh
# SPDX-License-Identifier: MIT
# Suites are registered in one place, suite_names in tests/meson.build: the
# runner's list (subsel-tests --list, generated from it) must name exactly
# the tests/test_*.c files (test_main.c, the runner, aside), so a new test
# file cannot be left out of the build, and a name cannot be listed without
# its file.
set -eu
runner=$1 dir=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$runner" --list | sort > "$tmp/registered"
for f in "$dir"/test_*.c; do
    f=${f##*/test_}
    [ "$f" = main.c ] || echo "${f%.c}"
done | sort > "$tmp/files"
if ! diff -u "$tmp/files" "$tmp/registered"; then
    echo "tests/test_*.c files differ from suite_names in tests/meson.build" >&2
    exit 1
fi
echo "$(wc -l < "$tmp/registered") suites: files = registered"
