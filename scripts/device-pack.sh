#!/usr/bin/env bash
# Packs .device/ for the GPU machine (../shared/device/pack), then makes it fit the device tool's 64 MiB
# carry, repo included: ONNX Runtime's jar (a test dependency, 75 MB) bundles native libraries for every
# platform plus debug symbols, and jcuda-natives holds JNI libraries for CUDA runtime, NVRTC and the PTX
# compiler besides the driver API, the only one the cuda backend loads; JOCLBlast (ClBlastSgemmBenchmark's
# CLBlast) bundles apple and windows libraries too. The GPU machine is linux-x64, so the packed copies keep
# just what runs there.
#   scripts/device-pack.sh [--no-build] [--fashion N] [--slim] [--fashion-all]
#     --fashion N    N training images + the t10k set as IDX .gz in .device/data/fashion, beside the tests
#     --slim         leaves out what only the test and JMH calls use (test classes, the JUnit console, ONNX
#                    Runtime, JMH and its dependencies), which makes room for --fashion-all
#     --fashion-all  all 60,000 training images + the t10k set as IDX .xz in .device/data/fashion-xz
#                    (26.5 MiB); on the GPU machine, scripts/fashion-mnist-subset.py --unpack makes them
#                    plain IDX files for train --data
set -euo pipefail
root=$(git rev-parse --show-toplevel)
cd "$root"
fashion=""
fashion_all=false
slim_pack=false
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --fashion) fashion=$2; shift 2 ;;
    --fashion-all) fashion_all=true; shift ;;
    --slim) slim_pack=true; shift ;;
    *) args+=("$1"); shift ;;
  esac
done
# The shared pack's runtime lacks java.desktop, which the charts (XChart: java.awt, javax.imageio) need.
export JRE_MODULES=java.base,java.logging,java.management,jdk.management,jdk.unsupported,jdk.incubator.vector,java.xml,\
jdk.zipfs,java.scripting,java.naming,java.net.http,jdk.crypto.ec,java.desktop
../shared/device/pack "${args[@]}"

# keep only the entries of jar $1 for which the Python expression $2 (over the entry name n) holds
slim() {
  python3 - "$1" "$2" <<'PY'
import os, sys, zipfile
src, rule = sys.argv[1], sys.argv[2]
keep = eval("lambda n: " + rule)
with zipfile.ZipFile(src) as zin, zipfile.ZipFile(src + ".tmp", "w", zipfile.ZIP_DEFLATED) as zout:
    for item in zin.infolist():
        if keep(item.filename):
            zout.writestr(item, zin.read(item.filename))
os.replace(src + ".tmp", src)
PY
}
for jar in .device/lib/onnxruntime-*.jar; do
  [ -e "$jar" ] && slim "$jar" 'not n.startswith("ai/onnxruntime/native/") or n.startswith("ai/onnxruntime/native/linux-x64/")'
done
for jar in .device/lib/jocl-blast-*.jar; do
  [ -e "$jar" ] && slim "$jar" 'not n.startswith("lib/") or "linux" in n'
done
for jar in .device/lib/jcuda-natives-*.jar; do
  [ -e "$jar" ] && slim "$jar" 'not n.startswith("lib/") or n.startswith("lib/libJCudaDriver-")'
done
if $slim_pack; then
  rm -rf .device/test-classes .device/junit-console.jar .device/lib/onnxruntime-*.jar .device/lib/jmh-core-*.jar \
      .device/lib/commons-math3-*.jar .device/lib/jopt-simple-*.jar .device/lib/jocl-blast-*.jar
fi
if [ -n "$fashion" ]; then
  python3 scripts/fashion-mnist-subset.py "$fashion" .device/data/fashion
fi
if $fashion_all; then
  python3 scripts/fashion-mnist-subset.py --xz all .device/data/fashion-xz
fi
# The carry holds .device and the working tree (tracked files and untracked ones git does not ignore).
device=$(du -sb .device | cut -f1)
tree=$(git ls-files -z --cached --others --exclude-standard | du -cb --files0-from=- 2>/dev/null | tail -1 | cut -f1)
total=$(( (device + tree) / 1048576 ))
echo "device-pack: .device holds $(( device / 1048576 )) MiB, with the working tree ${total} MiB of the 64 MiB carry"
[ "$total" -lt 63 ] || { echo "device-pack: over the carry: see what is large with du -sh .device/lib/* | sort -h;" \
  "--slim leaves out the tests" >&2; exit 1; }
