#!/usr/bin/env bash
# Packs what the Java stage of scripts/gpu-check.sh needs on a GPU machine that has no JDK and no Maven (docs: README
# "Running on a GPU"): a jlinked Java runtime and the few jars the CUDA kernel tests load, into target/gpu-java/.
# Run it here, after a build (mvn -B install, or test-compile), then carry target/gpu-java, target/classes and
# target/test-classes to the GPU machine; target/classes holds libspo4j as built here (with its CUDA kernels when
# nvcc was found) and the JNI glue.
#
#   scripts/gpu-java-bundle.sh
#
# The kernel tests run without libtorch: the PyTorch presets are not in the bundle (hundreds of MB), so tests that
# need them skip there. SPO4J_BUNDLE_DIR packs elsewhere (a test does). Exit status: 0 packed, 1 a build output or
# jar missing or the bundle over its size limit (SPO4J_BUNDLE_MIB, default 60: a device session carries at most
# 64 MiB).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bundle=${SPO4J_BUNDLE_DIR:-$root/target/gpu-java}
limit_mib=${SPO4J_BUNDLE_MIB:-60}
repo=${MAVEN_REPO:-$HOME/.m2/repository}

for d in "$root/target/classes" "$root/target/test-classes"; do
    [ -d "$d" ] || { echo "gpu-java-bundle: $d is missing: build first (mvn -B install)" >&2; exit 1; }
done
if ! find "$root/target/classes" -name 'libjniSpo4jNative.so' | grep -q .; then
    echo "gpu-java-bundle: target/classes has no libjniSpo4jNative.so: build first (mvn -B install)" >&2
    exit 1
fi

version() { # a version property of the project's pom
    sed -n "s:.*<$1>\(.*\)</$1>.*:\1:p" "$root/pom.xml" | head -1
}
javacpp=$(version javacpp.version)
cuda=$(version cuda.version)
junit_platform="1.$(version junit.version | cut -d. -f2-)" # JUnit 5.x.y ships platform 1.x.y
jars=(
    "org/bytedeco/javacpp/$javacpp/javacpp-$javacpp.jar"
    "org/bytedeco/cuda/$cuda/cuda-$cuda.jar"
    "org/bytedeco/cuda/$cuda/cuda-$cuda-linux-x86_64.jar"
    "org/junit/platform/junit-platform-console-standalone/$junit_platform/junit-platform-console-standalone-$junit_platform.jar"
)
console="$repo/${jars[3]}"
if [ ! -f "$console" ] && command -v mvn >/dev/null 2>&1; then
    mvn -B -q dependency:get -Dartifact="org.junit.platform:junit-platform-console-standalone:$junit_platform" >&2
fi

rm -rf "$bundle"
mkdir -p "$bundle/lib"
for j in "${jars[@]}"; do
    [ -f "$repo/$j" ] || { echo "gpu-java-bundle: $repo/$j is missing" >&2; exit 1; }
    cp "$repo/$j" "$bundle/lib/"
done
# java.base, plus what JUnit (java.logging) and JavaCPP (jdk.unsupported: Unsafe) load; no java.xml, so no XML reports.
jlink --add-modules java.base,java.logging,jdk.unsupported --strip-debug --no-header-files --no-man-pages \
    --compress=2 --output "$bundle/jre"

mib=$(du -sm "$bundle" "$root/target/classes" "$root/target/test-classes" | awk '{s += $1} END {print s}')
echo "gpu-java-bundle: $bundle ($(du -sm "$bundle" | cut -f1) MiB); with target/classes and target/test-classes" \
    "$mib MiB to carry"
if [ "$mib" -gt "$limit_mib" ]; then
    echo "gpu-java-bundle: over the ${limit_mib} MiB limit" >&2
    exit 1
fi
