#!/bin/sh
# Prints docs/results.md from the summaries and logs scripts/experiment_autorep.sh
# copies to docs/results-data (committed, so the page can be remade anywhere):
#   scripts/results_table.sh > docs/results.md
set -eu
cd "$(dirname "$0")/.."
D=${EXP_LOGS:-docs/results-data}
ARCH=${EXP_ARCH:-resnet20}
. scripts/lib.sh
pct() { awk -v v="$1" 'BEGIN {printf "%.2f", 100 * v}'; }
# points between two top-1 fractions, signed: pts A B = 100 (A - B)
pts() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%+.2f", 100 * (a - b)}'; }
# distinct epochs of a stage in a JSONL log (a resumed stage may repeat lines)
epochs_of() { [ -s "$1" ] && grep -o "\"stage\": \"$2\", \"epoch\": [0-9]*" "$1" | sort -u | wc -l || echo 0; }
lam() { [ -s "$1" ] && sed -n 's/.*"lambda": \([0-9.eE+-]*\).*/\1/p' "$1" | head -1; }
# the search's weight learning rate: the first search epoch's lr (cosine starts there)
lr0() { [ -s "$1" ] && grep -m1 '"stage": "search"' "$1" | sed -n 's/.*"lr": \([0-9.eE+-]*\).*/\1/p'; }
# how SNL's search of run R (R.json, R.jsonl) ended: on its own under the budget, or
# binarised from the count its last search epoch reached
snl_search() {
    _se=$(num "$1.json" search_epochs_run)
    _last=$(grep '"stage": "search"' "$1.jsonl" | tail -1 | sed -n 's/.*"relu_count": \([0-9]*\).*/\1/p')
    if [ -n "$_last" ] && [ "$_last" -le "$(num "$1.json" budget)" ]; then echo "$_se epochs, reached the budget"
    else echo "$_se epochs, ended at $_last: largest α kept"; fi
}
first_ar=$(ls "$D"/autorep_*.jsonl 2> /dev/null | head -1)
AR_SEARCH=$(epochs_of "$first_ar" search)
AR_FT=$(epochs_of "$first_ar" finetune)
BASE_EP=$(epochs_of "$D/${ARCH}_base.jsonl" train)
SNL_LAM=$(lam "$(ls "$D"/snl_[0-9]*.jsonl 2> /dev/null | head -1)")
base_top1=$(num "$D/base.done" top1)
base_relu=$(num "$D/base.done" relu_total)
cat <<EOT
# AutoReP vs SNL on Fashion-MNIST

Every number below comes from \`scripts/experiment_autorep.sh\` (run it to
reproduce; \`scripts/results_table.sh\` prints this page from the run summaries and
per-epoch logs in \`$D/\`). Machine of the latest run of the script and of the step timing below:
$(cat "$D/machine.txt" 2> /dev/null || echo unknown), shared with other jobs.

Setup: \`$ARCH\` on Fashion-MNIST (1×28×28, 10 classes, 60,000 training and
10,000 test images), random crop (pad 3) and horizontal flip for training. The
baseline is trained with SGD (lr 0.1, momentum 0.9, weight decay 5e-4, cosine,
batch 128, $BASE_EP epochs). Both methods start from it, distil from it (T = 4) and
get the same number of epochs in total: AutoReP searches for
$AR_SEARCH epochs and fine-tunes for $AR_FT with masks frozen; SNL searches until its
count is under the budget (at most the same search epochs) and fine-tunes for the
rest. Both search with Adam (weights lr $(lr0 "$first_ar"), cosine; gates at the default
rate) and fine-tune with SGD (lr 1e-3, cosine). AutoReP: λ = $(lam "$first_ar"), DaPa \`faithful\` (the default: \`exact\` fits diverged on this network, see docs/autorep.md), quadratic replacements. SNL: initial
λ = $SNL_LAM ($(awk -v l="$SNL_LAM" 'BEGIN {printf "%g", l / 1e-5}')× its official 1e-5; λ grows ×1.1 per epoch from epoch 5 as in the SNL code;
with the same few epochs SNL may end its search above the budget, and then the
elements with the largest α are kept — the last column says which happened), identity
replacements. Accuracy is top-1 on the 10,000 test images of the checkpoint each
method selected.

Baseline: **$(pct "$base_top1")%** with $base_relu ReLUs.

| budget | ReLUs allowed | AutoReP ReLUs | AutoReP top-1 | SNL ReLUs | SNL top-1 | AutoReP − SNL | SNL search |
|---|---|---|---|---|---|---|---|
EOT
for f in "$D"/autorep_*.json; do
    p=$(basename "$f" .json | sed 's/autorep_//')
    s="$D/snl_$p.json"
    [ -s "$s" ] || continue
    ab=$(num "$f" budget); ac=$(num "$f" relu_count); at=$(num "$f" top1)
    sc=$(num "$s" relu_count); stp=$(num "$s" top1); sn=$(snl_search "$D/snl_$p")
    printf "| %s%% | %s | %s | %s%% | %s | %s%% | %s | %s |\n" "$p" "$ab" "$ac" "$(pct "$at")" "$sc" "$(pct "$stp")" \
        "$(pts "$at" "$stp")" "$sn"
done | sort -t'|' -k2 -g
pending=""
for p in ${EXP_BUDGETS:-1 3 10}; do
    [ -s "$D/autorep_$p.json" ] && [ -s "$D/snl_$p.json" ] || pending="$pending $p%"
done
[ -z "$pending" ] || printf "\nNot yet run to the end:%s (rerun scripts/experiment_autorep.sh: it skips finished runs and resumes interrupted ones).\n" "$pending"
abl=$(ls "$D"/ablation_*_*.json 2> /dev/null | head -1)
if [ -n "$abl" ]; then
    p=$(basename "$abl" .json | sed 's/.*_//')
    echo
    echo "Replacement ablation: AutoReP at $p% with the same settings and epochs, changing only"
    echo "what a removed ReLU becomes (\`--poly\`)."
    echo
    echo "| replacement | ReLUs | top-1 | − quadratic |"
    echo "|---|---|---|---|"
    q="$D/autorep_$p.json"
    if [ -s "$q" ]; then
        printf "| quadratic (DaPa, the default) | %s | %s%% | |\n" "$(num "$q" relu_count)" "$(pct "$(num "$q" top1)")"
    fi
    for kind in linear identity; do
        f="$D/ablation_${kind}_$p.json"
        [ -s "$f" ] || continue
        case $kind in linear) what="linear a1·x + a0 (DaPa)" ;; identity) what="identity x (SNL's)" ;; esac
        if grep -q '"error"' "$f"; then
            # the search never ended an epoch within the budget, so there is no model
            low=$(sed -n 's/.*(lowest \([0-9]*\) of.*/\1/p' "$f")
            printf "| %s | none within %s in %s search epochs (lowest %s) | no model | |\n" "$what" \
                "$(num "$q" budget)" "$AR_SEARCH" "$low"
            continue
        fi
        d=""
        [ -s "$q" ] && d=$(pts "$(num "$f" top1)" "$(num "$q" top1)")
        printf "| %s | %s | %s%% | %s |\n" "$what" "$(num "$f" relu_count)" "$(pct "$(num "$f" top1)")" "$d"
    done
fi
if ls "$D"/snl_lambda*_*.json > /dev/null 2>&1; then
    echo
    echo "SNL with another initial λ (everything else as in the table above):"
    echo
    echo "| budget | SNL initial λ | ReLUs | top-1 | AutoReP − SNL | SNL search |"
    echo "|---|---|---|---|---|---|"
    for f in $(ls -v "$D"/snl_[0-9]*.json); do
        p=$(basename "$f" .json | sed 's/snl_//')
        a="$D/autorep_$p.json"
        for r in "$D/snl_$p" $(ls -v "$D"/snl_lambda*_"$p".json 2> /dev/null | sed 's/\.json$//'); do
            [ -s "$r.json" ] || continue
            l=$(lam "$r.jsonl"); [ "$r" = "$D/snl_$p" ] && l="$l (the table's)"
            d=""
            [ -s "$a" ] && d=$(pts "$(num "$a" top1)" "$(num "$r.json" top1)")
            printf "| %s%% | %s | %s | %s%% | %s | %s |\n" "$p" "$l" "$(num "$r.json" relu_count)" \
                "$(pct "$(num "$r.json" top1)")" "$d" "$(snl_search "$r")"
        done
    done
fi
echo
if [ -s "$D/search_step.txt" ]; then
    echo "Search step time (\`build/bench/train_speed --search --arch $ARCH --input 1x28x28 --batch 128\`):"
    echo
    echo '```'
    cat "$D/search_step.txt"
    echo '```'
    med() { sed -n "$1" "$D/search_step.txt" | sort -g | awk '{v[NR] = $1} END {if (NR) print v[int((NR + 1) / 2)]}'; }
    echo
    echo "Median over the $(wc -l < "$D/search_step.txt") runs of search / (plain + teacher): $(med 's/.*teacher) = \([0-9.]*\) .*/\1/p') after"
    echo "DaPa's refit window, $(med 's/.*statistics: [0-9.]* ms, \([0-9.]*\)).*/\1/p') during it (the issue's target: at most 1.15)."
fi
echo
cat <<EOT
Notes.
* Equal epochs favour a method that can hit an exact budget quickly. SNL's
  λ schedule was designed for searches of tens to hundreds of epochs; given
  those, its accuracy would likely be higher than here. The comparison is the
  one the issue asks for (same total epochs), not SNL at its best.
* AutoReP's fine-tuning clips the global gradient norm at 5, SNL's does not
  (the \`--ft-clip-grad\` defaults; docs/autorep.md says why, with the 1% numbers).
EOT
# SNL's search does not depend on the budget until it reaches it: with the same
# seed the searches of different budgets are the same run (timings aside)
search_trace() { grep '"stage": "search"' "$1" | sed 's/"seconds": [^,]*, "images_per_s": [^,]*, //; s/"budget": [0-9]*, //'; }
same=""; first=""
for f in $(ls -v "$D"/snl_[0-9]*.jsonl 2> /dev/null); do
    [ -s "$f" ] || continue
    if [ -z "$first" ]; then first=$f; same=$(basename "$f" .jsonl); continue; fi
    # the same run up to the epoch where the shorter search stopped under its budget
    a=$(search_trace "$f"); b=$(search_trace "$first")
    k=$(printf '%s\n%s\n' "$(echo "$a" | wc -l)" "$(echo "$b" | wc -l)" | sort -n | head -1)
    if [ "$(echo "$a" | head -n "$k")" = "$(echo "$b" | head -n "$k")" ]; then same="$same $(basename "$f" .jsonl)"
    else same=""; break; fi
done
if [ "$(echo "$same" | wc -w)" -gt 1 ]; then
    echo "* The SNL searches ($same) are identical epoch by epoch in the logs until"
    echo "  the first of them stops: the search does not depend on the budget until it"
    echo "  reaches it, and the runs are deterministic for a seed."
fi
for f in "$D"/*_*.jsonl; do
    all=$(grep -c '"stage": "finetune"' "$f" || true)
    [ "$all" -gt "$(epochs_of "$f" finetune)" ] || continue
    echo "* \`$f\` holds more than one fine-tuning attempt: the run was resumed or"
    echo "  its fine-tuning rerun from the same search; the table uses the final model."
done
echo
echo "Per-epoch logs: \`$D/*.jsonl\`; selected epochs and run times: \`$D/*.json\`."
