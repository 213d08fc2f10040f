#!/usr/bin/env bash
# Builds and runs the standalone CUDA-emulation test (emu_test.cc) in its flavours, and times each step.
#   native/cuda/test/run.sh [fibers] [asan] [tsan]     (default: all three)
#   fibers  g++ -O2, fiber schedules forward / reverse / random:1 / random:2, full sizes
#   asan    fibers under AddressSanitizer + UBSan (-O1), forward + reverse schedules, small sizes
#   tsan    one OS thread per CUDA thread under ThreadSanitizer, tiny sizes (<= 65 boxes, 40 rows, 1k pixels)
# Each flavour also runs the deliberate bugs in child processes and fails unless all are caught.
# Sources compile one object each, in parallel (MBEMU_BUILD_JOBS, default nproc): the build was the
# slowest part of a flavour. Output binaries go to build/emu-test/. Exit status: non-zero if any flavour fails.
set -euo pipefail
cd "$(dirname "$0")/../../.."
out=build/emu-test
mkdir -p "$out"
flavours=("$@")
[ ${#flavours[@]} -eq 0 ] && flavours=(fibers asan tsan)
CXX=${CXX:-g++}
jobs=${MBEMU_BUILD_JOBS:-$(nproc)}
cu_srcs=(native/cuda/*.cu)
cc_srcs=(native/cuda/test/emu_test.cc native/cpu/nms.cc native/cpu/yoloNms.cc native/cpu/rleEncode.cc native/cpu/rleDecode.cc
  native/cpu/rleOverlap.cc native/cpu/cocoRle.cc native/cpu/dice.cc native/cpu/logitsToRle.cc native/cpu/resize.cc
  native/cpu/dbscan.cc native/cpu/dbscanTies.cc native/cpu/dbscanRaster.cc native/cpu/dbscanRows.cc native/cpu/filter3x3.cc
  native/cpu/baseline.cc native/pool.cc)
common=(-std=c++20 -g -ffp-contract=off -Wall -Wextra -Inative -DMASKBOX_CORE_ONLY -pthread)
status=0
for f in "${flavours[@]}"; do
  case "$f" in
    fibers) flags=(-O2) args=() env=() ;;
    # MASKBOX_SANITIZE: the cpu sources then skip target_clones (an ifunc resolver runs before TSan is up).
    asan) flags=(-O1 -DMASKBOX_SANITIZE -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined) args=(--quick)
      env=(ASAN_OPTIONS=detect_leaks=0:detect_stack_use_after_return=0 UBSAN_OPTIONS=print_stacktrace=1) ;;
    tsan) flags=(-O1 -DMASKBOX_SANITIZE -fsanitize=thread -DMBEMU_OS_THREADS) args=(--quick) env=(TSAN_OPTIONS=halt_on_error=1:exitcode=66) ;;
    *) echo "run.sh: unknown flavour $f (fibers, asan, tsan)" >&2; exit 2 ;;
  esac
  t0=$(date +%s)
  obj="$out/obj_$f"
  rm -rf "$obj"
  mkdir -p "$obj"
  compile() { $CXX "${common[@]}" "${flags[@]}" -x "$1" "$2" -c -o "$obj/$(basename "$2").o"; }
  running=0 failed=0
  for item in "${cu_srcs[@]/#/c++:}" "${cc_srcs[@]/#/none:}"; do
    compile "${item%%:*}" "${item#*:}" &
    running=$((running + 1))
    if [ $running -ge "$jobs" ]; then wait -n || failed=1; running=$((running - 1)); fi
  done
  while [ $running -gt 0 ]; do wait -n || failed=1; running=$((running - 1)); done
  if [ $failed = 1 ]; then
    echo "emu-test $f: build FAILED"
    status=1
    continue
  fi
  $CXX "${common[@]}" "${flags[@]}" "$obj"/*.o -o "$out/emu_test_$f"
  t1=$(date +%s)
  if env "${env[@]}" "$out/emu_test_$f" "${args[@]}"; then r=ok; else r=FAILED; status=1; fi
  t2=$(date +%s)
  echo "emu-test $f: build $((t1 - t0)) s, run $((t2 - t1)) s: $r"
done
exit $status
