package io.github.spo4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.spo4j.kernels.Backend;
import io.github.spo4j.kernels.engine.CudaRuntime;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Device names, availability, and the CPU's side of the device plumbing: no copy, no guard, the CPU kernels. */
class DeviceTest {
    @Test
    void namesParseAsLibtorchWritesThem() {
        assertSame(Device.CPU, Device.parse("cpu"));
        assertSame(Device.CPU, Device.parse(" CPU "));
        assertEquals(Device.cuda(0), Device.parse("cuda"));
        assertEquals(Device.cuda(0), Device.parse("CUDA:0"));
        assertEquals(Device.cuda(7), Device.parse("cuda:7"));
        assertEquals(Device.cuda(127), Device.parse("cuda:127"));
        assertEquals("cuda:3", Device.parse("cuda:3").toString());
        assertEquals("cpu", Device.CPU.toString());
        assertEquals(3, Device.parse("cuda:3").index());
        assertNotEquals(Device.cuda(0), Device.cuda(1));
        assertNotEquals(Device.CPU, Device.cuda(0));
        assertEquals(Device.cuda(2).hashCode(), Device.parse("cuda:2").hashCode());
        assertEquals(Backend.CUDA, Device.cuda(0).backend());
        assertEquals(Backend.CPU, Device.CPU.backend());
    }

    @ParameterizedTest
    @ValueSource(strings = {"gpu", "cuda:", "cuda:-1", "cuda:128", "cuda:x", "cuda:1:2", "cuda0", "", "mps"})
    void otherNamesAreRefusedNamingTheText(String spec) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Device.parse(spec));
        assertTrue(e.getMessage().startsWith("device must be cpu, cuda or cuda:N"), e.getMessage());
        assertTrue(e.getMessage().contains("'" + spec + "'"), e.getMessage());
    }

    @Test
    void nullAndOutOfRangeIndicesAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> Device.parse(null));
        assertThrows(IllegalArgumentException.class, () -> Device.cuda(-1));
        assertThrows(IllegalArgumentException.class, () -> Device.cuda(128));
    }

    @Test
    void withoutAGpuAutoIsTheCpuAndCudaSaysWhatIsMissing() {
        assumeTrue(Device.cudaDeviceCount() == 0, "this machine's libtorch sees a GPU");
        assertSame(Device.CPU, Device.auto());
        assertSame(Device.CPU, Device.CPU.requireAvailable());
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class, () -> Device.cuda(0).requireAvailable());
        assertTrue(e.getMessage().startsWith("device cuda:0 is unavailable: libtorch sees no CUDA device"));
        assertTrue(e.getMessage().contains("-Pgpu"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Policy.random(ModelConfig.tiny(), 1, Device.cuda(0)));
    }

    @Test
    void aDeviceTheCudaRuntimeDoesNotSeeDescribesItselfByName() {
        assertEquals("cpu", Device.CPU.describe());
        assertEquals(
                "cuda:" + CudaRuntime.deviceCount(),
                Device.cuda(CudaRuntime.deviceCount()).describe());
    }

    @Test
    void onTheCpuTensorsStayWhereTheyAreAndNothingIsCopied() {
        try (PointerScope scope = new PointerScope()) {
            Tensor t = Tensors.floats(new float[] {1, 2, 3});
            assertTrue(Device.CPU.holds(t));
            assertFalse(Device.cuda(0).holds(t));
            assertEquals(t.data_ptr().address(), Device.CPU.place(t).data_ptr().address());
            assertEquals(t.data_ptr().address(), Device.toHost(t).data_ptr().address());
            Tensor e = torch.empty(new long[] {2}, Device.CPU.options(ScalarType.Int), null);
            assertTrue(e.is_cpu());
            assertEquals(ScalarType.Int, e.scalar_type().intern());
            try (Device.Current current = Device.CPU.enter()) {
                assertTrue(Device.CPU.holds(t), "entering the CPU changes nothing");
            }
        }
    }

    @Test
    void aPolicyKnowsItsDeviceAndMakesItsPoolThere() {
        try (Policy p = Policy.random(ModelConfig.tiny(), 3, Device.CPU);
                var pool = p.createKvCache(4, 8)) {
            assertSame(Device.CPU, p.device());
            assertEquals(Backend.CPU, pool.backend());
            for (Tensor t : p.namedParameters().values()) assertTrue(t.is_cpu());
        }
    }
}
