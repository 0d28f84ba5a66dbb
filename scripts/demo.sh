#!/bin/sh
# The end-to-end demo behind `make demo` (outputs in demo/):
#   1. train cnn_small on Fashion-MNIST (Debian's dataset-fashion-mnist)
#   2. evaluate it
#   3. replace ReLUs down to about 2% with AutoReP, distilling from the baseline
#   4. compare baseline and replaced accuracy and ReLU counts
set -eu
cd "$(dirname "$0")/.."
OUT=${DEMO_DIR:-demo}
EPOCHS=${DEMO_EPOCHS:-10}
SEARCH=${DEMO_SEARCH_EPOCHS:-4}
FT=${DEMO_FT_EPOCHS:-1}
BUDGET=${DEMO_BUDGET:-2%}
mkdir -p "$OUT"
start=$(date +%s)
stamp() { echo "   [$(( $(date +%s) - start )) s]"; }

echo "== 1. train cnn_small on Fashion-MNIST ($EPOCHS epochs)"
./autorep train --arch cnn_small --data fashion-mnist --epochs "$EPOCHS" --batch 128 --lr 0.05 \
    --out "$OUT/cnn_small.safetensors"
stamp
echo
echo "== 2. evaluate the trained model on the 10,000 test images"
./autorep eval --model "$OUT/cnn_small.safetensors" --json > "$OUT/base_eval.json"
./autorep eval --model "$OUT/cnn_small.safetensors"
echo
echo "== 3. keep $BUDGET of the ReLUs with AutoReP ($SEARCH search + $FT fine-tuning epochs)"
./autorep replace --model "$OUT/cnn_small.safetensors" --budget "$BUDGET" --epochs "$SEARCH" \
    --finetune-epochs "$FT" --out "$OUT/cnn_small_autorep.safetensors"
stamp
echo
echo "== 4. baseline vs replaced"
./autorep eval --model "$OUT/cnn_small_autorep.safetensors" --json > "$OUT/rep_eval.json"
num() { sed -n "s/.*\"$2\":\([0-9.eE+-]*\).*/\1/p" "$1"; }
printf "   %-10s %12s %14s\n" "model" "test top-1" "ReLUs kept"
printf "   %-10s %11.2f%% %14s\n" baseline "$(awk -v v="$(num "$OUT/base_eval.json" top1)" 'BEGIN {print 100 * v}')" \
    "$(num "$OUT/base_eval.json" relu_total)"
printf "   %-10s %11.2f%% %14s\n" autorep "$(awk -v v="$(num "$OUT/rep_eval.json" top1)" 'BEGIN {print 100 * v}')" \
    "$(num "$OUT/rep_eval.json" relu_total)"
end=$(date +%s)
echo
echo "demo finished in $((end - start)) s; models and logs in $OUT/"
