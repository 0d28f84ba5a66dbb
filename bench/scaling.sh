#!/bin/sh
# Thread scaling of autorep training: resnet18_in batch 128 with 1 and 2 OpenMP
# threads (median img/s of several repetitions) and the ratio.
set -u
cd "$(dirname "$0")/.."
. scripts/lib.sh
one=$(OMP_NUM_THREADS=1 build/bench/train_speed --arch resnet18_in --input 3x32x32 --batch 128 --steps 1 --reps 5 --json | field img_s_median)
two=$(OMP_NUM_THREADS=2 build/bench/train_speed --arch resnet18_in --input 3x32x32 --batch 128 --steps 1 --reps 5 --json | field img_s_median)
printf "| resnet18_in train b128 | 1 thread %.1f img/s | 2 threads %.1f img/s | speed-up %.2f× |\n" "$one" "$two" \
    "$(awk -v a="$one" -v b="$two" 'BEGIN {print b / a}')"
