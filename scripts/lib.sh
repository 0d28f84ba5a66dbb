# Shell helpers sourced by scripts/demo.sh, scripts/results_table.sh, the bench/
# scripts and tests/load/pi_load.sh.

# num FILE KEY: the first numeric value of "KEY": in a one-line JSON file (FILE -
# is standard input) written by the CLI's or a benchmark's --json (top-level keys
# come before any per-layer list, so the first match is the top-level one).
num() {
    awk -v k="\"$2\":" '{ i = index($0, k); if (i) { s = substr($0, i + length(k)); sub(/^[ \t]*/, "", s);
        match(s, /^[0-9.eE+-]+/); print substr(s, 1, RLENGTH); exit } }' "$1"
}
# field KEY: num of standard input
field() { num - "$1"; }
