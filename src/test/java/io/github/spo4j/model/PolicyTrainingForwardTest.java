package io.github.spo4j.model;

import static io.github.spo4j.testutil.Close.assertAllClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.spo4j.kernels.Backend;
import io.github.spo4j.kernels.loss.PolicyLoss;
import io.github.spo4j.kernels.loss.PolicyLossConfig;
import io.github.spo4j.kernels.loss.PolicyLossStats;
import io.github.spo4j.kernels.loss.TokenBatch;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorArrayRefOptional;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/**
 * The training forward's log-probs come from the policy-loss kernel and its backward from the kernel's gradient;
 * both are checked against the same quantities through plain libtorch (log_softmax, gather, autograd).
 */
class PolicyTrainingForwardTest {
    static final float T = 0.7f;

    /** A ragged batch: query lengths 1..5, responses of 0..9 tokens, one sequence with no target. */
    static TargetBatch batch(int vocab, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        int[] queryLen = {3, 1, 5, 2, 4};
        int[] responseLen = {9, 4, 0, 7, 1};
        int[][] q = new int[queryLen.length][], r = new int[queryLen.length][];
        for (int b = 0; b < q.length; b++) {
            q[b] = PolicyDecodeTest.randomTokens(rng, queryLen[b], vocab);
            r[b] = PolicyDecodeTest.randomTokens(rng, responseLen[b], vocab);
        }
        return TargetBatch.ofPairs(q, r);
    }

    /** log_softmax(logits / T)[target] for the batch through plain libtorch, differentiable: [N]. */
    static Tensor plainLogp(Policy p, TargetBatch batch) {
        int n = batch.numTargets();
        Tensor[] rows = new Tensor[batch.numSequences()];
        Tensor all = null;
        for (int b = 0; b < batch.numSequences(); b++) {
            int[] seq = batch.sequence(b);
            int ctx = batch.contextLength(b);
            if (seq.length == ctx) continue;
            long[] ids = java.util.Arrays.stream(seq).asLongStream().toArray();
            Tensor logits =
                    p.logits(Tensors.scopedLongs(ids, 1, ids.length)).squeeze(0).narrow(0, ctx - 1, seq.length - ctx);
            long[] tgt =
                    java.util.Arrays.stream(seq, ctx, seq.length).asLongStream().toArray();
            Tensor lp = torch.log_softmax(logits.div(new Scalar(T)), -1)
                    .gather(1, Tensors.scopedLongs(tgt, tgt.length, 1))
                    .squeeze(1);
            all = all == null ? lp : torch.cat(new org.bytedeco.pytorch.TensorVector(all, lp), 0);
        }
        assertEquals(n, all.numel());
        return all;
    }

    static Map<String, float[]> gradients(Policy p) {
        Map<String, float[]> g = new LinkedHashMap<>();
        for (var e : p.namedParameters().entrySet()) {
            Tensor grad = e.getValue().grad();
            g.put(
                    e.getKey(),
                    grad.defined()
                            ? Tensors.toFloats(grad)
                            : new float[(int) e.getValue().numel()]);
        }
        return g;
    }

    static void zeroGradients(Policy p) {
        for (Tensor t : p.namedParameters().values()) {
            Tensor g = t.grad();
            if (g.defined()) g.zero_();
        }
    }

    static void assertSameGradients(String what, Map<String, float[]> expected, Map<String, float[]> actual) {
        for (String name : expected.keySet()) {
            assertAllClose(what + ": grad of " + name, expected.get(name), actual.get(name), 2e-6, 2e-4);
        }
    }

    @Test
    void logprobsMatchPlainLogSoftmax() {
        for (ModelConfig c : new ModelConfig[] {PolicyTestModels.llama(), PolicyTestModels.qwen2()}) {
            try (Policy p = PolicyTestModels.random(c, 21);
                    PointerScope s = new PointerScope()) {
                TargetBatch b = batch(c.vocabSize(), 4);
                float[] expected = Tensors.toFloats(plainLogp(p, b));
                try (TrainingForward f = p.forward(b, T)) {
                    assertEquals(b.numTargets(), f.numTargets());
                    assertAllClose(c.architecture() + " logp", expected, f.logpArray(), 1e-5, 1e-5);
                }
            }
        }
    }

    /** A nonlinear loss built with libtorch on logp(): the same gradients as through log_softmax. */
    @Test
    void gradientOfALossOnLogprobsMatchesPlainLibtorch() {
        for (ModelConfig c : new ModelConfig[] {
            PolicyTestModels.llama(), PolicyTestModels.qwen2(), PolicyTestModels.llamaBiasScaled()
        }) {
            try (Policy p = PolicyTestModels.random(c, 22);
                    PointerScope s = new PointerScope()) {
                TargetBatch b = batch(c.vocabSize(), 6);
                float[] w = new float[b.numTargets()];
                SplittableRandom rng = new SplittableRandom(9);
                for (int i = 0; i < w.length; i++) w[i] = (float) rng.nextGaussian();
                Tensor weights = Tensors.floats(w, w.length);

                Tensor plain = plainLogp(p, b);
                Tensor plainLoss =
                        plain.mul(weights).add(plain.exp().mul(new Scalar(0.5))).sum();
                plainLoss.backward(new Tensor(), new BoolOptional(), false, new TensorArrayRefOptional());
                Map<String, float[]> expected = gradients(p);
                zeroGradients(p);

                try (TrainingForward f = p.forward(b, T)) {
                    Tensor lp = f.logp();
                    Tensor loss =
                            lp.mul(weights).add(lp.exp().mul(new Scalar(0.5))).sum();
                    loss.backward(new Tensor(), new BoolOptional(), false, new TensorArrayRefOptional());
                    f.backward();
                    assertThrows(IllegalStateException.class, f::backward, "one backward per forward");
                }
                assertSameGradients(c.architecture().toString(), expected, gradients(p));
            }
        }
    }

    /** The fused loss from logits against the per-token entry on plain log-probs, pushed through autograd. */
    @Test
    void fusedPolicyLossBackwardMatchesPerTokenLossThroughAutograd() {
        ModelConfig c = PolicyTestModels.llama();
        try (Policy p = PolicyTestModels.random(c, 23);
                PointerScope s = new PointerScope()) {
            TargetBatch b = batch(c.vocabSize(), 7);
            int n = b.numTargets();
            SplittableRandom rng = new SplittableRandom(10);
            float[] adv = new float[n], old = new float[n], ref = new float[n];
            boolean[] valid = new boolean[n];
            Tensor plain = plainLogp(p, b);
            float[] logp = Tensors.toFloats(plain);
            for (int i = 0; i < n; i++) {
                adv[i] = (float) rng.nextGaussian();
                old[i] = logp[i] + (float) (rng.nextGaussian() * 0.3); // ratios around 1, some clipped
                ref[i] = logp[i] + (float) (rng.nextGaussian() * 0.2);
                valid[i] = i % 5 != 3;
            }
            PolicyLossConfig config = PolicyLossConfig.spo();
            float[] gradLogp = new float[n];
            PolicyLossStats expectedStats = PolicyLoss.create(Backend.REFERENCE)
                    .tokens(config, new TokenBatch(b.seqOffsets(), logp, old, ref, adv, valid), gradLogp);
            plain.mul(Tensors.floats(gradLogp, n))
                    .sum()
                    .backward(new Tensor(), new BoolOptional(), false, new TensorArrayRefOptional());
            Map<String, float[]> expected = gradients(p);
            zeroGradients(p);

            try (TrainingForward f = p.forward(b, T)) {
                PolicyLossStats stats = f.policyLossBackward(config, old, ref, adv, valid);
                assertEquals(expectedStats.loss(), stats.loss(), 1e-5);
                assertEquals(expectedStats.keptTokens(), stats.keptTokens());
            }
            assertSameGradients("fused policy loss", expected, gradients(p));
        }
    }

    @Test
    void badBatchesAndArgumentsAreClearErrors() {
        ModelConfig c = PolicyTestModels.qwen2();
        try (Policy p = PolicyTestModels.random(c, 24);
                PointerScope s = new PointerScope()) {
            assertThrows(IllegalArgumentException.class, () -> new TargetBatch(new int[][] {{1, 2}}, new int[] {0}));
            assertThrows(IllegalArgumentException.class, () -> new TargetBatch(new int[][] {{1, 2}}, new int[] {3}));
            assertThrows(IllegalArgumentException.class, () -> new TargetBatch(new int[][] {}, new int[] {}));
            assertThrows(
                    IllegalArgumentException.class,
                    () -> p.forward(new TargetBatch(new int[][] {{1, c.vocabSize()}}, new int[] {1}), 1f));
            TargetBatch ok = batch(c.vocabSize(), 1);
            assertThrows(IllegalArgumentException.class, () -> p.forward(ok, 0f));
            assertThrows(IllegalArgumentException.class, () -> p.forward(ok, Float.NaN));
            try (TrainingForward f = p.forward(ok, 1f)) {
                assertThrows(IllegalArgumentException.class, () -> f.backward(new float[ok.numTargets() + 1]));
                float[] nan = new float[ok.numTargets()];
                nan[0] = Float.NaN;
                assertThrows(IllegalArgumentException.class, () -> f.backward(nan));
                assertThrows(IllegalStateException.class, f::backward, "no loss was built on logp()");
                f.backward(new float[ok.numTargets()]); // still possible after the rejected calls
            }
            for (Tensor t : p.namedParameters().values()) {
                assertTrue(
                        !t.grad().defined() || Tensors.toFloats(t.grad().abs().max())[0] == 0f, "zero gradient");
            }
        }
    }
}
