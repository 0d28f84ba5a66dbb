#!/bin/sh
# CLI tests of `autorep report`: a report from a tiny real run (baseline found
# through the replaced checkpoint's metadata) with sample private-inference
# files, the --site option, and bad inputs (one-line errors naming the file and
# line, no output file left, an existing output untouched).
. "$(dirname "$0")/lib.sh"

# --- a tiny baseline and an SNL replacement (SNL always meets its budget) ---
common="--batch 32 --max-train 64 --max-test 64 --quiet"
if ! $A train --arch tests/tiny.cfg --epochs 1 $common --out "$T/base.safetensors" 2> "$T/e" ||
    ! $A replace --model "$T/base.safetensors" --method snl --budget 10% --epochs 1 $common \
        --out "$T/snl.safetensors" 2> "$T/e"; then
    bad "train and replace a tiny model" "$(tail -2 "$T/e")"
    summary
    exit 0
fi

# --- sample private-inference results (the shape of autorep pi local --json; extra fields are ignored) ---
cat > "$T/base.pi.json" << EOF
{"model": "$T/base.safetensors", "n": 64, "mpc_top1": 0.28125, "fixed_top1": 0.28125, "float_top1": 0.28125,
 "agree_fixed": 1, "relu_count": 6566, "poly_count": 0, "online_bytes": 590112, "relu_online_bytes": 505582,
 "poly_online_bytes": 0, "linear_online_bytes": 84530, "rounds": 28, "dealer_bytes": 360000, "online_seconds": 0.9,
 "layers": [
  {"name": "conv1", "linear_online_bytes": 6272, "rounds": 1, "dealer_bytes": 25120},
  {"name": "relu1", "relu_online_bytes": 241472, "rounds": 8, "dealer_bytes": 121000, "seconds": 0.01},
  {"name": "block.conv1", "linear_online_bytes": 25088, "rounds": 1},
  {"name": "block.relu1", "relu_online_bytes": 241472, "rounds": 8, "future_field": {"x": 1}},
  {"name": "down", "linear_online_bytes": 50000, "rounds": 1},
  {"name": "relu2", "relu_online_bytes": 22638, "rounds": 8},
  {"name": "fc", "online_bytes": 3170, "rounds": 1}]}
EOF
cat > "$T/snl.pi.json" << EOF
{"model": "$T/snl.safetensors", "n": 64, "mpc_top1": 0.3125, "online_bytes": 219400, "relu_online_bytes": 50500,
 "poly_online_bytes": 84370, "linear_online_bytes": 84530, "rounds": 28, "dealer_bytes": 150000,
 "layers": [
  {"name": "conv1", "linear_online_bytes": 6272, "rounds": 1},
  {"name": "relu1", "relu_online_bytes": 24000, "poly_online_bytes": 40000, "rounds": 8},
  {"name": "block.conv1", "linear_online_bytes": 25088, "rounds": 1},
  {"name": "block.relu1", "relu_online_bytes": 24000, "poly_online_bytes": 40000, "rounds": 8},
  {"name": "down", "linear_online_bytes": 50000, "rounds": 1},
  {"name": "relu2", "relu_online_bytes": 2500, "poly_online_bytes": 4370, "rounds": 8},
  {"name": "fc", "linear_online_bytes": 3170, "rounds": 1}]}
EOF

# --- a full report ---
out="$T/report.html"
if $A report "$T/snl.safetensors" --pi "$T/base.pi.json" --pi="$T/snl.pi.json" --out "$out" 2> "$T/e"; then
    ok "report exits 0"
else
    bad "report" "$(cat "$T/e")"
fi
[ "$(wc -l < "$T/e")" -eq 1 ] && grep -q "wrote .*report.html.*2 runs, 2 private-inference files" "$T/e" &&
    ok "one summary line on stderr" || bad "stderr" "$(cat "$T/e")"
[ "$(head -c 15 "$out")" = "<!DOCTYPE html>" ] && [ "$(tail -n 1 "$out")" = "</html>" ] &&
    ok "a complete HTML document" || bad "HTML document" "$(head -c 80 "$out")"
svgs=$(grep -o "<svg " "$out" | wc -l)
[ "$svgs" -ge 10 ] && ok "$svgs inline SVG figures" || bad "only $svgs SVG figures"
for id in runs tradeoff sites density curves pi data; do
    grep -q "<section id=\"$id\">" "$out" || bad "section $id missing"
done
grep -q "Private-inference cost" "$out" && grep -q "Online traffic per layer" "$out" && grep -q "Rounds per layer" "$out" &&
    ok "private-inference figures" || bad "private-inference figures"
grep -q "<th class=\"l\">block.relu1</th>" "$out" && ok "per-site table" || bad "per-site table"
grep -q "autorep replace --model" "$out" && grep -q "autorep train --arch" "$out" &&
    ok "commands reconstructed from metadata" || bad "commands"
if grep -q -i "<script\|src=\|@import\|url(" "$out"; then bad "report fetches or runs something"; else ok "self-contained"; fi
[ "$(grep -o "http[s]*://[^\"]*" "$out" | sort -u)" = "http://www.w3.org/2000/svg" ] &&
    ok "no external references" || bad "external references" "$(grep -o "http[s]*://[^\"]*" "$out" | sort -u)"

$A report "$T/snl.safetensors" --site relu2 --title "Tiny & <run>" --out "$T/site.html" 2> /dev/null &&
    grep -q "Kept ReLUs inside site <code>relu2</code>" "$T/site.html" && grep -q "<h1>Tiny &amp; &lt;run&gt;</h1>" "$T/site.html" &&
    ok "--site and --title" || bad "--site / --title"
$A report --help | grep -q "RUN" && ok "--help" || bad "--help"

# --- bad inputs: one line naming the file, nothing written ---
cp "$T/snl.safetensors" "$T/nolog.safetensors"
expect_fail "missing log" "nolog.jsonl: cannot open the log" $A report "$T/nolog.safetensors" --out "$T/x.html"
[ ! -e "$T/x.html" ] && ok "no output after a failure" || bad "failed report left $T/x.html"
cp "$T/snl.safetensors" "$T/bad.safetensors"
head -n 1 "$T/snl.jsonl" > "$T/bad.jsonl"
head -c 40 "$T/snl.jsonl" >> "$T/bad.jsonl"
echo >> "$T/bad.jsonl"
echo old > "$T/keep.html"
expect_fail "malformed JSONL line" "bad.jsonl:2: not a JSON object" $A report "$T/bad.safetensors" --out "$T/keep.html"
[ "$(cat "$T/keep.html")" = old ] && ok "existing output untouched after a failure" || bad "output clobbered"
ls "$T" | grep -q "keep.html.tmp" && bad "temporary file left" || ok "no temporary file left"
printf '{"online_bytes": 10,\n "layers": [ {"name": "a", "rounds": 1} ' > "$T/broken.pi.json"
expect_fail "malformed pi JSON" "broken.pi.json:2: not JSON" $A report "$T/snl.safetensors" --pi "$T/broken.pi.json" \
    --out "$T/x.html"
echo '{"online_bytes": 10, "layers": [{"rounds": 1}]}' > "$T/noname.pi.json"
expect_fail "pi layer without a name" "noname.pi.json: layers\[0\]: 'name' is missing" \
    $A report "$T/snl.safetensors" --pi "$T/noname.pi.json" --out "$T/x.html"
expect_fail "unknown site" "--site: 'nosuch' is not a ReLU site" $A report "$T/snl.safetensors" --site nosuch --out "$T/x.html"
expect_fail "no run" "give at least one RUN" $A report --out "$T/x.html"
expect_fail "no --out" "--out is required" $A report "$T/snl.safetensors"
expect_fail "unknown option" "unknown option --bogus" $A report "$T/snl.safetensors" --bogus --out "$T/x.html"
expect_fail "missing checkpoint" "/nonexistent/r.safetensors" $A report /nonexistent/r.safetensors --out "$T/x.html"
expect_fail "unwritable output" "/nonexistent/dir/r.html" $A report "$T/snl.safetensors" --out /nonexistent/dir/r.html
[ ! -e "$T/x.html" ] && ok "failed reports wrote nothing" || bad "a failed report left $T/x.html"

summary
