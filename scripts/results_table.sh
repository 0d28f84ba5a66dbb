#!/bin/sh
# Prints docs/results.md from the outputs of scripts/experiment_autorep.sh.
#   EXP_DIR=runs/exp scripts/results_table.sh > docs/results.md
set -eu
cd "$(dirname "$0")/.."
D=${EXP_DIR:-runs/exp}
ARCH=${EXP_ARCH:-resnet20}
num() { sed -n "s/.*\"$2\":\([0-9.eE+-]*\).*/\1/p" "$1" | head -1; }
pct() { awk -v v="$1" 'BEGIN {printf "%.2f", 100 * v}'; }
base_top1=$(num "$D/base.done" top1)
base_relu=$(num "$D/base.done" relu_total)
cat <<EOT
# AutoReP vs SNL on Fashion-MNIST

Every number below comes from \`scripts/experiment_autorep.sh\` (run it to
reproduce; \`EXP_DIR=$D scripts/results_table.sh\` prints this page). Machine:
$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores, shared.

Setup: \`$ARCH\` on Fashion-MNIST (1×28×28, 10 classes, 60,000 training and
10,000 test images), random crop (pad 3) and horizontal flip for training. The
baseline is trained with SGD (lr 0.1, momentum 0.9, weight decay 5e-4, cosine,
batch 128, $(sed -n 's/.*BASE_EPOCHS:-\([0-9]*\).*/\1/p' scripts/experiment_autorep.sh) epochs). Both methods start from it, distil from it (T = 4) and
get the same number of epochs in total: AutoReP searches for
$(sed -n 's/.*EXP_SEARCH:-\([0-9]*\).*/\1/p' scripts/experiment_autorep.sh) epochs and fine-tunes for $(sed -n 's/.*EXP_FT:-\([0-9]*\).*/\1/p' scripts/experiment_autorep.sh) with masks frozen; SNL searches until its
count is under the budget (at most the same search epochs) and fine-tunes for the
rest. AutoReP: λ = $(sed -n 's/.*EXP_AR_LAMBDA:-\([0-9.e-]*\).*/\1/p' scripts/experiment_autorep.sh), DaPa `faithful` (the default: `exact` fits diverged on this network, see docs/autorep.md), quadratic replacements. SNL: initial
λ = $(sed -n 's/.*EXP_SNL_LAMBDA:-\([0-9.e-]*\).*/\1/p' scripts/experiment_autorep.sh) (its official 1e-5 cannot reach these budgets within a few epochs,
so both methods get a λ that reaches the budget in the search window), identity
replacements. Accuracy is top-1 on the 10,000 test images of the checkpoint each
method selected.

Baseline: **$(pct "$base_top1")%** with $base_relu ReLUs.

| budget | ReLUs allowed | AutoReP ReLUs | AutoReP top-1 | SNL ReLUs | SNL top-1 | AutoReP − SNL |
|---|---|---|---|---|---|---|
EOT
for f in "$D"/autorep_*.json; do
    p=$(basename "$f" .json | sed 's/autorep_//')
    s="$D/snl_$p.json"
    [ -s "$s" ] || continue
    ab=$(num "$f" budget); ac=$(num "$f" relu_count); at=$(num "$f" top1)
    sc=$(num "$s" relu_count); stp=$(num "$s" top1)
    printf "| %s%% | %s | %s | %s%% | %s | %s%% | %+.2f |\n" "$p" "$ab" "$ac" "$(pct "$at")" "$sc" "$(pct "$stp")" \
        "$(awk -v a="$at" -v b="$stp" 'BEGIN {print 100 * (a - b)}')"
done | sort -t'|' -k2 -g
echo
if [ -s "$D/search_step.txt" ]; then
    echo "Search step time (\`build/bench/train_speed --search --arch $ARCH --input 1x28x28 --batch 128\`):"
    echo
    echo '```'
    cat "$D/search_step.txt"
    echo '```'
fi
echo
echo "Per-epoch logs: \`$D/*.jsonl\`; selected epochs and run times: \`$D/*.json\`."
