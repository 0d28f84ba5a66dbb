#!/bin/sh
# CLI tests of the engine commands: info, train, eval, predict, resume, bad input.
. "$(dirname "$0")/lib.sh"
G=tests/golden

# --- info ---
$A > /dev/null 2>&1; [ $? -eq 2 ] && ok "no command prints usage and exits 2" || bad "no command"
out=$($A info --arch resnet18_in --data cifar10 --json)
echo "$out" | grep -q '"relu_total":491520' && echo "$out" | grep -q '"params":11173962' &&
    ok "info resnet18_in cifar10: 491520 ReLUs, 11173962 params" || bad "info resnet18_in" "$out"
out=$($A info --arch wrn22_8 --data cifar10 --json)
echo "$out" | grep -q '"relu_total":1359872' && ok "info wrn22_8 cifar10: 1359872 ReLUs" || bad "info wrn22_8"
$A info --arch cnn_small | grep -q "total: 43904 ReLUs in 3 sites" && ok "info text output" || bad "info text"
expect_fail "unknown flag" "unknown option --bogus" $A info --arch cnn_small --bogus
expect_fail "unknown architecture" "unknown architecture 'nosuch'" $A info --arch nosuch
printf '[net]\ninput = 1x28x28\n[conv]\nname = c\nfilters = 4\nsize = 3\nwidth = 2\n' > "$T/bad.cfg"
expect_fail "bad cfg names file:line" "bad.cfg:7: unknown key 'width'" $A info --arch "$T/bad.cfg"
expect_fail "unknown data set" "unknown data set 'imagenet'" $A info --arch cnn_small --data imagenet
expect_fail "bad number" "--epochs: 'x' is not an integer" $A train --epochs x

# --- train / eval / info --model ---
if $A train --arch cnn_small --data fashion-mnist --epochs 1 --batch 64 --max-train 512 --max-test 256 \
    --out "$T/a.safetensors" --quiet 2> "$T/train.err"; then
    [ -s "$T/a.safetensors" ] && [ "$(wc -l < "$T/a.jsonl")" -eq 1 ] && grep -q '"val_top1"' "$T/a.jsonl" &&
        ok "train writes checkpoint and JSONL log" || bad "train outputs"
else
    bad "train small run" "$(tail -2 "$T/train.err")"
fi
out=$($A eval --model "$T/a.safetensors" --max-test 256 --json)
echo "$out" | grep -q '"n":256' && echo "$out" | grep -q '"top1":' && echo "$out" | grep -q '"loss":' &&
    ok "eval --json" || bad "eval --json" "$out"
$A info --model "$T/a.safetensors" --json | grep -q '"relu_total":43904' && ok "info --model" || bad "info --model"

# --- predict: PyTorch-written checkpoint (no metadata) gives PyTorch's logits ---
if $A predict --model $G/torch_ckpt.safetensors --arch tests/tiny.cfg --input $G/torch_ckpt_io.safetensors \
    --out "$T/logits.safetensors" 2> "$T/p.err"; then
    $STCMP "$T/logits.safetensors" $G/torch_ckpt_io.safetensors --tensor logits --atol 1e-4 --scale-atol > "$T/cmp" &&
        ok "predict matches PyTorch logits ($(cat "$T/cmp"))" || bad "predict logits" "$(cat "$T/cmp")"
else
    bad "predict" "$(cat "$T/p.err")"
fi
expect_fail "predict without --arch on a PyTorch file" "no architecture in the file's metadata" \
    $A predict --model $G/torch_ckpt.safetensors --input $G/torch_ckpt_io.safetensors --out "$T/x.safetensors"
[ ! -e "$T/x.safetensors" ] && ok "failed predict writes nothing" || bad "failed predict left output"
expect_fail "predict with wrong input shape" "input is 3x8x8 but" \
    $A predict --model "$T/a.safetensors" --input $G/torch_ckpt_io.safetensors --out "$T/y.safetensors"

# --- bad files ---
expect_fail "eval of a missing file" "/nonexistent/m.safetensors" $A eval --model /nonexistent/m.safetensors
head -c 3000 "$T/a.safetensors" > "$T/trunc.safetensors"
expect_fail "eval of a truncated checkpoint" "trunc.safetensors" $A eval --model "$T/trunc.safetensors"
expect_fail "missing data directory" "/nonexistent/cifar" $A train --arch cnn_small --data cifar10 \
    --data-dir /nonexistent/cifar --out "$T/n.safetensors"
[ ! -e "$T/n.safetensors" ] && ok "failed train writes nothing" || bad "failed train left output"

# --- resume after kill -9 continues exactly ---
common="--arch cnn_small --epochs 3 --batch 64 --max-train 2048 --max-test 128 --quiet --seed 5"
$A train $common --out "$T/full.safetensors" 2> /dev/null
$A train $common --out "$T/int.safetensors" 2> /dev/null &
pid=$!
i=0
while [ ! -e "$T/int.safetensors.resume" ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
kill -9 $pid 2> /dev/null
wait $pid 2> /dev/null
if $A train $common --out "$T/int.safetensors" --resume 2> "$T/r.err"; then
    $STCMP "$T/int.safetensors" "$T/full.safetensors" > "$T/cmp" &&
        ok "kill -9 + --resume reaches the same weights" || bad "resume weights differ" "$(head -3 "$T/cmp")"
else
    bad "resume run" "$(tail -2 "$T/r.err")"
fi
expect_fail "resume with other settings" "pass the same values" $A train --arch cnn_small --epochs 4 --batch 64 \
    --max-train 2048 --quiet --seed 5 --out "$T/int.safetensors" --resume

summary
