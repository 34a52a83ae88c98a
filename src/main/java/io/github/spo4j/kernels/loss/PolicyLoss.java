package io.github.spo4j.kernels.loss;

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
import static io.github.spo4j.kernels.engine.NativeArrays.bytes;
import static io.github.spo4j.kernels.engine.NativeArrays.floats;
import static io.github.spo4j.kernels.engine.NativeArrays.ints;
import static io.github.spo4j.kernels.engine.NativeArrays.putFloats;
import static io.github.spo4j.kernels.engine.NativeArrays.toBooleans;
import static io.github.spo4j.kernels.engine.NativeArrays.toFloats;
import static io.github.spo4j.kernels.engine.NativeArrays.toInts;

import io.github.spo4j.kernels.nativebind.Spo4jNative;
import io.github.spo4j.kernels.nativebind.Spo4jNative.PolicyLossConfigStruct;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The fused masked clipped-ratio policy loss (forward and gradient in one call) on one {@link Backend}.
 * The math is on {@link PolicyLossConfig}; {@link PolicyLossReference} is the pure-Java oracle.
 *
 * <p>Three input forms, with the same checks: Java arrays (copied to native memory and back); JavaCPP
 * pointers (zero copy; host memory for {@link Backend#CPU} and {@link Backend#REFERENCE}, device memory
 * for {@link Backend#CUDA}); libtorch {@link Tensor}s (zero copy through {@code data_ptr}; dtype, device,
 * layout and contiguity checked). Bad arguments throw {@link IllegalArgumentException} naming the
 * argument before any output is written; values of pointer and tensor inputs are checked by the native
 * code in a read-only pass, with the same messages.
 *
 * <pre>{@code
 * PolicyLoss loss = PolicyLoss.create();                       // fastest available backend
 * float[] grad = new float[n];
 * PolicyLossStats s = loss.tokens(PolicyLossConfig.spo(),
 *         new TokenBatch(seqOffsets, logp, oldLogp, refLogp, advantages, valid), grad);
 * }</pre>
 *
 * <p>Instances are immutable and thread-safe.
 */
public final class PolicyLoss {
    private final Backend backend;

    private PolicyLoss(Backend backend) {
        this.backend = backend;
    }

    /** On {@link Backend#auto()}. */
    public static PolicyLoss create() {
        return new PolicyLoss(Backend.auto());
    }

    /** On the given backend; throws {@link IllegalStateException} if it cannot run here. */
    public static PolicyLoss create(Backend backend) {
        Checks.notNull(backend, "backend");
        return new PolicyLoss(backend.requireAvailable());
    }

    public Backend backend() {
        return backend;
    }

    // ---- Java arrays ------------------------------------------------------------------------------

    /**
     * Per-token entry over Java arrays.
     *
     * @param gradLogp [N] receives ∂loss/∂logp (0 where not kept), or null for the loss alone
     */
    public PolicyLossStats tokens(PolicyLossConfig config, TokenBatch batch, float[] gradLogp) {
        Checks.tokens(config, batch, gradLogp);
        if (backend == Backend.REFERENCE) return PolicyLossReference.tokens(config, batch, gradLogp);
        int n = batch.numTokens();
        try (PointerScope scope = new PointerScope()) {
            FloatPointer grad = gradLogp != null ? new FloatPointer(Math.max(n, 1)) : null;
            PolicyLossStats stats = tokens(config, n, batch.numSeqs(), ints(batch.seqOffsets()),
                    floats(batch.logp()), floats(batch.oldLogp()), floats(batch.refLogp()),
                    floats(batch.advantages()), bytes(batch.valid()), grad, true);
            if (grad != null) grad.get(gradLogp);
            return stats;
        }
    }

    /**
     * Logits entry over Java arrays.
     *
     * @param gradLogits [N, V] receives ∂loss/∂logits (rows of tokens not kept are 0), or null
     * @param logpOut    [N] receives log_softmax(logits / T)[target] (0 at invalid tokens), or null
     * @param entropyOut [N] receives the entropy of softmax(logits / T) (0 at invalid tokens), or null
     */
    public PolicyLossStats logits(PolicyLossConfig config, LogitsBatch batch, float[] gradLogits, float[] logpOut,
            float[] entropyOut) {
        Checks.logits(config, batch, gradLogits, logpOut, entropyOut);
        if (backend == Backend.REFERENCE) {
            return PolicyLossReference.logits(config, batch, gradLogits, logpOut, entropyOut);
        }
        int n = batch.numTokens();
        try (PointerScope scope = new PointerScope()) {
            FloatPointer grad = gradLogits != null ? new FloatPointer(Math.max(gradLogits.length, 1)) : null;
            FloatPointer logp = logpOut != null ? new FloatPointer(Math.max(n, 1)) : null;
            FloatPointer entropy = entropyOut != null ? new FloatPointer(Math.max(n, 1)) : null;
            int b = batch.seqOffsets() == null ? 1 : batch.seqOffsets().length - 1;
            PolicyLossStats stats = logits(config, n, batch.vocab(), b, ints(batch.seqOffsets()),
                    floats(batch.logits()), DType.F32, ints(batch.targets()), DType.I32, batch.temperature(),
                    floats(batch.oldLogp()), floats(batch.refLogp()), floats(batch.advantages()),
                    bytes(batch.valid()), grad, logp, entropy, true);
            if (grad != null) grad.get(gradLogits);
            if (logp != null) logp.get(logpOut);
            if (entropy != null) entropy.get(entropyOut);
            return stats;
        }
    }

    /** Log-probs (and optionally entropies) of targets under softmax(logits / T): [N, V] → [N]. */
    public void tokenLogprobs(float[] logits, int vocab, int[] targets, float temperature, float[] logpOut,
            float[] entropyOut) {
        Checks.temperature(temperature);
        Checks.logitsRows(logits, vocab, targets, null, "logits");
        Checks.notNull(logpOut, "logpOut");
        Checks.length(logpOut.length, targets.length, "logpOut");
        if (entropyOut != null) Checks.length(entropyOut.length, targets.length, "entropyOut");
        if (backend == Backend.REFERENCE) {
            PolicyLossReference.tokenLogprobs(logits, vocab, targets, temperature, logpOut, entropyOut);
            return;
        }
        int n = targets.length;
        try (PointerScope scope = new PointerScope()) {
            FloatPointer logp = new FloatPointer(Math.max(n, 1));
            FloatPointer entropy = entropyOut != null ? new FloatPointer(Math.max(n, 1)) : null;
            tokenLogprobs(n, vocab, floats(logits), DType.F32, ints(targets), DType.I32, temperature, logp, entropy,
                    true);
            logp.get(logpOut);
            if (entropy != null) entropy.get(entropyOut);
        }
    }

    /**
     * The vector-Jacobian product of {@link #tokenLogprobs(float[], int, int[], float, float[], float[])},
     * to make those log-probs differentiable through autograd:
     * gradLogits[i, j] = gradLogp[i] / T · (1[j == targets[i]] − softmax(logits_i / T)[j]).
     * Rows with gradLogp[i] == 0 come back as zeros and are not read (their target and logits may be
     * anything); the other rows' targets and logits are checked. Nothing is written when a check fails.
     *
     * @param logits     [N, V] row-major
     * @param targets    [N] in [0, V) where gradLogp != 0
     * @param gradLogp   [N] d loss / d logp, finite
     * @param gradLogits [N, V] receives d loss / d logits; may be {@code logits} itself (in place)
     */
    public void tokenLogprobsBackward(float[] logits, int vocab, int[] targets, float temperature, float[] gradLogp,
            float[] gradLogits) {
        Checks.tokenLogprobsBackward(logits, vocab, targets, temperature, gradLogp, gradLogits);
        if (backend == Backend.REFERENCE) {
            PolicyLossReference.tokenLogprobsBackward(logits, vocab, targets, temperature, gradLogp, gradLogits);
            return;
        }
        int n = targets.length;
        if (n == 0) return;
        try (PointerScope scope = new PointerScope()) {
            FloatPointer lg = floats(logits);
            // Same array: in place natively as well (one copy of the [N, V] values instead of two).
            FloatPointer grad = gradLogits == logits ? lg : new FloatPointer(gradLogits.length);
            tokenLogprobsBackward(n, vocab, lg, DType.F32, ints(targets), DType.I32, temperature, floats(gradLogp),
                    grad, true);
            grad.get(gradLogits);
        }
    }

    // ---- JavaCPP pointers -------------------------------------------------------------------------

    /**
     * Per-token entry over JavaCPP pointers, without copies: host memory for the CPU and reference
     * backends, device memory for CUDA. Pointers are read from their position.
     *
     * @param n          number of tokens N
     * @param numSeqs    number of sequences B (ignored when seqOffsets is null: one sequence)
     * @param seqOffsets [B+1] int32, or null
     * @param refLogp    [N], or null
     * @param valid      [N] 0/1 bytes, or null for all valid
     * @param gradLogp   [N] output, or null
     */
    public PolicyLossStats tokens(PolicyLossConfig config, long n, int numSeqs, IntPointer seqOffsets,
            FloatPointer logp, FloatPointer oldLogp, FloatPointer refLogp, FloatPointer advantages, BytePointer valid,
            FloatPointer gradLogp) {
        return tokens(config, n, numSeqs, seqOffsets, logp, oldLogp, refLogp, advantages, valid, gradLogp, false);
    }

    /**
     * Logits entry over JavaCPP pointers (see {@link #tokens(PolicyLossConfig, long, int, IntPointer,
     * FloatPointer, FloatPointer, FloatPointer, FloatPointer, BytePointer, FloatPointer)} for memory).
     *
     * @param logits       [N, V] of logitsDtype (F32 or BF16)
     * @param targets      [N] of targetsDtype (I32 or I64)
     * @param gradLogits   [N, V] of logitsDtype, or null; may be {@code logits} itself (in place)
     * @param logpOut      [N], or null
     * @param entropyOut   [N], or null
     */
    public PolicyLossStats logits(PolicyLossConfig config, long n, long vocab, int numSeqs, IntPointer seqOffsets,
            Pointer logits, DType logitsDtype, Pointer targets, DType targetsDtype, float temperature,
            FloatPointer oldLogp, FloatPointer refLogp, FloatPointer advantages, BytePointer valid,
            Pointer gradLogits, FloatPointer logpOut, FloatPointer entropyOut) {
        return logits(config, n, vocab, numSeqs, seqOffsets, logits, logitsDtype, targets, targetsDtype, temperature,
                oldLogp, refLogp, advantages, valid, gradLogits, logpOut, entropyOut, false);
    }

    /** {@link #tokenLogprobs(float[], int, int[], float, float[], float[])} over JavaCPP pointers. */
    public void tokenLogprobs(long n, long vocab, Pointer logits, DType logitsDtype, Pointer targets,
            DType targetsDtype, float temperature, FloatPointer logpOut, FloatPointer entropyOut) {
        tokenLogprobs(n, vocab, logits, logitsDtype, targets, targetsDtype, temperature, logpOut, entropyOut, false);
    }

    /**
     * {@link #tokenLogprobsBackward(float[], int, int[], float, float[], float[])} over JavaCPP pointers
     * (host memory for CPU and reference, device memory for CUDA). Values are checked by the native code
     * in a read-only pass before gradLogits is written.
     *
     * @param logits     [N, V] of logitsDtype (F32 or BF16)
     * @param targets    [N] of targetsDtype (I32 or I64)
     * @param gradLogp   [N] float32
     * @param gradLogits [N, V] of logitsDtype; may be {@code logits} itself (in place)
     */
    public void tokenLogprobsBackward(long n, long vocab, Pointer logits, DType logitsDtype, Pointer targets,
            DType targetsDtype, float temperature, FloatPointer gradLogp, Pointer gradLogits) {
        tokenLogprobsBackward(n, vocab, logits, logitsDtype, targets, targetsDtype, temperature, gradLogp, gradLogits,
                false);
    }

    // ---- libtorch tensors -------------------------------------------------------------------------

    /**
     * Per-token entry over libtorch tensors on this backend's device (CPU tensors for CPU and
     * reference, CUDA tensors for CUDA), zero copy. Inputs that are not contiguous are made so (a copy);
     * the output must be contiguous.
     *
     * @param seqOffsets int32 [B+1], or null
     * @param logp       float32, N elements (any shape)
     * @param refLogp    float32 or null
     * @param valid      bool or uint8, or null
     * @param gradLogp   float32 output, or null
     */
    public PolicyLossStats tokens(PolicyLossConfig config, Tensor seqOffsets, Tensor logp, Tensor oldLogp,
            Tensor refLogp, Tensor advantages, Tensor valid, Tensor gradLogp) {
        Checks.notNull(logp, "logp");
        long n = logp.numel();
        TensorArgs t = new TensorArgs(backend);
        IntPointer offs = t.in(seqOffsets, "seqOffsets", -1, ScalarType.Int).asInts();
        FloatPointer lp = t.in(logp, "logp", n, ScalarType.Float).asFloats();
        FloatPointer old = t.in(oldLogp, "oldLogp", n, ScalarType.Float).asFloats();
        FloatPointer ref = t.in(refLogp, "refLogp", n, ScalarType.Float).asFloats();
        FloatPointer adv = t.in(advantages, "advantages", n, ScalarType.Float).asFloats();
        BytePointer val = t.in(valid, "valid", n, ScalarType.Bool, ScalarType.Byte).asBytes();
        FloatPointer grad = t.out(gradLogp, "gradLogp", n, ScalarType.Float).asFloats();
        int b = seqOffsets == null ? 1 : (int) seqOffsets.numel() - 1;
        try {
            return tokens(config, n, b, offs, lp, old, ref, adv, val, grad, false);
        } finally {
            t.release();
        }
    }

    /**
     * Logits entry over libtorch tensors (see the per-token tensor entry for devices and layout).
     *
     * @param logits     float32 or bfloat16 [..., V]; N = numel / V
     * @param targets    int32 or int64, N elements
     * @param gradLogits same dtype and size as logits, or null; may be {@code logits} itself (in place)
     * @param logpOut    float32 N, or null
     * @param entropyOut float32 N, or null
     */
    public PolicyLossStats logits(PolicyLossConfig config, Tensor seqOffsets, Tensor logits, Tensor targets,
            float temperature, Tensor oldLogp, Tensor refLogp, Tensor advantages, Tensor valid, Tensor gradLogits,
            Tensor logpOut, Tensor entropyOut) {
        Checks.notNull(logits, "logits");
        Checks.require(logits.dim() >= 1, "logits must have at least one dimension");
        long vocab = logits.size(-1);
        Checks.require(vocab > 0, "logits' last dimension V must be > 0");
        long n = logits.numel() / vocab;
        TensorArgs t = new TensorArgs(backend);
        IntPointer offs = t.in(seqOffsets, "seqOffsets", -1, ScalarType.Int).asInts();
        TensorArg lg = t.in(logits, "logits", n * vocab, ScalarType.Float, ScalarType.BFloat16);
        TensorArg tg = t.in(targets, "targets", n, ScalarType.Int, ScalarType.Long);
        FloatPointer old = t.in(oldLogp, "oldLogp", n, ScalarType.Float).asFloats();
        FloatPointer ref = t.in(refLogp, "refLogp", n, ScalarType.Float).asFloats();
        FloatPointer adv = t.in(advantages, "advantages", n, ScalarType.Float).asFloats();
        BytePointer val = t.in(valid, "valid", n, ScalarType.Bool, ScalarType.Byte).asBytes();
        TensorArg grad = t.out(gradLogits, "gradLogits", n * vocab, lg.type());
        FloatPointer lpOut = t.out(logpOut, "logpOut", n, ScalarType.Float).asFloats();
        FloatPointer entOut = t.out(entropyOut, "entropyOut", n, ScalarType.Float).asFloats();
        int b = seqOffsets == null ? 1 : (int) seqOffsets.numel() - 1;
        try {
            return logits(config, n, vocab, b, offs, lg.pointer(), lg.dtype(), tg.pointer(), tg.dtype(), temperature, old,
                    ref, adv, val, grad.pointer(), lpOut, entOut, false);
        } finally {
            t.release();
        }
    }

    /**
     * {@link #tokenLogprobsBackward(float[], int, int[], float, float[], float[])} over libtorch tensors
     * (see the per-token tensor entry for devices and layout). For autograd through the log-probs, pass the
     * detached logits as both logits and gradLogits, then call {@code logits.backward(gradLogits)}.
     *
     * @param logits     float32 or bfloat16 [..., V]; N = numel / V
     * @param targets    int32 or int64, N elements
     * @param gradLogp   float32, N elements
     * @param gradLogits same dtype and size as logits, contiguous; may be {@code logits} itself (in place)
     */
    public void tokenLogprobsBackward(Tensor logits, Tensor targets, float temperature, Tensor gradLogp,
            Tensor gradLogits) {
        Checks.notNull(logits, "logits");
        Checks.notNull(targets, "targets");
        Checks.notNull(gradLogp, "gradLogp");
        Checks.notNull(gradLogits, "gradLogits");
        Checks.require(logits.dim() >= 1, "logits must have at least one dimension");
        long vocab = logits.size(-1);
        Checks.require(vocab > 0, "logits' last dimension V must be > 0");
        long n = logits.numel() / vocab;
        TensorArgs t = new TensorArgs(backend);
        TensorArg lg = t.in(logits, "logits", n * vocab, ScalarType.Float, ScalarType.BFloat16);
        TensorArg tg = t.in(targets, "targets", n, ScalarType.Int, ScalarType.Long);
        FloatPointer glp = t.in(gradLogp, "gradLogp", n, ScalarType.Float).asFloats();
        TensorArg grad = t.out(gradLogits, "gradLogits", n * vocab, lg.type());
        try {
            tokenLogprobsBackward(n, vocab, lg.pointer(), lg.dtype(), tg.pointer(), tg.dtype(), temperature, glp,
                    grad.pointer(), false);
        } finally {
            t.release();
        }
    }

    // ---- one path for every form ------------------------------------------------------------------

    private PolicyLossStats tokens(PolicyLossConfig config, long n, int numSeqs, IntPointer seqOffsets,
            FloatPointer logp, FloatPointer oldLogp, FloatPointer refLogp, FloatPointer advantages, BytePointer valid,
            FloatPointer gradLogp, boolean hostStaged) {
        Checks.config(config, refLogp != null);
        checkSizes(n, numSeqs, seqOffsets);
        if (n > 0) {
            Checks.notNull(logp, "logp");
            Checks.notNull(oldLogp, "oldLogp");
            Checks.notNull(advantages, "advantages");
        }
        capacity(seqOffsets, numSeqs + 1L, "seqOffsets");
        capacity(logp, n, "logp");
        capacity(oldLogp, n, "oldLogp");
        capacity(refLogp, n, "refLogp");
        capacity(advantages, n, "advantages");
        capacity(valid, n, "valid");
        capacity(gradLogp, n, "gradLogp");
        if (backend == Backend.REFERENCE) {
            float[] grad = gradLogp != null ? new float[(int) n] : null;
            PolicyLossStats stats = PolicyLossReference.tokens(config,
                    new TokenBatch(toInts(seqOffsets, numSeqs + 1L), toFloats(logp, n), toFloats(oldLogp, n),
                            toFloats(refLogp, n), toFloats(advantages, n), toBooleans(valid, n)), grad);
            if (grad != null) gradLogp.put(grad);
            return stats;
        }
        if (backend == Backend.CUDA && hostStaged) {
            try (Staging s = new Staging()) {
                DeviceMemory grad = gradLogp != null ? s.alloc(n * 4) : null;
                PolicyLossStats stats = callTokens(config, n, numSeqs, s.in(seqOffsets, (numSeqs + 1L) * 4),
                        s.in(logp, n * 4), s.in(oldLogp, n * 4), s.in(refLogp, n * 4), s.in(advantages, n * 4),
                        s.in(valid, n), DeviceMemory.pointerOf(grad));
                if (grad != null) grad.copyTo(gradLogp);
                return stats;
            }
        }
        return callTokens(config, n, numSeqs, seqOffsets, logp, oldLogp, refLogp, advantages, valid, gradLogp);
    }

    private PolicyLossStats callTokens(PolicyLossConfig config, long n, int numSeqs, Pointer seqOffsets,
            Pointer logp, Pointer oldLogp, Pointer refLogp, Pointer advantages, Pointer valid, Pointer gradLogp) {
        try (PolicyLossConfigStruct cfg = toStruct(config); DoublePointer stats = new DoublePointer(
                PolicyLossStats.NUM_STATS)) {
            NativeLibrary.check(Spo4jNative.spo4j_policy_loss_tokens(device(), n, numSeqs, cast(seqOffsets, IntPointer.class),
                    cast(logp, FloatPointer.class), cast(oldLogp, FloatPointer.class), cast(refLogp, FloatPointer.class),
                    cast(advantages, FloatPointer.class), cast(valid, BytePointer.class), cfg,
                    cast(gradLogp, FloatPointer.class), stats, null));
            return readStats(stats);
        }
    }

    private PolicyLossStats logits(PolicyLossConfig config, long n, long vocab, int numSeqs, IntPointer seqOffsets,
            Pointer logits, DType logitsDtype, Pointer targets, DType targetsDtype, float temperature,
            FloatPointer oldLogp, FloatPointer refLogp, FloatPointer advantages, BytePointer valid, Pointer gradLogits,
            FloatPointer logpOut, FloatPointer entropyOut, boolean hostStaged) {
        Checks.config(config, refLogp != null);
        Checks.temperature(temperature);
        checkSizes(n, numSeqs, seqOffsets);
        checkLogitsTypes(vocab, logitsDtype, targetsDtype);
        if (n > 0) {
            Checks.notNull(logits, "logits");
            Checks.notNull(targets, "targets");
            Checks.notNull(oldLogp, "oldLogp");
            Checks.notNull(advantages, "advantages");
        }
        capacity(seqOffsets, numSeqs + 1L, "seqOffsets");
        capacity(logits, n * vocab, "logits");
        capacity(targets, n, "targets");
        capacity(oldLogp, n, "oldLogp");
        capacity(refLogp, n, "refLogp");
        capacity(advantages, n, "advantages");
        capacity(valid, n, "valid");
        capacity(gradLogits, n * vocab, "gradLogits");
        capacity(logpOut, n, "logpOut");
        capacity(entropyOut, n, "entropyOut");
        if (backend == Backend.REFERENCE) {
            Checks.require(n * vocab <= Integer.MAX_VALUE, "the reference backend holds at most 2^31 - 1 logits");
            float[] grad = gradLogits != null ? new float[(int) (n * vocab)] : null;
            float[] lp = logpOut != null ? new float[(int) n] : null;
            float[] ent = entropyOut != null ? new float[(int) n] : null;
            PolicyLossStats stats = PolicyLossReference.logits(config,
                    new LogitsBatch(toInts(seqOffsets, numSeqs + 1L), toFloats(logits, logitsDtype, n * vocab),
                            (int) vocab, toInts(targets, targetsDtype, n), temperature, toFloats(oldLogp, n),
                            toFloats(refLogp, n), toFloats(advantages, n), toBooleans(valid, n)), grad, lp, ent);
            if (grad != null) putFloats(gradLogits, logitsDtype, grad);
            if (lp != null) logpOut.put(lp);
            if (ent != null) entropyOut.put(ent);
            return stats;
        }
        if (backend == Backend.CUDA && hostStaged) {
            try (Staging s = new Staging()) {
                long logitBytes = n * vocab * logitsDtype.bytes;
                DeviceMemory grad = gradLogits != null ? s.alloc(logitBytes) : null;
                DeviceMemory lp = logpOut != null ? s.alloc(n * 4) : null;
                DeviceMemory ent = entropyOut != null ? s.alloc(n * 4) : null;
                PolicyLossStats stats = callLogits(config, n, vocab, numSeqs, s.in(seqOffsets, (numSeqs + 1L) * 4),
                        s.in(logits, logitBytes), logitsDtype, s.in(targets, n * targetsDtype.bytes), targetsDtype,
                        temperature, s.in(oldLogp, n * 4), s.in(refLogp, n * 4), s.in(advantages, n * 4),
                        s.in(valid, n), DeviceMemory.pointerOf(grad), DeviceMemory.pointerOf(lp),
                        DeviceMemory.pointerOf(ent));
                if (grad != null) grad.copyTo(gradLogits);
                if (lp != null) lp.copyTo(logpOut);
                if (ent != null) ent.copyTo(entropyOut);
                return stats;
            }
        }
        return callLogits(config, n, vocab, numSeqs, seqOffsets, logits, logitsDtype, targets, targetsDtype,
                temperature, oldLogp, refLogp, advantages, valid, gradLogits, logpOut, entropyOut);
    }

    private PolicyLossStats callLogits(PolicyLossConfig config, long n, long vocab, int numSeqs, Pointer seqOffsets,
            Pointer logits, DType logitsDtype, Pointer targets, DType targetsDtype, float temperature,
            Pointer oldLogp, Pointer refLogp, Pointer advantages, Pointer valid, Pointer gradLogits, Pointer logpOut,
            Pointer entropyOut) {
        try (PolicyLossConfigStruct cfg = toStruct(config); DoublePointer stats = new DoublePointer(
                PolicyLossStats.NUM_STATS)) {
            NativeLibrary.check(Spo4jNative.spo4j_policy_loss_logits(device(), n, vocab, numSeqs,
                    cast(seqOffsets, IntPointer.class), logits, logitsDtype.code, targets, targetsDtype.code,
                    temperature, cast(oldLogp, FloatPointer.class), cast(refLogp, FloatPointer.class),
                    cast(advantages, FloatPointer.class), cast(valid, BytePointer.class), cfg, gradLogits,
                    cast(logpOut, FloatPointer.class), cast(entropyOut, FloatPointer.class), stats, null));
            return readStats(stats);
        }
    }

    private void tokenLogprobs(long n, long vocab, Pointer logits, DType logitsDtype, Pointer targets,
            DType targetsDtype, float temperature, FloatPointer logpOut, FloatPointer entropyOut, boolean hostStaged) {
        Checks.temperature(temperature);
        Checks.require(n >= 0, "n must be >= 0, got " + n);
        checkLogitsTypes(vocab, logitsDtype, targetsDtype);
        if (n > 0) {
            Checks.notNull(logits, "logits");
            Checks.notNull(targets, "targets");
            Checks.notNull(logpOut, "logpOut");
        }
        capacity(logits, n * vocab, "logits");
        capacity(targets, n, "targets");
        capacity(logpOut, n, "logpOut");
        capacity(entropyOut, n, "entropyOut");
        if (backend == Backend.REFERENCE) {
            float[] lp = new float[(int) n];
            float[] ent = entropyOut != null ? new float[(int) n] : null;
            PolicyLossReference.tokenLogprobs(toFloats(logits, logitsDtype, n * vocab), (int) vocab,
                    toInts(targets, targetsDtype, n), temperature, lp, ent);
            if (n > 0) logpOut.put(lp);
            if (ent != null) entropyOut.put(ent);
            return;
        }
        if (backend == Backend.CUDA && hostStaged) {
            try (Staging s = new Staging()) {
                DeviceMemory lp = s.alloc(n * 4);
                DeviceMemory ent = entropyOut != null ? s.alloc(n * 4) : null;
                NativeLibrary.check(Spo4jNative.spo4j_policy_loss_token_logprobs(device(), n, vocab,
                        s.in(logits, n * vocab * logitsDtype.bytes), logitsDtype.code,
                        s.in(targets, n * targetsDtype.bytes), targetsDtype.code, temperature,
                        cast(lp.pointer(), FloatPointer.class), cast(DeviceMemory.pointerOf(ent), FloatPointer.class),
                        null));
                lp.copyTo(logpOut);
                if (ent != null) ent.copyTo(entropyOut);
                return;
            }
        }
        NativeLibrary.check(Spo4jNative.spo4j_policy_loss_token_logprobs(device(), n, vocab, logits, logitsDtype.code, targets,
                targetsDtype.code, temperature, logpOut, entropyOut, null));
    }

    private void tokenLogprobsBackward(long n, long vocab, Pointer logits, DType logitsDtype, Pointer targets,
            DType targetsDtype, float temperature, FloatPointer gradLogp, Pointer gradLogits, boolean hostStaged) {
        Checks.temperature(temperature);
        Checks.require(n >= 0, "n must be >= 0, got " + n);
        Checks.require(n <= Integer.MAX_VALUE, "n must fit in int32, got " + n);
        checkLogitsTypes(vocab, logitsDtype, targetsDtype);
        Checks.require(n <= Long.MAX_VALUE / vocab, "N x V overflows: N = " + n + ", V = " + vocab);
        if (n > 0) {
            Checks.notNull(logits, "logits");
            Checks.notNull(targets, "targets");
            Checks.notNull(gradLogp, "gradLogp");
            Checks.notNull(gradLogits, "gradLogits");
        }
        capacity(logits, n * vocab, "logits");
        capacity(targets, n, "targets");
        capacity(gradLogp, n, "gradLogp");
        capacity(gradLogits, n * vocab, "gradLogits");
        if (n == 0) return;
        if (backend == Backend.REFERENCE) {
            Checks.require(n * vocab <= Integer.MAX_VALUE, "the reference backend holds at most 2^31 - 1 logits");
            float[] grad = new float[(int) (n * vocab)];
            PolicyLossReference.tokenLogprobsBackward(toFloats(logits, logitsDtype, n * vocab), (int) vocab,
                    toInts(targets, targetsDtype, n), temperature, toFloats(gradLogp, n), grad);
            putFloats(gradLogits, logitsDtype, grad);
            return;
        }
        if (backend == Backend.CUDA && hostStaged) {
            try (Staging s = new Staging()) {
                long logitBytes = n * vocab * logitsDtype.bytes;
                DeviceMemory grad = s.alloc(logitBytes);
                NativeLibrary.check(Spo4jNative.spo4j_policy_loss_token_logprobs_backward(device(), n, vocab,
                        s.in(logits, logitBytes), logitsDtype.code, s.in(targets, n * targetsDtype.bytes),
                        targetsDtype.code, temperature, cast(s.in(gradLogp, n * 4), FloatPointer.class), grad.pointer(),
                        null));
                grad.copyTo(gradLogits);
                return;
            }
        }
        NativeLibrary.check(Spo4jNative.spo4j_policy_loss_token_logprobs_backward(device(), n, vocab, logits, logitsDtype.code,
                targets, targetsDtype.code, temperature, gradLogp, gradLogits, null));
    }

    // ---- helpers ----------------------------------------------------------------------------------

    private int device() {
        return backend == Backend.CUDA ? Spo4jNative.SPO4J_DEVICE_CUDA : Spo4jNative.SPO4J_DEVICE_CPU;
    }

    private static void checkSizes(long n, int numSeqs, Pointer seqOffsets) {
        Checks.require(n >= 0, "n must be >= 0, got " + n);
        Checks.require(n <= Integer.MAX_VALUE, "n must fit in int32 (seqOffsets are int32), got " + n);
        if (seqOffsets != null) {
            Checks.require(numSeqs >= 0, "numSeqs must be >= 0, got " + numSeqs);
            Checks.require(numSeqs > 0 || n == 0, "numSeqs = 0 sequences cannot hold n = " + n + " tokens");
        }
    }

    private static void checkLogitsTypes(long vocab, DType logitsDtype, DType targetsDtype) {
        Checks.require(vocab > 0, "vocab must be > 0, got " + vocab);
        Checks.require(logitsDtype == DType.F32 || logitsDtype == DType.BF16,
                "logitsDtype must be F32 or BF16, got " + logitsDtype);
        Checks.require(targetsDtype == DType.I32 || targetsDtype == DType.I64,
                "targetsDtype must be I32 or I64, got " + targetsDtype);
    }

    private static PolicyLossConfigStruct toStruct(PolicyLossConfig c) {
        return new PolicyLossConfigStruct().eps_low(c.epsLow()).eps_high(c.epsHigh()).dual_clip_c(c.dualClipC())
                .rho(c.rho()).log_ratio_clamp(c.logRatioClamp()).whiten(c.whiten() ? 1 : 0).whiten_eps(c.whitenEps())
                .beta(c.beta()).kl_estimator(c.klEstimator().code).kl_clamp(c.klClamp())
                .pg_agg(c.pgAggregation().code).kl_agg(c.klAggregation().code).pg_norm(c.pgNorm())
                .kl_norm(c.klNorm()).max_mean_ratio(c.maxMeanRatio());
    }

    private static PolicyLossStats readStats(DoublePointer stats) {
        double[] s = new double[PolicyLossStats.NUM_STATS];
        stats.get(s);
        return PolicyLossStats.fromArray(s);
    }

}
