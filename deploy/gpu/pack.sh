#!/usr/bin/env bash
# Packs the GPU check for a GPU machine that has the NVIDIA driver, CUDA 13 and cuDNN 9 libraries but no .NET SDK and
# no network: self-contained linux-x64 publishes (ONNX Runtime's GPU package) of the check program, the worker and
# the load tool, plus the real ECG samples from ../shared, in one zstd archive split into parts.
#
#   deploy/gpu/pack.sh [--part-size 56M] [--level 15] [--out deploy/gpu/.pack] [--reuse-stage]
#
# --reuse-stage skips the publishes when an earlier run left them (a run that failed after publishing).
#
# Identical files of the three publishes (the .NET runtime, ONNX Runtime's 284 MB CUDA provider) are hard-linked
# before tar, so the archive holds each once. It prints the total size and the parts; deploy/gpu/README.md says how
# to carry them to the machine and run deploy/gpu/check.sh there.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
out=$root/deploy/gpu/.pack
part_size=56M
level=15
reuse=0
while [ $# -gt 0 ]; do
  case $1 in
    --part-size) part_size=$2; shift 2 ;;
    --level) level=$2; shift 2 ;;
    --out) out=$(realpath -m "$2"); shift 2 ;;
    --reuse-stage) reuse=1; shift ;;
    *) echo "pack.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
shared=$(realpath -m "$root/../shared")
[ -d "$shared/ecg-samples" ] || { echo "pack.sh: $shared/ecg-samples is missing (the real ECGs the check compares on)" >&2; exit 1; }
command -v zstd >/dev/null || { echo "pack.sh: zstd is needed (apt-get install zstd)" >&2; exit 1; }

stage=$out/stage
if [ "$reuse" = 1 ] && [ -f "$stage/gpucheck/ecg2af-gpucheck" ]; then
  echo "== reusing the publishes in $stage"
else
rm -rf "$out"
mkdir -p "$stage"
publish() {
  echo "== publish $1 -> $2"
  dotnet publish "$root/$1" -c Release -r linux-x64 --self-contained -p:OrtFlavor=Gpu -p:DebugType=none -p:ErrorOnDuplicatePublishOutputFiles=false -nologo -v quiet -o "$stage/$2"
  # TensorRT is not used (and needs libnvinfer); the CUDA provider stays.
  rm -f "$stage/$2"/libonnxruntime_providers_tensorrt.so "$stage/$2"/*.pdb
}
publish deploy/gpu/Ecg2Af.GpuCheck/Ecg2Af.GpuCheck.csproj gpucheck
publish inference-worker/Ecg2Af.Worker/Ecg2Af.Worker.csproj worker
publish loadtests/Ecg2Af.LoadTests/Ecg2Af.LoadTests.csproj load
[ -f "$stage/gpucheck/libonnxruntime_providers_cuda.so" ] || { echo "pack.sh: the publish has no CUDA provider library" >&2; exit 1; }
cp -r "$shared/ecg-samples" "$stage/ecg-samples"
cp "$root/deploy/gpu/check.sh" "$stage/check.sh"
git -C "$root" rev-parse --short HEAD > "$stage/COMMIT" 2>/dev/null || echo unknown > "$stage/COMMIT"
fi

# Hard-link identical files (tar then stores each content once).
python3 - "$stage" <<'PY'
import hashlib, os, sys
seen = {}
for folder, _, files in os.walk(sys.argv[1]):
    for name in sorted(files):
        path = os.path.join(folder, name)
        if os.path.islink(path) or os.path.getsize(path) < 32768:
            continue
        with open(path, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        if digest in seen:
            mode = os.stat(path).st_mode
            os.remove(path)
            os.link(seen[digest], path)
            os.chmod(path, mode | os.stat(seen[digest]).st_mode)
        else:
            seen[digest] = path
PY
unpacked=$(du -sb --count-links "$stage" | cut -f1)
unique=$(du -sb "$stage" | cut -f1)

archive=$out/ecg2af-gpucheck.tar.zst
echo "== compress (zstd -$level --long=31)"
tar -C "$stage" -cf - . | zstd -q -T0 -"$level" --long=31 -o "$archive"
( cd "$out" && split -b "$part_size" -d -a 2 ecg2af-gpucheck.tar.zst ecg2af-gpucheck.tar.zst.part- )
cp "$(command -v zstd)" "$out/zstd"
cp "$root/deploy/gpu/check.sh" "$out/check.sh"
( cd "$out" && sha256sum ecg2af-gpucheck.tar.zst ecg2af-gpucheck.tar.zst.part-* > SHA256SUMS )
total=$(stat -c %s "$archive")
# The parts are what travels; check.sh joins them and checks the whole against SHA256SUMS.
rm -rf "$stage" "$archive"

mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }
echo "== packed: $(mib "$unpacked") of files ($(mib "$unique") unique) -> archive $(mib "$total") (zstd -$level --long=31)"
for p in "$out"/ecg2af-gpucheck.tar.zst.part-*; do echo "   $(basename "$p")  $(mib "$(stat -c %s "$p")")"; done
echo "   zstd (decompressor for machines without one)  $(mib "$(stat -c %s "$out/zstd")")"
echo "== parts of $part_size in $out; carry them with check.sh receive (deploy/gpu/README.md)"
