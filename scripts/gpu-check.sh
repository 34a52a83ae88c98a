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
# with the CPU on both sides (a self-test on any machine with nvcc, not a test of the CUDA kernels).
#
# Then, where target/gpu-java holds the bundle of scripts/gpu-java-bundle.sh (a jlinked Java runtime and the jars the
# kernel tests load, packed on a machine with a JDK and carried here with target/classes and target/test-classes),
# the Java stage: the kernels' gpu-tagged JUnit tests (CUDA against the CPU through the Java facades, the device
# memory of the JavaCPP CUDA presets, staging on the kernel stream), without libtorch (tests that need it skip); its
# verdict row is "java_kernels" (with --cpu-only: CudaRuntimeTest alone, a self-test of the bundle), every test's
# outcome in OUT_DIR/java.log. Without the bundle the stage is left out (no row).
#
# Budget: the build and each check run under a time limit (SPO4J_BUILD_SECONDS, default 300; SPO4J_CHECK_SECONDS,
# default 150 per op; SPO4J_JAVA_SECONDS, default 240 for the Java stage) so the whole stays inside one lent device
# session. Exit status: 0 all passed, 1 a check or the build failed, 2 no nvcc, 77 none failed but one was skipped
# (no usable CUDA device).
set -u -o pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cpu_only=()
out=""
for arg in "$@"; do
    case "$arg" in
        --cpu-only) cpu_only=(--cpu-only) ;;
        -h|--help) sed -n '2,24p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
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
java_seconds=${SPO4J_JAVA_SECONDS:-240}

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

bundle="$root/target/gpu-java"
if [ -x "$bundle/jre/bin/java" ]; then
    if [ ${#cpu_only[@]} -gt 0 ]; then
        selection=(--select-class=io.github.spo4j.kernels.engine.CudaRuntimeTest)
    else
        selection=(--select-package=io.github.spo4j.kernels --include-tag=gpu)
    fi
    t0=$(date +%s)
    timeout -k 10 "$java_seconds" "$bundle/jre/bin/java" -Xss4m -Dorg.bytedeco.javacpp.cachedir="$out/javacpp-cache" \
        -cp "$root/target/classes:$root/target/test-classes:$bundle/lib/*" \
        org.junit.platform.console.ConsoleLauncher execute --disable-banner --disable-ansi-colors --details=tree \
        --fail-if-no-tests "${selection[@]}" >"$out/java.log" 2>&1
    rc=$?
    seconds=$(( $(date +%s) - t0 ))
    count() { # the launcher's summary line "[ N tests <what> ]"; 0 where it printed none
        local n
        n=$(sed -n "s/.*\[ *\([0-9]*\) tests $1 *\].*/\1/p" "$out/java.log" | head -1)
        echo "${n:-0}"
    }
    ok=$(count successful); skip=$(( $(count skipped) + $(count aborted) )); bad=$(count failed)
    tally="$ok passed; $skip skipped; $bad failed" # no commas: it goes into a CSV field
    case $rc in
        0) if [ "$ok" -eq 0 ]; then verdict="skipped ($tally)"; skipped=1; else verdict="passed ($tally)"; fi ;;
        124) verdict="failed (over ${java_seconds}s; $tally)"; failed=1 ;;
        *) verdict="failed (exit $rc; $tally)"; failed=1 ;;
    esac
    echo "java_kernels,check,all,check,$verdict,$seconds s,$machine,$today" >>"$csv"
    printf 'gpu-check: %-18s %-26s %4ds\n' "java_kernels" "$verdict" "$seconds"
else
    echo "gpu-check: no Java stage ($bundle/jre is missing: scripts/gpu-java-bundle.sh packs it)"
fi
echo "gpu-check: $(( $(wc -l <"$csv") - 1 )) rows in $csv, $(( $(date +%s) - start ))s in all"
[ $failed -ne 0 ] && exit 1
[ $skipped -ne 0 ] && exit 77
exit 0
