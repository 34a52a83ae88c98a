package io.github.spo4j.train;

import io.github.spo4j.kernels.NativeCpu;
import org.bytedeco.openblas.presets.openblas_nolapack;
import org.bytedeco.pytorch.global.torch;

/**
 * Thread counts per phase (BUILD_NOTES: libtorch's and OpenBLAS's pools oversubscribe small machines). Sampling is
 * many small matrix products and our kernels: torch and spo4j on all cores, BLAS on one. Training is a few large
 * products: BLAS on all cores, torch on one.
 */
final class Threads {
    private Threads() {}

    static int cores() {
        return Math.max(1, Runtime.getRuntime().availableProcessors());
    }

    static void sampling() {
        torch.set_num_threads(cores());
        NativeCpu.setThreads(cores());
        openblas_nolapack.blas_set_num_threads(1);
    }

    static void training() {
        torch.set_num_threads(1);
        openblas_nolapack.blas_set_num_threads(cores());
    }
}
