package io.github.spo4j.readme;

import io.github.spo4j.kernels.Backend;
import io.github.spo4j.kernels.DType;
import io.github.spo4j.kernels.loss.PolicyLoss;
import io.github.spo4j.kernels.loss.PolicyLossConfig;
import io.github.spo4j.kernels.loss.PolicyLossStats;
import io.github.spo4j.kernels.loss.TokenBatch;
import io.github.spo4j.model.Policy;
import io.github.spo4j.model.Tensors;
import java.util.Arrays;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorArrayRefOptional;
import org.bytedeco.pytorch.global.torch;

/** README, "The policy loss": the array entry, the tensor entry and the backward of tokenLogprobs. */
final class PolicyLossSnippet {
    private PolicyLossSnippet() {}

    /** The array entry over B sequences at {@code seqOffsets}; returns the gradient it wrote. */
    static float[] arrays(
            int[] seqOffsets, float[] logp, float[] oldLogp, float[] refLogp, float[] advantages, boolean[] valid) {
        int n = logp.length;
        // README begin
        PolicyLoss loss = PolicyLoss.create(); // CUDA, else CPU, else the Java reference
        float[] grad = new float[n];
        PolicyLossStats s = loss.tokens(
                PolicyLossConfig.spo(), new TokenBatch(seqOffsets, logp, oldLogp, refLogp, advantages, valid), grad);
        // README end
        if (!Double.isFinite(s.loss())) throw new AssertionError("loss " + s.loss());
        return grad;
    }

    /**
     * The tensor entry on a policy's logits: {@code sequences} [B][T] in, {@code nextTokens} [B][T] the targets,
     * per-token arrays [B·T]. Returns the parameter gradients' sum of squares (positive once backward ran).
     */
    static double tensors(
            Policy policy,
            int[][] sequences,
            int[][] nextTokens,
            int[] seqOffsets,
            float[] oldLogp,
            float[] refLogp,
            float[] advantages) {
        int vocab = policy.config().vocabSize();
        // README begin
        PolicyLoss onCpu = PolicyLoss.create(Backend.CPU); // CPU tensors need the CPU backend
        try (PointerScope scope = new PointerScope()) {
            Tensor logits = policy.logits(sequences).view(-1, vocab); // [N, V] from int[B][T]; requires grad
            Tensor gradLogits = torch.zeros_like(logits);
            onCpu.logits(
                    PolicyLossConfig.spo(),
                    Tensors.ints(seqOffsets),
                    logits.detach(),
                    Tensors.tokenIds(nextTokens),
                    0.6f,
                    Tensors.floats(oldLogp),
                    Tensors.floats(refLogp),
                    Tensors.floats(advantages),
                    null,
                    gradLogits,
                    null,
                    null);
            logits.backward(gradLogits, new BoolOptional(), false, new TensorArrayRefOptional());
        }
        // README end
        return gradientSquares(policy);
    }

    /** The backward of tokenLogprobs with the loss −mean(logp); returns the gradients' sum of squares. */
    static double tokenLogprobsBackward(Policy policy, int[][] sequences, int[][] nextTokens) {
        int vocab = policy.config().vocabSize();
        int n = sequences.length * sequences[0].length;
        // README begin
        PolicyLoss loss = PolicyLoss.create(Backend.CPU);
        try (PointerScope scope = new PointerScope()) {
            Tensor logits = policy.logits(sequences).view(-1, vocab); // [N, V], requires grad through the model
            Tensor detached = logits.detach(); // shares the storage
            Tensor targets = Tensors.tokenIds(nextTokens), logp = Tensors.floats(new float[n]);
            loss.tokenLogprobs(
                    n,
                    vocab,
                    detached.data_ptr(),
                    DType.F32,
                    targets.data_ptr(),
                    DType.I64,
                    1f,
                    logp.data_ptr_float(),
                    null); // log-probs for your loss
            Tensor gradLogp = Tensors.floats(lossGradient(Tensors.toFloats(logp))); // your d loss / d logp
            loss.tokenLogprobsBackward(detached, targets, 1f, gradLogp, detached); // now holds d loss / d logits
            logits.backward(detached, new BoolOptional(), false, new TensorArrayRefOptional());
        }
        // README end
        return gradientSquares(policy);
    }

    /** d/d logp of −mean(logp). */
    private static float[] lossGradient(float[] logp) {
        float[] g = new float[logp.length];
        Arrays.fill(g, -1f / logp.length);
        return g;
    }

    private static double gradientSquares(Policy policy) {
        double sum = 0;
        for (Tensor p : policy.namedParameters().values()) {
            try (PointerScope scope = new PointerScope()) {
                Tensor g = p.grad();
                if (g != null && g.defined()) {
                    for (float x : Tensors.toFloats(g)) sum += (double) x * x;
                }
            }
        }
        return sum;
    }
}
