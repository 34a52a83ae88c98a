package io.github.spo4j.kernels.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.github.spo4j.kernels.Backend;
import io.github.spo4j.kernels.engine.KernelCall.Arg;
import io.github.spo4j.kernels.nativebind.Spo4jNative;
import io.github.spo4j.testutil.GpuRequirements;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The CUDA staging of host arrays: inputs reach the device, outputs come back into their arrays after a
 * successful call and not after a failed one, and an in-place host copy gets the result. The "kernel" is a
 * device-to-device copy on the call's stream. Skipped without a CUDA device.
 */
@Tag("gpu")
class KernelCallCudaTest {
    /** The stand-in kernel: a device-to-device copy queued on the call's stream, as a C API status. */
    private static int copy(KernelCall c, Pointer dst, Pointer src, long bytes) {
        int status = cudart.cudaMemcpyAsync(
                dst, src, bytes, cudart.cudaMemcpyDeviceToDevice, CudaRuntime.stream(c.stream()));
        return status == cudart.cudaSuccess ? Spo4jNative.SPO4J_OK : Spo4jNative.SPO4J_ERR_CUDA;
    }

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
                int status = copy(c, b.pointer(), a.pointer(), 12);
                return status != Spo4jNative.SPO4J_OK ? status : copy(c, o.pointer(), i.pointer(), 8);
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
                        copy(c, b.pointer(), a.pointer(), 8);
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
                int status = copy(c, written.pointer(), read.pointer(), 8);
                return status != Spo4jNative.SPO4J_OK ? status : copy(c, written.pointer(), a.pointer(), 8);
            });
        }
        assertArrayEquals(source, inPlace);
    }
}
