#!/usr/bin/env bash
# Hostile-user checks that need the real launcher, whole data sets, signals, a terminal or minutes,
# so they are not in `mvn verify` (the fast in-process ones are: cli HostileInputTest, ReliabilityTest,
# FuzzTest). Each case must end within its time limit with the expected exit code; a failing case
# must print exactly one `backprop4j:` line on stderr and no stack trace; a succeeding one no NaN.
#
#   scripts/hostile-inputs.sh          # ~3 minutes on 2 cores; needs Fashion-MNIST for some cases
#   scripts/hostile-inputs.sh --big    # also a >2 GiB checkpoint saved by train and read by eval (-Xmx10g)
#
# Prints one line per case and the tally: tried / JVM crashes / silent NaNs / stack traces / hangs.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
B="$ROOT/backprop4j"
FASHION=/usr/share/datasets/fashion-mnist
WORK="$(mktemp -d -t backprop4j-hostile.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
BIG=false
[[ "${1:-}" == "--big" ]] && BIG=true

tried=0 crashes=0 nans=0 traces=0 hangs=0 failed=0

# check NAME EXPECTED_CODE EXPECTED_WORDS LIMIT_S -- COMMAND...
# EXPECTED_CODE "!0": any error; EXPECTED_WORDS "-": progress lines on stderr are expected (no one-line check)
check() {
  local name=$1 want=$2 words=$3 limit=$4; shift 5
  tried=$((tried + 1))
  local start=$SECONDS
  timeout -k 5 "$limit" "$@" >out.txt 2>err.txt
  local code=$? took=$((SECONDS - start)) verdict=ok
  if (( code == 124 || code == 137 )) && (( took >= limit )); then hangs=$((hangs + 1)); verdict="HANG"; fi
  if (( code == 134 || code == 139 )) || grep -q 'hs_err_pid\|SIGSEGV\|fatal error' err.txt out.txt; then
    crashes=$((crashes + 1)); verdict="JVM CRASH"
  fi
  if grep -qE '^\s+at [a-z]|Exception in thread|^[a-z.]+(Exception|Error):' err.txt; then
    traces=$((traces + 1)); verdict="STACK TRACE"
  fi
  if (( code == 0 )) && grep -qE 'NaN|Infinity' out.txt; then nans=$((nans + 1)); verdict="SILENT NaN"; fi
  if [[ $verdict == ok && "$want" == "!0" ]]; then (( code != 0 )) || verdict="exit 0, expected an error"
  elif [[ $verdict == ok && "$code" != "$want" ]]; then verdict="exit $code, expected $want"; fi
  if [[ $verdict == ok && "$want" != 0 && "$words" != "-" ]]; then
    if [[ $(wc -l < err.txt) != 1 ]] || ! grep -q '^backprop4j: ' err.txt; then verdict="not one backprop4j: line"; fi
    if [[ -n "$words" ]] && ! grep -qF -- "$words" err.txt; then verdict="message lacks '$words'"; fi
  fi
  [[ $verdict == ok ]] || failed=$((failed + 1))
  printf '%-58s %-4s %4ss  %s\n' "$name" "$code" "$took" "$verdict"
  if [[ $verdict != ok ]]; then sed 's/^/    | /' err.txt | head -5; fi
  [[ "$want" != 0 ]] && sed 's/^/    > /' err.txt | head -1
  return 0
}

echo "building (if needed) ..."
"$B" --version >/dev/null || { echo "launcher failed"; exit 1; }

# ---- small data -------------------------------------------------------------------------------------
python3 - <<'PY'
import random
random.seed(1)
with open("blobs.csv", "w") as f:
    f.write("a,b,c,d,label\n")
    for i in range(600):
        c = i % 3
        f.write(",".join(f"{5*c + (2 if j == c else 0) + random.gauss(0, 1):.4f}" for j in range(4)) + f",{c}\n")
PY
"$B" train --backend cpu --csv blobs.csv --epochs 1 --layers 8 --no-progress --checkpoint small.safetensors >/dev/null 2>&1

echo "== class 3: bounded reads, sizes =="
check "csv /dev/zero" 2 "/dev/zero" 60 -- "$B" train --backend cpu --csv /dev/zero --checkpoint c3.safetensors
truncate -s 2G sparse2g.csv
check "csv: 2 GB sparse file" 2 "sparse2g.csv" 60 -- "$B" train --backend cpu --csv sparse2g.csv --checkpoint c3.safetensors
truncate -s 3G sparse3g.csv
check "eval on a 3 GB sparse CSV" 2 "sparse3g.csv" 60 -- "$B" eval --backend cpu --checkpoint small.safetensors --csv sparse3g.csv
python3 - <<'PY'
import gzip, struct, os
os.makedirs("bomb", exist_ok=True)
# header: 100 images of 28x28; the stream holds 1 GiB of zeros (about 1 MB compressed)
with gzip.open("bomb/t10k-images-idx3-ubyte.gz", "wb", compresslevel=9) as f:
    f.write(struct.pack(">IIII", 0x803, 100, 28, 28))
    z = bytes(1 << 24)
    for _ in range(64): f.write(z)
with gzip.open("bomb/t10k-labels-idx1-ubyte.gz", "wb") as f:
    f.write(struct.pack(">II", 0x801, 100) + bytes(100))
for n in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"):
    os.symlink(f"t10k{n[5:]}.gz", f"bomb/{n}.gz")
PY
check "gzip bomb IDX (1 GiB of zeros behind a 100-image header)" 2 "past the" 60 -- "$B" train --backend cpu --data bomb --checkpoint c3.safetensors
if [[ -d $FASHION ]]; then
  check "fashion --batch 2147483647" 0 "" 300 -- "$B" train --backend cpu --epochs 1 --batch 2147483647 --checkpoint b1.safetensors --no-progress
  check "fashion --batch 1000000000" 0 "" 300 -- "$B" train --backend cpu --epochs 1 --batch 1000000000 --checkpoint b2.safetensors --no-progress
  check "fashion in a 64 MB heap" 2 "of Java heap" 60 -- env BACKPROP4J_JAVA_OPTS=-Xmx64m "$B" train --backend cpu --checkpoint h.safetensors
  check "fashion eval in a 40 MB heap" 2 "of Java heap" 60 -- env BACKPROP4J_JAVA_OPTS=-Xmx40m "$B" eval --backend cpu --checkpoint b1.safetensors
  check "fashion --layers 20000 in a 256 MB heap" '!0' "" 120 -- env BACKPROP4J_JAVA_OPTS=-Xmx256m "$B" train --backend cpu --layers 20000 --checkpoint h2.safetensors
fi
check "--layers 3000000000" 2 "--layers" 30 -- "$B" train --backend cpu --csv blobs.csv --layers 3000000000 --checkpoint c3.safetensors
check "--layers 2000000000" 2 "2^31" 30 -- "$B" train --backend cpu --csv blobs.csv --layers 2000000000 --checkpoint c3.safetensors
if $BIG; then
  python3 -c "
import random
random.seed(2)
print('\n'.join(','.join(str(random.random()) for _ in range(8)) + ',' + str(i % 2) for i in range(10)))" > tiny.csv
  check "train: 2.2 GB checkpoint (adam, 8-20000000-2)" 0 "" 600 -- env BACKPROP4J_JAVA_OPTS=-Xmx10g "$B" train --backend cpu --csv tiny.csv --test-fraction 0.3 --layers 20000000 --batch 1 --epochs 1 --diagnostic-rows 0 --no-progress --checkpoint big.safetensors
  ls -l big.safetensors | awk '{printf "    checkpoint size %.2f GiB\n", $5 / 2^30}'
  check "eval of the 2.2 GB checkpoint" 0 "" 300 -- env BACKPROP4J_JAVA_OPTS=-Xmx10g "$B" eval --backend cpu --checkpoint big.safetensors
  rm -f big.safetensors
fi

echo "== class 4: NaN passed off as a result =="
if [[ -d $FASHION ]]; then
  # (at --lr 30-300 the run may instead collapse to dead ReLUs with a finite loss of about 14: exit 0, with vanishing-gradient warnings)
  check "fashion --lr 10000 --optimizer momentum" 4 "diverged" 300 -- "$B" train --backend cpu --epochs 3 --lr 10000 --optimizer momentum --checkpoint nan.safetensors --no-progress
  [[ -e nan.safetensors ]] && echo "    !! a diverged run wrote a checkpoint" && failed=$((failed + 1))
fi
check "csv --lr 1e20 --optimizer sgd" 4 "diverged" 60 -- "$B" train --backend cpu --csv blobs.csv --lr 1e20 --optimizer sgd --checkpoint nan2.safetensors

echo "== class 5: locked, checked before training, signals =="
if [[ -d $FASHION ]]; then
  "$B" train --backend cpu --epochs 40 --checkpoint run.safetensors --no-progress >first.out 2>first.err &
  pid=$!
  for _ in $(seq 1 60); do grep -q '^epoch   1/' first.out 2>/dev/null && break; sleep 1; done
  check "second train on a checkpoint in use" 2 "is in use by another training run" 60 -- "$B" train --backend cpu --epochs 1 --checkpoint run.safetensors
  comm=$(ps -o comm= -p $pid)
  kill -TERM $pid
  for _ in $(seq 1 20); do kill -0 $pid 2>/dev/null || break; sleep 0.5; done
  tried=$((tried + 1))
  if kill -0 $pid 2>/dev/null; then
    echo "kill -TERM ./backprop4j (pid $pid, $comm): STILL RUNNING"; hangs=$((hangs + 1)); failed=$((failed + 1)); kill -KILL $pid
  else
    wait $pid; code=$?
    printf '%-58s %-4s        %s\n' "kill -TERM ./backprop4j (pid was '$comm')" "$code" "$( [[ $code == 143 ]] && echo ok || echo "exit $code")"
    sed 's/^/    > /' first.err
  fi
  check "eval of the checkpoint left by the TERM" 0 "" 120 -- "$B" eval --backend cpu --checkpoint run.safetensors
  ls -A | grep -q '\.tmp$' && echo "    (a hidden temp file of the interrupted save is left; the next save removes it)"
fi
check "checkpoint in /proc" 2 "--checkpoint" 30 -- "$B" train --backend cpu --csv blobs.csv --checkpoint /proc/x.safetensors
check "checkpoint under a regular file" 2 "--checkpoint" 30 -- "$B" train --backend cpu --csv blobs.csv --checkpoint blobs.csv/x.safetensors
check "--report /dev/null" 2 "--report" 30 -- "$B" train --backend cpu --csv blobs.csv --report /dev/null --checkpoint c5.safetensors
check "--charts under a regular file" 2 "--charts" 30 -- "$B" train --backend cpu --csv blobs.csv --charts blobs.csv/ch --checkpoint c5.safetensors
if mkdir -p tiny-fs && mount -t tmpfs -o size=1m tmpfs tiny-fs 2>/dev/null; then
  check "checkpoint on a 1 MB file system (full disk)" 2 "free" 60 -- "$B" train --backend cpu --csv blobs.csv --layers 512 --checkpoint tiny-fs/c.safetensors
  dd if=/dev/zero of=tiny-fs/fill bs=1k count=2000 2>/dev/null
  check "report on a full file system" 2 "tiny-fs/r.json" 60 -- "$B" eval --backend cpu --checkpoint small.safetensors --report tiny-fs/r.json
  umount tiny-fs
else
  echo "(no tmpfs mount here: the full-disk cases are covered by ReliabilityTest's injected ENOSPC only)"
fi

echo "== predict and the training options =="
check "predict: blobs.csv with its label column" 0 "" 60 -- "$B" predict --checkpoint small.safetensors --csv blobs.csv --output p1.csv
[[ $(wc -l < p1.csv) == 601 ]] || { echo "    !! predict wrote $(wc -l < p1.csv) lines, expected 601"; failed=$((failed + 1)); }
check "predict: --csv /dev/zero" 2 "/dev/zero" 60 -- "$B" predict --checkpoint small.safetensors --csv /dev/zero --output p2.csv
check "predict: a 3 GB sparse CSV" 2 "sparse3g.csv" 60 -- "$B" predict --checkpoint small.safetensors --csv sparse3g.csv --output p3.csv
check "predict: --output /dev/null" 2 "--output" 30 -- "$B" predict --checkpoint small.safetensors --csv blobs.csv --output /dev/null
check "predict: --output in /proc" 2 "--output" 30 -- "$B" predict --checkpoint small.safetensors --csv blobs.csv --output /proc/p.csv
check "predict: --output over its own checkpoint" 2 "checkpoint" 30 -- "$B" predict --checkpoint small.safetensors --csv blobs.csv --output small.safetensors
python3 -c "
import random
random.seed(3)
print('x1,x2,y')
for i in range(500):
    a, b = random.uniform(-2, 2), random.uniform(-2, 2)
    print(f'{a:.4f},{b:.4f},{3*a - 2*b + 0.5*a*b + random.gauss(0, 0.1):.4f}')" > reg.csv
check "regress with validation, early stopping, cosine, dropout, clip" 0 "" 120 -- "$B" train --backend cpu --csv reg.csv --task regress --validation-fraction 0.2 --early-stopping 2 --lr-schedule cosine --warmup 20 --dropout 0.1 --clip-norm 1 --epochs 20 --no-progress --checkpoint reg.safetensors
check "regress --lr 1e20 --optimizer sgd" 4 "diverged" 60 -- "$B" train --backend cpu --csv reg.csv --task regress --lr 1e20 --optimizer sgd --checkpoint reg2.safetensors
check "--dropout 1" 2 "--dropout" 30 -- "$B" train --backend cpu --csv blobs.csv --dropout 1 --checkpoint d.safetensors
check "--clip-norm -1" 2 "--clip-norm" 30 -- "$B" train --backend cpu --csv blobs.csv --clip-norm -1 --checkpoint d.safetensors
check "--lr-schedule step:0" 2 "--lr-schedule" 30 -- "$B" train --backend cpu --csv blobs.csv --lr-schedule step:0 --checkpoint d.safetensors
if [[ -d $FASHION ]]; then
  check "predict: Fashion-MNIST t10k (IDX)" 0 "" 120 -- "$B" predict --checkpoint b1.safetensors --data $FASHION --output fashion.csv
  [[ $(wc -l < fashion.csv) == 10001 ]] || { echo "    !! predict wrote $(wc -l < fashion.csv) lines, expected 10001"; failed=$((failed + 1)); }
fi

echo "== class 8: messages on a terminal =="
if command -v script >/dev/null; then
  tried=$((tried + 1))
  script -qec "$B train --bogus" /dev/null >tty.txt 2>&1
  lines=$(tr -d '\r' < tty.txt | grep -c .)
  printf '%-58s %-4s        %s\n' "terminal: train --bogus" "" "$( [[ $lines == 1 ]] && echo ok || echo "$lines lines")"
  tr -d '\r' < tty.txt | sed 's/^/    > /' | head -3
  [[ $lines == 1 ]] || failed=$((failed + 1))
  tried=$((tried + 1))
  script -qec "$B train --backend cpu --csv $WORK/blobs.csv --epochs 2 --checkpoint $WORK/tty.safetensors" /dev/null >tty2.txt 2>&1
  if grep -q 'WARNING: Using incubator' tty2.txt; then v="incubator warning shown"; failed=$((failed + 1)); else v=ok; fi
  printf '%-58s %-4s        %s\n' "terminal: train (progress bar, no incubator warning)" "" "$v"
fi
check "picocli: missing value" 2 "--epochs" 30 -- "$B" train --epochs
check "picocli: not a number" 2 "--batch" 30 -- "$B" train --batch lots
check "picocli: unknown subcommand" 2 "trian" 30 -- "$B" trian

echo "== class 10: bench budget =="
check "bench 12000 GEMM under a 1 s budget" 1 "-" 60 -- "$B" bench --backends cpu --gemm-sizes 12000 --configs none --precisions fp32 --max-seconds-per-cell 1 --out bench-out
grep -o 'estimated [^|]*' bench-out/bench.md | head -1 | sed 's/^/    /'

echo
echo "hostile inputs (launcher): $tried tried, $crashes JVM crashes, $nans silent NaNs, $traces stack traces, $hangs hangs, $failed failed"
(( failed == 0 ))
