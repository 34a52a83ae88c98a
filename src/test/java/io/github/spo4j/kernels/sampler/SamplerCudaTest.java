package io.github.spo4j.kernels.sampler;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.github.spo4j.kernels.Backend;
import io.github.spo4j.kernels.Bf16;
import io.github.spo4j.kernels.DType;
import io.github.spo4j.kernels.engine.DeviceMemory;
import io.github.spo4j.testutil.GpuRequirements;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.javacpp.ShortPointer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The CUDA sampler against the CPU kernel: the same token in every row (and the log-prob within 1e-6) on the
 * odd shapes of {@link SamplerKernelTest} in every mode, bf16 logits, large kept sets, the device-pointer
 * entry, and bad logits over device pointers rejected with the CPU's message and nothing written. Skipped
 * without a CUDA device.
 */
@Tag("gpu")
class SamplerCudaTest {
    private Sampler cuda;
    private Sampler cpu;

    @BeforeEach
    void requireCuda() {
        GpuRequirements.assumeCuda();
        cuda = Sampler.create(Backend.CUDA);
        cpu = Sampler.create(Backend.CPU);
    }

    @ParameterizedTest(name = "B={0} V={1}")
    @MethodSource("io.github.spo4j.kernels.sampler.SamplerKernelTest#shapes")
    void cudaDrawsTheCpuTokens(int b, int v) {
        long seed = 1000L * b + v;
        float[] logits = SamplerData.logits(b, v, seed);
        long[] ids = SamplerData.seqIds(b, seed);
        int[] pos = SamplerData.positions(b, seed);
        for (SamplerConfig c : SamplerData.configs(seed)) {
            SamplerKernelTest.assertSame(
                    c + " B=" + b + " V=" + v, cpu.sample(c, logits, v, ids, pos), cuda.sample(c, logits, v, ids, pos));
        }
    }

    @Test
    void largeKeptSetsAndRealVocabularies() {
        int b = 16;
        for (int v : new int[] {32_000, 151_936}) {
            float[] logits = new float[b * v];
            for (int i = 0; i < logits.length; i++) logits[i] = (float) Math.sin(i * 0.37) * (1 + (i / v) % 4);
            long[] ids = SamplerData.seqIds(b, v);
            int[] pos = SamplerData.positions(b, v);
            for (float p : new float[] {0.5f, 0.95f, 0.999999f, 1f}) {
                for (int k : new int[] {0, 50, 7000}) {
                    SamplerConfig c = SamplerConfig.of(11).withTopP(p).withTopK(k);
                    SamplerKernelTest.assertSame(
                            c + " V=" + v, cpu.sample(c, logits, v, ids, pos), cuda.sample(c, logits, v, ids, pos));
                }
            }
        }
    }

    @Test
    void devicePointerEntryWithBf16Logits() {
        int b = 99, v = 4099;
        float[] logits = SamplerData.logits(b, v, 21);
        short[] raw = new short[logits.length];
        for (int i = 0; i < raw.length; i++) raw[i] = Bf16.fromFloat(logits[i]);
        long[] ids = SamplerData.seqIds(b, 21);
        int[] pos = SamplerData.positions(b, 21);
        SamplerConfig c = SamplerConfig.of(4).withTopK(40).withTopP(0.9f).withTemperature(0.7f);
        try (PointerScope scope = new PointerScope()) {
            IntPointer hostTok = new IntPointer(b);
            FloatPointer hostLp = new FloatPointer(b);
            cpu.sample(
                    c,
                    b,
                    v,
                    new ShortPointer(raw),
                    DType.BF16,
                    new LongPointer(ids),
                    new IntPointer(pos),
                    hostTok,
                    hostLp);
            try (DeviceMemory dl = DeviceMemory.copyOf(new ShortPointer(raw), 2L * raw.length);
                    DeviceMemory di = DeviceMemory.copyOf(new LongPointer(ids), 8L * b);
                    DeviceMemory dp = DeviceMemory.copyOf(new IntPointer(pos), 4L * b);
                    DeviceMemory dt = DeviceMemory.allocate(4L * b);
                    DeviceMemory dlp = DeviceMemory.allocate(4L * b)) {
                cuda.sample(
                        c,
                        b,
                        v,
                        dl.pointer(),
                        DType.BF16,
                        new LongPointer(di.pointer()),
                        new IntPointer(dp.pointer()),
                        new IntPointer(dt.pointer()),
                        new FloatPointer(dlp.pointer()));
                IntPointer tok = new IntPointer(b);
                FloatPointer lp = new FloatPointer(b);
                dt.copyTo(tok);
                dlp.copyTo(lp);
                int[] expected = new int[b], got = new int[b];
                float[] expectedLp = new float[b], gotLp = new float[b];
                hostTok.get(expected);
                tok.get(got);
                hostLp.get(expectedLp);
                lp.get(gotLp);
                SamplerKernelTest.assertSame(
                        "bf16 device pointers", new SampleResult(expected, expectedLp), new SampleResult(got, gotLp));
            }
        }
    }

    @Test
    void runsGiveTheSameTokens() {
        int b = 111, v = 50_000;
        float[] logits = SamplerData.logits(b, v, 2);
        long[] ids = SamplerData.seqIds(b, 2);
        int[] pos = SamplerData.positions(b, 2);
        SamplerConfig c = SamplerConfig.of(8).withTopP(0.95f);
        assertArrayEquals(
                cuda.sample(c, logits, v, ids, pos).tokens(),
                cuda.sample(c, logits, v, ids, pos).tokens());
    }

    @Test
    void badLogitsOverDevicePointersAreRejectedWithTheCpuMessage() {
        int b = 4, v = 5;
        float[] logits = SamplerData.logits(b, v, 3);
        logits[2 * v + 3] = Float.NaN;
        logits[3 * v + 1] = Float.POSITIVE_INFINITY;
        SamplerConfig c = SamplerConfig.of(1);
        try (PointerScope scope = new PointerScope()) {
            String cpuMessage = assertThrows(
                            IllegalArgumentException.class,
                            () -> cpu.sample(
                                    c,
                                    b,
                                    v,
                                    new FloatPointer(logits),
                                    DType.F32,
                                    new LongPointer(b),
                                    new IntPointer(b),
                                    new IntPointer(b),
                                    null))
                    .getMessage();
            int[] sentinel = {-7, -7, -7, -7};
            try (DeviceMemory dl = DeviceMemory.copyOf(new FloatPointer(logits), 4L * logits.length);
                    DeviceMemory di = DeviceMemory.copyOf(new LongPointer(b), 8L * b);
                    DeviceMemory dp = DeviceMemory.copyOf(new IntPointer(b), 4L * b);
                    DeviceMemory dt = DeviceMemory.copyOf(new IntPointer(sentinel), 4L * b)) {
                IllegalArgumentException e = assertThrows(
                        IllegalArgumentException.class,
                        () -> cuda.sample(
                                c,
                                b,
                                v,
                                dl.pointer(),
                                DType.F32,
                                new LongPointer(di.pointer()),
                                new IntPointer(dp.pointer()),
                                new IntPointer(dt.pointer()),
                                null));
                assertEquals(cpuMessage, e.getMessage());
                IntPointer back = new IntPointer(b);
                dt.copyTo(back);
                int[] got = new int[b];
                back.get(got);
                assertArrayEquals(sentinel, got, "tokens written on a rejected call");
            }
        }
    }
}
