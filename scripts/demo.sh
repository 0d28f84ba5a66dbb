#!/bin/sh
# The end-to-end demo behind `make demo`: train a small CNN on Fashion-MNIST
# (Debian's dataset-fashion-mnist) and evaluate it. Outputs go to demo/.
set -eu
cd "$(dirname "$0")/.."
OUT=${DEMO_DIR:-demo}
EPOCHS=${DEMO_EPOCHS:-8}
mkdir -p "$OUT"
start=$(date +%s)
echo "== 1. train cnn_small on Fashion-MNIST ($EPOCHS epochs)"
./autorep train --arch cnn_small --data fashion-mnist --epochs "$EPOCHS" --batch 128 --lr 0.1 \
    --out "$OUT/cnn_small.safetensors"
echo
echo "== 2. evaluate the trained model on the 10,000 test images"
./autorep eval --model "$OUT/cnn_small.safetensors"
./autorep info --model "$OUT/cnn_small.safetensors" | tail -1
end=$(date +%s)
echo
echo "demo finished in $((end - start)) s; model and log in $OUT/"
