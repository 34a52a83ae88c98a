package io.github.spo4j.kernels.nativebind;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Name;
import org.bytedeco.javacpp.annotation.Platform;
import org.bytedeco.javacpp.annotation.Properties;

/**
 * The JavaCPP binding of {@code spo4j_api.h}, one-to-one with the C functions. Call it through the
 * {@code io.github.spo4j.kernels} facades, which check every argument first and turn status codes into
 * exceptions; nothing here checks anything.
 */
@Properties(value = @Platform(include = "spo4j_api.h", link = "spo4j", compiler = "cpp17"))
public final class Spo4jNative {
    static {
        Loader.load();
    }

    private Spo4jNative() {}

    public static final int SPO4J_OK = 0;
    public static final int SPO4J_ERR_INVALID_ARGUMENT = 1;
    public static final int SPO4J_ERR_UNAVAILABLE = 2;
    public static final int SPO4J_ERR_CUDA = 3;
    public static final int SPO4J_ERR_OUT_OF_MEMORY = 4;
    public static final int SPO4J_ERR_INTERNAL = 5;

    public static final int SPO4J_DEVICE_CPU = 0;
    public static final int SPO4J_DEVICE_CUDA = 1;

    public static final int SPO4J_DTYPE_F32 = 0;
    public static final int SPO4J_DTYPE_BF16 = 1;
    public static final int SPO4J_DTYPE_I32 = 2;
    public static final int SPO4J_DTYPE_I64 = 3;

    public static final int SPO4J_PL_NUM_STATS = 14;

    /** {@code spo4j_policy_loss_config}. */
    @Name("spo4j_policy_loss_config")
    public static final class PolicyLossConfigStruct extends Pointer {
        static {
            Loader.load();
        }

        public PolicyLossConfigStruct() {
            super((Pointer) null);
            allocate();
        }

        private native void allocate();

        public native float eps_low(); public native PolicyLossConfigStruct eps_low(float v);
        public native float eps_high(); public native PolicyLossConfigStruct eps_high(float v);
        public native float dual_clip_c(); public native PolicyLossConfigStruct dual_clip_c(float v);
        public native float rho(); public native PolicyLossConfigStruct rho(float v);
        public native float log_ratio_clamp(); public native PolicyLossConfigStruct log_ratio_clamp(float v);
        public native int whiten(); public native PolicyLossConfigStruct whiten(int v);
        public native float whiten_eps(); public native PolicyLossConfigStruct whiten_eps(float v);
        public native float beta(); public native PolicyLossConfigStruct beta(float v);
        public native int kl_estimator(); public native PolicyLossConfigStruct kl_estimator(int v);
        public native float kl_clamp(); public native PolicyLossConfigStruct kl_clamp(float v);
        public native int pg_agg(); public native PolicyLossConfigStruct pg_agg(int v);
        public native int kl_agg(); public native PolicyLossConfigStruct kl_agg(int v);
        public native float pg_norm(); public native PolicyLossConfigStruct pg_norm(float v);
        public native float kl_norm(); public native PolicyLossConfigStruct kl_norm(float v);
        public native float max_mean_ratio(); public native PolicyLossConfigStruct max_mean_ratio(float v);
    }

    public static native @Cast("const char*") BytePointer spo4j_last_error();

    public static native int spo4j_api_version();

    public static native int spo4j_built_with_cuda();

    public static native int spo4j_cuda_device_count(IntPointer count);

    public static native int spo4j_set_num_threads(int numThreads);

    public static native int spo4j_get_num_threads();

    public static final int SPO4J_ISA_BASELINE = 0;
    public static final int SPO4J_ISA_AVX2 = 1;
    public static final int SPO4J_ISA_AVX512 = 2;

    public static native int spo4j_set_max_cpu_isa(int maxIsa);

    public static native int spo4j_cpu_isa();

    public static native int spo4j_cuda_malloc(PointerPointer<?> ptr, @Cast("size_t") long bytes);

    public static native int spo4j_cuda_free(Pointer ptr);

    public static native int spo4j_cuda_memcpy(Pointer dst, @Cast("const void*") Pointer src,
            @Cast("size_t") long bytes, int kind);

    public static native int spo4j_policy_loss_tokens(int device, @Cast("int64_t") long n, int b,
            @Cast("const int32_t*") IntPointer seqOffsets, @Cast("const float*") FloatPointer logp,
            @Cast("const float*") FloatPointer oldLogp, @Cast("const float*") FloatPointer refLogp,
            @Cast("const float*") FloatPointer advantages, @Cast("const uint8_t*") BytePointer valid,
            @Cast("const spo4j_policy_loss_config*") PolicyLossConfigStruct config,
            FloatPointer gradLogp, DoublePointer stats, Pointer stream);

    public static native int spo4j_policy_loss_logits(int device, @Cast("int64_t") long n,
            @Cast("int64_t") long v, int b, @Cast("const int32_t*") IntPointer seqOffsets,
            @Cast("const void*") Pointer logits, int logitsDtype, @Cast("const void*") Pointer targets,
            int targetsDtype, float temperature, @Cast("const float*") FloatPointer oldLogp,
            @Cast("const float*") FloatPointer refLogp, @Cast("const float*") FloatPointer advantages,
            @Cast("const uint8_t*") BytePointer valid,
            @Cast("const spo4j_policy_loss_config*") PolicyLossConfigStruct config, Pointer gradLogits,
            FloatPointer logpOut, FloatPointer entropyOut, DoublePointer stats, Pointer stream);

    public static native int spo4j_policy_loss_token_logprobs(int device, @Cast("int64_t") long n, @Cast("int64_t") long v,
            @Cast("const void*") Pointer logits, int logitsDtype, @Cast("const void*") Pointer targets,
            int targetsDtype, float temperature, FloatPointer logpOut, FloatPointer entropyOut, Pointer stream);

    public static native int spo4j_policy_loss_token_logprobs_backward(int device, @Cast("int64_t") long n,
            @Cast("int64_t") long v, @Cast("const void*") Pointer logits, int logitsDtype,
            @Cast("const void*") Pointer targets, int targetsDtype, float temperature,
            @Cast("const float*") FloatPointer gradLogp, Pointer gradLogits, Pointer stream);

    public static native int spo4j_tree_backup(int device, @Cast("int64_t") long numNodes, int numTrees,
            @Cast("const int32_t*") IntPointer treeOffsets, @Cast("const int32_t*") IntPointer parent,
            @Cast("const float*") FloatPointer leafReward, @Cast("const float*") FloatPointer weight, int valueMode,
            int advantageMode, float stdEps, FloatPointer value, FloatPointer advantage,
            @Cast("int32_t*") IntPointer childCount, @Cast("int32_t*") IntPointer depth, FloatPointer rootValue,
            @Cast("int32_t*") IntPointer nonzeroAdvantages, Pointer stream);

    public static native int spo4j_kv_cache_write(int device, FloatPointer cache, int numLayers, int numBlocks,
            int blockSize, int kvHeads, int headDim, int layer, @Cast("int64_t") long numTokens,
            @Cast("const int32_t*") IntPointer slots, @Cast("const float*") FloatPointer k,
            @Cast("const float*") FloatPointer v, Pointer stream);

    public static native int spo4j_kv_cache_copy_blocks(int device, FloatPointer cache, int numLayers, int numBlocks,
            int blockSize, int kvHeads, int headDim, int numCopies, @Cast("const int32_t*") IntPointer src,
            @Cast("const int32_t*") IntPointer dst, @Cast("const int32_t*") IntPointer slotsToCopy, Pointer stream);

    public static native int spo4j_prefix_attention(int device, @Cast("const float*") FloatPointer cache, int numLayers,
            int numBlocks, int blockSize, int kvHeads, int headDim, int layer, int qHeads, float scale, int numQueries,
            @Cast("const float*") FloatPointer q, @Cast("const int32_t*") IntPointer queryLimit, int numTables,
            @Cast("const int32_t*") IntPointer tableOffsets, @Cast("const int32_t*") IntPointer tableBlocks,
            int numParts, @Cast("const int32_t*") IntPointer partTable, @Cast("const int32_t*") IntPointer partBegin,
            @Cast("const int32_t*") IntPointer partEnd, @Cast("const int32_t*") IntPointer partQueryOffsets,
            @Cast("const int32_t*") IntPointer partQueries, @Cast("const int32_t*") IntPointer queryEntryOffsets,
            @Cast("const int32_t*") IntPointer queryEntries, FloatPointer out, FloatPointer lse, Pointer stream);

    public static native int spo4j_sampler_sample(int device, @Cast("int64_t") long b, @Cast("int64_t") long v,
            @Cast("const void*") Pointer logits, int logitsDtype, @Cast("const int64_t*") LongPointer seqIds,
            @Cast("const int32_t*") IntPointer positions, float temperature, int topK, float topP, int greedy,
            @Cast("uint64_t") long seed, @Cast("int32_t*") IntPointer tokens, FloatPointer logprobs, Pointer stream);

    public static native int spo4j_sampler_philox4x32_10(@Cast("const uint32_t*") IntPointer counter,
            @Cast("const uint32_t*") IntPointer key, @Cast("uint32_t*") IntPointer out);
}
