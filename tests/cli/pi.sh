#!/bin/sh
# CLI tests of secure inference: pi cost / fixed / export-public / local (three
# processes) / dealer + server + client by hand, the default bind address, each of
# the three roles killed mid-run, a client with another precision or another model's
# public file, tc netem presets and their removal.
# Models: tests/golden/pi_tiny_{plain,masked}.safetensors (tests/pi_tiny.cfg trained
# for 2 epochs on 4096 Fashion-MNIST images; the masked one by autorep replace).
. "$(dirname "$0")/lib.sh"
G=tests/golden
PLAIN=$G/pi_tiny_plain.safetensors
MASKED=$G/pi_tiny_masked.safetensors
FM=/usr/share/datasets/fashion-mnist
# json KEY < file: the value of a top-level key of a one-line JSON object
json() { sed 's/"layers":.*//' | sed -n "s/.*\"$1\":\([^,}]*\).*/\1/p" | head -1; }

# --- pi cost ---
$A pi cost --model $MASKED --json > "$T/cost.json" 2> "$T/err" || bad "pi cost" "$(cat "$T/err")"
kept=$($A info --model $MASKED --json | json relu_total)
[ "$(json relu_count < "$T/cost.json")" = "$kept" ] && [ "$kept" -gt 0 ] &&
    ok "pi cost: relu_count equals the model's kept ReLUs ($kept)" || bad "pi cost relu_count" "$(cat "$T/cost.json")"
$A pi cost --model $PLAIN | grep -q "rounds + " && ok "pi cost text table" || bad "pi cost text"
expect_fail "pi cost without --model" "--model FILE is required" $A pi cost
out=$($A pi cost --arch resnet18_in --data cifar10 --json)
echo "$out" | json relu_count | grep -qx 491520 && [ "$(echo "$out" | json rounds)" = 128 ] &&
    ok "pi cost --arch resnet18_in: 491520 ReLUs, 16 sites x 8 rounds" || bad "pi cost --arch" "$out"
expect_fail "pi unknown subcommand" "unknown subcommand 'nope'" $A pi nope

# --- fixed point vs float on a trained model ---
if [ -d $FM ]; then
    out=$($A pi fixed --model $PLAIN --max-test 2000 --json)
    agree=$(echo "$out" | json agree_float_top1)
    awk "BEGIN{exit !($agree >= 0.995)}" && ok "pi fixed: fixed-point vs float top-1 agreement $agree on 2000 images" ||
        bad "pi fixed agreement" "$out"
fi

# --- pi local: three processes, MPC = fixed point, measured = pi cost ---
if [ -d $FM ]; then
    for m in $PLAIN $MASKED; do
        name=$(basename $m .safetensors)
        if $A pi local --model $m --n 12 --json > "$T/local.json" 2> "$T/err"; then
            L=$(cat "$T/local.json")
            c=$($A pi cost --model $m --json)
            ob=$(echo "$L" | json online_bytes); cb=$(echo "$c" | json online_bytes)
            db=$(echo "$L" | json dealer_bytes); cd=$(echo "$c" | json dealer_bytes)
            r=$(echo "$L" | json rounds); cr=$(echo "$c" | json rounds)
            [ "$(echo "$L" | json agree_fixed)" = "1.0" ] && [ "$(echo "$L" | json agree_fixed_top1)" = "1.0" ] &&
                [ "$(echo "$L" | json mpc_top1)" = "$(echo "$L" | json fixed_top1)" ] &&
                ok "pi local $name: MPC logits = fixed point within tolerance on 12/12 (max $(echo "$L" | json max_diff_lsb) LSB)" ||
                bad "pi local $name agreement" "$L"
            [ "$ob" -eq $((cb * 12)) ] && [ "$db" -eq $((cd * 12)) ] && [ "${r%.0}" -eq "$cr" ] &&
                ok "pi local $name: measured bytes/rounds/dealer bytes = pi cost ($cb B, $cr rounds per image)" ||
                bad "pi local $name cost" "online $ob vs 12 x $cb, dealer $db vs 12 x $cd, rounds $r vs $cr"
        else
            bad "pi local $name" "$(cat "$T/err")"
        fi
    done
    $A pi local --model $MASKED --n 3 > "$T/text" 2>&1 && grep -q "MPC vs fixed point" "$T/text" &&
        grep -q "relu1 " "$T/text" && ok "pi local text report with the layer table" || bad "pi local text" "$(cat "$T/text")"
fi
expect_fail "pi local bad --net" "--net: 'dsl' is not none, lan or wan" $A pi local --model $PLAIN --net dsl
expect_fail "pi local missing model" "/nonexistent/m.safetensors" $A pi local --model /nonexistent/m.safetensors

# --- export-public: no weights in the public file ---
$A pi export-public --model $MASKED --out "$T/pub.safetensors" > /dev/null 2> "$T/err" || bad "export-public" "$(cat "$T/err")"
if head -c 20000 "$T/pub.safetensors" | grep -q "conv1.weight\|running_var\|fc.bias"; then
    bad "public file contains weights"
else
    head -c 20000 "$T/pub.safetensors" | grep -q "relu1.relu_mask" && ok "public file has masks but no weights" ||
        bad "public file has no masks"
fi
expect_fail "a checkpoint is not a public file" "not a public model file" \
    $A pi dealer --public $MASKED --listen 127.0.0.1:1

# --- dealer / server / client by hand on loopback ---
P=$((20000 + ($$ % 4000) * 4))
D=$((P + 1))
run3() { # run3 N CLIENT_PUBLIC [client args...]: the three roles; exit codes in $T/rc.*
    n=$1; cpub=$2; shift 2
    $A pi dealer --public "$T/pub.safetensors" --listen 127.0.0.1:$D --n $n --timeout 10 > "$T/d.out" 2> "$T/d.err" &
    dp=$!
    $A pi server --model $MASKED --listen 127.0.0.1:$P --dealer 127.0.0.1:$D --n $n --timeout 10 \
        > "$T/s.out" 2> "$T/s.err" &
    sp=$!
    $A pi client --public "$cpub" --connect 127.0.0.1:$P --dealer 127.0.0.1:$D --n $n --timeout 10 "$@" \
        > "$T/c.out" 2> "$T/c.err" &
    cp=$!
}
if [ -d $FM ]; then
    run3 5 "$T/pub.safetensors"
    wait $cp; c=$?; wait $sp; s=$?; wait $dp; d=$?
    [ $c -eq 0 ] && [ $s -eq 0 ] && [ $d -eq 0 ] && grep -q "client: 5 images" "$T/c.out" &&
        ok "dealer, server and client as separate processes ($(cat "$T/c.out" | cut -c1-60)...)" ||
        bad "three processes" "exit $d/$s/$c" "$(cat "$T/c.err" "$T/s.err" "$T/d.err")"
    # a client whose public model differs (other precision) is refused before any secret moves
    $A pi export-public --model $MASKED --frac-bits 10 --out "$T/pub10.safetensors" > /dev/null
    P=$((P + 2)); D=$((P + 1))
    run3 2 "$T/pub10.safetensors"
    wait $cp; c=$?; wait $sp; s=$?; kill $dp 2> /dev/null; wait $dp
    [ $c -ne 0 ] && [ $s -ne 0 ] && [ "$(wc -l < "$T/c.err")" -eq 1 ] && grep -q "different model hash" "$T/c.err" &&
        ok "client with another public model is refused (hash mismatch)" ||
        bad "hash mismatch" "exit client $c server $s" "$(cat "$T/c.err" "$T/s.err")"
    # the public file of a different model (the plain one: other masks) against the
    # masked model's server, each with a dealer of its own model so that the only
    # disagreement is between client and server: both fail with one line at their
    # handshake, which carries only a public key and the hash (no share or seed can
    # precede it; net_tcp_model_hash_mismatch_refused counts the bytes that cross)
    $A pi export-public --model $PLAIN --out "$T/pubplain.safetensors" > /dev/null
    P=$((P + 3)); D=$((P + 1)); D2=$((P + 2))
    $A pi dealer --public "$T/pub.safetensors" --listen 127.0.0.1:$D --n 2 --timeout 10 > /dev/null 2>&1 &
    dp=$!
    $A pi dealer --public "$T/pubplain.safetensors" --listen 127.0.0.1:$D2 --n 2 --timeout 10 > /dev/null 2>&1 &
    dp2=$!
    $A pi server --model $MASKED --listen 127.0.0.1:$P --dealer 127.0.0.1:$D --n 2 --timeout 10 \
        > "$T/s.out" 2> "$T/s.err" &
    sp=$!
    $A pi client --public "$T/pubplain.safetensors" --connect 127.0.0.1:$P --dealer 127.0.0.1:$D2 --n 2 \
        --timeout 10 > "$T/c.out" 2> "$T/c.err" &
    cp=$!
    wait $cp; c=$?; wait $sp; s=$?; kill $dp $dp2 2> /dev/null; wait $dp $dp2 2> /dev/null
    [ $c -ne 0 ] && [ $s -ne 0 ] && [ "$(wc -l < "$T/c.err")" -eq 1 ] && [ "$(wc -l < "$T/s.err")" -eq 1 ] &&
        grep -q "different model hash" "$T/c.err" && grep -q "different model hash" "$T/s.err" &&
        ok "client with a different model's public file: client and server refuse at the handshake ($(head -c 80 "$T/c.err"))" ||
        bad "different model" "exit client $c server $s" "$(cat "$T/c.err" "$T/s.err")"
fi

# --- the default bind address is loopback: a port without a host, and the defaults ---
$A pi dealer --help | grep -q "(default 127.0.0.1:7101)" && $A pi server --help | grep -q "(default 127.0.0.1:7100)" &&
    ok "pi dealer/server listen on 127.0.0.1 by default (--help)" || bad "default --listen"
P=$((P + 2)); D=$((P + 1))
$A pi dealer --public "$T/pub.safetensors" --listen $D --n 1 --timeout 5 > /dev/null 2>&1 &
dp=$!
$A pi server --model $MASKED --listen :$P --dealer $D --n 1 --timeout 5 > /dev/null 2>&1 &
sp=$!
# listening sockets (state 0A) of the two ports, from the kernel's tables: all on 127.0.0.1
binds=""
for i in 1 2 3 4 5 6 7 8 9 10; do
    binds=$(for port in $P $D; do
        hexp=$(printf '%04X' $port)
        cat /proc/net/tcp /proc/net/tcp6 2> /dev/null | awk -v p=":$hexp" '$4 == "0A" && substr($2, length($2) - 4) == p {print $2}'
    done | sort | tr '\n' ' ')
    [ "$(echo $binds | wc -w)" -ge 2 ] && break
    sleep 0.5
done
kill $sp $dp 2> /dev/null; wait $sp $dp 2> /dev/null
[ "$(echo $binds | wc -w)" -eq 2 ] && [ -z "$(echo $binds | tr ' ' '\n' | grep -v '^0100007F:')" ] &&
    ok "a listen address without a host binds 127.0.0.1 only ($binds)" || bad "default bind" "listening: $binds"

# --- a party killed mid-run: the others exit non-zero within the timeout ---
for victim in server dealer client; do
    P=$((P + 2)); D=$((P + 1))
    run3 3000 "$T/pub.safetensors" --data random
    sleep 3
    case $victim in
    server) kill -9 $sp; others="$cp $dp"; errs="$T/c.err $T/d.err"; msg=$T/c.err ;;
    dealer) kill -9 $dp; others="$cp $sp"; errs="$T/c.err $T/s.err"; msg=$T/c.err ;;
    client) kill -9 $cp; others="$sp $dp"; errs="$T/s.err $T/d.err"; msg=$T/s.err ;;
    esac
    t0=$(date +%s); fails=0
    for p in $others; do
        i=0
        while kill -0 $p 2> /dev/null && [ $i -lt 150 ]; do sleep 0.2; i=$((i + 1)); done
        if kill -0 $p 2> /dev/null; then kill -9 $p; fails=$((fails + 10)); fi
        wait $p; [ $? -ne 0 ] || fails=$((fails + 1))
    done
    wait 2> /dev/null
    dt=$(($(date +%s) - t0))
    for e in $errs; do [ "$(wc -l < "$e")" -eq 1 ] || fails=$((fails + 100)); done # one clear line each
    [ $fails -eq 0 ] && [ $dt -le 15 ] &&
        ok "kill -9 of the $victim: the other two exit non-zero in ${dt} s ($(head -c 90 "$msg"))" ||
        bad "kill the $victim" "fails $fails after $dt s" "$(cat "$T/c.err" "$T/s.err" "$T/d.err" | head -5)"
done

# --- link emulation (tc netem when usable, else the userspace relay), always removed ---
if [ -d $FM ]; then
    $A pi local --model $PLAIN --n 2 --net lan --json > "$T/lan.json" 2> "$T/err"
    sh=$(json shaping < "$T/lan.json")
    [ "$(json shaped < "$T/lan.json")" = "true" ] && [ "$(json agree_fixed < "$T/lan.json")" = "1.0" ] &&
        ! { command -v tc > /dev/null && tc qdisc show dev lo | grep -q netem; } &&
        ok "--net lan runs shaped ($sh) and leaves no qdisc" || bad "--net lan" "$(cat "$T/err" "$T/lan.json")"
    $A pi local --model $PLAIN --n 2 --net wan --json > "$T/wan.json" 2> /dev/null
    tw=$(json online_seconds_per_inference < "$T/wan.json"); rw=$(json rounds < "$T/wan.json")
    awk "BEGIN{exit !($tw >= $rw * 0.02)}" && ok "--net wan: $tw s per inference >= rounds x 20 ms ($rw rounds)" ||
        bad "--net wan timing" "$(cat "$T/wan.json" | head -c 400)"
    $A pi local --model $PLAIN --n 500 --net wan > /dev/null 2> "$T/err" &
    lp=$!
    sleep 4
    t0=$(date +%s)
    kill -INT $lp; wait $lp; rc=$?
    dt=$(($(date +%s) - t0))
    { command -v tc > /dev/null && tc qdisc show dev lo | grep -q netem; } && { tc qdisc del dev lo root; bad "netem left after SIGINT"; } ||
        { [ $rc -ne 0 ] && [ $dt -le 5 ] && ok "SIGINT during --net wan: stopped in $dt s (exit $rc), no qdisc left" ||
            bad "SIGINT" "exit $rc after $dt s" "$(cat "$T/err")"; }
fi
summary
