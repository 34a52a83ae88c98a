package io.github.spo4j.kernels.loss;

import io.github.spo4j.kernels.Backend;
import io.github.spo4j.kernels.DType;
import io.github.spo4j.kernels.engine.Checks;
import io.github.spo4j.kernels.engine.KernelCall;
import io.github.spo4j.kernels.engine.KernelCall.Arg;
import io.github.spo4j.kernels.engine.TensorArg;
import io.github.spo4j.kernels.nativebind.Spo4jNative;
import io.github.spo4j.kernels.nativebind.Spo4jNative.PolicyLossConfigStruct;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Pointer;
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
        PolicyLossChecks.tokens(config, batch, gradLogp);
        if (backend == Backend.REFERENCE) return PolicyLossReference.tokens(config, batch, gradLogp);
        try (KernelCall c = new KernelCall(backend)) {
            return tokens(
                    c,
                    config,
                    batch.numTokens(),
                    batch.numSeqs(),
                    c.host(batch.seqOffsets()),
                    c.host(batch.logp()),
                    c.host(batch.oldLogp()),
                    c.host(batch.refLogp()),
                    c.host(batch.advantages()),
                    c.host(batch.valid()),
                    c.hostOut(gradLogp));
        }
    }

    /**
     * Logits entry over Java arrays.
     *
     * @param gradLogits [N, V] receives ∂loss/∂logits (rows of tokens not kept are 0), or null
     * @param logpOut    [N] receives log_softmax(logits / T)[target] (0 at invalid tokens), or null
     * @param entropyOut [N] receives the entropy of softmax(logits / T) (0 at invalid tokens), or null
     */
    public PolicyLossStats logits(
            PolicyLossConfig config, LogitsBatch batch, float[] gradLogits, float[] logpOut, float[] entropyOut) {
        PolicyLossChecks.logits(config, batch, gradLogits, logpOut, entropyOut);
        if (backend == Backend.REFERENCE) {
            return PolicyLossReference.logits(config, batch, gradLogits, logpOut, entropyOut);
        }
        int b = batch.seqOffsets() == null ? 1 : batch.seqOffsets().length - 1;
        try (KernelCall c = new KernelCall(backend)) {
            return logits(
                    c,
                    config,
                    batch.numTokens(),
                    batch.vocab(),
                    b,
                    c.host(batch.seqOffsets()),
                    c.host(batch.logits()),
                    DType.F32,
                    c.host(batch.targets()),
                    DType.I32,
                    batch.temperature(),
                    c.host(batch.oldLogp()),
                    c.host(batch.refLogp()),
                    c.host(batch.advantages()),
                    c.host(batch.valid()),
                    c.hostOut(gradLogits),
                    c.hostOut(logpOut),
                    c.hostOut(entropyOut));
        }
    }

    /** Log-probs (and optionally entropies) of targets under softmax(logits / T): [N, V] → [N]. */
    public void tokenLogprobs(
            float[] logits, int vocab, int[] targets, float temperature, float[] logpOut, float[] entropyOut) {
        Checks.temperature(temperature);
        PolicyLossChecks.logitsRows(logits, vocab, targets, null, "logits");
        Checks.notNull(logpOut, "logpOut");
        Checks.length(logpOut.length, targets.length, "logpOut");
        if (entropyOut != null) Checks.length(entropyOut.length, targets.length, "entropyOut");
        if (backend == Backend.REFERENCE) {
            PolicyLossReference.tokenLogprobs(logits, vocab, targets, temperature, logpOut, entropyOut);
            return;
        }
        try (KernelCall c = new KernelCall(backend)) {
            tokenLogprobs(
                    c,
                    targets.length,
                    vocab,
                    c.host(logits),
                    DType.F32,
                    c.host(targets),
                    DType.I32,
                    temperature,
                    c.hostOut(logpOut),
                    c.hostOut(entropyOut));
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
    public void tokenLogprobsBackward(
            float[] logits, int vocab, int[] targets, float temperature, float[] gradLogp, float[] gradLogits) {
        PolicyLossChecks.tokenLogprobsBackward(logits, vocab, targets, temperature, gradLogp, gradLogits);
        if (backend == Backend.REFERENCE) {
            PolicyLossReference.tokenLogprobsBackward(logits, vocab, targets, temperature, gradLogp, gradLogits);
            return;
        }
        if (targets.length == 0) return;
        try (KernelCall c = new KernelCall(backend)) {
            FloatPointer lg = c.host(logits);
            // Same array: in place natively as well (one copy of the [N, V] values instead of two).
            FloatPointer grad = gradLogits == logits ? c.inPlace(lg) : c.hostOut(gradLogits);
            tokenLogprobsBackward(
                    c,
                    targets.length,
                    vocab,
                    lg,
                    DType.F32,
                    c.host(targets),
                    DType.I32,
                    temperature,
                    c.host(gradLogp),
                    grad);
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
    public PolicyLossStats tokens(
            PolicyLossConfig config,
            long n,
            int numSeqs,
            IntPointer seqOffsets,
            FloatPointer logp,
            FloatPointer oldLogp,
            FloatPointer refLogp,
            FloatPointer advantages,
            BytePointer valid,
            FloatPointer gradLogp) {
        try (KernelCall c = new KernelCall(backend)) {
            return tokens(c, config, n, numSeqs, seqOffsets, logp, oldLogp, refLogp, advantages, valid, gradLogp);
        }
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
    public PolicyLossStats logits(
            PolicyLossConfig config,
            long n,
            long vocab,
            int numSeqs,
            IntPointer seqOffsets,
            Pointer logits,
            DType logitsDtype,
            Pointer targets,
            DType targetsDtype,
            float temperature,
            FloatPointer oldLogp,
            FloatPointer refLogp,
            FloatPointer advantages,
            BytePointer valid,
            Pointer gradLogits,
            FloatPointer logpOut,
            FloatPointer entropyOut) {
        try (KernelCall c = new KernelCall(backend)) {
            return logits(
                    c,
                    config,
                    n,
                    vocab,
                    numSeqs,
                    seqOffsets,
                    logits,
                    logitsDtype,
                    targets,
                    targetsDtype,
                    temperature,
                    oldLogp,
                    refLogp,
                    advantages,
                    valid,
                    gradLogits,
                    logpOut,
                    entropyOut);
        }
    }

    /** {@link #tokenLogprobs(float[], int, int[], float, float[], float[])} over JavaCPP pointers. */
    public void tokenLogprobs(
            long n,
            long vocab,
            Pointer logits,
            DType logitsDtype,
            Pointer targets,
            DType targetsDtype,
            float temperature,
            FloatPointer logpOut,
            FloatPointer entropyOut) {
        try (KernelCall c = new KernelCall(backend)) {
            tokenLogprobs(c, n, vocab, logits, logitsDtype, targets, targetsDtype, temperature, logpOut, entropyOut);
        }
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
    public void tokenLogprobsBackward(
            long n,
            long vocab,
            Pointer logits,
            DType logitsDtype,
            Pointer targets,
            DType targetsDtype,
            float temperature,
            FloatPointer gradLogp,
            Pointer gradLogits) {
        try (KernelCall c = new KernelCall(backend)) {
            tokenLogprobsBackward(
                    c, n, vocab, logits, logitsDtype, targets, targetsDtype, temperature, gradLogp, gradLogits);
        }
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
    public PolicyLossStats tokens(
            PolicyLossConfig config,
            Tensor seqOffsets,
            Tensor logp,
            Tensor oldLogp,
            Tensor refLogp,
            Tensor advantages,
            Tensor valid,
            Tensor gradLogp) {
        Checks.notNull(logp, "logp");
        long n = logp.numel();
        try (KernelCall c = new KernelCall(backend)) {
            IntPointer offs =
                    c.tensor("seqOffsets", seqOffsets, -1, ScalarType.Int).asInts();
            FloatPointer lp = c.tensor("logp", logp, n, ScalarType.Float).asFloats();
            FloatPointer old = c.tensor("oldLogp", oldLogp, n, ScalarType.Float).asFloats();
            FloatPointer ref = c.tensor("refLogp", refLogp, n, ScalarType.Float).asFloats();
            FloatPointer adv =
                    c.tensor("advantages", advantages, n, ScalarType.Float).asFloats();
            BytePointer val = c.tensor("valid", valid, n, ScalarType.Bool, ScalarType.Byte)
                    .asBytes();
            FloatPointer grad =
                    c.tensorOut("gradLogp", gradLogp, n, ScalarType.Float).asFloats();
            int b = seqOffsets == null ? 1 : (int) seqOffsets.numel() - 1;
            return tokens(c, config, n, b, offs, lp, old, ref, adv, val, grad);
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
    public PolicyLossStats logits(
            PolicyLossConfig config,
            Tensor seqOffsets,
            Tensor logits,
            Tensor targets,
            float temperature,
            Tensor oldLogp,
            Tensor refLogp,
            Tensor advantages,
            Tensor valid,
            Tensor gradLogits,
            Tensor logpOut,
            Tensor entropyOut) {
        Checks.notNull(logits, "logits");
        Checks.require(logits.dim() >= 1, "logits must have at least one dimension");
        long vocab = logits.size(-1);
        Checks.require(vocab > 0, "logits' last dimension V must be > 0");
        long n = logits.numel() / vocab;
        try (KernelCall c = new KernelCall(backend)) {
            IntPointer offs =
                    c.tensor("seqOffsets", seqOffsets, -1, ScalarType.Int).asInts();
            TensorArg lg = c.tensor("logits", logits, n * vocab, ScalarType.Float, ScalarType.BFloat16);
            TensorArg tg = c.tensor("targets", targets, n, ScalarType.Int, ScalarType.Long);
            FloatPointer old = c.tensor("oldLogp", oldLogp, n, ScalarType.Float).asFloats();
            FloatPointer ref = c.tensor("refLogp", refLogp, n, ScalarType.Float).asFloats();
            FloatPointer adv =
                    c.tensor("advantages", advantages, n, ScalarType.Float).asFloats();
            BytePointer val = c.tensor("valid", valid, n, ScalarType.Bool, ScalarType.Byte)
                    .asBytes();
            TensorArg grad = c.tensorOut("gradLogits", gradLogits, n * vocab, lg.type());
            FloatPointer lpOut =
                    c.tensorOut("logpOut", logpOut, n, ScalarType.Float).asFloats();
            FloatPointer entOut =
                    c.tensorOut("entropyOut", entropyOut, n, ScalarType.Float).asFloats();
            int b = seqOffsets == null ? 1 : (int) seqOffsets.numel() - 1;
            return logits(
                    c,
                    config,
                    n,
                    vocab,
                    b,
                    offs,
                    lg.pointer(),
                    lg.dtype(),
                    tg.pointer(),
                    tg.dtype(),
                    temperature,
                    old,
                    ref,
                    adv,
                    val,
                    grad.pointer(),
                    lpOut,
                    entOut);
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
    public void tokenLogprobsBackward(
            Tensor logits, Tensor targets, float temperature, Tensor gradLogp, Tensor gradLogits) {
        Checks.notNull(logits, "logits");
        Checks.notNull(targets, "targets");
        Checks.notNull(gradLogp, "gradLogp");
        Checks.notNull(gradLogits, "gradLogits");
        Checks.require(logits.dim() >= 1, "logits must have at least one dimension");
        long vocab = logits.size(-1);
        Checks.require(vocab > 0, "logits' last dimension V must be > 0");
        long n = logits.numel() / vocab;
        try (KernelCall c = new KernelCall(backend)) {
            TensorArg lg = c.tensor("logits", logits, n * vocab, ScalarType.Float, ScalarType.BFloat16);
            TensorArg tg = c.tensor("targets", targets, n, ScalarType.Int, ScalarType.Long);
            FloatPointer glp =
                    c.tensor("gradLogp", gradLogp, n, ScalarType.Float).asFloats();
            TensorArg grad = c.tensorOut("gradLogits", gradLogits, n * vocab, lg.type());
            tokenLogprobsBackward(
                    c, n, vocab, lg.pointer(), lg.dtype(), tg.pointer(), tg.dtype(), temperature, glp, grad.pointer());
        }
    }

    // ---- one path for every form: the op's checks, its arguments, then the reference or the native kernel ----

    private PolicyLossStats tokens(
            KernelCall c,
            PolicyLossConfig config,
            long n,
            int numSeqs,
            IntPointer seqOffsets,
            FloatPointer logp,
            FloatPointer oldLogp,
            FloatPointer refLogp,
            FloatPointer advantages,
            BytePointer valid,
            FloatPointer gradLogp) {
        PolicyLossChecks.config(config, refLogp != null);
        checkSizes(n, numSeqs, seqOffsets);
        if (n > 0) {
            Checks.notNull(logp, "logp");
            Checks.notNull(oldLogp, "oldLogp");
            Checks.notNull(advantages, "advantages");
        }
        Arg offs = c.in("seqOffsets", seqOffsets, numSeqs + 1L);
        Arg lp = c.in("logp", logp, n);
        Arg old = c.in("oldLogp", oldLogp, n);
        Arg ref = c.in("refLogp", refLogp, n);
        Arg adv = c.in("advantages", advantages, n);
        Arg val = c.in("valid", valid, n);
        Arg grad = c.out("gradLogp", gradLogp, n);
        if (c.reference()) {
            float[] g = grad.newFloats();
            PolicyLossStats stats = PolicyLossReference.tokens(
                    config,
                    new TokenBatch(
                            offs.readInts(),
                            lp.readFloats(),
                            old.readFloats(),
                            ref.readFloats(),
                            adv.readFloats(),
                            val.readBooleans()),
                    g);
            grad.write(g);
            return stats;
        }
        try (PolicyLossConfigStruct cfg = toStruct(config);
                DoublePointer stats = new DoublePointer(PolicyLossStats.NUM_STATS)) {
            c.run(() -> Spo4jNative.spo4j_policy_loss_tokens(
                    c.device(),
                    n,
                    numSeqs,
                    offs.asInts(),
                    lp.asFloats(),
                    old.asFloats(),
                    ref.asFloats(),
                    adv.asFloats(),
                    val.asBytes(),
                    cfg,
                    grad.asFloats(),
                    stats,
                    c.stream()));
            return readStats(stats);
        }
    }

    private PolicyLossStats logits(
            KernelCall c,
            PolicyLossConfig config,
            long n,
            long vocab,
            int numSeqs,
            IntPointer seqOffsets,
            Pointer logits,
            DType logitsDtype,
            Pointer targets,
            DType targetsDtype,
            float temperature,
            FloatPointer oldLogp,
            FloatPointer refLogp,
            FloatPointer advantages,
            BytePointer valid,
            Pointer gradLogits,
            FloatPointer logpOut,
            FloatPointer entropyOut) {
        PolicyLossChecks.config(config, refLogp != null);
        Checks.temperature(temperature);
        checkSizes(n, numSeqs, seqOffsets);
        checkLogitsTypes(vocab, logitsDtype, targetsDtype);
        if (n > 0) {
            Checks.notNull(logits, "logits");
            Checks.notNull(targets, "targets");
            Checks.notNull(oldLogp, "oldLogp");
            Checks.notNull(advantages, "advantages");
        }
        Arg offs = c.in("seqOffsets", seqOffsets, numSeqs + 1L);
        Arg lg = c.in("logits", logits, logitsDtype, n * vocab);
        Arg tg = c.in("targets", targets, targetsDtype, n);
        Arg old = c.in("oldLogp", oldLogp, n);
        Arg ref = c.in("refLogp", refLogp, n);
        Arg adv = c.in("advantages", advantages, n);
        Arg val = c.in("valid", valid, n);
        Arg grad = c.out("gradLogits", gradLogits, logitsDtype, n * vocab);
        Arg lpOut = c.out("logpOut", logpOut, n);
        Arg entOut = c.out("entropyOut", entropyOut, n);
        if (c.reference()) {
            Checks.require(n * vocab <= Integer.MAX_VALUE, "the reference backend holds at most 2^31 - 1 logits");
            float[] g = grad.newFloats(), lp = lpOut.newFloats(), ent = entOut.newFloats();
            PolicyLossStats stats = PolicyLossReference.logits(
                    config,
                    new LogitsBatch(
                            offs.readInts(),
                            lg.readFloats(),
                            (int) vocab,
                            tg.readInts(),
                            temperature,
                            old.readFloats(),
                            ref.readFloats(),
                            adv.readFloats(),
                            val.readBooleans()),
                    g,
                    lp,
                    ent);
            grad.write(g);
            lpOut.write(lp);
            entOut.write(ent);
            return stats;
        }
        try (PolicyLossConfigStruct cfg = toStruct(config);
                DoublePointer stats = new DoublePointer(PolicyLossStats.NUM_STATS)) {
            c.run(() -> Spo4jNative.spo4j_policy_loss_logits(
                    c.device(),
                    n,
                    vocab,
                    numSeqs,
                    offs.asInts(),
                    lg.pointer(),
                    logitsDtype.code,
                    tg.pointer(),
                    targetsDtype.code,
                    temperature,
                    old.asFloats(),
                    ref.asFloats(),
                    adv.asFloats(),
                    val.asBytes(),
                    cfg,
                    grad.pointer(),
                    lpOut.asFloats(),
                    entOut.asFloats(),
                    stats,
                    c.stream()));
            return readStats(stats);
        }
    }

    private void tokenLogprobs(
            KernelCall c,
            long n,
            long vocab,
            Pointer logits,
            DType logitsDtype,
            Pointer targets,
            DType targetsDtype,
            float temperature,
            FloatPointer logpOut,
            FloatPointer entropyOut) {
        Checks.temperature(temperature);
        Checks.require(n >= 0, "n must be >= 0, got " + n);
        checkLogitsTypes(vocab, logitsDtype, targetsDtype);
        if (n > 0) {
            Checks.notNull(logits, "logits");
            Checks.notNull(targets, "targets");
            Checks.notNull(logpOut, "logpOut");
        }
        Arg lg = c.in("logits", logits, logitsDtype, n * vocab);
        Arg tg = c.in("targets", targets, targetsDtype, n);
        Arg lpOut = c.out("logpOut", logpOut, n);
        Arg entOut = c.out("entropyOut", entropyOut, n);
        if (c.reference()) {
            float[] lp = new float[(int) n]; // also when n = 0 and logpOut is null: the reference wants an array
            float[] ent = entOut.newFloats();
            PolicyLossReference.tokenLogprobs(lg.readFloats(), (int) vocab, tg.readInts(), temperature, lp, ent);
            lpOut.write(lp);
            entOut.write(ent);
            return;
        }
        c.run(() -> Spo4jNative.spo4j_policy_loss_token_logprobs(
                c.device(),
                n,
                vocab,
                lg.pointer(),
                logitsDtype.code,
                tg.pointer(),
                targetsDtype.code,
                temperature,
                lpOut.asFloats(),
                entOut.asFloats(),
                c.stream()));
    }

    private void tokenLogprobsBackward(
            KernelCall c,
            long n,
            long vocab,
            Pointer logits,
            DType logitsDtype,
            Pointer targets,
            DType targetsDtype,
            float temperature,
            FloatPointer gradLogp,
            Pointer gradLogits) {
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
        Arg lg = c.in("logits", logits, logitsDtype, n * vocab);
        Arg tg = c.in("targets", targets, targetsDtype, n);
        Arg glp = c.in("gradLogp", gradLogp, n);
        Arg grad = c.out("gradLogits", gradLogits, logitsDtype, n * vocab);
        if (n == 0) return;
        if (c.reference()) {
            Checks.require(n * vocab <= Integer.MAX_VALUE, "the reference backend holds at most 2^31 - 1 logits");
            float[] g = grad.newFloats();
            PolicyLossReference.tokenLogprobsBackward(
                    lg.readFloats(), (int) vocab, tg.readInts(), temperature, glp.readFloats(), g);
            grad.write(g);
            return;
        }
        c.run(() -> Spo4jNative.spo4j_policy_loss_token_logprobs_backward(
                c.device(),
                n,
                vocab,
                lg.pointer(),
                logitsDtype.code,
                tg.pointer(),
                targetsDtype.code,
                temperature,
                glp.asFloats(),
                grad.pointer(),
                c.stream()));
    }

    // ---- helpers ----------------------------------------------------------------------------------

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
        Checks.require(
                logitsDtype == DType.F32 || logitsDtype == DType.BF16,
                "logitsDtype must be F32 or BF16, got " + logitsDtype);
        Checks.require(
                targetsDtype == DType.I32 || targetsDtype == DType.I64,
                "targetsDtype must be I32 or I64, got " + targetsDtype);
    }

    private static PolicyLossConfigStruct toStruct(PolicyLossConfig c) {
        return new PolicyLossConfigStruct()
                .eps_low(c.epsLow())
                .eps_high(c.epsHigh())
                .dual_clip_c(c.dualClipC())
                .rho(c.rho())
                .log_ratio_clamp(c.logRatioClamp())
                .whiten(c.whiten() ? 1 : 0)
                .whiten_eps(c.whitenEps())
                .beta(c.beta())
                .kl_estimator(c.klEstimator().code)
                .kl_clamp(c.klClamp())
                .pg_agg(c.pgAggregation().code)
                .kl_agg(c.klAggregation().code)
                .pg_norm(c.pgNorm())
                .kl_norm(c.klNorm())
                .max_mean_ratio(c.maxMeanRatio());
    }

    private static PolicyLossStats readStats(DoublePointer stats) {
        double[] s = new double[PolicyLossStats.NUM_STATS];
        stats.get(s);
        return PolicyLossStats.fromArray(s);
    }
}
