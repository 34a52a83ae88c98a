package io.github.spo4j.testutil;

import io.github.spo4j.kernels.Backend;
import io.github.spo4j.model.Device;
import org.junit.jupiter.api.Assumptions;

/** GPU gating in one place: tests tagged {@code gpu} call this first and are skipped without a device. */
public final class GpuRequirements {
    private GpuRequirements() {}

    public static void assumeCuda() {
        Assumptions.assumeTrue(Backend.CUDA.isAvailable(), "needs a CUDA device and a CUDA build of libspo4j");
    }

    /** The policy on CUDA: also libtorch's CUDA build (the -Pgpu profile). */
    public static void assumeTorchCuda() {
        assumeCuda();
        Assumptions.assumeTrue(Device.cudaDeviceCount() > 0, "needs libtorch's CUDA build (mvn -Pgpu)");
    }
}
