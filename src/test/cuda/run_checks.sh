#!/usr/bin/env bash
# Runs the native CUDA checks (one per op, built by cmake/CMakeLists.txt as spo4j_check_<op>) in sequence.
#
#   src/test/cuda/run_checks.sh [-b BUILD_DIR] [--cpu-only] [--no-timing] [OUT_DIR]
#
# BUILD_DIR holds the executables (default: target/cmake-build, where `mvn package` builds them). With
# OUT_DIR, each check's output goes to OUT_DIR/<op>.log and its timing rows are appended to OUT_DIR/<op>.csv.
# --cpu-only and --no-timing are passed to every check (see check_common.h).
# Exit status: 0 every check passed; 1 one failed (a mismatch, a setup failure, a crash); 77 none failed but
# at least one was skipped (no usable CUDA device).
set -u -o pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
build="$root/target/cmake-build"
out=""
flags=()
while [ $# -gt 0 ]; do
    case "$1" in
        -b) build="$2"; shift 2 ;;
        --cpu-only|--no-timing) flags+=("$1"); shift ;;
        -h|--help) sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "run_checks.sh: unknown option $1" >&2; exit 2 ;;
        *) out="$1"; shift ;;
    esac
done
[ -n "$out" ] && mkdir -p "$out"

ops=(policy_loss tree_backup kv_cache prefix_attention sampler)
failed=0
skipped=0
summary=""
for op in "${ops[@]}"; do
    exe="$build/spo4j_check_$op"
    if [ ! -x "$exe" ]; then
        echo "run_checks.sh: $exe not found (configure with nvcc present and SPO4J_BUILD_CUDA_CHECKS=ON)" >&2
        failed=1
        summary+=$(printf '\n  %-18s missing' "$op")
        continue
    fi
    args=("${flags[@]+"${flags[@]}"}")
    [ -n "$out" ] && args+=("$out/$op.csv")
    start=$(date +%s)
    if [ -n "$out" ]; then
        "$exe" "${args[@]+"${args[@]}"}" 2>&1 | tee "$out/$op.log"
        rc=${PIPESTATUS[0]}
    else
        "$exe" "${args[@]+"${args[@]}"}"
        rc=$?
    fi
    seconds=$(( $(date +%s) - start ))
    case $rc in
        0) result="passed" ;;
        77) result="skipped (no usable CUDA device)"; skipped=1 ;;
        1) result="FAILED (mismatches)"; failed=1 ;;
        2) result="FAILED (setup)"; failed=1 ;;
        *) result="FAILED (exit $rc)"; failed=1 ;;
    esac
    summary+=$(printf '\n  %-18s %-34s %5ds' "$op" "$result" "$seconds")
done
echo
echo "native CUDA checks:$summary"
if [ $failed -ne 0 ]; then exit 1; fi
if [ $skipped -ne 0 ]; then exit 77; fi
exit 0
