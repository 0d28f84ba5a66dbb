#!/bin/sh
# Bounded load test of secure inference (make loadtest; docs/reliability.md "Load test"):
# one dealer, one server and one client process run ONE session of LOAD_N (default
# 1000) sequential inferences of a cnn_small model on loopback, while the resident
# set size (VmRSS in /proc/PID/status) of the three processes is sampled every 0.5 s.
#
# Pass: (1) all three exit 0 and the client did LOAD_N inferences; (2) every MPC
# prediction equals the plaintext fixed-point executor's (`pi fixed --json`) on the
# same images, and every MPC logit is within the documented 256-LSB tolerance of the
# oracle's; a differing prediction is only accepted on a near-tie (the oracle's two
# logits within twice the largest observed logit difference) and is reported;
# (3) no role's memory grows after warm-up: the largest RSS of the last quarter of
# the samples is at most the largest of the first quarter plus SLACK, where SLACK is
# one inference's dealer material plus its online traffic (`pi cost`): buffers of the
# same sizes are freed and reallocated every inference, so a steady state stays
# within one inference's working set of its warm-up peak, while a leak of even
# SLACK / (LOAD_N / 2) bytes per inference (about 11 KB for 1000) would exceed it.
#
# Model: cnn_small (the demo's architecture, 43,904 ReLUs per image) trained for one
# epoch on 2048 Fashion-MNIST images (a few seconds): a trained model spreads its
# predictions over the classes, so the prediction check means something (a random
# initialisation predicts nearly one class). Figures are printed for the docs.
#   tests/load/pi_load.sh [AUTOREP]        env: LOAD_N (default 1000)
. "$(dirname "$0")/../cli/lib.sh"
. "$(dirname "$0")/../../scripts/lib.sh"
A=${1:-${AUTOREP:-./autorep}}
N=${LOAD_N:-1000}
FM=/usr/share/datasets/fashion-mnist
if [ ! -d $FM ]; then
    echo "skip: no Fashion-MNIST in $FM"
    summary
    exit 0
fi
command -v jq > /dev/null || { bad "jq is needed to compare predictions (apt-get install jq)"; summary; exit 1; }

M=$T/cnn.safetensors
$A train --arch cnn_small --epochs 1 --max-train 2048 --max-test 500 --seed 1 --out $M --quiet > /dev/null 2> "$T/err" ||
    { bad "training the load-test model" "$(cat "$T/err")"; summary; exit 1; }
$A pi export-public --model $M --out "$T/pub.safetensors" > /dev/null 2> "$T/err" ||
    { bad "export-public" "$(cat "$T/err")"; summary; exit 1; }
cost=$($A pi cost --model $M --json)
SLACK_KB=$((($(echo "$cost" | field dealer_bytes) + $(echo "$cost" | field online_bytes)) / 1024))

P=$((30000 + ($$ % 4000) * 2))
D=$((P + 1))
t0=$(date +%s.%N)
$A pi dealer --public "$T/pub.safetensors" --listen 127.0.0.1:$D --n $N --timeout 60 > "$T/d.out" 2> "$T/d.err" &
dp=$!
$A pi server --model $M --listen 127.0.0.1:$P --dealer 127.0.0.1:$D --n $N --timeout 60 > "$T/s.out" 2> "$T/s.err" &
sp=$!
$A pi client --public "$T/pub.safetensors" --connect 127.0.0.1:$P --dealer 127.0.0.1:$D --n $N --timeout 60 \
    --json --report "$T/c.report" > "$T/c.json" 2> "$T/c.err" &
cp=$!
# sample VmRSS (kB) of dealer, server, client until the client is gone
: > "$T/rss"
rss() { awk '/^VmRSS/ {print $2}' /proc/$1/status 2> /dev/null || echo 0; }
while kill -0 $cp 2> /dev/null; do
    echo "$(rss $dp) $(rss $sp) $(rss $cp)" >> "$T/rss"
    sleep 0.5
done
wait $cp; c=$?
t1=$(date +%s.%N)
wait $sp; s=$?
wait $dp; d=$?
secs=$(awk "BEGIN{printf \"%.1f\", $t1 - $t0}")

# (1) the session
done_n=$(jq '.predictions | length' "$T/c.json" 2> /dev/null)
[ $c -eq 0 ] && [ $s -eq 0 ] && [ $d -eq 0 ] && [ "$done_n" = "$N" ] &&
    ok "$N sequential secure inferences in one session in $secs s ($(awk "BEGIN{printf \"%.1f\", $N / ($t1 - $t0)}") inferences/s)" ||
    bad "load session" "exit dealer $d server $s client $c, $done_n predictions" "$(cat "$T/c.err" "$T/s.err" "$T/d.err" | head -5)"

# (2) predictions and logits vs the fixed-point oracle on the same images
$A pi fixed --model $M --max-test $N --json > "$T/fixed.json" 2> "$T/err" || bad "pi fixed" "$(cat "$T/err")"
cmp=$(jq -rn --slurpfile f "$T/fixed.json" --slurpfile c "$T/c.json" --slurpfile r "$T/c.report" '
    $f[0].logits as $fl | $r[0].logits as $ml | $f[0].predictions as $fp | $c[0].predictions as $cp |
    ($fp | length) as $n | ($fl | length / $n) as $k |
    ([range(0; $fl | length) | ($fl[.] - $ml[.]) | fabs] | max) as $md |
    [range(0; $n) | select($fp[.] != $cp[.])] as $mis |
    [$mis[] | select((($fl[. * $k + $cp[.]] - $fl[. * $k + $fp[.]]) | fabs) > 2 * $md)] as $real |
    "\($n) \($fl | length == ($ml | length)) \($md) \($mis | length) \($real | length)"' 2> "$T/err")
set -- $cmp
if [ "${1:-}" = "$N" ] && [ "$2" = true ] && [ "$3" -le 256 ] && [ "$5" -eq 0 ]; then
    ok "all $N MPC predictions = fixed-point oracle ($4 near-ties), logits within $3 LSB (tolerance 256)"
else
    bad "MPC vs fixed point" "n/equal-length/max-diff/mismatches/real: $cmp" "$(cat "$T/err")"
fi

# (3) memory: last quarter vs first quarter of the samples, per role
ns=$(wc -l < "$T/rss")
q=$((ns / 4))
fig=""
for col in 1 2 3; do
    role=$(echo "dealer server client" | cut -d' ' -f$col)
    first=$(head -n $q "$T/rss" | awk -v c=$col 'BEGIN{m=0} $c > m {m = $c} END{print m}')
    last=$(tail -n $q "$T/rss" | awk -v c=$col 'BEGIN{m=0} $c > m {m = $c} END{print m}')
    fig="$fig $role ${first}->${last}"
    [ $q -ge 4 ] && [ "$first" -gt 0 ] && [ "$last" -le $((first + SLACK_KB)) ] &&
        ok "$role RSS does not grow: first-quarter max $first kB, last-quarter max $last kB (slack $SLACK_KB kB, $ns samples)" ||
        bad "$role RSS" "first-quarter max $first kB, last-quarter max $last kB, slack $SLACK_KB kB, $ns samples"
done
echo "load: n=$N seconds=$secs samples=$ns rss_kB(first-quarter max->last-quarter max):$fig slack_kB=$SLACK_KB"
summary
