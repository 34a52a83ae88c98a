package io.github.spo4j.kernels.engine;

import org.bytedeco.javacpp.Pointer;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch_cuda;

/**
 * libtorch's current CUDA stream, on which every CUDA kernel call runs, so that it is ordered with libtorch's own
 * work on the same tensors and adds no synchronisation. Where libtorch has no CUDA (the CPU build of the presets), or
 * is not on the class path at all, the kernels get the legacy default stream, which is what libtorch itself would
 * use.
 */
final class TorchStreams {
    private TorchStreams() {}

    /** Whether libtorch's CUDA half loaded: probed once, and only when a CUDA call asks. */
    private static final class Probe {
        static final boolean TORCH_CUDA = probe();

        private static boolean probe() {
            try {
                return torch_cuda.device_count() > 0;
            } catch (LinkageError e) { // the CPU natives have no jnitorch_cuda
                if (torchSeesCuda()) {
                    // libtorch runs CUDA work on its own streams: kernels on the legacy one could race with it.
                    throw new IllegalStateException(
                            "libtorch sees CUDA but its CUDA stream API did not load (" + e + ")", e);
                }
                return false;
            }
        }

        /** Whether libtorch sees a GPU; false where the PyTorch presets are not on the class path at all. */
        private static boolean torchSeesCuda() {
            try {
                return torch.cuda_is_available();
            } catch (NoClassDefFoundError e) { // kernels used without libtorch (e.g. a JRE with only JavaCPP)
                return false;
            }
        }
    }

    /** The current CUDA stream of libtorch on the current device, or null for the legacy default stream. */
    static Pointer current() {
        return Probe.TORCH_CUDA ? torch_cuda.getCurrentCUDAStream().stream() : null;
    }

    /** Whether {@link #current} follows libtorch (false: libtorch has no CUDA here, the default stream is used). */
    static boolean followsTorch() {
        return Probe.TORCH_CUDA;
    }
}
