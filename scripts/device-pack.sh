#!/usr/bin/env bash
# Packs .device/ for the GPU machine (../shared/device/pack), then makes it fit the device tool's 64 MiB
# carry, repo included: ONNX Runtime's jar (a test dependency, 75 MB) bundles native libraries for every
# platform plus debug symbols, and jcuda-natives holds JNI libraries for CUDA runtime, NVRTC and the PTX
# compiler besides the driver API, the only one the cuda backend loads. The GPU machine is linux-x64, so
# the packed copies keep just what runs there.
#   scripts/device-pack.sh [--no-build] [--fashion N]   (--fashion: N training images + the t10k set
#                                                      in .device/data/fashion, for train --data there)
set -euo pipefail
root=$(git rev-parse --show-toplevel)
cd "$root"
fashion=""
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --fashion) fashion=$2; shift 2 ;;
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
for jar in .device/lib/jcuda-natives-*.jar; do
  [ -e "$jar" ] && slim "$jar" 'not n.startswith("lib/") or n.startswith("lib/libJCudaDriver-")'
done
if [ -n "$fashion" ]; then
  python3 scripts/fashion-mnist-subset.py "$fashion" .device/data/fashion
fi
size=$(du -sm .device | cut -f1)
echo "device-pack: .device holds ${size} MiB (linux-x64 ONNX Runtime natives and the JCuda driver library only)"
[ "$size" -lt 56 ] || { echo "device-pack: still over 56 MiB: see what is large with du -sh .device/lib/* | sort -h" >&2; exit 1; }
