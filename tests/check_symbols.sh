#!/bin/sh
# SPDX-License-Identifier: MIT
# The exported symbols of libsubsel.so, the names in the version script and
# the functions the public header declares must be the same list: nothing
# internal leaks, nothing declared is missing.
set -eu
lib=$1 map=$2 header=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
nm -D --defined-only "$lib" | awk '{print $3}' | sed 's/@.*//' | grep -v '^SUBSEL_' | sort -u > "$tmp/exported"
grep -E '^[[:space:]]+subsel_[a-z0-9_]+;' "$map" | tr -d ' ;\t' | sort -u > "$tmp/map"
grep -v '^#' "$header" | grep -oE 'SUBSEL_API [^(]*\(' | sed -E 's/.*[ *]([a-z0-9_]+)\($/\1/' | sort -u > "$tmp/header"
status=0
if ! diff -u "$tmp/map" "$tmp/exported"; then
    echo "exported symbols differ from $map" >&2
    status=1
fi
if ! diff -u "$tmp/map" "$tmp/header"; then
    echo "functions declared in $header differ from $map" >&2
    status=1
fi
# Every version node is sorted, so additions are easy to review.
awk '/\{/{node=$1; n=0} /^[[:space:]]+subsel_/{gsub(/[ ;\t]/,""); if (n && $0 < prev) {print "not sorted in " node ": " $0; bad=1} prev=$0; n=1} END{exit bad}' "$map" || status=1
[ $status -eq 0 ] && echo "$(wc -l < "$tmp/map") symbols: exported = map = header"
exit $status
