package io.github.spo4j.kernels.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.spo4j.kernels.Backend;
import java.util.List;
import org.bytedeco.javacpp.FloatPointer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * The CUDA runtime through the JavaCPP presets, where it cannot run (no driver here, as in CI): the library still
 * loads, CUDA is reported unavailable with a reason, and every entry that needs the runtime says so with an
 * exception instead of a linkage error or a crash. The GPU side is {@code CudaRuntimeCudaTest}.
 */
class CudaRuntimeTest {
    @Test
    void withoutAUsableRuntimeEveryEntrySaysWhy() {
        assumeFalse(CudaRuntime.available(), "this machine has a usable CUDA runtime and device");
        String reason = CudaRuntime.unavailableReason();
        assertNotNull(reason);
        assertTrue(reason.startsWith("the CUDA runtime"), reason);
        assertEquals(0, CudaRuntime.deviceCount());
        assertFalse(Backend.CUDA.isAvailable());
        List<Executable> entries = List.of(
                CudaRuntime::requireAvailable,
                () -> CudaRuntime.device(0),
                () -> CudaRuntime.memoryInfo(0),
                () -> DeviceMemory.allocate(8),
                () -> DeviceMemory.staging(8),
                () -> {
                    try (FloatPointer host = new FloatPointer(2)) {
                        DeviceMemory.copyOf(host, 8);
                    }
                },
                () -> {
                    try (FloatPointer host = new FloatPointer(2)) {
                        DeviceMemory.copyToHost(host, host, 8);
                    }
                },
                CudaStream::create,
                () -> CudaEvent.create(true));
        for (Executable entry : entries) {
            IllegalStateException e = assertThrows(IllegalStateException.class, entry);
            assertEquals("CUDA is unavailable: " + reason, e.getMessage());
        }
    }

    @Test
    void theBackendNamesTheRuntimesReasonWhenTheKernelsAreBuilt() {
        assumeFalse(CudaRuntime.available(), "this machine has a usable CUDA runtime and device");
        assumeTrue(NativeLibrary.builtWithCuda(), "libspo4j was built without CUDA kernels");
        IllegalStateException e = assertThrows(IllegalStateException.class, Backend.CUDA::requireAvailable);
        assertTrue(e.getMessage().contains(CudaRuntime.unavailableReason()), e.getMessage());
        if (CudaRuntime.unavailableReason().startsWith("the CUDA runtime did not load")) {
            assertTrue(
                    e.getMessage()
                            .endsWith(
                                    "(install the CUDA 13.1 runtime, or add org.bytedeco:cuda-redist to the class path)"),
                    e.getMessage());
        }
    }

    @Test
    void nullHostMemoryCopiesToNothingAndNegativeSizesAreRefused() {
        assertNull(DeviceMemory.copyOf(null, 8));
        assertNull(DeviceMemory.stagingCopyOf(null, 8));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DeviceMemory.allocate(-1));
        assertTrue(e.getMessage().startsWith("bytes must be >= 0"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> DeviceMemory.staging(-4));
    }

    @Test
    void aDeviceDescribesItselfInOneLine() {
        CudaDeviceInfo h200 = new CudaDeviceInfo(0, "NVIDIA H200", 150_000_000_000L, 132, 9, 0);
        assertEquals("NVIDIA H200, 139.7 GiB, sm_90, 132 SMs", h200.toString());
    }
}
