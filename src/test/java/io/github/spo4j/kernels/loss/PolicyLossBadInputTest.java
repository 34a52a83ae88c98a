package io.github.spo4j.kernels.loss;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.spo4j.kernels.Backend;
import io.github.spo4j.kernels.DType;
import io.github.spo4j.testutil.PolicyLossData;
import java.util.function.Consumer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.PointerScope;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Bad input is an IllegalArgumentException naming the argument, on every backend, and never a crash. */
class PolicyLossBadInputTest {

    private static void assertRejected(String argument, Runnable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call::run);
        assertTrue(e.getMessage().contains(argument), "message should name " + argument + ": " + e.getMessage());
    }

    private static TokenBatch with(TokenBatch x, Consumer<TokenBatch> mutate) {
        TokenBatch copy = new TokenBatch(
                x.seqOffsets() == null ? null : x.seqOffsets().clone(),
                x.logp().clone(),
                x.oldLogp().clone(),
                x.refLogp() == null ? null : x.refLogp().clone(),
                x.advantages().clone(),
                x.valid() == null ? null : x.valid().clone());
        mutate.accept(copy);
        return copy;
    }

    @ParameterizedTest
    @EnumSource(
            value = Backend.class,
            names = {"REFERENCE", "CPU"})
    void perTokenArguments(Backend backend) {
        PolicyLoss loss = PolicyLoss.create(backend);
        PolicyLossConfig spo = PolicyLossConfig.spo();
        TokenBatch x = PolicyLossData.tokens(99, 3, true, false);
        float[] grad = new float[99];
        assertRejected(
                "logp",
                () -> loss.tokens(
                        spo,
                        new TokenBatch(x.seqOffsets(), new float[98], x.oldLogp(), x.refLogp(), x.advantages(), null),
                        grad));
        assertRejected(
                "advantages",
                () -> loss.tokens(
                        spo,
                        new TokenBatch(x.seqOffsets(), x.logp(), x.oldLogp(), x.refLogp(), new float[100], null),
                        grad));
        assertRejected("gradLogp", () -> loss.tokens(spo, x, new float[5]));
        assertRejected(
                "valid",
                () -> loss.tokens(
                        spo,
                        new TokenBatch(
                                x.seqOffsets(), x.logp(), x.oldLogp(), x.refLogp(), x.advantages(), new boolean[3]),
                        grad));
        assertRejected("seqOffsets", () -> loss.tokens(spo, with(x, b -> b.seqOffsets()[0] = -1), grad));
        assertRejected("seqOffsets", () -> loss.tokens(spo, with(x, b -> b.seqOffsets()[1] = 50), grad));
        assertRejected(
                "seqOffsets",
                () -> loss.tokens(
                        spo,
                        new TokenBatch(new int[] {0, 50}, x.logp(), x.oldLogp(), x.refLogp(), x.advantages(), null),
                        grad));
        assertRejected("logp[7]", () -> loss.tokens(spo, with(x, b -> b.logp()[7] = Float.NaN), grad));
        assertRejected(
                "oldLogp[8]", () -> loss.tokens(spo, with(x, b -> b.oldLogp()[8] = Float.POSITIVE_INFINITY), grad));
        assertRejected("advantages[0]", () -> loss.tokens(spo, with(x, b -> b.advantages()[0] = Float.NaN), grad));
        assertRejected(
                "refLogp[98]", () -> loss.tokens(spo, with(x, b -> b.refLogp()[98] = Float.NEGATIVE_INFINITY), grad));
        assertRejected(
                "refLogp",
                () -> loss.tokens(
                        spo, new TokenBatch(x.seqOffsets(), x.logp(), x.oldLogp(), null, x.advantages(), null), grad));
        // NaN at an invalid (padding) token is ignored, as that value is never read.
        boolean[] valid = new boolean[99];
        java.util.Arrays.fill(valid, true);
        valid[7] = false;
        TokenBatch padded = with(x, b -> b.logp()[7] = Float.NaN);
        loss.tokens(
                spo,
                new TokenBatch(
                        padded.seqOffsets(),
                        padded.logp(),
                        padded.oldLogp(),
                        padded.refLogp(),
                        padded.advantages(),
                        valid),
                grad);
    }

    @Test
    void configValues() {
        assertRejected("epsLow", () -> PolicyLossConfig.builder().epsLow(-0.1f).build());
        assertRejected(
                "epsHigh", () -> PolicyLossConfig.builder().epsHigh(Float.NaN).build());
        assertRejected("rho", () -> PolicyLossConfig.builder().rho(0f).build());
        assertRejected("rho", () -> PolicyLossConfig.builder().rho(1.01f).build());
        assertRejected(
                "dualClipC", () -> PolicyLossConfig.builder().dualClipC(0.5f).build());
        assertRejected(
                "logRatioClamp",
                () -> PolicyLossConfig.builder().logRatioClamp(0f).build());
        assertRejected("beta", () -> PolicyLossConfig.builder().beta(-1f).build());
        assertRejected(
                "klClamp",
                () -> PolicyLossConfig.builder()
                        .klClamp(Float.POSITIVE_INFINITY)
                        .build());
        assertRejected("pgNorm", () -> PolicyLossConfig.builder().pgNorm(0f).build());
        assertRejected(
                "maxMeanRatio",
                () -> PolicyLossConfig.builder().maxMeanRatio(-2f).build());
        assertRejected(
                "klEstimator",
                () -> PolicyLossConfig.builder().klEstimator(null).build());
    }

    @ParameterizedTest
    @EnumSource(
            value = Backend.class,
            names = {"REFERENCE", "CPU"})
    void logitsArguments(Backend backend) {
        PolicyLoss loss = PolicyLoss.create(backend);
        PolicyLossConfig spo = PolicyLossConfig.spo();
        LogitsBatch x = PolicyLossData.logits(11, 17, 0.6f, 2, true);
        float[] grad = new float[11 * 17];
        assertRejected(
                "temperature",
                () -> loss.logits(
                        spo,
                        new LogitsBatch(
                                x.seqOffsets(),
                                x.logits(),
                                17,
                                x.targets(),
                                0f,
                                x.oldLogp(),
                                x.refLogp(),
                                x.advantages(),
                                x.valid()),
                        grad,
                        null,
                        null));
        assertRejected(
                "temperature",
                () -> loss.logits(
                        spo,
                        new LogitsBatch(
                                x.seqOffsets(),
                                x.logits(),
                                17,
                                x.targets(),
                                -1f,
                                x.oldLogp(),
                                x.refLogp(),
                                x.advantages(),
                                x.valid()),
                        grad,
                        null,
                        null));
        int[] badTargets = x.targets().clone();
        int row = 0;
        while (!x.valid()[row]) row++;
        badTargets[row] = 17;
        assertRejected(
                "targets[" + row + "]",
                () -> loss.logits(
                        spo,
                        new LogitsBatch(
                                x.seqOffsets(),
                                x.logits(),
                                17,
                                badTargets,
                                0.6f,
                                x.oldLogp(),
                                x.refLogp(),
                                x.advantages(),
                                x.valid()),
                        grad,
                        null,
                        null));
        badTargets[row] = -1;
        assertRejected(
                "targets[" + row + "]",
                () -> loss.logits(
                        spo,
                        new LogitsBatch(
                                x.seqOffsets(),
                                x.logits(),
                                17,
                                badTargets,
                                0.6f,
                                x.oldLogp(),
                                x.refLogp(),
                                x.advantages(),
                                x.valid()),
                        grad,
                        null,
                        null));
        float[] nanLogits = x.logits().clone();
        nanLogits[row * 17 + 3] = Float.NaN;
        assertRejected(
                "logits row " + row,
                () -> loss.logits(
                        spo,
                        new LogitsBatch(
                                x.seqOffsets(),
                                nanLogits,
                                17,
                                x.targets(),
                                0.6f,
                                x.oldLogp(),
                                x.refLogp(),
                                x.advantages(),
                                x.valid()),
                        grad,
                        null,
                        null));
        assertRejected(
                "logits",
                () -> loss.logits(
                        spo,
                        new LogitsBatch(
                                x.seqOffsets(),
                                new float[5],
                                17,
                                x.targets(),
                                0.6f,
                                x.oldLogp(),
                                x.refLogp(),
                                x.advantages(),
                                x.valid()),
                        grad,
                        null,
                        null));
        assertRejected("gradLogits", () -> loss.logits(spo, x, new float[3], null, null));
        assertRejected("vocab", () -> loss.tokenLogprobs(new float[0], 0, new int[0], 1f, new float[0], null));
    }

    /**
     * Through the zero-copy pointer entry the native code checks the values, in a read-only pass: a bad
     * value is an IllegalArgumentException, and logits given as their own gradient buffer stay intact.
     */
    @Test
    void nativeChecksPointerValuesBeforeWritingAnything() {
        PolicyLoss cpu = PolicyLoss.create(Backend.CPU);
        int n = 64, v = 33;
        LogitsBatch x = PolicyLossData.logits(n, v, 0.6f, 4, true);
        float[] logits = x.logits().clone();
        int row = 0;
        while (!x.valid()[row]) row++;
        int[] targets = x.targets().clone();
        targets[n - 1] = 1000; // bad target at the last row, found only after every other row was read
        byte[] valid = new byte[n];
        java.util.Arrays.fill(valid, (byte) 1);
        try (PointerScope scope = new PointerScope()) {
            FloatPointer inPlace = new FloatPointer(logits);
            IntPointer offs = new IntPointer(x.seqOffsets());
            int b = x.seqOffsets().length - 1;
            float[] sentinel = new float[n];
            java.util.Arrays.fill(sentinel, 42f);
            FloatPointer logpOut = new FloatPointer(sentinel), entropyOut = new FloatPointer(sentinel);
            assertRejected(
                    "targets[" + (n - 1) + "]",
                    () -> cpu.logits(
                            PolicyLossConfig.spo(),
                            n,
                            v,
                            b,
                            offs,
                            inPlace,
                            DType.F32,
                            new IntPointer(targets),
                            DType.I32,
                            0.6f,
                            new FloatPointer(x.oldLogp()),
                            new FloatPointer(x.refLogp()),
                            new FloatPointer(x.advantages()),
                            new org.bytedeco.javacpp.BytePointer(valid),
                            inPlace,
                            logpOut,
                            entropyOut));
            float[] after = new float[n * v];
            inPlace.get(after);
            assertArrayEquals(logits, after, "in-place logits must survive a rejected call");
            float[] outAfter = new float[n];
            logpOut.get(outAfter);
            assertArrayEquals(sentinel, outAfter, "logpOut must be untouched by a rejected call");
            entropyOut.get(outAfter);
            assertArrayEquals(sentinel, outAfter, "entropyOut must be untouched by a rejected call");

            float[] adv = x.advantages().clone();
            adv[n / 2] = Float.NaN;
            FloatPointer grad = new FloatPointer(n);
            assertRejected(
                    "advantages[" + n / 2 + "]",
                    () -> cpu.tokens(
                            PolicyLossConfig.grpo().toBuilder().beta(0f).build(),
                            n,
                            b,
                            offs,
                            new FloatPointer(x.oldLogp()),
                            new FloatPointer(x.oldLogp()),
                            null,
                            new FloatPointer(adv),
                            null,
                            grad));
            int[] nonMonotone = x.seqOffsets().clone();
            nonMonotone[1] = n;
            assertRejected(
                    "seqOffsets",
                    () -> cpu.tokens(
                            PolicyLossConfig.grpo().toBuilder().beta(0f).build(),
                            n,
                            b,
                            new IntPointer(nonMonotone),
                            new FloatPointer(x.oldLogp()),
                            new FloatPointer(x.oldLogp()),
                            null,
                            new FloatPointer(x.advantages()),
                            null,
                            grad));
            assertRejected(
                    "logp",
                    () -> cpu.tokens(
                            PolicyLossConfig.grpo().toBuilder().beta(0f).build(),
                            n,
                            b,
                            offs,
                            new FloatPointer(3),
                            new FloatPointer(x.oldLogp()),
                            null,
                            new FloatPointer(x.advantages()),
                            null,
                            grad));
            assertRejected(
                    "n", () -> cpu.tokens(PolicyLossConfig.spo(), -1, 1, null, null, null, null, null, null, null));
        }
    }

    @Test
    void cudaWithoutADeviceIsAClearError() {
        if (Backend.CUDA.isAvailable()) return;
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> PolicyLoss.create(Backend.CUDA));
        assertTrue(e.getMessage().contains("CUDA"), e.getMessage());
    }
}
