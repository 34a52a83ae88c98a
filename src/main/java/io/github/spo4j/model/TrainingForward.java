package io.github.spo4j.model;

import io.github.spo4j.kernels.loss.PolicyLoss;
import io.github.spo4j.kernels.loss.PolicyLossConfig;
import io.github.spo4j.kernels.loss.PolicyLossStats;
import java.util.function.UnaryOperator;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorArrayRefOptional;

/**
 * The result of {@link Policy#forward}: per-token log-probs of the targets at temperature T,
 * <pre>
 *   logp_i = z_i[target_i] − log Σ_v exp z_i[v],   z_i = logits_i / T,
 * </pre>
 * and the autograd graph from the target logits [N, V] back to the parameters. The log-probs were computed by the
 * policy-loss kernel, so autograd does not see them; the backward goes through the kernel's gradient instead:
 * <pre>
 *   ∂L/∂logits_i = (∂L/∂logp_i / T) · (onehot(target_i) − softmax(z_i))
 * </pre>
 * written over the logits buffer itself (no second [N, V] buffer), then pushed into the graph. Three ways in:
 * <ul>
 *   <li>{@link #policyLossBackward}: the fused SPO loss from logits: loss, statistics and gradient in one call;
 *   <li>{@link #backward(Tensor)}: any ∂L/∂logp the caller computed;
 *   <li>{@link #logp()} is a leaf tensor that requires grad: build any libtorch loss on it, call its
 *       {@code backward}, then {@link #backward()} forwards {@code logp().grad()}.
 * </ul>
 * One backward per forward (the logits buffer is consumed); parameter gradients accumulate in their {@code grad()}.
 * Close to free the graph.
 */
public final class TrainingForward implements AutoCloseable {
    private final Tensor logits; // [N, V] float32, requires grad (graph to the parameters)
    private final Tensor logp; // [N] float32 leaf, requires grad
    private final Tensor targets; // [N] int32
    private final float temperature;
    private final int[] seqOffsets;
    private final PolicyLoss kernel;
    private final Device device;
    private boolean consumed;
    private boolean closed;

    TrainingForward(
            Tensor logits,
            Tensor logp,
            Tensor targets,
            float temperature,
            int[] seqOffsets,
            PolicyLoss kernel,
            Device device) {
        this.logits = logits;
        this.logp = logp;
        this.targets = targets;
        this.temperature = temperature;
        this.seqOffsets = seqOffsets;
        this.kernel = kernel;
        this.device = device;
        logp.set_requires_grad(true);
    }

    /** N, the number of target tokens. */
    public int numTargets() {
        return (int) logp.numel();
    }

    /** [B + 1] where each sequence's targets start. */
    public int[] seqOffsets() {
        return seqOffsets.clone();
    }

    public float temperature() {
        return temperature;
    }

    /** [N] the log-probs, a float32 leaf tensor that requires grad (owned by this object). */
    public Tensor logp() {
        open();
        return logp;
    }

    /** The log-probs as a Java array. */
    public float[] logpArray() {
        open();
        return Tensors.toFloats(logp);
    }

    /** Backpropagates {@code logp().grad()}, which a libtorch loss built on {@link #logp()} has filled. */
    public void backward() {
        open();
        Tensor g = logp.grad();
        if (g == null || !g.defined()) {
            throw new IllegalStateException("logp() has no gradient: call backward on a loss built from logp() first");
        }
        backward(g);
    }

    /**
     * Backpropagates ∂L/∂logp into the parameters' gradients.
     *
     * @param gradLogp float32 [N], finite, on any device (copied to the policy's)
     */
    public void backward(Tensor gradLogp) {
        open();
        consume();
        if (gradLogp == null) throw new IllegalArgumentException("gradLogp must not be null");
        try (PointerScope scope = new PointerScope();
                Device.Current current = device.enter()) {
            Tensor grad = logits.detach(); // the same storage: the gradient overwrites the logits
            try {
                kernel.tokenLogprobsBackward(grad, targets, temperature, device.place(gradLogp.detach()), grad);
            } catch (RuntimeException e) {
                consumed = false; // the kernel checks before it writes: the logits are intact
                throw e;
            }
            pushGradient(grad);
        }
    }

    /** {@link #backward(Tensor)} from a Java array. */
    public void backward(float[] gradLogp) {
        open();
        if (gradLogp == null) throw new IllegalArgumentException("gradLogp must not be null");
        if (gradLogp.length != numTargets()) {
            throw new IllegalArgumentException(
                    "gradLogp has " + gradLogp.length + " entries, expected N = " + numTargets());
        }
        try (PointerScope scope = new PointerScope()) {
            backward(Tensors.floats(gradLogp, gradLogp.length));
        }
    }

    /**
     * The fused policy loss of {@code config} from the target logits (the kernel's logits entry over the ragged
     * batch of {@link #seqOffsets()}), with its gradient backpropagated into the parameters.
     *
     * @param oldLogp    [N] π_old log-probs
     * @param refLogp    [N] reference log-probs, or null when the config has no KL term
     * @param advantages [N]
     * @param valid      [N] which tokens count, or null for all
     * @return the loss and its statistics
     */
    public PolicyLossStats policyLossBackward(
            PolicyLossConfig config, float[] oldLogp, float[] refLogp, float[] advantages, boolean[] valid) {
        return policyLossBackward(config, oldLogp, refLogp, advantages, valid, UnaryOperator.identity());
    }

    /**
     * {@link #policyLossBackward(PolicyLossConfig, float[], float[], float[], boolean[])} for one part of a batch whose
     * other parts other processes compute (data-parallel ranks, each with a share of a micro-batch's sequences):
     * {@code combine} gets this part's statistics and returns the whole batch's (through the ranks' collectives); when
     * those say the batch is skipped, the gradient pushed is zero, as for a batch the kernel skips. The config must make the parts add up: constant
     * normalisers for the whole batch, whitening done by the caller with the whole batch's moments, and the mean-ratio
     * skip left to {@code combine}.
     *
     * @param combine this part's statistics to the whole batch's; the identity for a batch computed here alone
     */
    public PolicyLossStats policyLossBackward(
            PolicyLossConfig config,
            float[] oldLogp,
            float[] refLogp,
            float[] advantages,
            boolean[] valid,
            UnaryOperator<PolicyLossStats> combine) {
        open();
        if (combine == null) throw new IllegalArgumentException("combine must not be null");
        if (config == null) throw new IllegalArgumentException("config must not be null");
        int n = numTargets();
        checkLength(oldLogp, n, "oldLogp");
        if (refLogp != null) checkLength(refLogp, n, "refLogp");
        checkLength(advantages, n, "advantages");
        if (valid != null && valid.length != n) {
            throw new IllegalArgumentException("valid has " + valid.length + " entries, expected N = " + n);
        }
        consume();
        try (PointerScope scope = new PointerScope();
                Device.Current current = device.enter()) {
            Tensor grad = logits.detach();
            Tensor validTensor = null;
            if (valid != null) {
                byte[] v = new byte[n];
                for (int i = 0; i < n; i++) v[i] = (byte) (valid[i] ? 1 : 0);
                validTensor = device.place(Tensors.scopedBytes(v));
            }
            PolicyLossStats stats;
            try {
                stats = kernel.logits(
                        config,
                        device.place(Tensors.ints(seqOffsets)),
                        grad,
                        targets,
                        temperature,
                        device.place(Tensors.floats(oldLogp, n)),
                        refLogp == null ? null : device.place(Tensors.floats(refLogp, n)),
                        device.place(Tensors.floats(advantages, n)),
                        validTensor,
                        grad,
                        null,
                        null);
            } catch (RuntimeException e) {
                consumed = false; // the kernel checks before it writes: the logits are intact
                throw e;
            }
            PolicyLossStats whole = combine.apply(stats);
            if (whole.skipped() && !stats.skipped())
                grad.zero_(); // skipped as a whole: a zero gradient, as the kernel's
            pushGradient(grad);
            return whole;
        }
    }

    private void pushGradient(Tensor gradLogits) {
        if (numTargets() == 0) return;
        logits.backward(gradLogits, new BoolOptional(), false, new TensorArrayRefOptional());
    }

    private static void checkLength(float[] a, int n, String name) {
        if (a == null) throw new IllegalArgumentException(name + " must not be null");
        if (a.length != n)
            throw new IllegalArgumentException(name + " has " + a.length + " entries, expected N = " + n);
    }

    private void consume() {
        if (consumed) throw new IllegalStateException("this forward was already backpropagated (one backward each)");
        consumed = true;
    }

    private void open() {
        if (closed) throw new IllegalStateException("this forward is closed");
    }

    /** Frees the logits and the graph. */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        logits.releaseReference();
        logp.releaseReference();
        targets.releaseReference();
    }
}
