package io.github.spo4j.testutil;

import io.github.spo4j.kernels.Backend;
import org.junit.jupiter.api.Assumptions;

/** GPU gating in one place: tests tagged {@code gpu} call this first and are skipped without a device. */
public final class GpuRequirements {
    private GpuRequirements() {}

    public static void assumeCuda() {
        Assumptions.assumeTrue(Backend.CUDA.isAvailable(), "needs a CUDA device and a CUDA build of libspo4j");
    }
}
