package io.github.spo4j.kernels.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.github.spo4j.kernels.Backend;
import io.github.spo4j.kernels.engine.KernelCall.Arg;
import io.github.spo4j.kernels.nativebind.Spo4jNative;
import io.github.spo4j.testutil.GpuRequirements;
import org.bytedeco.javacpp.FloatPointer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The CUDA staging of host arrays: inputs reach the device, outputs come back into their arrays after a
 * successful call and not after a failed one, and an in-place host copy gets the result. The "kernel" is a
 * device-to-device copy. Skipped without a CUDA device.
 */
@Tag("gpu")
class KernelCallCudaTest {
    private static final int DEVICE_TO_DEVICE = 2;

    @BeforeEach
    void requireCuda() {
        GpuRequirements.assumeCuda();
    }

    @Test
    void hostArraysRoundTripThroughTheDevice() {
        float[] in = {1f, 2f, 3f};
        float[] out = new float[3];
        int[] ids = {7, 8};
        int[] idsOut = new int[2];
        try (KernelCall c = new KernelCall(Backend.CUDA)) {
            Arg a = c.in("in", c.host(in), 3);
            Arg b = c.out("out", c.hostOut(out), 3);
            Arg i = c.in("ids", c.host(ids), 2);
            Arg o = c.out("idsOut", c.hostOut(idsOut), 2);
            c.run(() -> {
                int status = Spo4jNative.spo4j_cuda_memcpy(b.pointer(), a.pointer(), 12, DEVICE_TO_DEVICE);
                return status != Spo4jNative.SPO4J_OK
                        ? status
                        : Spo4jNative.spo4j_cuda_memcpy(o.pointer(), i.pointer(), 8, DEVICE_TO_DEVICE);
            });
        }
        assertArrayEquals(in, out);
        assertArrayEquals(ids, idsOut);
    }

    @Test
    void aFailedCallLeavesTheArraysAlone() {
        float[] in = {1f, 2f};
        float[] out = {-1f, -1f};
        try (KernelCall c = new KernelCall(Backend.CUDA)) {
            Arg a = c.in("in", c.host(in), 2);
            Arg b = c.out("out", c.hostOut(out), 2);
            assertThrows(
                    IllegalArgumentException.class,
                    () -> c.run(() -> {
                        Spo4jNative.spo4j_cuda_memcpy(b.pointer(), a.pointer(), 8, DEVICE_TO_DEVICE);
                        return Spo4jNative.SPO4J_ERR_INVALID_ARGUMENT;
                    }));
        }
        assertArrayEquals(new float[] {-1f, -1f}, out);
    }

    @Test
    void anInPlaceHostCopyGetsTheResult() {
        float[] source = {4f, 5f};
        float[] inPlace = {0f, 0f};
        try (KernelCall c = new KernelCall(Backend.CUDA)) {
            Arg a = c.in("source", c.host(source), 2);
            FloatPointer shared = c.host(inPlace);
            Arg read = c.in("logits", shared, 2);
            Arg written = c.out("gradLogits", c.inPlace(shared), 2);
            c.run(() -> {
                int status = Spo4jNative.spo4j_cuda_memcpy(written.pointer(), read.pointer(), 8, DEVICE_TO_DEVICE);
                return status != Spo4jNative.SPO4J_OK
                        ? status
                        : Spo4jNative.spo4j_cuda_memcpy(written.pointer(), a.pointer(), 8, DEVICE_TO_DEVICE);
            });
        }
        assertArrayEquals(source, inPlace);
    }
}
