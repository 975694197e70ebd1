#!/usr/bin/env bash
# The GPU check, on the GPU machine (NVIDIA driver, CUDA 13 and cuDNN 9 shared libraries, no .NET SDK, no network).
#
#   deploy/gpu/check.sh receive        keep the parts found in deploy/gpu/.pack (one device call may carry only some)
#   deploy/gpu/check.sh run [--quick]  join and verify the parts, unpack, and run the check; results go to $OUT
#   deploy/gpu/check.sh env            only show what CUDA libraries and GPU the machine has
#
# The CUDA and cuDNN libraries are taken from the Python environment's nvidia-* packages (site-packages/nvidia/*/lib)
# and the driver from /usr/local/nvidia or the system: LD_LIBRARY_PATH is set from them. deploy/gpu/README.md has it all.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
pack=${ECG2AF_GPU_PACK:-$here/.pack}
work=${ECG2AF_GPU_WORK:-/tmp/ecg2af-gpu}
out=${OUT:-$work/out}
mkdir -p "$work/parts" "$out"

log() { echo "[check $(date -u +%H:%M:%S)] $*"; }

cuda_env() {
  local dirs="" site
  for py in python3 /opt/torch/.venv/bin/python3; do
    command -v "$py" >/dev/null 2>&1 || continue
    site=$("$py" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])' 2>/dev/null) || continue
    if [ -d "$site/nvidia" ]; then
      dirs=$(find "$site/nvidia" -name 'lib*.so*' -printf '%h\n' 2>/dev/null | sort -u | tr '\n' ':')
      break
    fi
  done
  for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib /usr/local/cuda/lib64; do
    [ -d "$d" ] && dirs="$dirs$d:"
  done
  export LD_LIBRARY_PATH="${dirs}${LD_LIBRARY_PATH:-}"
  log "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
  local missing=0
  for lib in libcuda.so.1 libcudart.so.13 libcublas.so.13 libcublasLt.so.13 libcurand.so.10 libcufft.so.12 libcudnn.so.9; do
    local found=""
    IFS=: read -ra paths <<< "$LD_LIBRARY_PATH"
    for p in "${paths[@]}" /usr/lib/x86_64-linux-gnu /lib/x86_64-linux-gnu; do
      [ -n "$p" ] && [ -e "$p/$lib" ] && { found="$p/$lib"; break; }
    done
    [ -z "$found" ] && found=$(ldconfig -p 2>/dev/null | awk -v l="$lib" '$1 == l { print $NF; exit }')
    if [ -n "$found" ]; then log "  $lib: $found"; else log "  $lib: MISSING"; missing=1; fi
  done
  nvidia-smi --query-gpu=name,driver_version,memory.used,memory.total --format=csv,noheader 2>&1 | sed 's/^/[check] gpu: /' || true
  return $missing
}

receive() {
  local n=0
  for p in "$pack"/ecg2af-gpucheck.tar.zst.part-* "$pack"/SHA256SUMS "$pack"/zstd; do
    [ -f "$p" ] || continue
    cp -f "$p" "$work/parts/"
    n=$((n + 1))
  done
  log "received $n file(s); now held: $(cd "$work/parts" && ls | tr '\n' ' ')"
}

unpack() {
  receive
  cd "$work/parts"
  [ -f SHA256SUMS ] || { log "SHA256SUMS has not arrived"; exit 1; }
  local expected
  expected=$(grep -c 'part-' SHA256SUMS)
  local have
  have=$(ls ecg2af-gpucheck.tar.zst.part-* 2>/dev/null | wc -l)
  [ "$have" -eq "$expected" ] || { log "have $have of $expected parts; carry the rest with 'check.sh receive'"; exit 1; }
  grep 'part-' SHA256SUMS | sha256sum -c --quiet
  cat ecg2af-gpucheck.tar.zst.part-* > "$work/ecg2af-gpucheck.tar.zst"
  (cd "$work" && grep ' ecg2af-gpucheck.tar.zst$' "$work/parts/SHA256SUMS" | sha256sum -c --quiet)
  local z
  z=$(command -v zstd || echo "$work/parts/zstd")
  chmod +x "$z" 2>/dev/null || true
  rm -rf "$work/app" && mkdir -p "$work/app"
  "$z" -q -d --long=31 -c "$work/ecg2af-gpucheck.tar.zst" | tar -x -C "$work/app"
  rm -f "$work/ecg2af-gpucheck.tar.zst"
  log "unpacked $(du -sh "$work/app" | cut -f1) into $work/app (commit $(cat "$work/app/COMMIT"))"
}

http_get() { python3 - "$1" <<'PY'
import sys, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1], timeout=5) as r: print(r.status); sys.exit(0 if r.status == 200 else 1)
except Exception as e:
    print(e); sys.exit(1)
PY
}

run_check() {
  local quick=${1:-}
  local app=$work/app
  [ -x "$app/gpucheck/ecg2af-gpucheck" ] || unpack
  cuda_env || log "some CUDA libraries are missing: the check will say what ONNX Runtime makes of it"
  local sizes="1,2,4,8,16,32,64,128,256" seconds=3 load_seconds=20
  if [ "$quick" = "--quick" ]; then sizes="1,8,64,256"; seconds=1; load_seconds=8; fi

  log "1/3 placement, GPU against CPU on real ECGs, batch sweep"
  local rc=0
  "$app/gpucheck/ecg2af-gpucheck" --provider cuda --samples "$app/ecg-samples" --sizes "$sizes" --seconds "$seconds" \
    --out "$work/gpucheck" 2>&1 | tee "$out/gpucheck.log" || rc=$?
  cp "$work/gpucheck/report.md" "$out/report.md" 2>/dev/null || true
  cp "$work/gpucheck/result.json" "$out/result.json" 2>/dev/null || true

  log "2/3 the real worker on loopback (CUDA required), loaded by ecg2af-load (oip-binary)"
  local port=5290
  nvidia-smi --query-gpu=timestamp,utilization.gpu,memory.used --format=csv -lms 1000 > "$out/nvidia-smi.csv" 2>&1 &
  local smi=$!
  ( cd "$work" && ASPNETCORE_URLS=http://127.0.0.1:$port \
      Model__RepositoryPath="$work/gpucheck/model" Model__BuildStandInWhenMissing=false \
      Model__Runtime__ExecutionProvider=Cuda Serving__MaxBatchSize=64 Serving__InferenceLoops=2 \
      Serving__QueueCapacity__Routine=4096 Serving__QueueCapacity__Batch=4096 \
      Audit__SqlitePath="$work/audit.db" Worker__InstanceId=gpu-worker \
      exec "$app/worker/Ecg2Af.Worker" > "$out/worker.log" 2>&1 ) &
  local worker=$!
  local ready=0
  for _ in $(seq 1 120); do
    if http_get "http://127.0.0.1:$port/health/ready" >/dev/null 2>&1; then ready=1; break; fi
    kill -0 $worker 2>/dev/null || break
    sleep 1
  done
  if [ $ready -eq 1 ]; then
    python3 -c "import urllib.request;print(urllib.request.urlopen('http://127.0.0.1:$port/v2/models/ecg2af').read().decode())" > "$out/model-metadata.json" || true
    "$app/load/ecg2af-load" --target "http://127.0.0.1:$port" --scenario oip-binary --users 128 --duration "$load_seconds" \
      --samples "$app/ecg-samples" --max-requests 2000000 --out "$work/load" 2>&1 | tail -40 || true
    cp "$work/load/report.md" "$out/load-report.md" 2>/dev/null || true
    # The adaptive batch cap should stay at the maximum on a GPU (a batch costs far less per ECG than one alone).
    python3 -c "import urllib.request;print(urllib.request.urlopen('http://127.0.0.1:$port/metrics').read().decode())" \
      | grep -E '^ecg2af_inference_(batch_cap|batch_size_(sum|count))' > "$out/batch-metrics.txt" || true
  else
    log "the worker did not become ready; its log:"; tail -30 "$out/worker.log"
  fi
  kill -TERM $worker 2>/dev/null || true
  wait $worker 2>/dev/null || true
  kill $smi 2>/dev/null || true

  log "3/3 end to end against raw"
  python3 - "$work/gpucheck/result.json" "$work/load/report.json" "$out/report.md" <<'PY' || true
import json, sys
raw = json.load(open(sys.argv[1]))
try:
    load = json.load(open(sys.argv[2]))
    e2e = load["scenarios"][0]["total"]["ok_per_second"]
except Exception as e:
    e2e = None
best = raw.get("best_ecgs_per_second")
lines = ["", "## End to end (worker on loopback, ecg2af-load oip-binary, 128 users)", ""]
if e2e is None or not best:
    lines.append("No end-to-end figure (see worker.log and the load tool's output).")
else:
    ratio = e2e / best
    lines += ["| goal | measured | met |", "|---|---|---|",
              f"| worker end to end >= 0.6 x raw ({best:.0f} ECGs/s) | {e2e:.0f} ECGs/s = {ratio:.2f} x | {'yes' if ratio >= 0.6 else 'no'} |"]
open(sys.argv[3], "a").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
  log "done (gpucheck exit $rc); files in $out: $(ls "$out" | tr '\n' ' ')"
  return $rc
}

case ${1:-run} in
  receive) receive ;;
  unpack) unpack ;;
  env) cuda_env ;;
  run) shift || true; run_check "${1:-}" ;;
  *) echo "usage: check.sh receive | unpack | env | run [--quick]" >&2; exit 2 ;;
esac
