package io.github.spo4j.bench.loss;

import io.github.spo4j.bench.BenchSupport;
import io.github.spo4j.bench.QuickCase;
import io.github.spo4j.kernels.Backend;
import io.github.spo4j.kernels.DType;
import io.github.spo4j.kernels.loss.LogitsBatch;
import io.github.spo4j.kernels.loss.PolicyLoss;
import io.github.spo4j.kernels.loss.PolicyLossConfig;
import io.github.spo4j.kernels.loss.PolicyLossTorch;
import io.github.spo4j.kernels.loss.TokenBatch;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;

/**
 * The policy loss in the quick side-by-side: the per-token entry ({@code policy_loss.tokens}) and the logits entry
 * ({@code policy_loss.logits}), loss and gradient together. {@code reference} is the pure-Java entry on arrays,
 * {@code cpu} and {@code cuda} the native kernels through the zero-copy pointer entry (buffers made once),
 * {@code torch} {@link PolicyLossTorch} forward and autograd backward, the gradient zeroed before each run.
 */
@SuppressWarnings("try") // PointerScope is opened for its effect: it frees what is created inside
public final class PolicyLossQuick {
    private PolicyLossQuick() {}

    /** The per-token entry on {@code x}; 21 B per token (four floats and a flag read, the gradient written). */
    public static QuickCase tokens(PolicyLossConfig config, TokenBatch x) {
        return new TokenCase(config, x);
    }

    /** The logits entry on {@code x}; 8 B per logit (read once, its gradient written once). */
    public static QuickCase logits(PolicyLossConfig config, LogitsBatch x) {
        return new LogitsCase(config, x);
    }

    // ---- per-token entry ---------------------------------------------------------------------------

    private record TokenCase(PolicyLossConfig config, TokenBatch x) implements QuickCase {
        @Override
        public String kernel() {
            return "policy_loss.tokens";
        }

        @Override
        public String shape() {
            return "N=" + x.numTokens() + " B=" + x.numSeqs();
        }

        @Override
        public long bytes() {
            return 21L * x.numTokens();
        }

        @Override
        public Impl create(String impl) {
            return switch (impl) {
                case "reference" -> new TokensOnArrays(config, x, PolicyLoss.create(Backend.REFERENCE));
                case "cpu" -> new TokensOnPointers(config, x, false);
                case "cuda" -> new TokensOnPointers(config, x, true);
                case "torch" -> new TokensOnTorch(config, x);
                default -> throw new IllegalArgumentException(impl);
            };
        }
    }

    private static final class TokensOnArrays implements QuickCase.Impl {
        private final PolicyLossConfig config;
        private final TokenBatch x;
        private final PolicyLoss loss;
        private final float[] grad;

        TokensOnArrays(PolicyLossConfig config, TokenBatch x, PolicyLoss loss) {
            this.config = config;
            this.x = x;
            this.loss = loss;
            this.grad = new float[x.numTokens()];
        }

        @Override
        public double run() {
            return loss.tokens(config, x, grad).loss();
        }

        @Override
        public float[] gradient() {
            return grad;
        }

        @Override
        public void close() {}
    }

    /** The zero-copy pointer entry: host buffers for CPU, device buffers for CUDA, allocated once. */
    private static final class TokensOnPointers implements QuickCase.Impl {
        private final PolicyLossConfig config;
        private final PolicyLoss loss;
        private final int n, b;
        private final BenchSupport.Buffers buf;
        private final IntPointer offsets;
        private final FloatPointer logp, oldLogp, refLogp, advantages, grad;
        private final BytePointer valid;

        TokensOnPointers(PolicyLossConfig config, TokenBatch x, boolean cuda) {
            this.config = config;
            this.loss = PolicyLoss.create(cuda ? Backend.CUDA : Backend.CPU);
            this.n = x.numTokens();
            this.b = x.numSeqs();
            buf = new BenchSupport.Buffers(cuda);
            offsets = buf.ints(x.seqOffsets());
            logp = buf.floats(x.logp());
            oldLogp = buf.floats(x.oldLogp());
            refLogp = buf.floats(x.refLogp());
            advantages = buf.floats(x.advantages());
            valid = buf.bools(x.valid());
            grad = buf.floats((long) n);
        }

        @Override
        public double run() {
            return loss.tokens(config, n, b, offsets, logp, oldLogp, refLogp, advantages, valid, grad)
                    .loss();
        }

        @Override
        public float[] gradient() {
            return buf.read(grad, n);
        }

        @Override
        public void close() {
            buf.close();
        }
    }

    /** {@link PolicyLossTorch#loss}: forward, autograd backward, gradient zeroed before each run. */
    private static final class TokensOnTorch implements QuickCase.Impl {
        private final PolicyLossConfig config;
        private final Tensor offsets, logp, oldLogp, refLogp, advantages, valid;

        TokensOnTorch(PolicyLossConfig config, TokenBatch x) {
            this.config = config;
            offsets = BenchSupport.Tensors.ints(x.seqOffsets());
            logp = BenchSupport.Tensors.floats(x.logp());
            logp.requires_grad_(true);
            oldLogp = BenchSupport.Tensors.floats(x.oldLogp());
            refLogp = BenchSupport.Tensors.floats(x.refLogp());
            advantages = BenchSupport.Tensors.floats(x.advantages());
            valid = BenchSupport.Tensors.bools(x.valid());
        }

        @Override
        public double run() {
            BenchSupport.Tensors.zeroGrad(logp);
            try (PointerScope scope = new PointerScope()) {
                Tensor loss = PolicyLossTorch.loss(config, offsets, logp, oldLogp, refLogp, advantages, valid);
                loss.backward();
                return loss.item_double();
            }
        }

        @Override
        public float[] gradient() {
            try (PointerScope scope = new PointerScope()) {
                return BenchSupport.Tensors.toFloats(logp.grad());
            }
        }

        @Override
        public void close() {
            BenchSupport.Tensors.release(offsets, logp, oldLogp, refLogp, advantages, valid);
        }
    }

    // ---- logits entry ------------------------------------------------------------------------------

    private record LogitsCase(PolicyLossConfig config, LogitsBatch x) implements QuickCase {
        @Override
        public String kernel() {
            return "policy_loss.logits";
        }

        @Override
        public String shape() {
            return "N=" + x.numTokens() + " V=" + x.vocab();
        }

        @Override
        public long bytes() {
            return 8L * x.numTokens() * x.vocab();
        }

        @Override
        public Impl create(String impl) {
            return switch (impl) {
                case "reference" -> new LogitsOnArrays(config, x);
                case "cpu" -> new LogitsOnPointers(config, x, false);
                case "cuda" -> new LogitsOnPointers(config, x, true);
                case "torch" -> new LogitsOnTorch(config, x);
                default -> throw new IllegalArgumentException(impl);
            };
        }
    }

    private static final class LogitsOnArrays implements QuickCase.Impl {
        private final PolicyLossConfig config;
        private final LogitsBatch x;
        private final PolicyLoss loss = PolicyLoss.create(Backend.REFERENCE);
        private final float[] grad;

        LogitsOnArrays(PolicyLossConfig config, LogitsBatch x) {
            this.config = config;
            this.x = x;
            this.grad = new float[x.logits().length];
        }

        @Override
        public double run() {
            return loss.logits(config, x, grad, null, null).loss();
        }

        @Override
        public float[] gradient() {
            return grad;
        }

        @Override
        public void close() {}
    }

    private static final class LogitsOnPointers implements QuickCase.Impl {
        private final PolicyLossConfig config;
        private final PolicyLoss loss;
        private final int n, b;
        private final long v;
        private final float temperature;
        private final BenchSupport.Buffers buf;
        private final IntPointer offsets, targets;
        private final FloatPointer logits, oldLogp, refLogp, advantages, grad;
        private final BytePointer valid;

        LogitsOnPointers(PolicyLossConfig config, LogitsBatch x, boolean cuda) {
            this.config = config;
            this.loss = PolicyLoss.create(cuda ? Backend.CUDA : Backend.CPU);
            this.n = x.numTokens();
            this.v = x.vocab();
            this.b = x.seqOffsets().length - 1;
            this.temperature = x.temperature();
            buf = new BenchSupport.Buffers(cuda);
            offsets = buf.ints(x.seqOffsets());
            logits = buf.floats(x.logits());
            targets = buf.ints(x.targets());
            oldLogp = buf.floats(x.oldLogp());
            refLogp = buf.floats(x.refLogp());
            advantages = buf.floats(x.advantages());
            valid = buf.bools(x.valid());
            grad = buf.floats(n * v);
        }

        @Override
        public double run() {
            return loss.logits(
                            config,
                            n,
                            v,
                            b,
                            offsets,
                            logits,
                            DType.F32,
                            targets,
                            DType.I32,
                            temperature,
                            oldLogp,
                            refLogp,
                            advantages,
                            valid,
                            grad,
                            null,
                            null)
                    .loss();
        }

        @Override
        public float[] gradient() {
            return buf.read(grad, n * v);
        }

        @Override
        public void close() {
            buf.close();
        }
    }

    /** {@link PolicyLossTorch#lossFromLogits}: log_softmax / gather with [N, V] temporaries, autograd backward. */
    private static final class LogitsOnTorch implements QuickCase.Impl {
        private final PolicyLossConfig config;
        private final float temperature;
        private final Tensor offsets, logits, targets, oldLogp, refLogp, advantages, valid;

        LogitsOnTorch(PolicyLossConfig config, LogitsBatch x) {
            this.config = config;
            this.temperature = x.temperature();
            offsets = BenchSupport.Tensors.ints(x.seqOffsets());
            logits = BenchSupport.Tensors.floats(x.logits(), x.numTokens(), x.vocab());
            logits.requires_grad_(true);
            targets = BenchSupport.Tensors.longs(x.targets());
            oldLogp = BenchSupport.Tensors.floats(x.oldLogp());
            refLogp = BenchSupport.Tensors.floats(x.refLogp());
            advantages = BenchSupport.Tensors.floats(x.advantages());
            valid = BenchSupport.Tensors.bools(x.valid());
        }

        @Override
        public double run() {
            BenchSupport.Tensors.zeroGrad(logits);
            try (PointerScope scope = new PointerScope()) {
                Tensor loss = PolicyLossTorch.lossFromLogits(
                        config, offsets, logits, targets, temperature, oldLogp, refLogp, advantages, valid);
                loss.backward();
                return loss.item_double();
            }
        }

        @Override
        public float[] gradient() {
            try (PointerScope scope = new PointerScope()) {
                return BenchSupport.Tensors.toFloats(logits.grad());
            }
        }

        @Override
        public void close() {
            BenchSupport.Tensors.release(offsets, logits, targets, oldLogp, refLogp, advantages, valid);
        }
    }
}
