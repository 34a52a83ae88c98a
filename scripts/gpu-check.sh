#!/usr/bin/env bash
# The prepared GPU check (README "Running on a GPU"): on a Linux machine with an NVIDIA GPU, nvcc and CMake (no JDK,
# no Maven), builds libspo4j and the native CUDA checks from the sources, runs the five ops' checks (CUDA against the
# CPU on the same inputs, bit for bit where the README promises it; CUDA-event timings at the benchmark shapes with
# the achieved bandwidth against a device-to-device copy), and writes ONE CSV.
#
#   scripts/gpu-check.sh [--cpu-only] [OUT_DIR]          (default OUT_DIR: benchmarks/results/gpu-check)
#
# OUT_DIR/gpu-check.csv holds every timing row of every op (kernel,impl,shape,metric,median,unit,machine,date) and one
# row per op with its verdict (metric "check": passed, failed or skipped, and its seconds); OUT_DIR/<op>.log holds each
# check's output and OUT_DIR/build.log the build's (the build tree is OUT_DIR/build). --cpu-only runs the harness
# with the CPU on both sides (a self-test on any machine with nvcc, not a test of the CUDA kernels). Budget: the
# build and each check run under a time limit (SPO4J_BUILD_SECONDS, default 300; SPO4J_CHECK_SECONDS, default 150
# per op) so the whole stays inside one lent device session. Exit status: 0 all passed, 1 a check or the build
# failed, 2 no nvcc, 77 none failed but one was skipped (no usable CUDA device).
set -u -o pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cpu_only=()
out=""
for arg in "$@"; do
    case "$arg" in
        --cpu-only) cpu_only=(--cpu-only) ;;
        -h|--help) sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "gpu-check.sh: unknown option $arg" >&2; exit 2 ;;
        *) out="$arg" ;;
    esac
done
out=${out:-$root/benchmarks/results/gpu-check}
mkdir -p "$out"
out=$(cd "$out" && pwd)
build="$out/build"
build_seconds=${SPO4J_BUILD_SECONDS:-300}
check_seconds=${SPO4J_CHECK_SECONDS:-150}

gpu="none"
if command -v nvidia-smi >/dev/null 2>&1; then
    gpu=$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | head -1)
fi
echo "gpu-check: GPU ${gpu:-none}; nvcc $(nvcc --version 2>/dev/null | sed -n 's/.*release \([0-9.]*\).*/\1/p'); output in $out"

if ! command -v nvcc >/dev/null 2>&1; then
    # The checks are CUDA sources: even the --cpu-only self-test is built by nvcc.
    echo "gpu-check: nvcc is not on the PATH; the checks are .cu files that nvcc builds" >&2
    exit 2
fi
start=$(date +%s)
if ! timeout -k 10 "$build_seconds" bash -c 'cmake -S "$1/cmake" -B "$2" -DCMAKE_BUILD_TYPE=Release -DSPO4J_WITH_CUDA=ON \
        && cmake --build "$2" -j "$(nproc)"' _ "$root" "$build" >"$out/build.log" 2>&1; then
    tail -20 "$out/build.log" >&2
    echo "gpu-check: the build failed or took over ${build_seconds}s (see $out/build.log)" >&2
    exit 1
fi
echo "gpu-check: built in $(( $(date +%s) - start ))s"

csv="$out/gpu-check.csv"
echo "kernel,impl,shape,metric,median,unit,machine,date" >"$csv"
machine="${gpu%%,*}"
today=$(date -u +%F)
failed=0
skipped=0
for op in policy_loss tree_backup kv_cache prefix_attention sampler; do
    exe="$build/spo4j_check_$op"
    rows="$out/$op.rows.csv"
    rm -f "$rows"
    t0=$(date +%s)
    if [ -x "$exe" ]; then
        timeout -k 10 "$check_seconds" "$exe" "${cpu_only[@]+"${cpu_only[@]}"}" "$rows" >"$out/$op.log" 2>&1
        rc=$?
    else
        echo "$exe was not built (is nvcc on the PATH?)" >"$out/$op.log"
        rc=2
    fi
    seconds=$(( $(date +%s) - t0 ))
    case $rc in
        0) verdict=passed ;;
        77) verdict=skipped; skipped=1 ;;
        124) verdict="failed (over ${check_seconds}s)"; failed=1 ;;
        *) verdict="failed (exit $rc)"; failed=1 ;;
    esac
    [ -f "$rows" ] && tail -n +2 "$rows" >>"$csv" && rm -f "$rows"
    echo "$op,check,all,check,$verdict,$seconds s,$machine,$today" >>"$csv"
    printf 'gpu-check: %-18s %-26s %4ds\n' "$op" "$verdict" "$seconds"
done
echo "gpu-check: $(( $(wc -l <"$csv") - 1 )) rows in $csv, $(( $(date +%s) - start ))s in all"
[ $failed -ne 0 ] && exit 1
[ $skipped -ne 0 ] && exit 77
exit 0
