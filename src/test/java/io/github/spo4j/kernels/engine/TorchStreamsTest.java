package io.github.spo4j.kernels.engine;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.spo4j.kernels.Backend;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/** The kernels' stream: none on the host; where libtorch has no CUDA, the probe fails quietly (no crash). */
class TorchStreamsTest {
    @Test
    void hostCallsHaveNoStream() {
        try (KernelCall c = new KernelCall(Backend.CPU)) {
            assertNull(c.stream());
        }
        try (KernelCall c = new KernelCall(Backend.REFERENCE)) {
            assertNull(c.stream());
        }
    }

    @Test
    void withoutLibtorchCudaTheLegacyDefaultStreamIsUsed() {
        assumeTrue(!torch.cuda_is_available(), "this machine's libtorch sees a GPU");
        assertFalse(TorchStreams.followsTorch());
        assertNull(TorchStreams.current());
    }
}
