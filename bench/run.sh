#!/bin/sh
# `make bench`: autorep vs PyTorch side by side, thread scaling, per-layer
# profile of resnet18_in training; appends the results to bench/RESULTS.md.
set -u
cd "$(dirname "$0")/.."
make -s build/bench/train_speed build/bench/infer_speed
out=$(mktemp)
{
    echo
    echo "## $(date -u '+%Y-%m-%d %H:%M UTC') — $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores, commit $(git rev-parse --short HEAD 2> /dev/null || echo '?')"
    echo
    echo "Command: \`make bench\` (bench/vs_pytorch.sh, bench/scaling.sh, train_speed --profile)."
    echo
    bench/vs_pytorch.sh "${BENCH_ROUNDS:-3}"
    echo
    bench/scaling.sh
    bench/mpi_scaling.sh resnet18_in 3x32x32 128
    bench/mpi_scaling.sh cnn_small 1x28x28 128
    echo
    echo '```'
    OMP_NUM_THREADS=2 build/bench/train_speed --arch resnet18_in --input 3x32x32 --batch 128 --steps 2 --reps 3 --profile
    OMP_NUM_THREADS=2 build/bench/train_speed --search --arch resnet18_in --input 3x32x32 --batch 128 --steps 1 --reps 3
    echo '```'
} | tee "$out"
cat "$out" >> bench/RESULTS.md
rm -f "$out"
echo "appended to bench/RESULTS.md"
