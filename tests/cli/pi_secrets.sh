#!/bin/sh
# No secret in what secure inference writes: a dealer, a server and a client (and
# `pi local`) run on a known image (Fashion-MNIST test image 0) with known weights
# (tests/golden/pi_tiny_masked.safetensors); then every file they wrote -- stdout,
# stderr, the three --report files, pi local's JSON, and the one-line errors of a
# refused run -- is searched for the image's raw pixel bytes, its normalised floats,
# its fixed-point encodings and the (folded, fixed-point) weights, as bytes and as
# decimal text (build/pisecret prints the patterns). The client's own report holds
# its logits, which are its output, not a secret of anyone else's.
# A control file holding every pattern must match them all (so the search works).
. "$(dirname "$0")/lib.sh"
MASKED=tests/golden/pi_tiny_masked.safetensors
FM=/usr/share/datasets/fashion-mnist
PISECRET=${PISECRET:-build/pisecret}
if [ ! -d $FM ] || [ ! -x "$PISECRET" ]; then
    echo "skip: needs $FM and $PISECRET (make $PISECRET)"
    summary
    exit 0
fi
"$PISECRET" $MASKED fashion-mnist 0 > "$T/patterns" 2> "$T/err" || bad "pisecret" "$(cat "$T/err")"
np=$(wc -l < "$T/patterns")

mkdir "$T/run"
R=$T/run
$A pi export-public --model $MASKED --out "$T/pub.safetensors" > "$R/export.out" 2> "$R/export.err"
P=$((24000 + ($$ % 4000) * 2))
D=$((P + 1))
$A pi dealer --public "$T/pub.safetensors" --listen 127.0.0.1:$D --n 1 --timeout 20 --report "$R/d.json" \
    > "$R/d.out" 2> "$R/d.err" &
dp=$!
$A pi server --model $MASKED --listen 127.0.0.1:$P --dealer 127.0.0.1:$D --n 1 --timeout 20 --report "$R/s.json" \
    > "$R/s.out" 2> "$R/s.err" &
sp=$!
$A pi client --public "$T/pub.safetensors" --connect 127.0.0.1:$P --dealer 127.0.0.1:$D --n 1 --offset 0 \
    --timeout 20 --json --report "$R/c.json" > "$R/c.out" 2> "$R/c.err"
c=$?
wait $sp; s=$?
wait $dp; d=$?
[ $c -eq 0 ] && [ $s -eq 0 ] && [ $d -eq 0 ] && [ -s "$R/s.json" ] && [ -s "$R/c.json" ] && [ -s "$R/d.json" ] &&
    ok "dealer, server and client on image 0 with reports" || bad "the run" "$(cat "$R/c.err" "$R/s.err" "$R/d.err")"
$A pi local --model $MASKED --n 1 --json > "$R/local.json" 2> "$R/local.err" || bad "pi local" "$(cat "$R/local.err")"
$A pi local --model $MASKED --n 1 > "$R/local.txt" 2>&1 || bad "pi local text" "$(cat "$R/local.txt")"
# a refused run: its error lines must not carry secrets either
P=$((P + 2)); D=$((P + 1))
$A pi dealer --public "$T/pub.safetensors" --listen 127.0.0.1:$D --n 1 --timeout 5 > "$R/d2.out" 2> "$R/d2.err" &
dp=$!
$A pi server --model $MASKED --listen 127.0.0.1:$P --dealer 127.0.0.1:$D --n 1 --timeout 5 > "$R/s2.out" 2> "$R/s2.err" &
sp=$!
$A pi client --public "$T/pub.safetensors" --connect 127.0.0.1:$P --dealer 127.0.0.1:$D --n 2 --timeout 5 \
    > "$R/c2.out" 2> "$R/c2.err"
wait $sp
kill $dp 2> /dev/null
wait $dp

# found FILE: the labels of the patterns that occur in FILE (hex: in its bytes; text: in its text)
found() {
    od -An -v -tx1 "$1" | tr -d ' \n' > "$T/hexdump"
    while read -r kind label pat; do
        if [ "$kind" = hex ]; then grep -q "$pat" "$T/hexdump" && echo "$label:$pat"
        else grep -qF -- "$pat" "$1" && echo "$label:$pat"; fi
    done < "$T/patterns"
}

# control: a file with every pattern, in bytes and in text
: > "$T/control"
while read -r kind label pat; do
    if [ "$kind" = hex ]; then echo "$pat" | xxd -r -p >> "$T/control"; else echo "x $pat y" >> "$T/control"; fi
done < "$T/patterns"
nc=$(found "$T/control" | wc -l)
[ "$np" -ge 10 ] && [ "$nc" -eq "$np" ] && ok "the search finds all $np patterns in a control file" ||
    bad "control search" "$nc of $np patterns found" "$(cat "$T/patterns")"
# and the checkpoint really holds the stored weights
found $MASKED | grep -q "^weight-f32:" && ok "the search finds the weights in the checkpoint" ||
    bad "weights not found in the checkpoint"

nf=0
leaks=""
for f in "$R"/*; do
    nf=$((nf + 1))
    hit=$(found "$f" | head -3 | tr '\n' ' ')
    [ -n "$hit" ] && leaks="$leaks $(basename "$f"): $hit"
done
[ $nf -ge 15 ] && [ -z "$leaks" ] && ok "no input byte, encoding or weight in any of the $nf files the runs wrote" ||
    bad "secrets in output files ($nf files)" "$leaks"
[ "$(wc -l < "$R/c2.err")" -eq 1 ] && grep -q "model hash" "$R/c2.err" && ok "the refused run's error was scanned too" ||
    bad "refused run" "$(cat "$R/c2.err")"
summary
