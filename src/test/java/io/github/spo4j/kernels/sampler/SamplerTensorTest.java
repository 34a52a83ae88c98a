package io.github.spo4j.kernels.sampler;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.spo4j.kernels.Backend;
import io.github.spo4j.kernels.Bf16;
import java.util.Set;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.AbstractTensor;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The libtorch Tensor entry (zero copy, checked) and the composed-torch baseline. */
class SamplerTensorTest {
    @BeforeAll
    static void threads() {
        torch.set_num_threads(1);
    }

    @ParameterizedTest
    @EnumSource(
            value = Backend.class,
            names = {"REFERENCE", "CPU"})
    void tensorEntryEqualsArrayEntry(Backend backend) {
        int b = 99, v = 1111;
        float[] logits = SamplerData.logits(b, v, 12);
        long[] ids = SamplerData.seqIds(b, 12);
        int[] pos = SamplerData.positions(b, 12);
        SamplerConfig c = SamplerConfig.of(5).withTopP(0.9f).withTemperature(0.8f);
        SampleResult expected = SamplerReference.sample(c, logits, v, ids, pos);
        try (PointerScope scope = new PointerScope()) {
            Tensor lg = AbstractTensor.create(logits).reshape(b, v);
            Tensor tokens = torch.zeros(new long[] {b}, new TensorOptions(ScalarType.Int));
            Tensor lp = torch.zeros(b);
            Sampler.create(backend).sample(c, lg, AbstractTensor.create(ids), AbstractTensor.create(pos), tokens, lp);
            int[] t = new int[b];
            float[] l = new float[b];
            new IntPointer(tokens.data_ptr()).get(t);
            new FloatPointer(lp.data_ptr()).get(l);
            SamplerKernelTest.assertSame(backend + "", expected, new SampleResult(t, l));

            // bf16 logits: the tokens of the rounded logits.
            float[] rounded = new float[logits.length];
            for (int i = 0; i < rounded.length; i++) rounded[i] = Bf16.toFloat(Bf16.fromFloat(logits[i]));
            Sampler.create(backend)
                    .sample(
                            c,
                            lg.to(ScalarType.BFloat16),
                            AbstractTensor.create(ids),
                            AbstractTensor.create(pos),
                            tokens,
                            null);
            new IntPointer(tokens.data_ptr()).get(t);
            assertArrayEquals(SamplerReference.sample(c, rounded, v, ids, pos).tokens(), t);
        }
    }

    @Test
    void badTensorsAreNamed() {
        Sampler cpu = Sampler.create(Backend.CPU);
        SamplerConfig c = SamplerConfig.of(1);
        try (PointerScope scope = new PointerScope()) {
            Tensor lg = torch.zeros(3, 5);
            Tensor ids = torch.zeros(new long[] {3}, new TensorOptions(ScalarType.Long));
            Tensor pos = torch.zeros(new long[] {3}, new TensorOptions(ScalarType.Int));
            Tensor tok = torch.zeros(new long[] {3}, new TensorOptions(ScalarType.Int));
            expect("logits must be 2-D", () -> cpu.sample(c, torch.zeros(15), ids, pos, tok, null));
            expect(
                    "logits must have dtype Float or BFloat16",
                    () -> cpu.sample(c, lg.to(ScalarType.Double), ids, pos, tok, null));
            expect("seqIds must have dtype Long", () -> cpu.sample(c, lg, pos, pos, tok, null));
            expect(
                    "positions has 2 elements, expected 3",
                    () -> cpu.sample(
                            c, lg, ids, torch.zeros(new long[] {2}, new TensorOptions(ScalarType.Int)), tok, null));
            expect("tokens must have dtype Int", () -> cpu.sample(c, lg, ids, pos, ids, null));
            expect("seqIds must not be null", () -> cpu.sample(c, lg, null, pos, tok, null));
            expect("tokens must not be null", () -> cpu.sample(c, lg, ids, pos, null, null));
            Tensor bad = lg.clone();
            bad.select(0, 1).select(0, 4).fill_(new org.bytedeco.pytorch.Scalar(Float.NaN));
            expect("logits[1, 4] = nan is not finite", () -> cpu.sample(c, bad, ids, pos, tok, null));
        }
    }

    @Test
    void composedTorchKeepsTheSameSetsAndLogprobs() {
        int b = 64, v = 111;
        float[] row = SamplerStatisticsTest.row();
        float[] logits = SamplerReferenceTest.tile(row, b);
        try (PointerScope scope = new PointerScope()) {
            Tensor lg = AbstractTensor.create(logits).reshape(b, v);
            for (SamplerConfig c : new SamplerConfig[] {
                SamplerConfig.of(1).withTopP(0.6f).withTemperature(0.7f),
                SamplerConfig.of(1).withTopK(5),
                SamplerConfig.of(1).withGreedy(true)
            }) {
                SamplerTorch.Result r = SamplerTorch.sample(c, lg);
                long[] tokens = new long[b];
                float[] lp = new float[b];
                new LongPointer(r.tokens().data_ptr()).get(tokens);
                new FloatPointer(r.logprobs().contiguous().data_ptr()).get(lp);
                Set<Integer> kept = SamplerReferenceTest.top(row, c.temperature(), c.topK(), c.topP());
                int greedy = SamplerReference.sample(c.withGreedy(true), row, v, new long[] {0}, new int[] {0})
                        .tokens()[0];
                for (int i = 0; i < b; i++) {
                    int t = (int) tokens[i];
                    if (c.greedy()) assertEquals(greedy, t);
                    else assertTrue(kept.contains(t), c + ": torch drew " + t + " outside the kept set " + kept);
                    assertEquals(SamplerReference.logprob(c.temperature(), row, t), lp[i], 1e-5, c + " logprob");
                }
            }
        }
    }

    private static void expect(String prefix, org.junit.jupiter.api.function.Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().startsWith(prefix), e.getMessage());
    }
}
