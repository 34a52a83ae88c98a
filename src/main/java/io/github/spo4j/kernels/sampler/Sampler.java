package io.github.spo4j.kernels.sampler;

import io.github.spo4j.kernels.Backend;
import io.github.spo4j.kernels.DType;
import io.github.spo4j.kernels.engine.Checks;
import io.github.spo4j.kernels.engine.KernelCall;
import io.github.spo4j.kernels.engine.KernelCall.Arg;
import io.github.spo4j.kernels.engine.TensorArg;
import io.github.spo4j.kernels.nativebind.Spo4jNative;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Seeded token sampling (temperature, top-k, top-p, greedy) over logits [B, V], one token per row, on one
 * {@link Backend}. A row's token depends only on its logits, the config, the seed, its sequence id and its
 * position (a Philox counter), never on the other rows of the batch or their order; the reference, CPU and
 * CUDA backends draw the same tokens. The math is on {@link SamplerReference}.
 *
 * <p>Three input forms: Java arrays (checked here); JavaCPP pointers (zero copy; host memory for
 * {@link Backend#CPU} and {@link Backend#REFERENCE}, device memory for {@link Backend#CUDA}; F32 or BF16
 * logits); libtorch {@link Tensor}s (zero copy; dtype, device and shape checked). The logits of pointer and
 * tensor inputs are checked by the native code in a read-only pass: a NaN, an infinity, or an overflow of
 * logit / T is an {@link IllegalArgumentException} naming the row and column, and nothing is written.
 *
 * <pre>{@code
 * SamplerConfig c = SamplerConfig.builder().temperature(0.7f).topP(0.95f).seed(42).build();
 * SampleResult r = Sampler.create().sample(c, logits, vocab, seqIds, positions);
 * int token = r.tokens()[row];  float piOld = r.logprobs()[row];
 * }</pre>
 *
 * <p>Instances are immutable and thread-safe.
 */
public final class Sampler {
    private final Backend backend;

    private Sampler(Backend backend) {
        this.backend = backend;
    }

    /** On {@link Backend#auto()}. */
    public static Sampler create() {
        return new Sampler(Backend.auto());
    }

    /** On the given backend; throws {@link IllegalStateException} if it cannot run here. */
    public static Sampler create(Backend backend) {
        Checks.notNull(backend, "backend");
        return new Sampler(backend.requireAvailable());
    }

    public Backend backend() {
        return backend;
    }

    /**
     * One token per row of Java arrays.
     *
     * @param logits    [B, V] row-major; every logit / T finite
     * @param vocab     V in [1, 2^19)
     * @param seqIds    [B] the sequence of each row (the generator's counter)
     * @param positions [B] the position of each row's token in its sequence (the generator's counter)
     */
    public SampleResult sample(SamplerConfig config, float[] logits, int vocab, long[] seqIds, int[] positions) {
        checkArrays(config, logits, vocab, seqIds, positions);
        if (backend == Backend.REFERENCE) return SamplerReference.sample(config, logits, vocab, seqIds, positions);
        int b = seqIds.length;
        int[] tokens = new int[b];
        float[] logprobs = new float[b];
        if (b == 0) return new SampleResult(tokens, logprobs);
        try (KernelCall c = new KernelCall(backend)) {
            sample(
                    c,
                    config,
                    b,
                    vocab,
                    c.host(logits),
                    DType.F32,
                    c.host(seqIds),
                    c.host(positions),
                    c.hostOut(tokens),
                    c.hostOut(logprobs));
        }
        return new SampleResult(tokens, logprobs);
    }

    /**
     * One token per row over JavaCPP pointers, without copies (host memory for CPU and REFERENCE, device
     * memory for CUDA). Pointers are read from their position.
     *
     * @param numRows     B
     * @param vocab       V in [1, 2^19)
     * @param logits      [B, V] of logitsDtype (F32 or BF16)
     * @param seqIds      [B] int64
     * @param positions   [B] int32
     * @param tokens      [B] int32 output
     * @param logprobs    [B] float output, or null
     */
    public void sample(
            SamplerConfig config,
            long numRows,
            long vocab,
            Pointer logits,
            DType logitsDtype,
            LongPointer seqIds,
            IntPointer positions,
            IntPointer tokens,
            FloatPointer logprobs) {
        try (KernelCall c = new KernelCall(backend)) {
            sample(c, config, numRows, vocab, logits, logitsDtype, seqIds, positions, tokens, logprobs);
        }
    }

    /**
     * One token per row over libtorch tensors on this backend's device, zero copy (inputs that are not
     * contiguous are copied; outputs must be contiguous).
     *
     * @param logits    float32 or bfloat16 [B, V]
     * @param seqIds    int64 [B]
     * @param positions int32 [B]
     * @param tokens    int32 [B] output
     * @param logprobs  float32 [B] output, or null
     */
    public void sample(
            SamplerConfig config, Tensor logits, Tensor seqIds, Tensor positions, Tensor tokens, Tensor logprobs) {
        Checks.notNull(logits, "logits");
        Checks.require(logits.dim() == 2, "logits must be 2-D [B, V], got " + logits.dim() + " dimensions");
        long b = logits.size(0), vocab = logits.size(1);
        try (KernelCall c = new KernelCall(backend)) {
            TensorArg lg = c.tensor("logits", logits, b * vocab, ScalarType.Float, ScalarType.BFloat16);
            LongPointer ids = c.tensor("seqIds", seqIds, b, ScalarType.Long).asLongs();
            IntPointer pos = c.tensor("positions", positions, b, ScalarType.Int).asInts();
            IntPointer tok = c.tensorOut("tokens", tokens, b, ScalarType.Int).asInts();
            FloatPointer lp =
                    c.tensorOut("logprobs", logprobs, b, ScalarType.Float).asFloats();
            Checks.notNull(seqIds, "seqIds");
            Checks.notNull(positions, "positions");
            Checks.notNull(tokens, "tokens");
            sample(c, config, b, vocab, lg.pointer(), lg.dtype(), ids, pos, tok, lp);
        }
    }

    /** Every form: the op's checks, its arguments, then the reference or the native kernel. */
    private void sample(
            KernelCall c,
            SamplerConfig config,
            long b,
            long vocab,
            Pointer logits,
            DType logitsDtype,
            LongPointer seqIds,
            IntPointer positions,
            IntPointer tokens,
            FloatPointer logprobs) {
        Checks.notNull(config, "config");
        Checks.notNull(logitsDtype, "logitsDtype");
        Checks.require(b >= 0, "numRows must be >= 0, got " + b);
        checkVocab(vocab);
        Checks.require(b <= Long.MAX_VALUE / vocab, "B x V overflows: B = " + b + ", V = " + vocab);
        Checks.require(
                logitsDtype == DType.F32 || logitsDtype == DType.BF16,
                "logitsDtype must be F32 or BF16, got " + logitsDtype);
        if (b > 0) {
            Checks.notNull(logits, "logits");
            Checks.notNull(seqIds, "seqIds");
            Checks.notNull(positions, "positions");
            Checks.notNull(tokens, "tokens");
        }
        Arg lg = c.in("logits", logits, logitsDtype, b * vocab);
        Arg ids = c.in("seqIds", seqIds, b);
        Arg pos = c.in("positions", positions, b);
        Arg tok = c.out("tokens", tokens, b);
        Arg lp = c.out("logprobs", logprobs, b);
        if (b == 0) return;
        if (c.reference()) {
            Checks.require(b * vocab <= Integer.MAX_VALUE, "the reference backend holds at most 2^31 - 1 logits");
            SampleResult r =
                    SamplerReference.sample(config, lg.readFloats(), (int) vocab, ids.readLongs(), pos.readInts());
            tok.write(r.tokens());
            lp.write(r.logprobs());
            return;
        }
        c.run(() -> Spo4jNative.spo4j_sampler_sample(
                c.device(),
                b,
                vocab,
                lg.pointer(),
                logitsDtype.code,
                ids.asLongs(),
                pos.asInts(),
                config.temperature(),
                config.topK(),
                config.topP(),
                config.greedy() ? 1 : 0,
                config.seed(),
                tok.asInts(),
                lp.asFloats(),
                c.stream()));
    }

    private static void checkVocab(long vocab) {
        Checks.require(
                vocab >= 1 && vocab <= SamplerReference.MAX_VOCAB,
                "vocab must be in [1, 2^19 - 1 = " + SamplerReference.MAX_VOCAB + "], got " + vocab);
    }

    /** The checks of the array entries (shared with {@link SamplerReference}). */
    static void checkArrays(SamplerConfig config, float[] logits, int vocab, long[] seqIds, int[] positions) {
        Checks.notNull(config, "config");
        Checks.notNull(logits, "logits");
        Checks.notNull(seqIds, "seqIds");
        Checks.notNull(positions, "positions");
        checkVocab(vocab);
        int b = seqIds.length;
        Checks.length(positions.length, b, "positions");
        Checks.length(logits.length, (long) b * vocab, "logits (B × V, B = seqIds.length = " + b + ")");
        float t = config.temperature();
        for (int i = 0; i < logits.length; i++) {
            float l = logits[i];
            if (Float.isFinite(l / t)) continue;
            int r = i / vocab, c = i % vocab;
            if (!Float.isFinite(l)) {
                throw new IllegalArgumentException(
                        "logits[" + r + ", " + c + "] = " + l + " is not finite (row " + r + ", column " + c + ")");
            }
            throw new IllegalArgumentException("logits[" + r + ", " + c + "] = " + l
                    + " overflows float when divided by temperature " + t + " (row " + r + ", column " + c + ")");
        }
    }
}
