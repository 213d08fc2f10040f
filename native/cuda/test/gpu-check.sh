#!/usr/bin/env bash
# One-shot check of the CUDA kernels on a real GPU (a lent device machine: `run` tool, ~10 minutes).
# Everything it finds goes to $OUT (default build/gpu-check): one log per step and summary.txt.
#   native/cuda/test/gpu-check.sh            all steps
#   GPU_CHECK_DRY=1 native/cuda/test/gpu-check.sh
#                                            dry run on a machine without a GPU: builds the nvcc test binary,
#                                            asks the existing addon for its status (code 35 without a driver:
#                                            that step then fails, as it should) and reports the device steps
#                                            as skipped
# Steps (each timed, each with its own time limit, a failure does not stop the next):
#   1. nvidia-smi; the real addon built for this GPU's architecture only (sm_90 on an H200), no emu
#   2. the addon's cuda.status() (device name, compute capability)
#   3. the cuda half of the op specs on the real build (MASKBOX_CUDA=real, MASKBOX_REQUIRE_BACKENDS=cuda)
#   4. the standalone kernel test (emu_test.cc) built by nvcc: every kernel against the cpu kernels
#   5. compute-sanitizer memcheck, racecheck, synccheck on that binary (--quick sizes), and racecheck /
#      memcheck on two deliberate bugs, which must be reported
#   6. benchmarks/cuda.bench.ts: cuda against cpu on the issue's sizes (table in $OUT/bench-cuda.log)
# Needs: nvcc, cmake, node + node_modules (npm ci done), a CUDA driver; compute-sanitizer from the toolkit.
set -uo pipefail
cd "$(dirname "$0")/../../.."
OUT=${OUT:-build/gpu-check}
mkdir -p "$OUT"
DRY=${GPU_CHECK_DRY:-0}
if ! command -v nvcc >/dev/null 2>&1 && [ -x /usr/local/cuda/bin/nvcc ]; then export PATH="/usr/local/cuda/bin:$PATH"; fi
SUMMARY="$OUT/summary.txt"
: >"$SUMMARY"
JOBS=$(nproc)
ARCH=${GPU_CHECK_ARCH:-}
status=0

# step NAME LIMIT_S COMMAND...: runs COMMAND with a timeout, output to $OUT/NAME.log, one summary line.
step() {
  local name=$1 limit=$2
  shift 2
  local t0 rc
  t0=$(date +%s)
  timeout --kill-after=10 "$limit" "$@" >"$OUT/$name.log" 2>&1
  rc=$?
  local line
  line="$name: rc $rc, $(($(date +%s) - t0)) s"
  [ $rc -eq 124 ] && line="$line (TIMED OUT at $limit s)"
  echo "$line" | tee -a "$SUMMARY"
  [ $rc -ne 0 ] && status=1
  return $rc
}
skip() { echo "$1: skipped ($2)" | tee -a "$SUMMARY"; }

has_gpu=0
if [ "$DRY" != 1 ] && command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then has_gpu=1; fi
if [ $has_gpu = 1 ]; then
  step nvidia-smi 30 nvidia-smi
  if [ -z "$ARCH" ]; then
    cc=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -1 | tr -d '. ')
    ARCH=${cc:-90}
  fi
else
  skip nvidia-smi "no GPU (dry run: GPU_CHECK_DRY=$DRY)"
fi
ARCH=${ARCH:-90}

# 1. The real addon for this architecture only (the shipped build has 75/80/90; one is enough here).
if [ $has_gpu = 1 ] || [ "${GPU_CHECK_BUILD:-0}" = 1 ]; then
  step build-addon 300 npx cmake-js build --directory . --out build --parallel "$JOBS" \
    --CDMASKBOX_CUDA=ON --CDMASKBOX_CUDA_EMU=OFF "--CDCMAKE_CUDA_ARCHITECTURES=${ARCH}-real"
else
  skip build-addon "dry run: the existing build/Release/maskbox.node is used (GPU_CHECK_BUILD=1 builds it)"
fi

# 2. What the addon says about the device (code 35 without a driver).
step cuda-status 30 node -e '
  const a = require("./build/Release/maskbox.node");
  if (!a.cuda) { console.log("built without CUDA"); process.exit(1); }
  const s = a.cuda.status();
  console.log(JSON.stringify({ ...s, ops: a.cuda.ops }));
  process.exit(s.code === 0 && s.count > 0 ? 0 : 3);'

# 4 (built before the tests so a build failure shows early). nvcc compiles the kernels and the test (as
# CUDA: MB_EMULATED is 0 there), g++ the cpu kernels it compares with; nvcc links with cudart.
build_gpu_test() {
  local obj=build/gpu-test/obj
  rm -rf "$obj" && mkdir -p "$obj" || return 1
  local nv=(nvcc -std=c++20 -O2 --fmad=false -Xcompiler=-ffp-contract=off -lineinfo "-arch=sm_${ARCH}" -Inative -DMASKBOX_CORE_ONLY -DMASKBOX_SANITIZE)
  local pids=() s
  for s in native/cuda/*.cu native/cuda/test/emu_test.cc; do
    "${nv[@]}" -x cu -c "$s" -o "$obj/$(basename "$s").o" &
    pids+=($!)
  done
  for s in nms yoloNms rleEncode rleDecode rleOverlap cocoRle dice logitsToRle resize dbscan dbscanTies dbscanRaster dbscanRows filter3x3 baseline; do
    g++ -std=c++20 -O2 -ffp-contract=off -Inative -DMASKBOX_CORE_ONLY -DMASKBOX_SANITIZE -pthread -c "native/cpu/$s.cc" -o "$obj/cpu_$s.o" &
    pids+=($!)
  done
  g++ -std=c++20 -O2 -Inative -pthread -c native/pool.cc -o "$obj/pool.o" &
  pids+=($!)
  local ok=0
  for p in "${pids[@]}"; do wait "$p" || ok=1; done
  [ $ok = 0 ] && "${nv[@]}" "$obj"/*.o -o build/gpu-test/gpu_test -Xcompiler=-pthread
}
step build-gpu-test 300 bash -c "$(declare -f build_gpu_test); ARCH=$ARCH build_gpu_test"

if [ $has_gpu = 1 ]; then
  # 3. The op specs, cuda only (-t matches the "[cuda]" describe names), on the real build.
  step vitest-cuda 240 env MASKBOX_CUDA=real MASKBOX_REQUIRE_BACKENDS=cuda npx vitest run test/cuda.test.ts test/nms.test.ts \
    test/yoloNms.native.test.ts test/rle.test.ts test/dice.test.ts test/logitsToRle.test.ts test/letterbox.test.ts test/resize.test.ts \
    test/dbscan.test.ts test/baseline.test.ts -t cuda
  step gpu-test 120 build/gpu-test/gpu_test
  # 5. compute-sanitizer on the quick sizes; each tool must report 0 errors.
  for tool in memcheck racecheck synccheck; do
    step "sanitizer-$tool" 150 compute-sanitizer --tool "$tool" --error-exitcode 9 build/gpu-test/gpu_test --quick
  done
  # The deliberate bugs must be reported (exit 9), so a clean run here is the failure.
  for bug in missing-syncthreads:racecheck out-of-bounds-write:memcheck; do
    name=${bug%%:*} tool=${bug##*:}
    timeout 60 compute-sanitizer --tool "$tool" --error-exitcode 9 build/gpu-test/gpu_test --bug "$name" >"$OUT/bug-$name.log" 2>&1
    rc=$?
    if [ $rc -eq 9 ]; then echo "bug-$name: caught by $tool" | tee -a "$SUMMARY"; else echo "bug-$name: NOT caught by $tool (rc $rc)" | tee -a "$SUMMARY"; status=1; fi
  done
  # 6. Benchmarks: cuda and cpu in the same run (benchmarks/cuda.bench.ts), the table in bench-cuda.log.
  step bench-cuda 180 env MASKBOX_CUDA=real npx tsx benchmarks/cuda.bench.ts
else
  for s in vitest-cuda gpu-test sanitizer-memcheck sanitizer-racecheck sanitizer-synccheck bug-missing-syncthreads bug-out-of-bounds-write \
    bench-cuda; do
    skip "$s" "needs a GPU"
  done
fi
echo "gpu-check: $( [ $status = 0 ] && echo all steps passed || echo SOME STEPS FAILED ) (summary: $SUMMARY)"
exit $status
