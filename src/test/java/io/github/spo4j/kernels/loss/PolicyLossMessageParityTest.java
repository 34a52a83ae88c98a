package io.github.spo4j.kernels.loss;

import static io.github.spo4j.testutil.MessageParity.assertSameMessage;

import io.github.spo4j.kernels.Backend;
import io.github.spo4j.kernels.DType;
import io.github.spo4j.kernels.nativebind.Spo4jNative;
import io.github.spo4j.kernels.nativebind.Spo4jNative.PolicyLossConfigStruct;
import java.util.function.BiConsumer;
import java.util.function.BiFunction;
import java.util.stream.Stream;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerScope;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The policy loss's Java checks and the C entries' checks give the same message for the same bad input: the
 * config values, the sizes, types and pointers of the pointer entries, and the values the native code reads
 * (seqOffsets, non-finite log-probs and advantages, targets, logits rows, gradLogp).
 */
class PolicyLossMessageParityTest {
    private static final int CPU = Spo4jNative.SPO4J_DEVICE_CPU;
    private static final float NAN = Float.NaN, INF = Float.POSITIVE_INFINITY;
    /** Both norms in use, so the C side checks them too. */
    private static final PolicyLossConfig BASE = PolicyLossConfig.spo().toBuilder()
            .pgAggregation(Aggregation.CONSTANT_NORM)
            .klAggregation(Aggregation.CONSTANT_NORM)
            .build();

    private static final PolicyLossConfig NO_KL =
            PolicyLossConfig.spo().toBuilder().beta(0f).build();

    private final PolicyLoss cpu = PolicyLoss.create(Backend.CPU);
    private PointerScope scope;

    @BeforeEach
    void open() {
        scope = new PointerScope();
    }

    @AfterEach
    void close() {
        scope.close();
    }

    private record Field(
            String name,
            BiFunction<PolicyLossConfig.Builder, Float, PolicyLossConfig.Builder> java,
            BiConsumer<PolicyLossConfigStruct, Float> c) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Arguments> badConfigValues() {
        Field epsLow = new Field("epsLow", PolicyLossConfig.Builder::epsLow, PolicyLossConfigStruct::eps_low);
        Field epsHigh = new Field("epsHigh", PolicyLossConfig.Builder::epsHigh, PolicyLossConfigStruct::eps_high);
        Field dualClipC =
                new Field("dualClipC", PolicyLossConfig.Builder::dualClipC, PolicyLossConfigStruct::dual_clip_c);
        Field rho = new Field("rho", PolicyLossConfig.Builder::rho, PolicyLossConfigStruct::rho);
        Field logRatioClamp = new Field(
                "logRatioClamp", PolicyLossConfig.Builder::logRatioClamp, PolicyLossConfigStruct::log_ratio_clamp);
        Field whitenEps =
                new Field("whitenEps", PolicyLossConfig.Builder::whitenEps, PolicyLossConfigStruct::whiten_eps);
        Field beta = new Field("beta", PolicyLossConfig.Builder::beta, PolicyLossConfigStruct::beta);
        Field klClamp = new Field("klClamp", PolicyLossConfig.Builder::klClamp, PolicyLossConfigStruct::kl_clamp);
        Field pgNorm = new Field("pgNorm", PolicyLossConfig.Builder::pgNorm, PolicyLossConfigStruct::pg_norm);
        Field klNorm = new Field("klNorm", PolicyLossConfig.Builder::klNorm, PolicyLossConfigStruct::kl_norm);
        Field maxMeanRatio = new Field(
                "maxMeanRatio", PolicyLossConfig.Builder::maxMeanRatio, PolicyLossConfigStruct::max_mean_ratio);
        return Stream.of(
                Arguments.of(epsLow, -0.1f),
                Arguments.of(epsLow, 1f),
                Arguments.of(epsLow, NAN),
                Arguments.of(epsLow, INF),
                Arguments.of(epsHigh, -1f),
                Arguments.of(epsHigh, NAN),
                Arguments.of(epsHigh, INF),
                Arguments.of(dualClipC, 0.5f),
                Arguments.of(dualClipC, 1f),
                Arguments.of(dualClipC, -2f),
                Arguments.of(dualClipC, NAN),
                Arguments.of(dualClipC, INF),
                Arguments.of(rho, 0f),
                Arguments.of(rho, -0.5f),
                Arguments.of(rho, 1.01f),
                Arguments.of(rho, NAN),
                Arguments.of(logRatioClamp, 0f),
                Arguments.of(logRatioClamp, -1f),
                Arguments.of(logRatioClamp, NAN),
                Arguments.of(logRatioClamp, INF),
                Arguments.of(whitenEps, -1f),
                Arguments.of(whitenEps, NAN),
                Arguments.of(whitenEps, INF),
                Arguments.of(beta, -1f),
                Arguments.of(beta, NAN),
                Arguments.of(beta, INF),
                Arguments.of(klClamp, 0f),
                Arguments.of(klClamp, -1f),
                Arguments.of(klClamp, NAN),
                Arguments.of(klClamp, INF),
                Arguments.of(pgNorm, 0f),
                Arguments.of(pgNorm, -1f),
                Arguments.of(pgNorm, NAN),
                Arguments.of(pgNorm, INF),
                Arguments.of(klNorm, 0f),
                Arguments.of(klNorm, NAN),
                Arguments.of(klNorm, INF),
                Arguments.of(maxMeanRatio, -2f),
                Arguments.of(maxMeanRatio, NAN),
                Arguments.of(maxMeanRatio, INF));
    }

    @ParameterizedTest(name = "{0} = {1}")
    @MethodSource("badConfigValues")
    void configValues(Field field, float value) {
        PolicyLossConfigStruct c = struct(BASE);
        field.c().accept(c, value);
        assertSameMessage(
                () -> field.java().apply(BASE.toBuilder(), value).build(),
                () -> Spo4jNative.spo4j_policy_loss_tokens(
                        CPU, 0, 0, null, null, null, new FloatPointer(1), null, null, c, null, stats(), null));
    }

    @Test
    void betaWithoutReference() {
        float[] x = {-1f, -2f, -3f};
        assertSameMessage(
                () -> cpu.tokens(PolicyLossConfig.spo(), 3, 1, null, floats(x), floats(x), null, floats(x), null, null),
                () -> Spo4jNative.spo4j_policy_loss_tokens(
                        CPU,
                        3,
                        1,
                        null,
                        floats(x),
                        floats(x),
                        null,
                        floats(x),
                        null,
                        struct(PolicyLossConfig.spo()),
                        null,
                        stats(),
                        null));
    }

    @Test
    void tokenSizesAndPointers() {
        FloatPointer x = floats(-1f, -2f, -3f, -4f);
        IntPointer offs = new IntPointer(new int[] {0, 4});
        tokens(-1, 1, null, x, x, x);
        tokens(1L << 31, 1, null, x, x, x);
        tokens(4, -1, offs, x, x, x);
        tokens(4, 0, offs, x, x, x);
        tokens(4, 1, offs, null, x, x);
        tokens(4, 1, offs, x, null, x);
        tokens(4, 1, offs, x, x, null);
    }

    private void tokens(
            long n, int numSeqs, IntPointer offs, FloatPointer logp, FloatPointer oldLogp, FloatPointer advantages) {
        assertSameMessage(
                () -> cpu.tokens(NO_KL, n, numSeqs, offs, logp, oldLogp, null, advantages, null, null),
                () -> Spo4jNative.spo4j_policy_loss_tokens(
                        CPU,
                        n,
                        numSeqs,
                        offs,
                        logp,
                        oldLogp,
                        null,
                        advantages,
                        null,
                        struct(NO_KL),
                        null,
                        stats(),
                        null));
    }

    @Test
    void tokenValues() {
        float[] logp = {-1f, -2f, -3f, -4f}, adv = {1f, -1f, 0.5f, 2f};
        tokenValues(new int[] {1, 4}, logp, logp, null, adv);
        tokenValues(new int[] {0, 3, 2, 4}, logp, logp, null, adv);
        tokenValues(new int[] {0, 3}, logp, logp, null, adv);
        tokenValues(null, new float[] {-1f, -2f, NAN, -4f}, logp, null, adv);
        tokenValues(null, logp, new float[] {-1f, INF, -3f, -4f}, null, adv);
        tokenValues(null, logp, logp, null, new float[] {NAN, 1f, 1f, 1f});
        tokenValues(null, logp, logp, new float[] {-1f, -2f, -3f, Float.NEGATIVE_INFINITY}, adv);
    }

    private void tokenValues(int[] seqOffsets, float[] logp, float[] oldLogp, float[] refLogp, float[] advantages) {
        PolicyLossConfig config = refLogp != null ? PolicyLossConfig.spo() : NO_KL;
        int b = seqOffsets == null ? 1 : seqOffsets.length - 1;
        assertSameMessage(
                () -> cpu.tokens(config, new TokenBatch(seqOffsets, logp, oldLogp, refLogp, advantages, null), null),
                () -> Spo4jNative.spo4j_policy_loss_tokens(
                        CPU,
                        logp.length,
                        b,
                        seqOffsets == null ? null : new IntPointer(seqOffsets),
                        floats(logp),
                        floats(oldLogp),
                        refLogp == null ? null : floats(refLogp),
                        floats(advantages),
                        null,
                        struct(config),
                        null,
                        stats(),
                        null));
    }

    @Test
    void logitsTypesAndPointers() {
        FloatPointer x = floats(-1f, -2f), logits = floats(new float[6]);
        IntPointer targets = new IntPointer(new int[] {0, 2});
        logits(3, logits, DType.F32, targets, DType.I32, 0f, x);
        logits(3, logits, DType.F32, targets, DType.I32, -1f, x);
        logits(3, logits, DType.F32, targets, DType.I32, NAN, x);
        logits(3, logits, DType.F32, targets, DType.I32, INF, x);
        logits(0, logits, DType.F32, targets, DType.I32, 1f, x);
        logits(3, logits, DType.I32, targets, DType.I32, 1f, x);
        logits(3, logits, DType.F32, targets, DType.BF16, 1f, x);
        logits(3, null, DType.F32, targets, DType.I32, 1f, x);
        logits(3, logits, DType.F32, null, DType.I32, 1f, x);
        logits(3, logits, DType.F32, targets, DType.I32, 1f, null);
    }

    private void logits(
            long vocab,
            Pointer logits,
            DType logitsDtype,
            Pointer targets,
            DType targetsDtype,
            float temperature,
            FloatPointer oldLogp) {
        FloatPointer adv = floats(1f, -1f);
        assertSameMessage(
                () -> cpu.logits(
                        NO_KL,
                        2,
                        vocab,
                        1,
                        null,
                        logits,
                        logitsDtype,
                        targets,
                        targetsDtype,
                        temperature,
                        oldLogp,
                        null,
                        adv,
                        null,
                        null,
                        null,
                        null),
                () -> Spo4jNative.spo4j_policy_loss_logits(
                        CPU,
                        2,
                        vocab,
                        1,
                        null,
                        logits,
                        logitsDtype.code,
                        targets,
                        targetsDtype.code,
                        temperature,
                        oldLogp,
                        null,
                        adv,
                        null,
                        struct(NO_KL),
                        null,
                        null,
                        null,
                        stats(),
                        null));
    }

    @Test
    void logitsValues() {
        float[] logits = {0.5f, -1f, 2f, 0f, 1f, -0.5f};
        logitsValues(logits, new int[] {0, 3});
        logitsValues(logits, new int[] {-1, 0});
        float[] nan = logits.clone();
        nan[4] = NAN;
        logitsValues(nan, new int[] {0, 1});
    }

    private void logitsValues(float[] logits, int[] targets) {
        float[] old = {-1f, -2f}, adv = {1f, -1f};
        assertSameMessage(
                () -> cpu.logits(
                        NO_KL, new LogitsBatch(null, logits, 3, targets, 1f, old, null, adv, null), null, null, null),
                () -> Spo4jNative.spo4j_policy_loss_logits(
                        CPU,
                        2,
                        3,
                        1,
                        null,
                        floats(logits),
                        DType.F32.code,
                        new IntPointer(targets),
                        DType.I32.code,
                        1f,
                        floats(old),
                        null,
                        floats(adv),
                        null,
                        struct(NO_KL),
                        null,
                        null,
                        null,
                        stats(),
                        null));
    }

    @Test
    void tokenLogprobs() {
        FloatPointer logits = floats(new float[6]);
        IntPointer targets = new IntPointer(new int[] {0, 2});
        assertSameMessage(
                () -> cpu.tokenLogprobs(2, 3, logits, DType.F32, targets, DType.I32, 1f, null, null),
                () -> Spo4jNative.spo4j_policy_loss_token_logprobs(
                        CPU, 2, 3, logits, DType.F32.code, targets, DType.I32.code, 1f, null, null, null));
        assertSameMessage(
                () -> cpu.tokenLogprobs(2, 3, logits, DType.BF16, targets, DType.F32, 1f, null, null),
                () -> Spo4jNative.spo4j_policy_loss_token_logprobs(
                        CPU, 2, 3, logits, DType.BF16.code, targets, DType.F32.code, 1f, null, null, null));
    }

    @Test
    void tokenLogprobsBackward() {
        FloatPointer one = new FloatPointer(1), grad = new FloatPointer(1);
        IntPointer target = new IntPointer(1);
        backward(1L << 31, 3, one, target, grad, one);
        backward(1L << 30, 1L << 40, one, target, grad, one);
        backward(2, 3, one, target, null, one);
        backward(2, 3, one, target, grad, null);
        float[] logits = {0.5f, -1f, 2f, 0f, 1f, -0.5f}, gradLogp = {0.5f, INF};
        int[] targets = {0, 1};
        assertSameMessage(
                () -> cpu.tokenLogprobsBackward(logits, 3, targets, 1f, gradLogp, new float[6]),
                () -> Spo4jNative.spo4j_policy_loss_token_logprobs_backward(
                        CPU,
                        2,
                        3,
                        floats(logits),
                        DType.F32.code,
                        new IntPointer(targets),
                        DType.I32.code,
                        1f,
                        floats(gradLogp),
                        new FloatPointer(6),
                        null));
    }

    private void backward(
            long n, long vocab, Pointer logits, Pointer targets, FloatPointer gradLogp, Pointer gradLogits) {
        assertSameMessage(
                () -> cpu.tokenLogprobsBackward(
                        n, vocab, logits, DType.F32, targets, DType.I32, 1f, gradLogp, gradLogits),
                () -> Spo4jNative.spo4j_policy_loss_token_logprobs_backward(
                        CPU,
                        n,
                        vocab,
                        logits,
                        DType.F32.code,
                        targets,
                        DType.I32.code,
                        1f,
                        gradLogp,
                        gradLogits,
                        null));
    }

    /** The struct the facade passes, field by field from the record. */
    private static PolicyLossConfigStruct struct(PolicyLossConfig c) {
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

    private static FloatPointer floats(float... values) {
        return new FloatPointer(values);
    }

    private static DoublePointer stats() {
        return new DoublePointer(PolicyLossStats.NUM_STATS);
    }
}
