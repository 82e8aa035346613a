# SPDX-License-Identifier: MIT
# Shared by the tests of the subsel program (tests/cli/*.sh). A script sets
# SUBSEL (the program) and COMMAND (the subcommand under test), then sources
# this file, which makes a temporary folder $TMP removed at exit.

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

# The number / string value of a key of the one-line JSON object in a file.
json_number() { sed -n 's/.*"'"$1"'": \([0-9.eE+-]*\).*/\1/p' "$2"; }
json_string() { sed -n 's/.*"'"$1"'": "\([^"]*\)".*/\1/p' "$2"; }

# stages FILE NAME...: the JSON object in FILE has "stages": {...} with
# exactly these stages, in this order, each a number of seconds (>= 0: no
# sign is accepted).
stages() {
    local file=$1 inner names
    shift
    inner=$(sed -n 's/.*"stages": {\([^}]*\)}.*/\1/p' "$file")
    [ -n "$inner" ] || fail "no stages: $(cat "$file")"
    names=$(printf '%s\n' "$inner" | tr ',' '\n' | sed -n 's/^ *"\([a-z]*\)": [0-9][0-9.eE+-]*$/\1/p' |
        tr '\n' ' ')
    [ "$names" = "$* " ] || fail "stages are '$names', not '$* ': {$inner}"
}

# The payload of a 1-D int64 .npy vector of $2 values: its last 8 * $2 bytes.
payload() { tail -c "$(($2 * 8))" "$1" | od -An -tx1 -v; }

# bad ARGS...: `subsel $COMMAND ARGS` must fail the way users are promised:
# a nonzero exit (in $bad_status: 2 for usage errors, 1 for failures),
# nothing on stdout, and an error line prefixed "subsel $COMMAND: " as the
# last line on stderr (progress lines may come before it on long runs),
# which names CLI options, never C constants or functions.
bad() {
    "$SUBSEL" "$COMMAND" "$@" >"$TMP/bad_out" 2>"$TMP/bad_err"
    bad_status=$?
    [ "$bad_status" -ne 0 ] || fail "$COMMAND $*: exit 0"
    [ "$bad_status" -le 2 ] || fail "$COMMAND $*: exit $bad_status (a crash?)"
    [ ! -s "$TMP/bad_out" ] || fail "$COMMAND $*: wrote to stdout"
    tail -n 1 "$TMP/bad_err" | grep -q "^subsel $COMMAND: " ||
        fail "$COMMAND $*: no prefixed error line: $(cat "$TMP/bad_err")"
    if tail -n 1 "$TMP/bad_err" | grep -Eq 'SUBSEL_[A-Z]|subsel_[a-z_]+'; then
        fail "$COMMAND $*: the message names C code: $(tail -n 1 "$TMP/bad_err")"
    fi
}
