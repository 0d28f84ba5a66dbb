#!/bin/sh
# Side-by-side speed of autorep and PyTorch (Debian python3-torch) on the same
# networks, batch sizes and thread count, alternating the processes so machine
# noise hits both. PyTorch runs in its default configuration and in its best one
# (channels-last, jemalloc via LD_PRELOAD when libjemalloc2 is installed); ratios
# are against the best. Prints a Markdown table (medians of ROUNDS alternations,
# each itself a median of several timed repetitions).
#   bench/vs_pytorch.sh [ROUNDS]
set -u
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
THREADS=${BENCH_THREADS:-2}
AR=build/bench/train_speed
PY=/usr/bin/python3
JEMALLOC=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2
have_torch=1
if ! $PY -c "import torch" 2> /dev/null; then
    have_torch=0
    echo "note: PyTorch (python3-torch) is not installed; run scripts/setup.sh --torch to compare" >&2
fi
[ -e "$JEMALLOC" ] || JEMALLOC=""

. scripts/lib.sh
median() { sort -g | awk '{a[NR]=$1} END {if (NR == 0) print "nan"; else print a[int((NR + 1) / 2)]}'; }

# run_case NAME ARCH INPUT BATCH MODE(train|infer) STEPS REPS
run_case() {
    name=$1 arch=$2 inp=$3 b=$4 mode=$5 steps=$6 reps=$7
    fl=""; [ "$mode" = infer ] && fl="--infer"
    : > /tmp/vs.ar; : > /tmp/vs.td; : > /tmp/vs.tb; : > /tmp/vs.arm; : > /tmp/vs.tdm; : > /tmp/vs.tbm
    r=0
    while [ $r -lt "$ROUNDS" ]; do
        out=$(OMP_NUM_THREADS=$THREADS $AR --arch "$arch" --input "$inp" --batch "$b" $fl --steps "$steps" --reps "$reps" --json)
        echo "$out" | field img_s_median >> /tmp/vs.ar; echo "$out" | field peak_rss_mb >> /tmp/vs.arm
        if [ $have_torch = 1 ]; then
            out=$($PY bench/torch_speed.py --arch "$arch" --input "$inp" --batch "$b" $fl --threads "$THREADS" --steps "$steps" --reps "$reps")
            echo "$out" | field img_s_median >> /tmp/vs.td; echo "$out" | field peak_rss_mb >> /tmp/vs.tdm
            out=$(LD_PRELOAD=$JEMALLOC $PY bench/torch_speed.py --arch "$arch" --input "$inp" --batch "$b" $fl --threads "$THREADS" --steps "$steps" --reps "$reps" --channels-last)
            echo "$out" | field img_s_median >> /tmp/vs.tb; echo "$out" | field peak_rss_mb >> /tmp/vs.tbm
        fi
        r=$((r + 1))
    done
    a=$(median < /tmp/vs.ar); am=$(median < /tmp/vs.arm)
    if [ $have_torch = 1 ]; then
        d=$(median < /tmp/vs.td); t=$(median < /tmp/vs.tb); tm=$(median < /tmp/vs.tbm); dm=$(median < /tmp/vs.tdm)
        best=$(awk -v d="$d" -v t="$t" 'BEGIN {print (d > t ? d : t)}')
        bestm=$(awk -v d="$d" -v t="$t" -v dm="$dm" -v tm="$tm" 'BEGIN {print (d > t ? dm : tm)}')
        printf "| %s | %.1f | %.1f | %.1f | **%.2f×** | %.0f | %.0f |\n" "$name" "$a" "$d" "$t" \
            "$(awk -v a="$a" -v b="$best" 'BEGIN {print a / b}')" "$am" "$bestm"
    else
        printf "| %s | %.1f | – | – | – | %.0f | – |\n" "$name" "$a" "$am"
    fi
}

echo "| case (img/s, $THREADS threads) | autorep | PyTorch default | PyTorch best (channels-last${JEMALLOC:+, jemalloc}) | autorep / best | autorep peak RSS MiB | PyTorch best peak RSS MiB |"
echo "|---|---|---|---|---|---|---|"
run_case "resnet18_in train 3×32×32 b128" resnet18_in 3x32x32 128 train 2 5
run_case "resnet18_in infer 3×32×32 b128" resnet18_in 3x32x32 128 infer 4 5
run_case "resnet18_in infer 3×32×32 b1" resnet18_in 3x32x32 1 infer 50 5
run_case "cnn_small train 1×28×28 b128" cnn_small 1x28x28 128 train 20 5
run_case "cnn_small infer 1×28×28 b128" cnn_small 1x28x28 128 infer 40 5
run_case "wrn22_8 train 3×32×32 b32" wrn22_8 3x32x32 32 train 2 3
