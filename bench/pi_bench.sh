#!/bin/sh
# Secure-inference measurements for bench/RESULTS.md ("Secure inference").
#
#   bench/pi_bench.sh            (from the repository root, after `make`)
#   OUT=DIR N=3 EPOCHS=3 bench/pi_bench.sh
#
# 1. resnet18_in (3x32x32, random weights, BN calibrated; bench/pi_randmodel) with
#    all 491,520 ReLUs and with a uniformly random mask keeping 12,900: pi cost, and
#    pi local (three processes on loopback) with --net none / lan / wan, N images each.
# 2. cnn_small trained for EPOCHS epochs on Fashion-MNIST: pi fixed on the whole test
#    set (fixed point vs float), and pi local on NL test images (MPC vs fixed point).
# Every raw JSON result is kept in OUT; a summary is printed at the end.
set -e
A=${AUTOREP:-./autorep}
B=${BUILD:-build}
OUT=${OUT:-/tmp/autorep-pi-bench}
N=${N:-3}
NL=${NL:-200}
EPOCHS=${EPOCHS:-3}
mkdir -p "$OUT"
make -s all "$B/bench/pi_randmodel"
json() { sed 's/"layers":.*//' | sed -n "s/.*\"$1\":\([^,}]*\).*/\1/p" | head -1; }

[ -f "$OUT/r18_all.safetensors" ] || "$B/bench/pi_randmodel" --arch resnet18_in --out "$OUT/r18_all.safetensors"
[ -f "$OUT/r18_12k.safetensors" ] ||
    "$B/bench/pi_randmodel" --arch resnet18_in --relus 12900 --out "$OUT/r18_12k.safetensors"
for m in all 12k; do
    $A pi cost --model "$OUT/r18_$m.safetensors" --json > "$OUT/cost_$m.json"
    for net in none lan wan; do
        $A pi local --model "$OUT/r18_$m.safetensors" --data random --n "$N" --net "$net" --json \
            > "$OUT/local_${m}_$net.json" 2> "$OUT/local_${m}_$net.err"
    done
done
[ -f "$OUT/cnn_small.safetensors" ] ||
    $A train --arch cnn_small --data fashion-mnist --epochs "$EPOCHS" --out "$OUT/cnn_small.safetensors" --quiet
$A pi fixed --model "$OUT/cnn_small.safetensors" --json > "$OUT/cnn_fixed.json"
$A pi local --model "$OUT/cnn_small.safetensors" --n "$NL" --json > "$OUT/cnn_local.json"

echo "== resnet18_in, per inference (N = $N images, one per inference)"
for m in all 12k; do
    c="$OUT/cost_$m.json"
    echo "$m: relus $(json relu_count < "$c"), online $(json online_bytes < "$c") B (relu $(json relu_online_bytes < "$c")," \
        "quad $(json poly_online_bytes < "$c"), linear $(json linear_online_bytes < "$c")), rounds $(json rounds < "$c")" \
        "+ $(json oneway < "$c") one-way, dealer $(json dealer_bytes < "$c") B, setup $(json setup_bytes < "$c") B"
    for net in none lan wan; do
        l="$OUT/local_${m}_$net.json"
        echo "  --net $net ($(json shaping < "$l")): online per inference median $(json online_seconds_median < "$l") s," \
            "min $(json online_seconds_min < "$l") s, mean $(json online_seconds_per_inference < "$l") s," \
            "client offline $(json offline_seconds < "$l") s total, MPC=fixed top-1 $(json agree_fixed_top1 < "$l")," \
            "logits within tolerance $(json agree_fixed < "$l"), max diff $(json max_diff_lsb < "$l") LSB," \
            "measured online $(json online_bytes < "$l") B for $N"
    done
done
echo "== cnn_small on Fashion-MNIST"
echo "pi fixed: $(cat "$OUT/cnn_fixed.json")"
l="$OUT/cnn_local.json"
echo "pi local n=$NL: mpc_top1 $(json mpc_top1 < "$l") fixed_top1 $(json fixed_top1 < "$l") float_top1 $(json float_top1 < "$l")" \
    "agree_fixed_top1 $(json agree_fixed_top1 < "$l") agree_fixed $(json agree_fixed < "$l") max_diff $(json max_diff_lsb < "$l") LSB," \
    "$(json online_seconds_per_inference < "$l") s per inference"
