package io.github.spo4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.spo4j.kernels.loss.PolicyLossConfig;
import java.util.Map;
import java.util.SplittableRandom;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.DeviceType;
import org.junit.jupiter.api.Test;

/**
 * bf16 training forwards: log-probs and gradients close to fp32's, the parameters still fp32, the thread's autocast
 * state restored, and weights changed between forwards seen by the next one (the cast cache is cleared).
 */
class PolicyPrecisionTest {
    private static final float T = PolicyTrainingForwardTest.T;

    @Test
    void precisionsParseAndDefaultToFp32() {
        assertEquals(Precision.BF16, Precision.parse(" BF16"));
        assertEquals(Precision.FP32, Precision.parse("float32"));
        assertEquals("bf16", Precision.BF16.toString());
        assertThrows(IllegalArgumentException.class, () -> Precision.parse("fp16"));
        assertThrows(IllegalArgumentException.class, () -> Precision.parse(null));
        try (Policy p = Policy.random(ModelConfig.tiny(), 1)) {
            assertEquals(Precision.FP32, p.precision());
            assertThrows(IllegalArgumentException.class, () -> p.setPrecision(null));
        }
    }

    @Test
    void bf16LogprobsAndGradientsFollowFp32() {
        for (ModelConfig c : new ModelConfig[] {PolicyTestModels.llama(), PolicyTestModels.qwen2()}) {
            try (Policy p = PolicyTestModels.random(c, 41);
                    PointerScope s = new PointerScope()) {
                TargetBatch b = PolicyTrainingForwardTest.batch(c.vocabSize(), 5);
                int n = b.numTargets();
                SplittableRandom rng = new SplittableRandom(2);
                float[] old = new float[n], adv = new float[n];
                float[] fp32;
                try (TrainingForward f = p.forwardPacked(b, T)) {
                    fp32 = f.logpArray();
                    for (int i = 0; i < n; i++) {
                        old[i] = fp32[i];
                        adv[i] = (float) rng.nextGaussian();
                    }
                    f.policyLossBackward(PolicyLossConfig.spo(), old, old, adv, null);
                }
                Map<String, float[]> g32 = PolicyTrainingForwardTest.gradients(p);
                PolicyTrainingForwardTest.zeroGradients(p);

                p.setPrecision(Precision.BF16);
                for (boolean packed : new boolean[] {true, false}) {
                    try (TrainingForward f = packed ? p.forwardPacked(b, T) : p.forward(b, T)) {
                        float[] bf16 = f.logpArray();
                        double worst = 0;
                        for (int i = 0; i < n; i++) worst = Math.max(worst, Math.abs(bf16[i] - fp32[i]));
                        assertTrue(worst > 0, "bf16 ran: the log-probs differ from fp32's");
                        assertTrue(worst < 0.25, c.architecture() + " packed " + packed + ": worst |Δ logp| " + worst);
                        if (packed) f.policyLossBackward(PolicyLossConfig.spo(), old, old, adv, null);
                    }
                }
                assertFalse(torch.is_autocast_enabled(DeviceType.CPU), "the thread's autocast state is restored");
                assertEquals(
                        torch.ScalarType.BFloat16,
                        torch.get_autocast_dtype(DeviceType.CPU).intern(),
                        "libtorch's CPU autocast dtype (its default) is restored");
                Map<String, float[]> g16 = PolicyTrainingForwardTest.gradients(p);
                for (Map.Entry<String, Tensor> e : p.namedParameters().entrySet()) {
                    assertEquals(
                            torch.ScalarType.Float, e.getValue().scalar_type().intern(), e.getKey());
                    assertEquals(
                            torch.ScalarType.Float,
                            e.getValue().grad().scalar_type().intern(),
                            e.getKey());
                }
                double dot = 0, a2 = 0, b2 = 0;
                for (String name : g32.keySet()) {
                    float[] a = g32.get(name), g = g16.get(name);
                    for (int i = 0; i < a.length; i++) {
                        assertTrue(Float.isFinite(g[i]), name);
                        dot += (double) a[i] * g[i];
                        a2 += (double) a[i] * a[i];
                        b2 += (double) g[i] * g[i];
                    }
                }
                double cosine = dot / Math.sqrt(a2 * b2);
                assertTrue(cosine > 0.98, c.architecture() + ": gradient cosine bf16 vs fp32 " + cosine);
            }
        }
    }

    /** A bf16 forward inside a caller's own autocast region, with another dtype set, leaves that region as it was. */
    @Test
    void aCallersAutocastStateSurvivesTheForward() {
        ModelConfig c = PolicyTestModels.qwen2();
        try (Policy p = PolicyTestModels.random(c, 44);
                PointerScope s = new PointerScope()) {
            p.setPrecision(Precision.BF16);
            TargetBatch b = PolicyTrainingForwardTest.batch(c.vocabSize(), 3);
            torch.set_autocast_dtype(DeviceType.CPU, torch.ScalarType.Half);
            try (TrainingForward f = p.forwardPacked(b, T)) {
                f.logpArray();
            }
            assertEquals(
                    torch.ScalarType.Half,
                    torch.get_autocast_dtype(DeviceType.CPU).intern());
            assertFalse(torch.is_autocast_enabled(DeviceType.CPU));

            torch.set_autocast_enabled(DeviceType.CPU, true);
            torch.increment_nesting();
            try (TrainingForward f = p.forwardPacked(b, T)) {
                f.logpArray();
            } finally {
                assertTrue(torch.is_autocast_enabled(DeviceType.CPU), "the caller's region is still open");
                assertEquals(
                        torch.ScalarType.Half,
                        torch.get_autocast_dtype(DeviceType.CPU).intern());
                assertEquals(0, torch.decrement_nesting(), "the forward's nesting was undone");
                torch.clear_cache();
                torch.set_autocast_enabled(DeviceType.CPU, false);
            }
        } finally {
            torch.set_autocast_dtype(DeviceType.CPU, torch.ScalarType.BFloat16);
        }
    }

    @Test
    void weightsChangedBetweenForwardsAreSeen() {
        ModelConfig c = PolicyTestModels.llama();
        try (Policy p = PolicyTestModels.random(c, 43);
                Policy q = PolicyTestModels.random(c, 43);
                PointerScope s = new PointerScope()) {
            p.setPrecision(Precision.BF16);
            q.setPrecision(Precision.BF16);
            TargetBatch b = PolicyTrainingForwardTest.batch(c.vocabSize(), 7);
            try (TrainingForward f = p.forwardPacked(b, T)) {
                f.logpArray();
            }
            try (NoGradGuard g = new NoGradGuard()) {
                for (Tensor t : p.namedParameters().values()) t.mul_(new Scalar(1.5));
                for (Tensor t : q.namedParameters().values()) t.mul_(new Scalar(1.5));
            }
            float[] after, fresh;
            try (TrainingForward f = p.forwardPacked(b, T)) {
                after = f.logpArray();
            }
            try (TrainingForward f = q.forwardPacked(b, T)) {
                fresh = f.logpArray();
            }
            for (int i = 0; i < after.length; i++) assertEquals(fresh[i], after[i], 0f, "target " + i);
        }
    }
}
