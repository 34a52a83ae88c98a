package io.github.spo4j.kernels.engine;

import java.util.Locale;

/**
 * One CUDA device as the runtime describes it ({@link CudaRuntime#device}).
 *
 * @param index the runtime's device index
 * @param name the product name, e.g. "NVIDIA H200"
 * @param totalMemoryBytes global memory
 * @param multiprocessors streaming multiprocessors
 * @param major compute capability, major part (9 for sm_90)
 * @param minor compute capability, minor part
 */
public record CudaDeviceInfo(int index, String name, long totalMemoryBytes, int multiprocessors, int major, int minor) {
    /** One line: name, memory in GiB, compute capability and SMs, e.g. "NVIDIA H200, 139.7 GiB, sm_90, 132 SMs". */
    @Override
    public String toString() {
        return String.format(
                Locale.ROOT,
                "%s, %.1f GiB, sm_%d%d, %d SMs",
                name,
                totalMemoryBytes / (double) (1L << 30),
                major,
                minor,
                multiprocessors);
    }
}
