package io.github.spo4j.bench.attention;

import io.github.spo4j.bench.BenchSupport;
import io.github.spo4j.bench.QuickCase;
import io.github.spo4j.kernels.Backend;
import io.github.spo4j.kernels.attention.PrefixAttention;
import io.github.spo4j.kernels.attention.PrefixAttentionPlan;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Prefix attention in the quick side-by-side ({@code prefix_attention}): one decode step of one layer for branches
 * forked on a pool from one prompt ({@link PrefixAttentionBenchmark}'s scene), with the paged or the shared plan. Its
 * "gradient" is the outputs, its "loss" their sum. {@code reference}, {@code cpu} and {@code cuda} are
 * {@link PrefixAttention} on those backends, {@code torch} {@code scaled_dot_product_attention} on the prompt copied
 * into every branch.
 */
@SuppressWarnings("try") // PointerScope is opened for its effect: it frees what is created inside
public final class PrefixAttentionQuick {
    private PrefixAttentionQuick() {}

    /** One decode step; the bytes are the K/V read once (the prompt once, each branch's suffix once). */
    public static QuickCase decode(
            int prefix, int branches, int qHeads, int kvHeads, int headDim, boolean shared, long seed) {
        return new AttentionCase(prefix, branches, qHeads, kvHeads, headDim, shared, seed);
    }

    private record AttentionCase(
            int prefix, int branches, int qHeads, int kvHeads, int headDim, boolean shared, long seed)
            implements QuickCase {
        @Override
        public String kernel() {
            return "prefix_attention";
        }

        @Override
        public String shape() {
            return "P=" + prefix + " B=" + branches + (shared ? " shared" : " paged");
        }

        @Override
        public long bytes() {
            return 8L * (prefix + (long) branches * PrefixAttentionBenchmark.SUFFIX) * kvHeads * headDim;
        }

        @Override
        public Impl create(String impl) {
            boolean cuda = impl.equals("cuda");
            PrefixAttentionBenchmark.Scene scene = new PrefixAttentionBenchmark.Scene(
                    cuda ? Backend.CUDA : Backend.CPU, prefix, branches, qHeads, kvHeads, headDim, seed);
            if (impl.equals("torch")) return new AttentionOnTorch(scene.denseQkv());
            PrefixAttentionPlan plan = shared
                    ? PrefixAttentionPlan.decodeShared(scene.pool, scene.seqs, 0, PrefixAttention.MIN_SHARED_TOKENS)
                    : PrefixAttentionPlan.decode(scene.pool, scene.seqs, 0);
            PrefixAttention attention = PrefixAttention.create(
                    switch (impl) {
                        case "reference" -> Backend.REFERENCE;
                        case "cpu" -> Backend.CPU;
                        case "cuda" -> Backend.CUDA;
                        default -> throw new IllegalArgumentException(impl);
                    });
            float scale = PrefixAttention.defaultScale(headDim);
            return new Impl() {
                private float[] out;

                @Override
                public double run() {
                    out = attention.attend(scene.pool, 0, plan, qHeads, scale, scene.q, null);
                    return QuickCase.sum(out);
                }

                @Override
                public float[] gradient() {
                    return out;
                }

                @Override
                public void close() {
                    scene.close();
                }
            };
        }
    }

    /** {@code scaled_dot_product_attention} on dense per-branch K/V, the prompt copied into every branch. */
    private static final class AttentionOnTorch implements QuickCase.Impl {
        private final Tensor q, k, v;
        private float[] out;

        AttentionOnTorch(Tensor[] qkv) {
            q = qkv[0];
            k = qkv[1];
            v = qkv[2];
        }

        @Override
        public double run() {
            try (PointerScope scope = new PointerScope()) {
                out = BenchSupport.Tensors.toFloats(torch.scaled_dot_product_attention(q, k, v));
                return QuickCase.sum(out);
            }
        }

        @Override
        public float[] gradient() {
            return out;
        }

        @Override
        public void close() {
            BenchSupport.Tensors.release(q, k, v);
        }
    }
}
