package io.github.spo4j.kernels.attention;

import static io.github.spo4j.kernels.engine.NativeArrays.cast;

import io.github.spo4j.kernels.Backend;
import io.github.spo4j.kernels.engine.Checks;
import io.github.spo4j.kernels.engine.KernelCall;
import io.github.spo4j.kernels.engine.KernelCall.Arg;
import io.github.spo4j.kernels.kv.KvCache;
import io.github.spo4j.kernels.kv.KvCacheConfig;
import io.github.spo4j.kernels.nativebind.Spo4jNative;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Grouped-query attention over a paged KV cache ({@link KvCache}'s layout), for decode, for causal
 * prefill over a cached prefix, and for many sequences that share a prefix: an {@link PrefixAttentionPlan} says
 * which positions each query reads, in parts; a part serving many queries reads its keys and values once for
 * all of them, and each query merges its parts by their log-sum-exp (Hydragen / FlashInfer cascade). The
 * result equals dense attention over each query's positions ({@link PrefixAttentionReference}).
 *
 * <pre>{@code
 * PrefixAttentionPlan plan = PrefixAttentionPlan.decodeShared(tables, lengths, blockSize, PrefixAttention.MIN_SHARED_TOKENS);
 * for (int layer = 0; layer < L; layer++) {
 *     pool.appendBatch(seqs, layer, k, v);
 *     attention.attend(pool, layer, plan, qHeads, scale, q, out, null);
 * }
 * }</pre>
 *
 * <p>Inputs: q [numQueries, qHeads, headDim] and out of the same shape, lse [numQueries, qHeads] (optional),
 * as Java arrays, JavaCPP pointers (host for CPU and REFERENCE, device for CUDA) or libtorch tensors. The
 * plan is checked against the cache's shape, and q for finite values, before the kernel runs; the cache's
 * values are not checked. Instances are immutable and thread-safe.
 */
public final class PrefixAttention {
    /**
     * The shortest run of positions that {@link PrefixAttentionPlan#decodeShared} should share, measured on the CPU
     * kernel with 36 branches (README, "Prefix attention"): sharing breaks even at 32 positions for a 6:1
     * grouped-query shape and wins from 64; below that the merge costs about what the saved reads gain.
     */
    public static final int MIN_SHARED_TOKENS = 64;

    private final Backend backend;

    private PrefixAttention(Backend backend) {
        this.backend = backend;
    }

    /** On {@link Backend#auto()}. */
    public static PrefixAttention create() {
        return new PrefixAttention(Backend.auto());
    }

    /** On the given backend; throws {@link IllegalStateException} if it cannot run here. */
    public static PrefixAttention create(Backend backend) {
        Checks.notNull(backend, "backend");
        return new PrefixAttention(backend.requireAvailable());
    }

    public Backend backend() {
        return backend;
    }

    /** 1 / sqrt(headDim), the usual softmax scale. */
    public static float defaultScale(int headDim) {
        return (float) (1.0 / Math.sqrt(headDim));
    }

    /**
     * Attention of host-array queries; returns out [numQueries, qHeads, headDim] and fills lse if given.
     * Works on every backend (CUDA stages q and out through device memory).
     *
     * @param layout the cache's shape
     * @param cache  the cache's storage: host memory for CPU and REFERENCE, device memory for CUDA
     */
    public float[] attend(
            KvCacheConfig layout,
            Pointer cache,
            int layer,
            PrefixAttentionPlan plan,
            int qHeads,
            float scale,
            float[] q,
            float[] lse) {
        Checks.notNull(q, "q");
        check(layout, cache, layer, plan, qHeads, scale);
        long rows = (long) plan.numQueries * qHeads;
        Checks.length(q.length, rows * layout.headDim(), "q");
        if (lse != null) Checks.length(lse.length, rows, "lse");
        for (int i = 0; i < q.length; i++) {
            if (!Float.isFinite(q[i])) {
                throw new IllegalArgumentException("q[" + i + "] is not finite (query "
                        + i / (qHeads * layout.headDim()) + ", head " + i / layout.headDim() % qHeads + ")");
            }
        }
        float[] out = new float[q.length];
        if (backend == Backend.REFERENCE) {
            reference(layout, cache, layer, plan, qHeads, scale, q, out, lse);
            return out;
        }
        try (KernelCall c = new KernelCall(backend)) {
            attend(c, layout, cache, layer, plan, qHeads, scale, c.host(q), c.hostOut(out), c.hostOut(lse));
        }
        return out;
    }

    /**
     * Attention over JavaCPP pointers, without copies: q and out [numQueries, qHeads, headDim], lse
     * [numQueries, qHeads] or null; host memory for CPU and REFERENCE, device memory for CUDA (where q's
     * finiteness is checked by the native code).
     */
    public void attend(
            KvCacheConfig layout,
            Pointer cache,
            int layer,
            PrefixAttentionPlan plan,
            int qHeads,
            float scale,
            FloatPointer q,
            FloatPointer out,
            FloatPointer lse) {
        check(layout, cache, layer, plan, qHeads, scale);
        if (plan.numQueries > 0) {
            Checks.notNull(q, "q");
            Checks.notNull(out, "out");
        }
        try (KernelCall c = new KernelCall(backend)) {
            attend(c, layout, cache, layer, plan, qHeads, scale, q, out, lse);
        }
    }

    /**
     * Attention over libtorch tensors on this backend's device: q and out [numQueries, qHeads, headDim] f32
     * (out contiguous), lse [numQueries, qHeads] f32 or null.
     */
    public void attend(
            KvCacheConfig layout,
            Pointer cache,
            int layer,
            PrefixAttentionPlan plan,
            float scale,
            Tensor q,
            Tensor out,
            Tensor lse) {
        Checks.notNull(q, "q");
        Checks.notNull(layout, "layout");
        Checks.notNull(plan, "plan");
        Checks.require(
                q.dim() == 3 && q.size(0) == plan.numQueries && q.size(2) == layout.headDim(),
                "q must be [numQueries = " + plan.numQueries + ", qHeads, headDim = " + layout.headDim() + "], got "
                        + java.util.Arrays.toString(q.sizes().vec().get()));
        int qHeads = (int) q.size(1);
        long rows = (long) plan.numQueries * qHeads;
        try (KernelCall c = new KernelCall(backend == Backend.REFERENCE ? Backend.CPU : backend)) {
            FloatPointer qp =
                    c.tensor("q", q, rows * layout.headDim(), ScalarType.Float).asFloats();
            FloatPointer op = c.tensorOut("out", out, rows * layout.headDim(), ScalarType.Float)
                    .asFloats();
            FloatPointer lp = c.tensorOut("lse", lse, rows, ScalarType.Float).asFloats();
            Checks.notNull(out, "out");
            attend(layout, cache, layer, plan, qHeads, scale, qp, op, lp);
        }
    }

    /** {@link #attend(KvCacheConfig, Pointer, int, PrefixAttentionPlan, int, float, float[], float[])} on a pool. */
    public float[] attend(
            KvCache pool, int layer, PrefixAttentionPlan plan, int qHeads, float scale, float[] q, float[] lse) {
        checkPool(pool);
        return attend(pool.config(), pool.storage(), layer, plan, qHeads, scale, q, lse);
    }

    /** {@link #attend(KvCacheConfig, Pointer, int, PrefixAttentionPlan, int, float, FloatPointer, FloatPointer, FloatPointer)} on a pool. */
    public void attend(
            KvCache pool,
            int layer,
            PrefixAttentionPlan plan,
            int qHeads,
            float scale,
            FloatPointer q,
            FloatPointer out,
            FloatPointer lse) {
        checkPool(pool);
        attend(pool.config(), pool.storage(), layer, plan, qHeads, scale, q, out, lse);
    }

    /** {@link #attend(KvCacheConfig, Pointer, int, PrefixAttentionPlan, float, Tensor, Tensor, Tensor)} on a pool. */
    public void attend(
            KvCache pool, int layer, PrefixAttentionPlan plan, float scale, Tensor q, Tensor out, Tensor lse) {
        checkPool(pool);
        attend(pool.config(), pool.storage(), layer, plan, scale, q, out, lse);
    }

    private void checkPool(KvCache pool) {
        Checks.notNull(pool, "pool");
        boolean poolOnDevice = pool.backend() == Backend.CUDA;
        Checks.require(
                poolOnDevice == (backend == Backend.CUDA),
                "the pool lives on " + pool.backend() + " memory but this attention runs on " + backend
                        + " (CUDA needs a CUDA pool, the others a host pool)");
    }

    private static void check(
            KvCacheConfig layout, Pointer cache, int layer, PrefixAttentionPlan plan, int qHeads, float scale) {
        Checks.notNull(layout, "layout");
        Checks.notNull(cache, "cache");
        Checks.notNull(plan, "plan");
        Checks.require(cache.address() != 0, "cache is null (a closed pool?)");
        Checks.require(
                layer >= 0 && layer < layout.numLayers(),
                "layer " + layer + " is outside [0, numLayers = " + layout.numLayers() + ")");
        Checks.require(
                qHeads >= 1 && qHeads % layout.kvHeads() == 0,
                "qHeads must be a positive multiple of kvHeads = " + layout.kvHeads() + ", got " + qHeads);
        Checks.require(layout.headDim() <= 256, "headDim must be <= 256, got " + layout.headDim());
        Checks.require(scale > 0 && Float.isFinite(scale), "scale must be finite and > 0, got " + scale);
        Checks.require(
                plan.blockSize == layout.blockSize(),
                "the plan was made for blocks of " + plan.blockSize + " positions but the cache's blocks hold "
                        + layout.blockSize());
        for (int i = 0; i < plan.tableBlocks.length; i++) {
            Checks.require(
                    plan.tableBlocks[i] < layout.numBlocks(),
                    "the plan reads block " + plan.tableBlocks[i] + " but the cache has " + layout.numBlocks()
                            + " blocks");
        }
    }

    /** The array and pointer forms, checked: q, out and lse, then the reference or the native kernel. */
    private void attend(
            KernelCall c,
            KvCacheConfig layout,
            Pointer cache,
            int layer,
            PrefixAttentionPlan plan,
            int qHeads,
            float scale,
            FloatPointer q,
            FloatPointer out,
            FloatPointer lse) {
        long rows = (long) plan.numQueries * qHeads;
        Arg qa = c.in("q", q, rows * layout.headDim());
        Arg o = c.out("out", out, rows * layout.headDim());
        Arg l = c.out("lse", lse, rows);
        if (c.reference()) {
            float[] lseValues = l.newFloats();
            o.write(attend(layout, cache, layer, plan, qHeads, scale, qa.readFloats(), lseValues));
            l.write(lseValues);
            return;
        }
        PrefixAttentionPlan.Native p = plan.nativeArrays();
        c.run(() -> Spo4jNative.spo4j_prefix_attention(
                c.device(),
                cast(cache, FloatPointer.class),
                layout.numLayers(),
                layout.numBlocks(),
                layout.blockSize(),
                layout.kvHeads(),
                layout.headDim(),
                layer,
                qHeads,
                scale,
                plan.numQueries,
                qa.asFloats(),
                p.queryLimit(),
                plan.tableOffsets.length - 1,
                p.tableOffsets(),
                p.tableBlocks(),
                plan.partTable.length,
                p.partTable(),
                p.partBegin(),
                p.partEnd(),
                p.partQueryOffsets(),
                p.partQueries(),
                p.queryEntryOffsets(),
                p.queryEntries(),
                o.asFloats(),
                l.asFloats(),
                c.stream()));
    }

    private static void reference(
            KvCacheConfig layout,
            Pointer cache,
            int layer,
            PrefixAttentionPlan plan,
            int qHeads,
            float scale,
            float[] q,
            float[] out,
            float[] lse) {
        FloatPointer base = cast(cache, FloatPointer.class);
        int d = layout.headDim();
        PrefixAttentionReference.attend(
                plan,
                qHeads,
                layout.kvHeads(),
                d,
                scale,
                (kv, block, slot, head, dst, off) -> {
                    long at = kv == 0
                            ? layout.kOffset(layer, block, slot, head)
                            : layout.vOffset(layer, block, slot, head);
                    for (int i = 0; i < d; i++) dst[off + i] = base.get(at + i);
                },
                q,
                out,
                lse);
    }
}
