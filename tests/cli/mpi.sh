#!/bin/sh
# Data-parallel training under OpenMPI on one machine: a 2-rank run equals a
# 1-process run with the same global batch (plain training and AutoReP search,
# with --sync-bn), and a rank that dies makes the job fail instead of hanging.
. "$(dirname "$0")/lib.sh"
if ! command -v mpirun > /dev/null 2>&1 || ! $A train --help | grep -q sync-bn; then
    echo "mpi: mpirun not installed; skipped"
    summary
    exit 0
fi
MPI="mpirun --oversubscribe --allow-run-as-root -np 2 -x OMP_NUM_THREADS=1 -x AR_TEST_KILL"
export OMP_NUM_THREADS=1
unset AR_TEST_KILL
common="--arch cnn_small --epochs 1 --batch 64 --max-train 256 --max-test 128 --quiet --seed 3 --lr 0.01 --schedule const"

$A train $common --out "$T/one.safetensors" 2> "$T/e1" || bad "1-process train" "$(cat "$T/e1")"
if $MPI $A train $common --sync-bn --out "$T/two.safetensors" > "$T/o2" 2> "$T/e2"; then
    l1=$(sed -n 's/.*"train_loss": \([0-9.]*\).*/\1/p' "$T/one.jsonl")
    l2=$(sed -n 's/.*"train_loss": \([0-9.]*\).*/\1/p' "$T/two.jsonl")
    awk -v a="$l1" -v b="$l2" 'BEGIN {d = a - b; if (d < 0) d = -d; exit !(d <= 1e-5 * a)}' &&
        ok "2 ranks: same mean loss as 1 process ($l1 vs $l2)" || bad "2-rank loss" "$l1 vs $l2"
    $STCMP "$T/two.safetensors" "$T/one.safetensors" --atol 1e-5 --rtol 1e-4 > "$T/cmp" &&
        ok "2 ranks: same final weights and statistics as 1 process" || bad "2-rank weights" "$(head -3 "$T/cmp")"
else
    bad "2-rank train" "$(tail -3 "$T/e2")"
fi

rcommon="--budget 20% --epochs 3 --batch 64 --max-train 512 --max-test 128 --quiet --seed 3 --lr 1e-4 --lr-gate 0.2"
$A replace --model "$T/one.safetensors" $rcommon --out "$T/r1.safetensors" 2> "$T/e3" || true
if [ -s "$T/r1.safetensors" ] && $MPI $A replace --model "$T/one.safetensors" $rcommon --sync-bn \
    --out "$T/r2.safetensors" > "$T/o4" 2> "$T/e4"; then
    ok=1
    for s in relu1 relu2 relu3; do
        $STCMP "$T/r2.safetensors" "$T/r1.safetensors" --tensor "$s.relu_mask" > "$T/cmp" || ok=0
    done
    [ $ok = 1 ] && ok "AutoReP search on 2 ranks: identical masks" || bad "2-rank AutoReP masks" "$(cat "$T/cmp")"
    $STCMP "$T/r2.safetensors" "$T/r1.safetensors" --atol 1e-4 --rtol 1e-3 > "$T/cmp" &&
        ok "AutoReP search on 2 ranks: same weights" || bad "2-rank AutoReP weights" "$(head -3 "$T/cmp")"
else
    bad "AutoReP runs" "$(tail -2 "$T/e3")" "$(tail -2 "$T/e4")"
fi

start=$(date +%s)
AR_TEST_KILL=1:1 timeout 120 $MPI $A train $common --out "$T/dead.safetensors" > /dev/null 2>&1
rc=$?
took=$(($(date +%s) - start))
[ $rc -ne 0 ] && [ $rc -ne 124 ] && ok "a rank killed mid-epoch fails the job (exit $rc after ${took}s)" ||
    bad "dead rank" "exit $rc after ${took}s"
summary
