#!/bin/sh
# Bad input for every CLI verb, table-driven. Each row must make autorep exit
# non-zero, print exactly one stderr line containing the row's pattern (which names
# the file, field or peer and the problem), finish within a time limit, and leave
# nothing behind: the row's output directory $O stays empty (no output, no
# temporary file, no log), and no *.tmp.* file appears anywhere under $T.
#
# Add a row: one line in the table below,  NAME | PATTERN | ARGUMENTS
# (ARGUMENTS are expanded by the shell: $M, $R, $O, $T, ... are fixtures). Rows of a
# verb this binary does not have are skipped, and a PATTERN of TODO marks a case
# not written yet.
# Tests run as root, so "unreadable" is simulated by a directory or a FIFO where a
# file is expected (chmod 000 does not stop root).
. "$(dirname "$0")/lib.sh"
G=tests/golden
LIMIT=${BADINPUT_TIMEOUT:-120}

# ---- fixtures ----
M=$T/m.safetensors # a trained plain checkpoint (cnn_small, Fashion-MNIST)
R=$T/r/r.safetensors # its AutoReP-replaced version (masked sites)
mkdir -p "$T/r"
if ! $A train --arch cnn_small --epochs 1 --batch 64 --max-train 64 --max-test 64 --out "$M" --quiet 2> "$T/fx.err" ||
    ! $A replace --model "$M" --budget 5000 --epochs 1 --max-train 64 --max-test 64 --batch 64 --out "$R" \
        --quiet 2>> "$T/fx.err"; then
    bad "fixtures (train + replace)" "$(tail -3 "$T/fx.err")"
    summary
    exit 1
fi
rm -f "$T"/*.resume "$T"/r/*.resume

# header length N (first 8 bytes); tensor data starts at 8 + N + begin
hdr_len() { od -An -t u8 -N 8 "$1" | tr -d ' '; }
# byte offset in FILE of the data of tensor NAME
tensor_at() {
    begin=$(head -c "$(($(hdr_len "$1") + 8))" "$1" | tr -d '\n' | grep -ao "\"$2\":{[^}]*}" |
        sed 's/.*"data_offsets":\[\([0-9]*\),.*/\1/')
    echo $((8 + $(hdr_len "$1") + begin))
}
# patch FILE at byte OFFSET with the printf-format BYTES (same length, in place)
patch_at() { printf "$3" | dd of="$1" bs=1 seek="$2" conv=notrunc 2> /dev/null; }
# replace the first occurrence of the header text OLD by NEW (same length)
patch_text() {
    at=$(grep -abo -m1 -F "$2" "$1" | head -n 1 | cut -d: -f1)
    [ -n "$at" ] && patch_at "$1" "$at" "$3"
}
cpm() { cp "$M" "$T/$1"; echo "$T/$1"; }

TRUNC=$(cpm trunc.safetensors); head -c 3000 "$M" > "$TRUNC"
CUT=$(cpm cut.safetensors); head -c "$(($(wc -c < "$M") - 100))" "$M" > "$CUT"
printf '' > "$T/empty.safetensors"
printf '\100\102\017\000\000\000\000\000{}' > "$T/bighdr.safetensors"      # claims a 1 MB header
printf '\377\377\377\377\377\377\377\177{}' > "$T/hugehdr.safetensors"     # claims 2^63 bytes
printf 'PK\003\004\024\000\000\000\010\000' > "$T/zip.safetensors"        # a PyTorch .pt (zip) file
printf '\010\000\000\000\000\000\000\000notjson!' > "$T/notjson.safetensors"
cp "$G/torch_ckpt_io.safetensors" "$T/other.safetensors"                 # valid safetensors, no model
DT=$(cpm dtype.safetensors); patch_text "$DT" '"conv1.weight":{"dtype":"F32"' '"conv1.weight":{"dtype":"I32"'
SH=$(cpm shape.safetensors); patch_text "$SH" '"shape":[64,32,3,3]' '"shape":[32,64,3,3]'
AR=$(cpm arch.safetensors); patch_text "$AR" 'filters = 32' 'filters = 16'
NAN=$(cpm nan.safetensors); patch_at "$NAN" "$(tensor_at "$M" conv1.weight)" '\000\000\300\177'
INF=$(cpm inf.safetensors); patch_at "$INF" "$(tensor_at "$M" bn1.weight)" '\000\000\200\377'
META=$(cpm meta.safetensors); patch_text "$META" '"autorep.sites":"plain"' '"autorep.sites":"plaim"'
MASK=$T/mask.safetensors; cp "$R" "$MASK"; patch_at "$MASK" "$(tensor_at "$R" relu2.relu_mask)" '\002'
# predict inputs: a good one for cnn_small is not needed; these are all bad
printf '\010\000\000\000\000\000\000\000{}      ' > "$T/noinput.safetensors"
mkdir -p "$T/dir.safetensors" "$T/dir.cfg" "$T/dirout"
NL='
'
mkfifo "$T/fifo.safetensors" "$T/fifo.cfg"
printf '[net]\ninput = 1x28x28\n[conv]\nname = c\nfilters = 4\nsize = 3\nwidth = 2\n' > "$T/bad.cfg"
printf '[net]\ninput = auto\n[conv]\nname = c\nfilters = 65536\nsize = 3\npad = 1\n[conv]\nname = d\nfilters = 65536\nsize = 3\npad = 1\n[avgpool]\nglobal = 1\n[linear]\nname = fc\noutputs = auto\n' > "$T/huge.cfg" # 38G parameters
# CIFAR-10 layouts (binary version): one 3073-byte record per file
rec() { head -c 3073 /dev/zero > "$1"; }
C5=$T/cifar-missing; mkdir -p "$C5"
for i in 1 2 3 4; do rec "$C5/data_batch_$i.bin"; done; rec "$C5/test_batch.bin"
CS=$T/cifar-short; mkdir -p "$CS"
for i in 1 2 3 4 5; do rec "$CS/data_batch_$i.bin"; done; rec "$CS/test_batch.bin"
head -c 3000 /dev/zero > "$CS/data_batch_3.bin"
CL=$T/cifar-label; mkdir -p "$CL"
for i in 1 2 3 4 5; do rec "$CL/data_batch_$i.bin"; done; rec "$CL/test_batch.bin"
printf '\014' | dd of="$CL/data_batch_2.bin" conv=notrunc 2> /dev/null # label 12 of 10 classes
CT=$T/cifar-notest; mkdir -p "$CT"
for i in 1 2 3 4 5; do rec "$CT/data_batch_$i.bin"; done
CD=$T/cifar-dir; mkdir -p "$CD/data_batch_1.bin"
for i in 2 3 4 5; do rec "$CD/data_batch_$i.bin"; done; rec "$CD/test_batch.bin"
FM=$T/fm-fifo; mkdir -p "$FM"; mkfifo "$FM/train-images-idx3-ubyte"
cp /usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz "$FM/" 2> /dev/null || true
FMS=$T/fm-short; mkdir -p "$FMS"
printf '\000\000\010\003\000\000\000\002\000\000\000\034\000\000\000\034' > "$FMS/train-images-idx3-ubyte"
printf '\000\000\010\001\000\000\000\002\001\002' > "$FMS/train-labels-idx1-ubyte"
cp "$FMS/train-images-idx3-ubyte" "$FMS/t10k-images-idx3-ubyte"
cp "$FMS/train-labels-idx1-ubyte" "$FMS/t10k-labels-idx1-ubyte"
TR="--epochs 1 --batch 64 --max-train 64 --max-test 64 --quiet"
# secure inference: a public model file, a port something else listens on, and a
# TCP peer that is not autorep (it answers every connection with HTTP); both are
# perl (perl-base is always installed on Debian) and are stopped at the end
PUB=$T/pub.bin
$A pi export-public --model "$M" --out "$PUB" > /dev/null 2>&1 || true
head -c 500 "$PUB" > "$T/pubcut.bin" 2> /dev/null || true
HELPERS=""
cleanup() { [ -n "$HELPERS" ] && kill $HELPERS 2> /dev/null; rm -rf "$T"; }
trap cleanup EXIT
perl -MIO::Socket::INET -e '$s = IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => 0, Listen => 5)
    or die; $| = 1; print $s->sockport, "\n"; sleep 600' > "$T/busy.port" &
HELPERS="$HELPERS $!"
perl -MIO::Socket::INET -e '$s = IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => 0, Listen => 5)
    or die; $| = 1; print $s->sockport, "\n";
    while ($c = $s->accept) { print $c "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nnot autorep\n" x 4; close $c }' \
    > "$T/junk.port" &
HELPERS="$HELPERS $!"
i=0
while { [ ! -s "$T/busy.port" ] || [ ! -s "$T/junk.port" ]; } && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
BUSY=$(cat "$T/busy.port"); JUNK=$(cat "$T/junk.port")
# report: runs whose log is missing or broken, and a broken private-inference JSON
cp "$M" "$T/nolog.safetensors"
cp "$M" "$T/badlog.safetensors"; echo '{"stage": "train", "epoch": "x"}' > "$T/badlog.jsonl"
echo '{not json' > "$T/bad.pi.json"

# ---- the table: NAME | PATTERN | ARGUMENTS ($O: this row's empty output directory) ----
ROWS=$(cat << 'EOF'
no command verb                  | unknown command 'bogus'                       | bogus --model $M
info unknown flag                | unknown option --bogus                         | info --arch cnn_small --bogus
info flag with a value           | option --json takes no value                   | info --arch cnn_small --json=1
info option without value        | option --arch needs a value                    | info --arch
info stray argument              | unexpected argument 'cnn_small'                | info cnn_small
info newline in an argument      | unknown option --a?b                           | info "--a${NL}b"
info missing checkpoint          | /nonexistent/m.safetensors: cannot open        | info --model /nonexistent/m.safetensors
info directory as checkpoint     | dir.safetensors: is a directory                | info --model $T/dir.safetensors
info FIFO as checkpoint          | fifo.safetensors: not a regular file           | info --model $T/fifo.safetensors
info empty checkpoint            | empty.safetensors: truncated                   | info --model $T/empty.safetensors
info truncated checkpoint        | trunc.safetensors: tensor 'conv1.weight': data_offsets [0, 1152] outside | info --model $TRUNC
info header beyond file          | bighdr.safetensors: truncated: header length 1000000 | info --model $T/bighdr.safetensors
info header length 2^63          | hugehdr.safetensors: header length             | info --model $T/hugehdr.safetensors
info zip file as checkpoint      | zip.safetensors: header length 85966670672 exceeds | info --model $T/zip.safetensors
info header not JSON             | notjson.safetensors: header is not valid JSON  | info --model $T/notjson.safetensors
info not a checkpoint            | other.safetensors: no architecture             | info --model $T/other.safetensors
info dtype mismatch              | tensor 'conv1.weight': dtype I32, expected F32 | info --model $DT
info shape mismatch              | tensor 'conv2.weight': shape [32,64,3,3], expected [64,32,3,3] | info --model $SH
info other architecture          | tensor 'conv1.weight': shape [32,1,3,3], expected [16,1,3,3] | info --model $AR
info NaN weight                  | nan.safetensors: tensor 'conv1.weight' contains NaN | info --model $NAN
info Inf weight                  | inf.safetensors: tensor 'bn1.weight' contains Inf | info --model $INF
info unknown site mode           | meta.safetensors: metadata autorep.sites 'plaim' is unknown | info --model $META
info mask value 2                | mask.safetensors: tensor 'relu2.relu_mask' holds 2 | info --model $MASK
info unknown architecture        | unknown architecture 'nosuch'                  | info --arch nosuch
info missing cfg                 | /nonexistent/a.cfg: No such file               | info --arch /nonexistent/a.cfg
info FIFO cfg                    | fifo.cfg: not a regular file                   | info --arch $T/fifo.cfg
info directory cfg               | dir.cfg: not a regular file                    | info --arch $T/dir.cfg
info bad cfg key                 | bad.cfg:7: unknown key 'width'                 | info --arch $T/bad.cfg
info cfg too large               | huge.cfg:8: layer 'd': the network has more than 268435456 parameters | info --arch $T/huge.cfg
info unknown data set            | unknown data set 'imagenet'                    | info --arch cnn_small --data imagenet
train unknown flag               | unknown option --bogus                         | train --bogus --out $O/x.safetensors
train bad number                 | --epochs: 'x' is not an integer                | train --epochs x --out $O/x.safetensors
train zero batch                 | --batch: '0' is not an integer                 | train --batch 0 --out $O/x.safetensors
train NaN learning rate          | --lr: 'nan' is not a number                    | train --lr nan --out $O/x.safetensors
train bad optimizer              | --optim: 'rmsprop' is not sgd or adam          | train --optim rmsprop --out $O/x.safetensors
train bad thread count           | --threads: '0' is not a thread count           | train --threads 0 --out $O/x.safetensors
train missing data directory     | /nonexistent/cifar/data_batch_1.bin: not found | train --data cifar10 --data-dir /nonexistent/cifar --out $O/x.safetensors $TR
train CIFAR batch file missing   | cifar-missing/data_batch_5.bin: not found      | train --data cifar10 --data-dir $C5 --out $O/x.safetensors $TR
train CIFAR short batch file     | data_batch_3.bin: size 3000 is not a positive multiple of the 3073-byte | train --data cifar10 --data-dir $CS --out $O/x.safetensors $TR
train CIFAR label out of range   | data_batch_2.bin: record 0: label 12 is out of range | train --data cifar10 --data-dir $CL --out $O/x.safetensors $TR
train CIFAR test batch missing   | test_batch.bin: not found                      | train --data cifar10 --data-dir $CT --out $O/x.safetensors $TR
train CIFAR batch is a directory | data_batch_1.bin: not a regular file           | train --data cifar10 --data-dir $CD --out $O/x.safetensors $TR
train IDX file is a FIFO         | train-images-idx3-ubyte: not a regular file    | train --data-dir $FM --out $O/x.safetensors $TR
train IDX file truncated         | train-images-idx3-ubyte: truncated             | train --data-dir $FMS --out $O/x.safetensors $TR
train data dir is a file         | m.safetensors/data_batch_1.bin: not found      | train --data cifar10 --data-dir $M --out $O/x.safetensors $TR
train architecture too large     | huge.cfg:8: layer 'd': the network has more than 268435456 parameters | train --arch $T/huge.cfg --out $O/x.safetensors $TR
train output not creatable       | cannot create the directory of /proc/autorep/x.safetensors | train --out /proc/autorep/x.safetensors $TR
train resume without a run       | $O/x.safetensors                               | train --resume --out $O/x.safetensors $TR
eval unknown flag                | unknown option --bogus                         | eval --model $M --bogus
eval without model               | --model CKPT is required                       | eval
eval missing checkpoint          | /nonexistent/m.safetensors: cannot open        | eval --model /nonexistent/m.safetensors
eval FIFO checkpoint             | fifo.safetensors: not a regular file           | eval --model $T/fifo.safetensors
eval truncated data section      | cut.safetensors                                | eval --model $CUT
eval dtype mismatch              | tensor 'conv1.weight': dtype I32, expected F32 | eval --model $DT
eval NaN weight                  | tensor 'conv1.weight' contains NaN             | eval --model $NAN
eval other architecture (--arch) | torch_ckpt.safetensors: tensor 'conv1.weight': shape [4,3,3,3], expected [32,1,3,3] | eval --model $G/torch_ckpt.safetensors --arch cnn_small --data fashion-mnist
eval wrong data set              | data set cifar10 has images 3x32x32 but the network expects 1x28x28 | eval --model $M --data cifar10 --data-dir $C5
eval CIFAR test batch missing    | cifar-notest/test_batch.bin: not found         | eval --model $M --data cifar10 --data-dir $CT
eval zero batch                  | --batch: '0' is not an integer                 | eval --model $M --batch 0
predict unknown flag             | unknown option --bogus                         | predict --model $M --input $T/other.safetensors --out $O/y.safetensors --bogus
predict missing output option    | --model, --input and --out are required        | predict --model $M --input $T/other.safetensors
predict missing input file       | /nonexistent/x.safetensors: cannot open        | predict --model $M --input /nonexistent/x.safetensors --out $O/y.safetensors
predict FIFO input               | fifo.safetensors: not a regular file           | predict --model $M --input $T/fifo.safetensors --out $O/y.safetensors
predict input without tensor     | noinput.safetensors: needs a tensor 'input'    | predict --model $M --input $T/noinput.safetensors --out $O/y.safetensors
predict input of wrong shape     | input is 3x8x8 but                             | predict --model $M --input $T/other.safetensors --out $O/y.safetensors
predict truncated checkpoint     | trunc.safetensors: tensor 'conv1.weight': data_offsets | predict --model $TRUNC --input $T/other.safetensors --out $O/y.safetensors
predict Inf weight               | tensor 'bn1.weight' contains Inf               | predict --model $INF --input $T/other.safetensors --out $O/y.safetensors
predict PyTorch file of another architecture | torch_ckpt.safetensors: tensor 'conv1.weight': shape [4,3,3,3], expected [32,3,3,3] | predict --model $G/torch_ckpt.safetensors --arch cnn_small --input $G/torch_ckpt_io.safetensors --out $O/y.safetensors
predict output is a directory    | dirout: cannot rename                          | predict --model $G/torch_ckpt.safetensors --arch tests/tiny.cfg --input $G/torch_ckpt_io.safetensors --out $T/dirout
predict output not creatable     | /proc/autorep/y.safetensors: cannot create temporary file | predict --model $G/torch_ckpt.safetensors --arch tests/tiny.cfg --input $G/torch_ckpt_io.safetensors --out /proc/autorep/y.safetensors
replace unknown flag             | unknown option --bogus                         | replace --model $M --budget 100 --out $O/r.safetensors --bogus
replace without budget           | --model, --budget and --out are required       | replace --model $M --out $O/r.safetensors
replace budget 0                 | --budget: '0' is not a positive count          | replace --model $M --budget 0 --out $O/r.safetensors
replace negative budget          | --budget: '-5' is not a positive count         | replace --model $M --budget -5 --out $O/r.safetensors
replace budget not a number      | --budget: 'lots' is not a positive count       | replace --model $M --budget lots --out $O/r.safetensors
replace budget above the total   | --budget 1000000000 is not below the 43904 ReLUs | replace --model $M --budget 1e9 --out $O/r.safetensors
replace budget equal to the total | --budget 43904 is not below the 43904 ReLUs   | replace --model $M --budget 43904 --out $O/r.safetensors
replace budget over 100%         | --budget 65856 is not below the 43904 ReLUs    | replace --model $M --budget 150% --out $O/r.safetensors
replace budget below one ReLU    | --budget: '0.5' is not a positive count        | replace --model $M --budget 0.5 --out $O/r.safetensors
replace bad method               | --method: 'magic' is not autorep or snl        | replace --model $M --budget 100 --method magic --out $O/r.safetensors
replace missing checkpoint       | /nonexistent/m.safetensors: cannot open        | replace --model /nonexistent/m.safetensors --budget 100 --out $O/r.safetensors
replace NaN weight               | tensor 'conv1.weight' contains NaN             | replace --model $NAN --budget 100 --out $O/r.safetensors
replace shape mismatch           | tensor 'conv2.weight': shape [32,64,3,3]       | replace --model $SH --budget 100 --out $O/r.safetensors
replace CIFAR batch file missing | cifar-missing/data_batch_5.bin: not found      | replace --model $M --budget 100 --data cifar10 --data-dir $C5 --out $O/r.safetensors
replace output not creatable     | cannot create the directory of /proc/autorep/r.safetensors | replace --model $M --budget 100 --out /proc/autorep/r.safetensors $TR
pi unknown subcommand            | unknown subcommand 'bogus'                     | pi bogus
pi unknown flag                  | unknown option --bogus                         | pi cost --model $PUB --bogus
pi missing checkpoint            | /nonexistent/m.safetensors: cannot open        | pi cost --model /nonexistent/m.safetensors
pi NaN weight                    | tensor 'conv1.weight' contains NaN             | pi export-public --model $NAN --out $O/pub.bin
pi export not creatable          | /proc/autorep/pub.bin: cannot create temporary file | pi export-public --model $M --out /proc/autorep/pub.bin
pi checkpoint as public file     | m.safetensors: not a public model file         | pi dealer --public $M --listen 127.0.0.1:0
pi truncated public file         | pubcut.bin: truncated                          | pi dealer --public $T/pubcut.bin --listen 127.0.0.1:0
pi FIFO public file              | fifo.safetensors: not a regular file           | pi client --public $T/fifo.safetensors
pi bad network preset            | --net: 'bogus' is not none, lan or wan         | pi local --model $M --net bogus
pi zero images                   | --n: '0' is not an integer                     | pi client --public $PUB --n 0
pi bad address                   | 127.0.0.1:99999                                | pi server --model $M --listen 127.0.0.1:99999
pi dealer port in use            | listen on 127.0.0.1:$BUSY: Address already in use | pi dealer --public $PUB --listen 127.0.0.1:$BUSY --timeout 5
pi server port in use            | listen on 127.0.0.1:$BUSY: Address already in use | pi server --model $M --listen 127.0.0.1:$BUSY --dealer 127.0.0.1:$JUNK --timeout 5
pi client: dealer not autorep    | 127.0.0.1:$JUNK: bad frame magic               | pi client --public $PUB --dealer 127.0.0.1:$JUNK --connect 127.0.0.1:$BUSY --timeout 5
pi server: dealer not autorep    | 127.0.0.1:$JUNK: bad frame magic               | pi server --model $M --dealer 127.0.0.1:$JUNK --listen 127.0.0.1:0 --timeout 5
report without output            | --out is required                              | report $M
report unknown flag              | unknown option --bogus                         | report --out $O/r.html $M --bogus
report missing run               | /nonexistent/x.safetensors: cannot open        | report --out $O/r.html /nonexistent/x.safetensors
report run without its log       | nolog.jsonl: cannot open the log of | report --out $O/r.html $T/nolog.safetensors
report broken log                | badlog.jsonl:1: 'epoch' is not an epoch number | report --out $O/r.html $T/badlog.safetensors
report broken pi JSON            | bad.pi.json:1: not JSON                        | report --out $O/r.html $M --pi $T/bad.pi.json
report truncated run             | trunc.safetensors                              | report --out $O/r.html $TRUNC
report unknown site              | --site: 'nosuch' is not a ReLU site            | report --out $O/r.html $M --site nosuch
report output not creatable      | /proc/autorep/r.html: cannot create            | report --out /proc/autorep/r.html $M
EOF
)

# ---- runner ----
n=0
echo "$ROWS" | grep -F ' | ' > "$T/rows"
while IFS= read -r line; do
    n=$((n + 1))
    name=$(echo "$line" | awk -F ' [|] ' '{print $1}' | sed 's/ *$//')
    pat=$(echo "$line" | awk -F ' [|] ' '{print $2}' | sed 's/ *$//')
    args=$(echo "$line" | awk -F ' [|] ' '{print $3}')
    verb=${args%% *}
    case "$pat" in TODO)
        echo "skip $name (TODO)"
        continue ;;
    esac
    if [ "$verb" != bogus ] && ! $A "$verb" --help > /dev/null 2>&1; then
        echo "skip $name ($verb is not a command of this binary)"
        continue
    fi
    O=$T/out.$n
    mkdir -p "$O"
    eval "pat=\"$pat\""
    eval "set -- $args"
    timeout "$LIMIT" "$A" "$@" > "$T/out" 2> "$T/err"
    rc=$?
    lines=$(wc -l < "$T/err")
    left=$(ls -A "$O")
    if [ $rc -eq 124 ]; then
        bad "$name" "no answer within $LIMIT s (hangs)"
    elif [ $rc -ne 0 ] && [ "$lines" -eq 1 ] && grep -q -F -- "$pat" "$T/err" && [ -z "$left" ]; then
        ok "$name"
    else
        bad "$name" "exit $rc, $lines stderr lines, want '$pat'$( [ -n "$left" ] && echo ", left: $left"):" \
            "$(head -3 "$T/err")"
    fi
done < "$T/rows"
# a failed run leaves an existing output file untouched
cp "$M" "$T/keep.safetensors"
if ! $A predict --model "$TRUNC" --input "$T/other.safetensors" --out "$T/keep.safetensors" 2> /dev/null &&
    cmp -s "$M" "$T/keep.safetensors"; then ok "failed predict leaves the existing output untouched"
else bad "failed predict changed the existing output"; fi
tmps=$(find "$T" -name '*.tmp.*' 2> /dev/null)
[ -z "$tmps" ] && ok "no temporary files left anywhere" || bad "temporary files left" "$tmps"
[ ! -e /proc/autorep ] && ok "nothing created under /proc" || bad "/proc/autorep exists"
summary
