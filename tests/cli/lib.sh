# Shared helpers for the CLI tests (sourced). Each test file ends with summary.
PASS=0
FAIL=0
T=$(mktemp -d /tmp/autorep-cli.XXXXXX)
trap 'rm -rf "$T"' EXIT
A=${AUTOREP:-./autorep}
STCMP=${STCMP:-build/stcmp}

ok() { PASS=$((PASS + 1)); echo "ok   $1"; }
bad() { FAIL=$((FAIL + 1)); echo "FAIL $1"; shift; for l in "$@"; do echo "    $l"; done; }

# expect_fail NAME PATTERN CMD...: non-zero exit, exactly one stderr line containing PATTERN
expect_fail() {
    name=$1; pat=$2; shift 2
    "$@" > "$T/out" 2> "$T/err"; rc=$?
    lines=$(wc -l < "$T/err")
    if [ $rc -ne 0 ] && [ "$lines" -eq 1 ] && grep -q -- "$pat" "$T/err"; then ok "$name"
    else bad "$name" "exit $rc, $lines stderr lines, want '$pat':" "$(head -3 "$T/err")"; fi
}

summary() { echo "$PASS passed, $FAIL failed"; }
