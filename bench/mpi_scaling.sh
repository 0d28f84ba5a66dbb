#!/bin/sh
# Data-parallel scaling on this machine: one process with 2 OpenMP threads vs two
# MPI ranks with 1 thread each, same global batch; images/s (median of several
# repetitions), efficiency, and the gradient all-reduce time per step.
#   bench/mpi_scaling.sh [ARCH] [INPUT] [BATCH]
set -u
cd "$(dirname "$0")/.."
ARCH=${1:-resnet18_in}
INP=${2:-3x32x32}
B=${3:-128}
. scripts/lib.sh
if ! command -v mpirun > /dev/null; then echo "mpirun not installed"; exit 0; fi
one=$(OMP_NUM_THREADS=2 build/bench/train_speed --arch "$ARCH" --input "$INP" --batch "$B" --steps 2 --reps 5 --json)
two=$(mpirun --oversubscribe --allow-run-as-root -np 2 -x OMP_NUM_THREADS=1 build/bench/train_speed --arch "$ARCH" \
    --input "$INP" --batch "$B" --steps 2 --reps 5 --json)
a=$(echo "$one" | field img_s_median)
b=$(echo "$two" | field img_s_median)
c=$(echo "$two" | field allreduce_ms_per_step)
printf "| %s train b%s | np=1 × 2 threads: %.1f img/s | np=2 × 1 thread: %.1f img/s | np=2 / np=1: %.2f | all-reduce %.1f ms/step |\n" \
    "$ARCH" "$B" "$a" "$b" "$(awk -v a="$a" -v b="$b" 'BEGIN {print b / a}')" "$c"
