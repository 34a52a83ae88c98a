package io.github.spo4j.kernels.sampler;

import io.github.spo4j.kernels.Backend;
import io.github.spo4j.kernels.engine.Checks;
import io.github.spo4j.kernels.engine.DType;
import io.github.spo4j.kernels.engine.DeviceMemory;
import io.github.spo4j.kernels.engine.NativeLibrary;
import io.github.spo4j.kernels.engine.Staging;
import io.github.spo4j.kernels.engine.TensorArg;
import io.github.spo4j.kernels.engine.TensorArgs;
import static io.github.spo4j.kernels.engine.NativeArrays.capacity;
import static io.github.spo4j.kernels.engine.NativeArrays.cast;
import static io.github.spo4j.kernels.engine.NativeArrays.toFloats;

import io.github.spo4j.kernels.nativebind.Spo4jNative;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerScope;
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
        try (PointerScope scope = new PointerScope()) {
            IntPointer tok = new IntPointer(b);
            FloatPointer lp = new FloatPointer(b);
            sample(config, b, vocab, new FloatPointer(logits), DType.F32, new LongPointer(seqIds),
                    new IntPointer(positions), tok, lp, true);
            tok.get(tokens);
            lp.get(logprobs);
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
    public void sample(SamplerConfig config, long numRows, long vocab, Pointer logits, DType logitsDtype,
            LongPointer seqIds, IntPointer positions, IntPointer tokens, FloatPointer logprobs) {
        sample(config, numRows, vocab, logits, logitsDtype, seqIds, positions, tokens, logprobs, false);
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
    public void sample(SamplerConfig config, Tensor logits, Tensor seqIds, Tensor positions, Tensor tokens,
            Tensor logprobs) {
        Checks.notNull(logits, "logits");
        Checks.require(logits.dim() == 2, "logits must be 2-D [B, V], got " + logits.dim() + " dimensions");
        long b = logits.size(0), vocab = logits.size(1);
        TensorArgs t = new TensorArgs(backend);
        try {
            TensorArg lg = t.in(logits, "logits", b * vocab, ScalarType.Float, ScalarType.BFloat16);
            LongPointer ids = cast(t.in(seqIds, "seqIds", b, ScalarType.Long).pointer(), LongPointer.class);
            IntPointer pos = t.in(positions, "positions", b, ScalarType.Int).asInts();
            IntPointer tok = t.out(tokens, "tokens", b, ScalarType.Int).asInts();
            FloatPointer lp = t.out(logprobs, "logprobs", b, ScalarType.Float).asFloats();
            Checks.notNull(seqIds, "seqIds");
            Checks.notNull(positions, "positions");
            Checks.notNull(tokens, "tokens");
            sample(config, b, vocab, lg.pointer(), lg.dtype(), ids, pos, tok, lp, false);
        } finally {
            t.release();
        }
    }

    private void sample(SamplerConfig config, long b, long vocab, Pointer logits, DType logitsDtype,
            LongPointer seqIds, IntPointer positions, IntPointer tokens, FloatPointer logprobs, boolean hostStaged) {
        Checks.notNull(config, "config");
        Checks.notNull(logitsDtype, "logitsDtype");
        Checks.require(b >= 0, "numRows must be >= 0, got " + b);
        checkVocab(vocab);
        Checks.require(b <= Long.MAX_VALUE / vocab, "B x V overflows: B = " + b + ", V = " + vocab);
        Checks.require(logitsDtype == DType.F32 || logitsDtype == DType.BF16,
                "logitsDtype must be F32 or BF16, got " + logitsDtype);
        if (b > 0) {
            Checks.notNull(logits, "logits");
            Checks.notNull(seqIds, "seqIds");
            Checks.notNull(positions, "positions");
            Checks.notNull(tokens, "tokens");
        }
        capacity(logits, b * vocab, "logits");
        capacity(seqIds, b, "seqIds");
        capacity(positions, b, "positions");
        capacity(tokens, b, "tokens");
        capacity(logprobs, b, "logprobs");
        if (b == 0) return;
        if (backend == Backend.REFERENCE) {
            Checks.require(b * vocab <= Integer.MAX_VALUE, "the reference backend holds at most 2^31 - 1 logits");
            long[] ids = new long[(int) b];
            int[] pos = new int[(int) b];
            seqIds.get(ids);
            positions.get(pos);
            SampleResult r = SamplerReference.sample(config, toFloats(logits, logitsDtype, b * vocab), (int) vocab,
                    ids, pos);
            tokens.put(r.tokens());
            if (logprobs != null) logprobs.put(r.logprobs());
            return;
        }
        if (backend == Backend.CUDA && hostStaged) {
            try (Staging s = new Staging()) {
                DeviceMemory tok = s.alloc(b * 4);
                DeviceMemory lp = logprobs != null ? s.alloc(b * 4) : null;
                call(config, b, vocab, s.in(logits, b * vocab * logitsDtype.bytes), logitsDtype, s.in(seqIds, b * 8),
                        s.in(positions, b * 4), tok.pointer(), DeviceMemory.pointerOf(lp));
                tok.copyTo(tokens);
                if (lp != null) lp.copyTo(logprobs);
                return;
            }
        }
        call(config, b, vocab, logits, logitsDtype, seqIds, positions, tokens, logprobs);
    }

    private void call(SamplerConfig c, long b, long vocab, Pointer logits, DType logitsDtype, Pointer seqIds,
            Pointer positions, Pointer tokens, Pointer logprobs) {
        int device = backend == Backend.CUDA ? Spo4jNative.SPO4J_DEVICE_CUDA : Spo4jNative.SPO4J_DEVICE_CPU;
        NativeLibrary.check(Spo4jNative.spo4j_sampler_sample(device, b, vocab, logits, logitsDtype.code,
                cast(seqIds, LongPointer.class), cast(positions, IntPointer.class), c.temperature(), c.topK(),
                c.topP(), c.greedy() ? 1 : 0, c.seed(), cast(tokens, IntPointer.class),
                cast(logprobs, FloatPointer.class), null));
    }

    private static void checkVocab(long vocab) {
        Checks.require(vocab >= 1 && vocab <= SamplerReference.MAX_VOCAB,
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
                throw new IllegalArgumentException("logits[" + r + ", " + c + "] = " + l + " is not finite (row " + r
                        + ", column " + c + ")");
            }
            throw new IllegalArgumentException("logits[" + r + ", " + c + "] = " + l
                    + " overflows float when divided by temperature " + t + " (row " + r + ", column " + c + ")");
        }
    }
}
