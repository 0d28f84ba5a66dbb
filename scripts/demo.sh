#!/bin/sh
# The end-to-end demo behind `make demo` (outputs in demo/):
#   1. train cnn_small on Fashion-MNIST (Debian's dataset-fashion-mnist) and evaluate it
#   2. replace ReLUs down to about 2% with AutoReP, distilling from the baseline
#   3. run both models under secure two-party inference (client, server and dealer
#      processes on loopback) on a few test images and compare what they cost
#   4. write demo/report.html
set -eu
cd "$(dirname "$0")/.."
OUT=${DEMO_DIR:-demo}
EPOCHS=${DEMO_EPOCHS:-12}
SEARCH=${DEMO_SEARCH_EPOCHS:-4}
FT=${DEMO_FT_EPOCHS:-1}
BUDGET=${DEMO_BUDGET:-2%}
NPI=${DEMO_PI_IMAGES:-20}
mkdir -p "$OUT"
start=$(date +%s)
stamp() { echo "   [$(($(date +%s) - start)) s since the start]"; }
. scripts/lib.sh
B="$OUT/cnn_small"
R="$OUT/cnn_small_autorep"

echo "== 1. train cnn_small on Fashion-MNIST ($EPOCHS epochs) and evaluate it"
./autorep train --arch cnn_small --data fashion-mnist --epochs "$EPOCHS" --batch 128 --lr 0.1 --out "$B.safetensors"
./autorep eval --model "$B.safetensors" --json > "$B.eval.json"
./autorep eval --model "$B.safetensors"
stamp
echo
echo "== 2. keep $BUDGET of the ReLUs with AutoReP ($SEARCH search + $FT fine-tuning epochs)"
./autorep replace --model "$B.safetensors" --budget "$BUDGET" --epochs "$SEARCH" --finetune-epochs "$FT" \
    --out "$R.safetensors"
./autorep eval --model "$R.safetensors" --json > "$R.eval.json"
stamp
echo
echo "== 3. secure two-party inference of both models on $NPI test images (three processes on loopback)"
./autorep pi local --model "$B.safetensors" --n "$NPI" --json > "$B.pi.json"
./autorep pi local --model "$R.safetensors" --n "$NPI" --json > "$R.pi.json"
stamp
echo
mb() { awk -v v="$1" -v n="$2" 'BEGIN {printf "%.2f", v / n / 1e6}'; }
pc() { awk -v v="$1" 'BEGIN {printf "%.2f%%", 100 * v}'; }
printf "   %-24s %14s %14s\n" "" "baseline" "AutoReP $BUDGET"
printf "   %-24s %14s %14s\n" "ReLUs kept" "$(num "$B.eval.json" relu_total)" "$(num "$R.eval.json" relu_total)"
printf "   %-24s %14s %14s\n" "test top-1 (10,000)" "$(pc "$(num "$B.eval.json" top1)")" "$(pc "$(num "$R.eval.json" top1)")"
printf "   %-24s %14s %14s\n" "MPC top-1 ($NPI images)" "$(pc "$(num "$B.pi.json" mpc_top1)")" "$(pc "$(num "$R.pi.json" mpc_top1)")"
printf "   %-24s %14s %14s\n" "MPC = fixed point" "$(pc "$(num "$B.pi.json" agree_fixed)")" "$(pc "$(num "$R.pi.json" agree_fixed)")"
printf "   %-24s %14s %14s\n" "online MB / inference" "$(mb "$(num "$B.pi.json" online_bytes)" "$NPI")" \
    "$(mb "$(num "$R.pi.json" online_bytes)" "$NPI")"
printf "   %-24s %14s %14s\n" "  of which ReLU" "$(mb "$(num "$B.pi.json" relu_online_bytes)" "$NPI")" \
    "$(mb "$(num "$R.pi.json" relu_online_bytes)" "$NPI")"
printf "   %-24s %14s %14s\n" "rounds / inference" "$(num "$B.pi.json" rounds)" "$(num "$R.pi.json" rounds)"
printf "   %-24s %14s %14s\n" "dealer MB / inference" "$(mb "$(num "$B.pi.json" dealer_bytes)" "$NPI")" \
    "$(mb "$(num "$R.pi.json" dealer_bytes)" "$NPI")"
printf "   %-24s %14s %14s\n" "online s / inference" \
    "$(awk -v v="$(num "$B.pi.json" online_seconds_median)" 'BEGIN {printf "%.3f", v}')" \
    "$(awk -v v="$(num "$R.pi.json" online_seconds_median)" 'BEGIN {printf "%.3f", v}')"
echo
echo "== 4. report"
./autorep report "$B.safetensors" "$R.safetensors" --out "$OUT/report.html" \
    --title "autorep demo: cnn_small on Fashion-MNIST, AutoReP at $BUDGET"
echo "   wrote $OUT/report.html"
echo
echo "demo finished in $(($(date +%s) - start)) s; models, logs and results in $OUT/"
