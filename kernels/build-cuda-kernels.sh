#!/usr/bin/env bash
# Compiles each src/main/cuda/*.cu into its own fatbin (SASS for those of sm_80/86/89/90 that nvcc
# supports, plus compute_80 PTX, so newer GPUs JIT it) under OUT/io/github/backprop4j/kernels/cuda/, and writes build.properties
# there. Without nvcc the build still succeeds: build.properties then says why no fatbin exists,
# and the CUDA backend's probe repeats that reason. A kernel that fails to compile fails the build.
set -euo pipefail
src=$1
out=$2/io/github/backprop4j/kernels/cuda
mkdir -p "$out"
rm -f "$out"/*.fatbin "$out"/build.properties

nvcc_bin=${NVCC:-}
if [ -z "$nvcc_bin" ]; then
  if command -v nvcc >/dev/null 2>&1; then nvcc_bin=$(command -v nvcc)
  elif [ -x /usr/local/cuda/bin/nvcc ]; then nvcc_bin=/usr/local/cuda/bin/nvcc
  fi
fi
if [ "${BACKPROP4J_SKIP_NVCC:-}" = "true" ]; then
  printf 'built=false\nreason=kernels were not built: BACKPROP4J_SKIP_NVCC=true at build time\n' > "$out/build.properties"
  echo "kernels: CUDA kernels skipped (BACKPROP4J_SKIP_NVCC=true)"
  exit 0
fi
if [ -z "$nvcc_bin" ]; then
  printf 'built=false\nreason=kernels were not built: nvcc not found at build time\n' > "$out/build.properties"
  echo "kernels: nvcc not found; the CUDA backend will report that its kernels were not built"
  exit 0
fi

version=$("$nvcc_bin" --version | sed -n 's/.*release \([0-9.]*\).*/\1/p' | head -1)
# SASS for every wanted architecture this nvcc knows (an older toolkit may lack sm_89/sm_90), plus
# compute_80 PTX so that newer GPUs JIT-compile it.
supported=$("$nvcc_bin" --list-gpu-code 2>/dev/null || echo "sm_80 sm_86 sm_89 sm_90")
arches=()
built_for=()
for sm in sm_80 sm_86 sm_89 sm_90; do
  if echo "$supported" | grep -qx "$sm" || echo "$supported" | grep -qw "$sm"; then
    arches+=(-gencode "arch=compute_${sm#sm_},code=$sm")
    built_for+=("$sm")
  fi
done
if [ ${#built_for[@]} -eq 0 ]; then
  printf 'built=false\nreason=kernels were not built: nvcc %s supports none of sm_80, sm_86, sm_89, sm_90\n' "$version" \
    > "$out/build.properties"
  echo "kernels: nvcc $version cannot target sm_80..sm_90; the CUDA backend will say so"
  exit 0
fi
arches+=(-gencode arch=compute_80,code=compute_80)
built_for+=(compute_80)
modules=()
pids=()
for cu in "$src"/*.cu; do
  name=$(basename "$cu" .cu)
  modules+=("$name")
  "$nvcc_bin" -fatbin -O3 -std=c++17 "${arches[@]}" -I "$src" -I "$src/../common" -o "$out/$name.fatbin" "$cu" &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
IFS=,
printf 'built=true\nnvcc=%s\nmodules=%s\narchitectures=%s\n' \
  "$version" "${modules[*]}" "${built_for[*]}" > "$out/build.properties"
echo "kernels: built ${modules[*]} with nvcc $version"
