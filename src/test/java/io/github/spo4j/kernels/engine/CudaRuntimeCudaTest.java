package io.github.spo4j.kernels.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.spo4j.model.Device;
import io.github.spo4j.testutil.GpuRequirements;
import java.util.SplittableRandom;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.pytorch.cuda.CUDAStream;
import org.bytedeco.pytorch.global.torch_cuda;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The CUDA runtime through the JavaCPP presets on a GPU: device properties, copies of ragged sizes both ways, both
 * allocation lifetimes, zeroing, events ordering a second stream and timing a copy, and the copies following
 * libtorch's current stream when it is not the default one. Skipped without a CUDA device.
 */
@Tag("gpu")
class CudaRuntimeCudaTest {
    @BeforeEach
    void requireCuda() {
        GpuRequirements.assumeCuda();
    }

    @Test
    void theDevicesDescribeThemselves() {
        assertTrue(CudaRuntime.deviceCount() >= 1);
        CudaDeviceInfo d = CudaRuntime.device(0);
        assertFalse(d.name().isBlank());
        assertTrue(d.totalMemoryBytes() > 0 && d.multiprocessors() > 0 && d.major() >= 5, d.toString());
        long[] freeTotal = CudaRuntime.memoryInfo(0);
        assertTrue(freeTotal[0] > 0 && freeTotal[0] <= freeTotal[1], freeTotal[0] + " of " + freeTotal[1]);
        assertThrows(IllegalArgumentException.class, () -> CudaRuntime.device(CudaRuntime.deviceCount()));
        assertEquals("cuda:0 (" + d + ")", Device.cuda(0).describe());
    }

    @Test
    void raggedSizesRoundTripThroughBothKindsOfMemory() {
        for (int n : new int[] {0, 1, 99, 111, 4097}) {
            float[] values = random(n, n);
            for (boolean staging : new boolean[] {false, true}) {
                try (FloatPointer host = new FloatPointer(values);
                        DeviceMemory d =
                                staging ? DeviceMemory.stagingCopyOf(host, 4L * n) : DeviceMemory.copyOf(host, 4L * n);
                        FloatPointer back = new FloatPointer(Math.max(n, 1))) {
                    d.copyTo(back);
                    float[] out = new float[n];
                    back.get(out);
                    assertArrayEquals(values, out, "n=" + n + " staging=" + staging);
                }
            }
        }
    }

    @Test
    void zeroClearsEveryByte() {
        float[] values = random(99, 7);
        try (FloatPointer host = new FloatPointer(values);
                DeviceMemory d = DeviceMemory.copyOf(host, 4L * 99);
                FloatPointer back = new FloatPointer(99)) {
            d.zero();
            d.copyTo(back);
            float[] out = new float[99];
            back.get(out);
            assertArrayEquals(new float[99], out);
        }
    }

    @Test
    void stagingMemoryGoesBackToThePool() {
        long before = CudaRuntime.memoryInfo(0)[0];
        for (int i = 0; i < 200; i++) {
            try (DeviceMemory d = DeviceMemory.staging(16L << 20)) {
                assertEquals(16L << 20, d.bytes());
            }
        }
        CudaRuntime.check(cudart.cudaDeviceSynchronize(), "cudaDeviceSynchronize");
        long after = CudaRuntime.memoryInfo(0)[0];
        assertTrue(after >= before - (64L << 20), "free memory fell from " + before + " to " + after);
    }

    @Test
    void anEventOrdersASecondStreamAfterTheKernelStream() {
        int n = 1 << 22;
        float[] values = random(n, 3);
        try (FloatPointer host = new FloatPointer(values);
                DeviceMemory src = DeviceMemory.copyOf(host, 4L * n);
                DeviceMemory dst = DeviceMemory.allocate(4L * n);
                CudaStream side = CudaStream.create();
                CudaEvent written = CudaEvent.create(false);
                FloatPointer back = new FloatPointer(n)) {
            written.recordOnKernelStream(); // after src's copy from the host
            side.waitFor(written);
            CudaRuntime.check(
                    cudart.cudaMemcpyAsync(
                            dst.pointer(), src.pointer(), 4L * n, cudart.cudaMemcpyDeviceToDevice, side.handle()),
                    "cudaMemcpyAsync");
            side.synchronize();
            dst.copyTo(back);
            float[] out = new float[n];
            back.get(out);
            assertArrayEquals(values, out);
        }
    }

    @Test
    void timingEventsMeasureACopy() {
        long bytes = 256L << 20;
        try (DeviceMemory a = DeviceMemory.allocate(bytes);
                DeviceMemory b = DeviceMemory.allocate(bytes);
                CudaEvent start = CudaEvent.create(true);
                CudaEvent end = CudaEvent.create(true);
                CudaEvent untimed = CudaEvent.create(false)) {
            start.recordOnKernelStream();
            CudaRuntime.check(
                    cudart.cudaMemcpyAsync(
                            b.pointer(),
                            a.pointer(),
                            bytes,
                            cudart.cudaMemcpyDeviceToDevice,
                            CudaRuntime.stream(TorchStreams.current())),
                    "cudaMemcpyAsync");
            end.recordOnKernelStream();
            float ms = end.millisSince(start);
            assertTrue(ms > 0 && ms < 10_000, ms + " ms");
            untimed.recordOnKernelStream();
            assertThrows(IllegalStateException.class, () -> untimed.millisSince(start));
        }
    }

    /**
     * With libtorch's current stream set to one of ours, the copies run on it: a copy back waits for a large copy
     * queued on that stream just before it (on any other stream it would read the destination half written).
     */
    @Test
    void copiesFollowANonDefaultCurrentStream() {
        GpuRequirements.assumeTorchCuda();
        byte device = 0;
        int n = 1 << 24;
        float[] values = random(n, 5);
        CUDAStream previous = torch_cuda.getCurrentCUDAStream(device);
        try (CudaStream ours = CudaStream.create();
                FloatPointer host = new FloatPointer(values);
                DeviceMemory source = DeviceMemory.copyOf(host, 4L * n);
                DeviceMemory target = DeviceMemory.allocate(4L * n);
                FloatPointer back = new FloatPointer(n)) {
            target.zero();
            torch_cuda.setCurrentCUDAStream(torch_cuda.getStreamFromExternal(ours.handle(), device));
            try {
                assertEquals(ours.handle().address(), TorchStreams.current().address());
                CudaRuntime.check(
                        cudart.cudaMemcpyAsync(
                                target.pointer(),
                                source.pointer(),
                                4L * n,
                                cudart.cudaMemcpyDeviceToDevice,
                                ours.handle()),
                        "cudaMemcpyAsync");
                target.copyTo(back);
                float[] out = new float[n];
                back.get(out);
                assertArrayEquals(values, out);
                try (DeviceMemory staged = DeviceMemory.stagingCopyOf(host, 4L * 111);
                        FloatPointer small = new FloatPointer(111)) {
                    staged.copyTo(small);
                    float[] first = new float[111];
                    small.get(first);
                    assertArrayEquals(java.util.Arrays.copyOf(values, 111), first);
                }
            } finally {
                torch_cuda.setCurrentCUDAStream(previous);
            }
            ours.synchronize();
        }
    }

    private static float[] random(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian();
        return a;
    }
}
