#!/bin/sh
# SPDX-License-Identifier: MIT
# `subsel info` tells the truth about the machine and the build: under every
# SUBSEL_ISA value (levels compiled out or unsupported included) the
# selected level is one whose kernels are compiled and supported; BLIS's
# sub-configuration is named; the bfloat16 screen is claimed only where it
# can run; the thread count is capped at the CPUs the process may use (its
# affinity mask), whatever --threads asks.
#   info.sh SUBSEL
set -u
SUBSEL=$1
COMMAND=info
. "$(dirname "$0")/lib.sh"

for isa in scalar avx2 avx512 bogus; do
    SUBSEL_ISA=$isa "$SUBSEL" info >"$TMP/out" 2>"$TMP/err" ||
        fail "info under SUBSEL_ISA=$isa exited $?: $(cat "$TMP/err")"
    selected=$(json_string selected "$TMP/out")
    [ -n "$selected" ] || fail "SUBSEL_ISA=$isa: no selected level: $(cat "$TMP/out")"
    [ "$(json_string "kernel_$selected" "$TMP/out")" = supported ] ||
        fail "SUBSEL_ISA=$isa selects $selected, which is not usable: $(cat "$TMP/out")"
    # a level that is compiled and supported is taken as asked
    if [ "$(json_string "kernel_$isa" "$TMP/out")" = supported ]; then
        [ "$selected" = "$isa" ] || fail "SUBSEL_ISA=$isa selects $selected"
    fi
done

"$SUBSEL" info >"$TMP/out" 2>"$TMP/err" || fail "info exited $?"
blis=$(json_string blis_arch "$TMP/out")
[ -n "$blis" ] && [ "$blis" != unknown ] || fail "no BLIS sub-configuration: $(cat "$TMP/out")"
grep -q "blis_arch=$blis " "$TMP/out" || fail "build info and blis_arch disagree: $(cat "$TMP/out")"

# TAROT's bfloat16 screen: named in the summary as in the build line, never
# below the AVX-512 level, and only on CPUs that have AVX512_BF16.
for isa in scalar avx2 avx512; do
    SUBSEL_ISA=$isa "$SUBSEL" info >"$TMP/out" 2>"$TMP/err" || fail "info exited $?"
    screen=$(json_string bf16_screen "$TMP/out")
    case $screen in yes | no) ;; *) fail "bf16_screen is '$screen': $(cat "$TMP/out")" ;; esac
    grep -q "bf16_screen=$screen" "$TMP/out" ||
        fail "build info and bf16_screen disagree: $(cat "$TMP/out")"
    if [ "$screen" = yes ]; then
        [ "$(json_string selected "$TMP/out")" = avx512 ] ||
            fail "SUBSEL_ISA=$isa: bf16_screen without the AVX-512 kernels"
        if [ -r /proc/cpuinfo ]; then
            grep -qw avx512_bf16 /proc/cpuinfo ||
                fail "bf16_screen on a CPU without avx512_bf16"
        fi
    fi
done

# 4096 threads asked, at most the CPUs of the affinity mask used.
cpus=$(nproc)
"$SUBSEL" info --threads 4096 >"$TMP/out" 2>"$TMP/err" || fail "info --threads 4096 exited $?"
threads=$(json_number threads "$TMP/out")
[ -n "$threads" ] && [ "$threads" -ge 1 ] && [ "$threads" -le "$cpus" ] ||
    fail "--threads 4096 on $cpus CPUs reports $threads threads"
if command -v taskset >/dev/null 2>&1; then
    taskset -c "$(taskset -cp $$ | sed 's/.*: *//; s/[-,].*//')" \
        "$SUBSEL" info --threads 4096 >"$TMP/out" 2>"$TMP/err" || fail "info under taskset exited $?"
    [ "$(json_number threads "$TMP/out")" = 1 ] ||
        fail "pinned to one CPU, info reports $(json_number threads "$TMP/out") threads"
fi
exit 0
