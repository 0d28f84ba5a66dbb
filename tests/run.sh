#!/bin/sh
# Runs the unit-test binary and the CLI tests, then prints the total as the last
# line: `N passed, N failed`. Exit status is non-zero when anything failed.
#   tests/run.sh UNIT_BINARY [AUTOREP_CLI]
unit="$1"
cli="${2:-}"
dir=$(dirname "$0")
log=$(mktemp)
trap 'rm -f "$log"' EXIT
"$unit" | tee "$log"
p=$(tail -n 1 "$log" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
f=$(tail -n 1 "$log" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
[ -z "$p" ] && { p=0; f=1; echo "unit test binary did not finish"; }
if [ -n "$cli" ]; then
    # make check-asan: the CLI tests run with their own sanitizer options (docs/reliability.md)
    if [ -n "${CLI_ASAN_OPTIONS:-}" ]; then export ASAN_OPTIONS="$CLI_ASAN_OPTIONS"; fi
    for t in "$dir"/cli/*.sh; do
        [ -e "$t" ] || continue
        [ "$(basename "$t")" = lib.sh ] && continue # shared helpers, sourced by the others
        AUTOREP="$cli" sh "$t" | tee "$log"
        cp=$(tail -n 1 "$log" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
        cf=$(tail -n 1 "$log" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
        [ -z "$cp" ] && { cp=0; cf=1; echo "$t did not finish"; }
        p=$((p + cp)); f=$((f + cf))
    done
fi
echo "$p passed, $f failed"
[ "$f" -eq 0 ]
