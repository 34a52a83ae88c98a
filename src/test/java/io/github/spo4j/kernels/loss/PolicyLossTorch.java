package io.github.spo4j.kernels.loss;

import io.github.spo4j.kernels.engine.Checks;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarOptional;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The policy loss of {@link PolicyLossConfig} composed from plain libtorch ops, the way one writes it in
 * PyTorch (verl / TRL style: masked tensors, {@code torch.maximum} of the two surrogates, autograd for the
 * gradient). It is the comparison baseline of the benchmarks and a second oracle for the kernels: its
 * gradient, taken by autograd, is what the fused kernels compute (they replicate autograd's conventions:
 * {@code clamp} passes the gradient on the closed interval, {@code maximum} splits a tie, which only
 * happens where both surrogates have the same gradient).
 *
 * <p>It is deliberately not fused: every step materialises a temporary, and {@link #lossFromLogits} holds
 * several {@code [N, V]} tensors ({@code logits / T}, {@code log_softmax}, and their gradients in the
 * backward pass), which is the memory cost the fused logits kernel avoids.
 *
 * <pre>{@code
 * try (PointerScope scope = new PointerScope()) {      // frees every tensor of the step
 *     logp.requires_grad_(true);
 *     Tensor loss = PolicyLossTorch.loss(PolicyLossConfig.spo(), seqOffsets, logp, oldLogp, refLogp,
 *             advantages, valid);
 *     loss.backward();                                   // logp.grad() = d loss / d logp
 * }
 * }</pre>
 *
 * <p>Semantics are those of {@code spo4j_api.h}, with two differences that only matter for odd inputs:
 * sums run in float32 (the kernels accumulate in double, so results agree to float rounding), and the
 * logits entry reads every row, so the logits of invalid tokens must be finite (their gradient rows are
 * exactly 0). Values of tokens that are not kept are replaced by 0 before any arithmetic, so NaN or
 * infinite values there reach neither the loss nor the gradient. Works on CPU and CUDA tensors alike
 * (all on one device; {@code seqOffsets} may stay on the CPU).
 *
 * <p>Every call opens its own {@link PointerScope} for the intermediate handles; the returned loss is
 * handed to the caller's innermost scope (or to the garbage collector when there is none). The autograd
 * graph keeps what the backward pass needs.
 *
 * <p>A test fixture: it lives in the library's tests, not in its jar, and reaches the benchmarks through the
 * library's test jar.
 */
@SuppressWarnings("try") // PointerScope is opened for its effect: it frees what is created inside
public final class PolicyLossTorch {
    private PolicyLossTorch() {}

    /**
     * The per-token entry: the scalar loss, differentiable with respect to {@code logp}.
     *
     * @param config     the loss configuration
     * @param seqOffsets int32 (or int64) [B+1] sequence starts, 0 first and N last; null for one sequence
     * @param logp       float32, N elements (any shape): log π_θ, usually with {@code requires_grad}
     * @param oldLogp    float32, N elements: log π_old
     * @param refLogp    float32, N elements, or null (then β must be 0)
     * @param advantages float32, N elements
     * @param valid      bool (or uint8), N elements, or null for all valid
     * @return a float32 scalar tensor
     */
    public static Tensor loss(
            PolicyLossConfig config,
            Tensor seqOffsets,
            Tensor logp,
            Tensor oldLogp,
            Tensor refLogp,
            Tensor advantages,
            Tensor valid) {
        Checks.notNull(logp, "logp");
        Checks.notNull(oldLogp, "oldLogp");
        Checks.notNull(advantages, "advantages");
        Checks.notNull(config, "config");
        Checks.require(config.beta() == 0 || refLogp != null, "refLogp is required when beta > 0");
        long n = logp.numel();
        sameSize(oldLogp, n, "oldLogp");
        sameSize(advantages, n, "advantages");
        if (refLogp != null) sameSize(refLogp, n, "refLogp");
        if (valid != null) sameSize(valid, n, "valid");
        PointerScope outer = PointerScope.getInnerScope();
        Tensor loss;
        try (PointerScope scope = new PointerScope()) {
            loss = compose(
                    config,
                    seqOffsets,
                    logp.reshape(-1),
                    oldLogp.reshape(-1),
                    refLogp == null ? null : refLogp.reshape(-1),
                    advantages.reshape(-1),
                    valid == null ? null : valid.reshape(-1));
            loss.retainReference(); // outlives this scope's close
        }
        return handOver(loss, outer);
    }

    /**
     * The logits entry: {@code logp = log_softmax(logits / T, -1).gather(-1, targets)}, then {@link #loss}.
     * The scalar loss is differentiable with respect to {@code logits}.
     *
     * @param logits      float32 [..., V] (N = numel / V rows), usually with {@code requires_grad}
     * @param targets     int64 (or int32), N elements; in [0, V) where valid (others are replaced by 0)
     * @param temperature T &gt; 0
     * @see #loss for the other arguments
     */
    public static Tensor lossFromLogits(
            PolicyLossConfig config,
            Tensor seqOffsets,
            Tensor logits,
            Tensor targets,
            float temperature,
            Tensor oldLogp,
            Tensor refLogp,
            Tensor advantages,
            Tensor valid) {
        Checks.notNull(logits, "logits");
        Checks.notNull(targets, "targets");
        Checks.temperature(temperature);
        Checks.require(logits.dim() >= 1 && logits.size(-1) > 0, "logits must be [..., V] with V > 0");
        long n = logits.numel() / logits.size(-1);
        sameSize(targets, n, "targets");
        if (valid != null) sameSize(valid, n, "valid");
        PointerScope outer = PointerScope.getInnerScope();
        Tensor loss;
        try (PointerScope scope = new PointerScope()) {
            Tensor tg = targets.reshape(-1).to(ScalarType.Long);
            // Targets of invalid tokens may be anything (e.g. -100): point them at column 0 so gather works.
            if (valid != null) tg = torch.where(asBool(valid.reshape(-1)), tg, new Scalar(0L));
            Tensor logp = logprobs(logits, tg, temperature);
            loss = loss(config, seqOffsets, logp, oldLogp, refLogp, advantages, valid);
            loss.retainReference(); // outlives this scope's close
        }
        return handOver(loss, outer);
    }

    /**
     * Log-probabilities of the targets, {@code log_softmax(logits / T, -1).gather(-1, targets)}, as [N]
     * (differentiable; materialises [N, V] temporaries). The caller's scope owns the result.
     *
     * @param logits  float [..., V]
     * @param targets int64, N elements, each in [0, V)
     */
    public static Tensor logprobs(Tensor logits, Tensor targets, float temperature) {
        Checks.temperature(temperature);
        long v = logits.size(-1);
        Tensor rows = logits.reshape(-1, v);
        return torch.log_softmax(rows.div(new Scalar(temperature)), -1)
                .gather(-1, targets.reshape(-1, 1).to(ScalarType.Long))
                .squeeze(-1);
    }

    /**
     * The sequence index of every token, int64 [N] on the device of {@code like}: {@code repeat_interleave} of
     * the sequence lengths {@code seqOffsets[b+1] - seqOffsets[b]} (all zeros when seqOffsets is null).
     * Checks that the offsets start at 0, do not decrease and end at N.
     */
    public static Tensor sequenceIds(Tensor seqOffsets, long n, Tensor like) {
        if (seqOffsets == null) return like.new_zeros(new long[] {n}, new TensorOptions(ScalarType.Long));
        Checks.require(
                seqOffsets.dim() == 1 && seqOffsets.numel() >= 1, "seqOffsets must be 1-D with B+1 >= 1 entries");
        long b = seqOffsets.numel() - 1;
        Tensor offs = seqOffsets.to(ScalarType.Long);
        Checks.require(offs.select(0, 0).item_long() == 0, "seqOffsets[0] must be 0");
        Checks.require(offs.select(0, b).item_long() == n, "seqOffsets[B] must equal N = " + n);
        Tensor lengths = offs.narrow(0, 1, b).sub(offs.narrow(0, 0, b));
        Checks.require(b == 0 || lengths.min().item_long() >= 0, "seqOffsets must be non-decreasing");
        return torch.repeat_interleave(lengths).to(like.device(), ScalarType.Long);
    }

    // ---- the loss, step by step (all tensors 1-D [N]) ----------------------------------------------

    private static Tensor compose(
            PolicyLossConfig c,
            Tensor seqOffsets,
            Tensor logp,
            Tensor oldLogp,
            Tensor refLogp,
            Tensor advantages,
            Tensor valid) {
        long n = logp.numel();
        long b = seqOffsets == null ? 1 : seqOffsets.numel() - 1;
        Tensor seqIds = sequenceIds(seqOffsets, n, logp);

        // kept = valid ∧ (ρ = 1 ∨ oldLogp < log ρ); compared in double, as the kernels do.
        Tensor kept = valid == null ? logp.new_ones(new long[] {n}, new TensorOptions(ScalarType.Bool)) : asBool(valid);
        if (c.rho() < 1f) kept = kept.logical_and(oldLogp.to(ScalarType.Double).lt(new Scalar(Math.log(c.rho()))));
        Tensor numKept = kept.sum().to(ScalarType.Float);

        // Zero what is not kept, before any exp: masked garbage cannot reach the loss or the gradient
        // (torch.where sends a zero gradient to the branch it does not take).
        logp = masked(kept, logp);
        oldLogp = masked(kept, oldLogp);
        refLogp = refLogp == null ? null : masked(kept, refLogp);
        Tensor adv = masked(kept, advantages);

        // Â = (A − μ) / sqrt(σ² + ε), μ and the Bessel σ² over kept tokens (σ² = 0 for fewer than two).
        if (c.whiten()) {
            Tensor mean = adv.sum().div(numKept.clamp_min(new Scalar(1f)));
            Tensor centered = masked(kept, adv.sub(mean));
            Tensor variance =
                    centered.square().sum().div(numKept.sub(new Scalar(1f)).clamp_min(new Scalar(1f)));
            adv = centered.div(variance.add(new Scalar(c.whitenEps())).sqrt());
        }

        // r = exp(clamp(logp − oldLogp, ±C));  pg = max(−Â r, −Â clip(r, 1 − ε_low, 1 + ε_high)).
        Tensor ratio =
                clamp(logp.sub(oldLogp), -c.logRatioClamp(), c.logRatioClamp()).exp();
        Tensor negAdv = adv.neg();
        Tensor pg = torch.maximum(negAdv.mul(ratio), negAdv.mul(clamp(ratio, 1f - c.epsLow(), 1f + c.epsHigh())));
        // Dual clip: for Â < 0 the loss is at most −Â·c.
        if (c.dualClipC() > 0f) {
            pg = torch.where(adv.lt(new Scalar(0f)), torch.minimum(pg, negAdv.mul(new Scalar(c.dualClipC()))), pg);
        }
        Tensor loss = aggregate(pg, kept, numKept, seqIds, b, c.pgAggregation(), c.pgNorm());

        // Δ = clamp(refLogp − logp, ±C_kl);  k1 = −Δ, k2 = Δ²/2, k3 = e^Δ − Δ − 1.
        if (refLogp != null) {
            Tensor delta = clamp(refLogp.sub(logp), -c.klClamp(), c.klClamp());
            Tensor kl = switch (c.klEstimator()) {
                case K1 -> delta.neg();
                case K2 -> delta.square().mul(new Scalar(0.5f));
                case K3 -> delta.exp().sub(delta).sub(new Scalar(1f));
            };
            Tensor klLoss = aggregate(kl, kept, numKept, seqIds, b, c.klAggregation(), c.klNorm());
            loss = loss.add(klLoss.mul(new Scalar(c.beta())));
        }

        // Skip: a batch whose kept tokens' mean ratio exceeds the threshold contributes loss·0.
        if (c.maxMeanRatio() > 0f) {
            double ratioSum = masked(kept, ratio.detach())
                    .sum(new ScalarTypeOptional(ScalarType.Double))
                    .item_double();
            double keptCount = numKept.item_double();
            double meanRatio = keptCount > 0 ? ratioSum / keptCount : 0;
            if (meanRatio > c.maxMeanRatio()) loss = loss.mul(new Scalar(0f));
        }
        return loss;
    }

    /** Gives a tensor retained past its scope to the caller's scope, which then alone owns it. */
    private static Tensor handOver(Tensor t, PointerScope outer) {
        if (outer != null) {
            outer.attach(t); // the outer scope's reference
            t.releaseReference(); // drop ours
        }
        return t; // without an outer scope, the garbage collector frees it
    }

    /** Reduces per-token terms of kept tokens to a scalar; seq-mean modes average over all B sequences. */
    private static Tensor aggregate(
            Tensor perToken, Tensor kept, Tensor numKept, Tensor seqIds, long b, Aggregation mode, float norm) {
        Tensor x = masked(kept, perToken);
        Scalar numSeqs = new Scalar((float) Math.max(b, 1));
        return switch (mode) {
            case TOKEN_MEAN -> x.sum().div(numKept.clamp_min(new Scalar(1f)));
            case SEQ_MEAN_TOKEN_SUM -> perSequenceSum(x, seqIds, b).sum().div(numSeqs);
            case SEQ_MEAN_TOKEN_MEAN -> {
                Tensor seqKept = perSequenceSum(kept.to(ScalarType.Float), seqIds, b);
                yield perSequenceSum(x, seqIds, b)
                        .div(seqKept.clamp_min(new Scalar(1f)))
                        .sum()
                        .div(numSeqs);
            }
            case CONSTANT_NORM -> x.sum().div(new Scalar(norm));
        };
    }

    /** [B] sums of a per-token [N] tensor: zeros(B).index_add(0, seqIds, x). */
    private static Tensor perSequenceSum(Tensor x, Tensor seqIds, long b) {
        return x.new_zeros(b).index_add(0, seqIds, x);
    }

    private static Tensor masked(Tensor kept, Tensor x) {
        return torch.where(kept, x, new Scalar(0f));
    }

    private static Tensor clamp(Tensor x, float lo, float hi) {
        return x.clamp(new ScalarOptional(new Scalar(lo)), new ScalarOptional(new Scalar(hi)));
    }

    private static Tensor asBool(Tensor valid) {
        return valid.scalar_type().intern() == ScalarType.Bool ? valid : valid.ne(new Scalar(0));
    }

    private static void sameSize(Tensor t, long n, String name) {
        Checks.require(t.numel() == n, name + " has " + t.numel() + " elements, expected " + n);
    }
}
