package io.github.spo4j.kernels.loss;

import static io.github.spo4j.kernels.loss.PolicyLossAssertions.assertStatsClose;
import static io.github.spo4j.testutil.Close.assertAllClose;
import static io.github.spo4j.testutil.Close.maxAbs;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.spo4j.kernels.Backend;
import io.github.spo4j.testutil.PolicyLossData;
import java.util.Random;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.AbstractTensor;
import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorArrayRefOptional;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The libtorch Tensor entries: zero-copy, checked, and consistent with autograd on the composed loss. */
class PolicyLossTensorTest {
    @BeforeAll
    static void threads() {
        torch.set_num_threads(1);
    }

    private static float[] read(Tensor t) {
        float[] out = new float[(int) t.numel()];
        t.contiguous().data_ptr_float().get(out);
        return out;
    }

    private static Tensor bools(boolean[] b) {
        return AbstractTensor.create(b);
    }

    @ParameterizedTest
    @EnumSource(
            value = Backend.class,
            names = {"REFERENCE", "CPU"})
    void tensorEntryEqualsArrayEntry(Backend backend) {
        PolicyLoss loss = PolicyLoss.create(backend);
        TokenBatch x = PolicyLossData.tokens(4099, 12, true, true);
        float[] expected = new float[4099];
        PolicyLossStats e = PolicyLossReference.tokens(PolicyLossConfig.spo(), x, expected);
        try (PointerScope scope = new PointerScope()) {
            Tensor grad = torch.zeros(4099);
            // A [B, T]-shaped view would work too; any shape with N elements is accepted.
            PolicyLossStats a = loss.tokens(
                    PolicyLossConfig.spo(),
                    AbstractTensor.create(x.seqOffsets()),
                    AbstractTensor.create(x.logp()),
                    AbstractTensor.create(x.oldLogp()),
                    AbstractTensor.create(x.refLogp()),
                    AbstractTensor.create(x.advantages()),
                    bools(x.valid()),
                    grad);
            assertStatsClose("tensor entry", e, a);
            assertAllClose("grad", expected, read(grad), 1e-5 * maxAbs(expected, 1e-9), 1e-4);
        }
    }

    /**
     * A tiny linear "policy" h·Wᵀ: our logits entry's d loss / d logits fed to {@code logits.backward(grad)}
     * gives the same dW as autograd through the composed torch loss ({@link PolicyLossTorch}).
     */
    @Test
    void fusedGradientThroughAutogradEqualsComposedLoss() {
        int n = 99, d = 16, v = 111;
        LogitsBatch x = PolicyLossData.logits(n, v, 0.6f, 17, true);
        Random rnd = new Random(3);
        float[] h = new float[n * d], w = new float[v * d];
        for (int i = 0; i < h.length; i++) h[i] = (float) rnd.nextGaussian();
        for (int i = 0; i < w.length; i++) w[i] = (float) (0.5 * rnd.nextGaussian());
        long[] targets = java.util.Arrays.stream(x.targets()).asLongStream().toArray();
        PolicyLossConfig config =
                PolicyLossConfig.spo().toBuilder().dualClipC(3f).build();
        PolicyLoss cpu = PolicyLoss.create(Backend.CPU);
        try (PointerScope scope = new PointerScope()) {
            Tensor hidden = AbstractTensor.create(h, n, d);
            Tensor offs = AbstractTensor.create(x.seqOffsets());
            Tensor old = AbstractTensor.create(x.oldLogp()), ref = AbstractTensor.create(x.refLogp());
            Tensor adv = AbstractTensor.create(x.advantages()), valid = bools(x.valid());
            Tensor tg = AbstractTensor.create(targets);

            Tensor w1 = AbstractTensor.create(w, v, d);
            w1.set_requires_grad(true);
            Tensor logits = hidden.matmul(w1.t());
            Tensor gradLogits = torch.zeros_like(logits);
            PolicyLossStats fused =
                    cpu.logits(config, offs, logits.detach(), tg, 0.6f, old, ref, adv, valid, gradLogits, null, null);
            logits.backward(gradLogits, new BoolOptional(), false, new TensorArrayRefOptional());
            float[] fusedDw = read(w1.grad());

            Tensor w2 = AbstractTensor.create(w, v, d);
            w2.set_requires_grad(true);
            Tensor composed =
                    PolicyLossTorch.lossFromLogits(config, offs, hidden.matmul(w2.t()), tg, 0.6f, old, ref, adv, valid);
            composed.backward();
            float[] composedDw = read(w2.grad());

            assertAllClose("loss", new float[] {composed.item_float()}, new float[] {(float) fused.loss()}, 1e-6, 1e-4);
            assertAllClose("dW", composedDw, fusedDw, 1e-5 * maxAbs(composedDw, 1e-9), 1e-3);
        }
    }

    /** The per-token entry's d loss / d logp through autograd, against the composed per-token loss. */
    @Test
    void perTokenGradientThroughAutogradEqualsComposedLoss() {
        int n = 111;
        TokenBatch x = PolicyLossData.tokens(n, 23, true, true);
        for (Aggregation agg : Aggregation.values()) {
            PolicyLossConfig config = PolicyLossConfig.spo().toBuilder()
                    .pgAggregation(agg)
                    .pgNorm(50f)
                    .maxMeanRatio(0f)
                    .build();
            try (PointerScope scope = new PointerScope()) {
                Tensor offs = AbstractTensor.create(x.seqOffsets());
                Tensor old = AbstractTensor.create(x.oldLogp()), ref = AbstractTensor.create(x.refLogp());
                Tensor adv = AbstractTensor.create(x.advantages()), valid = bools(x.valid());
                Tensor logp = AbstractTensor.create(x.logp());
                logp.set_requires_grad(true);
                PolicyLossTorch.loss(config, offs, logp, old, ref, adv, valid).backward();
                float[] composed = read(logp.grad());
                Tensor fused = torch.zeros(n);
                PolicyLoss.create(Backend.CPU).tokens(config, offs, logp.detach(), old, ref, adv, valid, fused);
                assertAllClose("d loss / d logp, " + agg, composed, read(fused), 1e-6 * maxAbs(composed, 1e-9), 1e-4);
            }
        }
    }

    @Test
    void wrongTensorsAreRejectedWithTheArgumentNamed() {
        PolicyLoss cpu = PolicyLoss.create(Backend.CPU);
        TokenBatch x = PolicyLossData.tokens(9, 1, true, true);
        try (PointerScope scope = new PointerScope()) {
            Tensor offs = AbstractTensor.create(x.seqOffsets());
            Tensor logp = AbstractTensor.create(x.logp()), old = AbstractTensor.create(x.oldLogp());
            Tensor ref = AbstractTensor.create(x.refLogp()), adv = AbstractTensor.create(x.advantages());
            Tensor valid = bools(x.valid()), grad = torch.zeros(9);
            PolicyLossConfig c = PolicyLossConfig.spo();
            IllegalArgumentException e = assertThrows(
                    IllegalArgumentException.class,
                    () -> cpu.tokens(c, offs, logp.to(ScalarType.Double), old, ref, adv, valid, grad));
            assertTrue(e.getMessage().contains("logp") && e.getMessage().contains("dtype"), e.getMessage());
            e = assertThrows(
                    IllegalArgumentException.class,
                    () -> cpu.tokens(c, offs.to(ScalarType.Long), logp, old, ref, adv, valid, grad));
            assertTrue(e.getMessage().contains("seqOffsets"), e.getMessage());
            e = assertThrows(
                    IllegalArgumentException.class,
                    () -> cpu.tokens(c, offs, logp, old, ref, torch.zeros(8), valid, grad));
            assertTrue(e.getMessage().contains("advantages"), e.getMessage());
            Tensor strided = torch.zeros(18)
                    .slice(0, new org.bytedeco.pytorch.LongOptional(0), new org.bytedeco.pytorch.LongOptional(18), 2);
            e = assertThrows(
                    IllegalArgumentException.class, () -> cpu.tokens(c, offs, logp, old, ref, adv, valid, strided));
            assertTrue(e.getMessage().contains("gradLogp") && e.getMessage().contains("contiguous"), e.getMessage());
            e = assertThrows(
                    IllegalArgumentException.class,
                    () -> PolicyLoss.create(Backend.CPU)
                            .logits(
                                    c,
                                    offs,
                                    torch.zeros(9, 5).to(ScalarType.Half),
                                    AbstractTensor.create(new long[9]),
                                    1f,
                                    old,
                                    ref,
                                    adv,
                                    valid,
                                    null,
                                    null,
                                    null));
            assertTrue(e.getMessage().contains("logits"), e.getMessage());
            // A non-contiguous input is fine: it is made contiguous (copied) first.
            cpu.tokens(
                    c,
                    offs,
                    torch.stack(new org.bytedeco.pytorch.TensorVector(logp, logp), 1)
                            .select(1, 0),
                    old,
                    ref,
                    adv,
                    valid,
                    grad);
        }
    }
}
