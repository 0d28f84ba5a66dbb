# Shell helpers sourced by scripts/demo.sh and scripts/results_table.sh.

# num FILE KEY: the first value of "KEY": in a one-line JSON file written by the
# CLI's --json (top-level keys come before any per-layer list, so the first match
# is the top-level one).
num() {
    awk -v k="\"$2\":" '{ i = index($0, k); if (i) { s = substr($0, i + length(k)); match(s, /^[0-9.eE+-]+/);
        print substr(s, 1, RLENGTH); exit } }' "$1"
}
