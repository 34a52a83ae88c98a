package io.github.spo4j.kernels.loss;

import static io.github.spo4j.testutil.Close.assertAllClose;
import static io.github.spo4j.testutil.Close.maxAbs;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.spo4j.kernels.Backend;
import io.github.spo4j.kernels.Bf16;
import io.github.spo4j.kernels.DType;
import io.github.spo4j.kernels.engine.NativeArrays;
import io.github.spo4j.kernels.nativebind.Spo4jNative;
import java.util.Arrays;
import java.util.Random;
import java.util.function.Function;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.javacpp.ShortPointer;
import org.bytedeco.pytorch.AbstractTensor;
import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorArrayRefOptional;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code tokenLogprobsBackward}, the vector-Jacobian product of {@code tokenLogprobs}: native CPU against the
 * reference, in place against out of place, the tensor entry against libtorch autograd, and bad input.
 */
class PolicyLossTokenLogprobsTest {
    private static final PolicyLoss REFERENCE = PolicyLoss.create(Backend.REFERENCE);
    private static PolicyLoss cpu;

    @BeforeAll
    static void setUp() {
        cpu = PolicyLoss.create(Backend.CPU);
        torch.set_num_threads(1);
    }

    /** Seeded inputs: logits about N(0, 2²) with some peaky rows, targets, gradLogp with every fifth row 0. */
    record Data(int n, int v, float[] logits, int[] targets, float[] gradLogp) {
        static Data of(int n, int v, long seed) {
            Random rnd = new Random(seed);
            float[] logits = new float[n * v];
            for (int i = 0; i < n; i++) {
                double scale = i % 7 == 3 ? 8.0 : 2.0;
                for (int j = 0; j < v; j++) logits[i * v + j] = (float) (scale * rnd.nextGaussian());
            }
            int[] targets = new int[n];
            float[] gradLogp = new float[n];
            for (int i = 0; i < n; i++) {
                targets[i] = rnd.nextInt(v);
                gradLogp[i] = i % 5 == 2 ? 0f : (float) rnd.nextGaussian();
            }
            return new Data(n, v, logits, targets, gradLogp);
        }

        /** Logits rounded to bf16 (and widened back), so that bf16 runs and the reference see the same values. */
        Data bf16() {
            float[] rounded = new float[logits.length];
            for (int i = 0; i < rounded.length; i++) rounded[i] = Bf16.toFloat(Bf16.fromFloat(logits[i]));
            return new Data(n, v, rounded, targets, gradLogp);
        }
    }

    private static float[] reference(Data d, float temperature) {
        float[] g = new float[d.logits.length];
        PolicyLossReference.tokenLogprobsBackward(d.logits, d.v, d.targets, temperature, d.gradLogp, g);
        return g;
    }

    private static float[] read(Tensor t) {
        Tensor f = t.to(ScalarType.Float).contiguous();
        float[] out = new float[(int) f.numel()];
        if (out.length > 0) f.data_ptr_float().get(out);
        return out;
    }

    private static void assertZeroRows(String what, Data d, float[] grad) {
        for (int i = 0; i < d.n; i++) {
            if (d.gradLogp[i] != 0) continue;
            for (int j = 0; j < d.v; j++) {
                assertEquals(0f, grad[i * d.v + j], what + ": row " + i + " has gradLogp 0 and must be zero");
            }
        }
    }

    // ---- CPU against the reference ----------------------------------------------------------------

    static Stream<Arguments> shapes() {
        return IntStream.of(0, 1, 99, 111)
                .boxed()
                .flatMap(n -> IntStream.of(1, 3, 99, 2049, 5000)
                        .boxed()
                        .flatMap(v -> Stream.of(0.7f, 1f, 1.3f).map(t -> Arguments.of(n, v, t))));
    }

    @ParameterizedTest(name = "[{index}] N={0} V={1} T={2}")
    @MethodSource("shapes")
    void cpuMatchesReferenceInAndOutOfPlace(int n, int v, float temperature) {
        Data d = Data.of(n, v, 131L * n + v);
        float[] expected = reference(d, temperature);
        float[] actual = new float[n * v];
        cpu.tokenLogprobsBackward(d.logits, v, d.targets, temperature, d.gradLogp, actual);
        // Entries are coef·(onehot − p), coef = gradLogp / T: the fp32 error of p (z − lse rounded at the size
        // of z) is absolute, so the tolerance scales with coef, not with the entry (V = 1 gives exact zeros
        // in double and about 1e-7·coef in fp32).
        assertAllClose("grad logits", expected, actual, 1e-5 * maxAbs(d.gradLogp, 1e-6) / temperature, 1e-4);
        assertZeroRows("cpu", d, actual);
        // Rows sum to 0 (the softmax Jacobian's rows do): a check of the math that does not use the reference.
        for (int i = 0; i < n; i++) {
            double sum = 0;
            for (int j = 0; j < v; j++) sum += actual[i * v + j];
            assertTrue(Math.abs(sum) <= 1e-5 * Math.abs(d.gradLogp[i]) / temperature, "row " + i + " sums to " + sum);
        }

        float[] inPlace = d.logits.clone();
        cpu.tokenLogprobsBackward(inPlace, v, d.targets, temperature, d.gradLogp, inPlace);
        assertArrayEquals(actual, inPlace, "in place must equal out of place, bit for bit");
        float[] refInPlace = d.logits.clone();
        REFERENCE.tokenLogprobsBackward(refInPlace, v, d.targets, temperature, d.gradLogp, refInPlace);
        assertArrayEquals(expected, refInPlace, "reference in place");
    }

    @Test
    void deterministicAndIndependentOfThreadCount() {
        Data d = Data.of(111, 5000, 7);
        float[] a = new float[111 * 5000], b = new float[111 * 5000];
        cpu.tokenLogprobsBackward(d.logits, d.v, d.targets, 0.7f, d.gradLogp, a);
        int threads = Spo4jNative.spo4j_get_num_threads();
        try {
            Spo4jNative.spo4j_set_num_threads(1);
            cpu.tokenLogprobsBackward(d.logits, d.v, d.targets, 0.7f, d.gradLogp, b);
        } finally {
            Spo4jNative.spo4j_set_num_threads(threads);
        }
        assertArrayEquals(a, b);
    }

    /** Rows with gradLogp 0 are zeros and are not read: NaN logits and an out-of-range target there are fine. */
    @ParameterizedTest
    @EnumSource(
            value = Backend.class,
            names = {"REFERENCE", "CPU"})
    void zeroRowsAreNotRead(Backend backend) {
        Data d = Data.of(9, 17, 5);
        d.gradLogp[4] = 0f;
        d.targets[4] = -100; // an ignore index, as padding often carries
        Arrays.fill(d.logits, 4 * 17, 5 * 17, Float.NaN);
        float[] grad = new float[9 * 17];
        Arrays.fill(grad, 42f);
        PolicyLoss.create(backend).tokenLogprobsBackward(d.logits, 17, d.targets, 1f, d.gradLogp, grad);
        assertZeroRows(backend.name(), d, grad);
        for (float g : grad) assertTrue(Float.isFinite(g) && g != 42f);
    }

    // ---- pointers and tensors ---------------------------------------------------------------------

    /** The zero-copy pointer entry: bf16 logits written in place, int64 targets, on both host backends. */
    @ParameterizedTest
    @EnumSource(
            value = Backend.class,
            names = {"REFERENCE", "CPU"})
    void pointerEntryBf16InPlaceWithLongTargets(Backend backend) {
        int n = 111, v = 257;
        Data d = Data.of(n, v, 21).bf16();
        float[] expected = reference(d, 0.7f);
        short[] raw = new short[n * v];
        for (int i = 0; i < raw.length; i++) raw[i] = Bf16.fromFloat(d.logits[i]);
        long[] targets = Arrays.stream(d.targets).asLongStream().toArray();
        try (PointerScope scope = new PointerScope()) {
            ShortPointer buf = new ShortPointer(raw);
            PolicyLoss.create(backend)
                    .tokenLogprobsBackward(
                            n,
                            v,
                            buf,
                            DType.BF16,
                            new LongPointer(targets),
                            DType.I64,
                            0.7f,
                            new FloatPointer(d.gradLogp),
                            buf);
            short[] out = new short[n * v];
            buf.get(out);
            float[] actual = new float[n * v];
            for (int i = 0; i < out.length; i++) actual[i] = Bf16.toFloat(out[i]);
            // One bf16 rounding of the fp32 result (2^-8 relative; ties may land a step apart).
            assertAllClose(backend + " bf16 grad", expected, actual, 1e-3 * maxAbs(expected, 1e-6), 1e-2);
            assertZeroRows(backend.name(), d, actual);
        }
    }

    @ParameterizedTest
    @EnumSource(
            value = Backend.class,
            names = {"REFERENCE", "CPU"})
    void pointerEntryWithNoTokens(Backend backend) {
        PolicyLoss.create(backend).tokenLogprobsBackward(0, 5, null, DType.F32, null, DType.I32, 1f, null, null);
    }

    static Stream<Arguments> tensorCases() {
        return Stream.of(ScalarType.Float, ScalarType.BFloat16)
                .flatMap(type -> Stream.of(true, false)
                        .flatMap(inPlace -> Stream.of(ScalarType.Int, ScalarType.Long)
                                .flatMap(tt -> Stream.of(Backend.REFERENCE, Backend.CPU)
                                        .map(b -> Arguments.of(type, inPlace, tt, b)))));
    }

    /** The tensor entry: f32 and bf16 [B, T, V] logits, int32/int64 targets, in place and out of place. */
    @ParameterizedTest(name = "[{index}] {0} inPlace={1} targets={2} {3}")
    @MethodSource("tensorCases")
    void tensorEntryMatchesReference(ScalarType type, boolean inPlace, ScalarType targetType, Backend backend) {
        int b = 3, t = 33, v = 99, n = b * t;
        Data d = Data.of(n, v, 77);
        if (type == ScalarType.BFloat16) d = d.bf16();
        float[] expected = reference(d, 1.3f);
        try (PointerScope scope = new PointerScope()) {
            Tensor logits = AbstractTensor.create(d.logits, b, t, v).to(type);
            Tensor targets = AbstractTensor.create(d.targets, b, t).to(targetType);
            Tensor gradLogp = AbstractTensor.create(d.gradLogp, b, t);
            float[] sentinel = new float[n * v];
            Arrays.fill(sentinel, 42f);
            Tensor grad =
                    inPlace ? logits : AbstractTensor.create(sentinel, b, t, v).to(type);
            PolicyLoss.create(backend).tokenLogprobsBackward(logits, targets, 1.3f, gradLogp, grad);
            float[] actual = read(grad);
            boolean bf16 = type == ScalarType.BFloat16;
            assertAllClose(
                    type + " grad",
                    expected,
                    actual,
                    (bf16 ? 1e-3 : 1e-5) * maxAbs(expected, 1e-6),
                    bf16 ? 1e-2 : 1e-4);
            assertZeroRows(type.toString(), d, actual);
            if (!inPlace) assertArrayEquals(d.logits, read(logits), "logits must be left alone out of place");
        }
    }

    /**
     * Against libtorch autograd: the gradient of (gradLogp · log_softmax(logits / T).gather(targets)) with
     * respect to the logits.
     */
    @ParameterizedTest
    @EnumSource(
            value = Backend.class,
            names = {"REFERENCE", "CPU"})
    void equalsAutogradOfTheComposedLogprobs(Backend backend) {
        int n = 111, v = 2049;
        float temperature = 0.7f;
        Data d = Data.of(n, v, 13);
        try (PointerScope scope = new PointerScope()) {
            Tensor logits = AbstractTensor.create(d.logits, n, v);
            logits.set_requires_grad(true);
            Tensor targets = AbstractTensor.create(
                    Arrays.stream(d.targets).asLongStream().toArray());
            Tensor gradLogp = AbstractTensor.create(d.gradLogp);
            Tensor logp = PolicyLossTorch.logprobs(logits, targets, temperature);
            logp.mul(gradLogp).sum().backward();
            float[] autograd = read(logits.grad());

            Tensor mine = logits.detach().clone();
            PolicyLoss.create(backend).tokenLogprobsBackward(mine, targets, temperature, gradLogp, mine);
            assertAllClose("d/dlogits", autograd, read(mine), 1e-6 * maxAbs(autograd, 1e-6), 1e-3);
        }
    }

    /**
     * The policy model's use: forward with tokenLogprobs on detached logits, backward by overwriting those
     * logits with their gradient and feeding it to {@code logits.backward(grad)}. dW of a linear head equals
     * autograd through the composed torch log-probs.
     */
    @Test
    void inPlaceBackwardThroughALinearHeadEqualsAutograd() {
        int n = 99, dim = 16, v = 111;
        float temperature = 1.3f;
        Data data = Data.of(n, v, 3);
        Random rnd = new Random(4);
        float[] h = new float[n * dim], w = new float[v * dim];
        for (int i = 0; i < h.length; i++) h[i] = (float) rnd.nextGaussian();
        for (int i = 0; i < w.length; i++) w[i] = (float) (0.5 * rnd.nextGaussian());
        try (PointerScope scope = new PointerScope()) {
            Tensor hidden = AbstractTensor.create(h, n, dim);
            Tensor targets = AbstractTensor.create(data.targets);
            Tensor gradLogp = AbstractTensor.create(data.gradLogp);

            Tensor w1 = AbstractTensor.create(w, v, dim);
            w1.set_requires_grad(true);
            Tensor logits = hidden.matmul(w1.t());
            Tensor detached = logits.detach();
            Tensor logp = torch.zeros(n);
            cpu.tokenLogprobs(
                    n,
                    v,
                    detached.data_ptr(),
                    DType.F32,
                    targets.data_ptr(),
                    DType.I32,
                    temperature,
                    logp.data_ptr_float(),
                    null);
            cpu.tokenLogprobsBackward(detached, targets, temperature, gradLogp, detached);
            logits.backward(detached, new BoolOptional(), false, new TensorArrayRefOptional());
            float[] fusedDw = read(w1.grad());

            Tensor w2 = AbstractTensor.create(w, v, dim);
            w2.set_requires_grad(true);
            Tensor composed = PolicyLossTorch.logprobs(hidden.matmul(w2.t()), targets, temperature);
            assertAllClose("logp", read(composed), read(logp), 2e-5, 1e-5);
            composed.mul(gradLogp).sum().backward();
            float[] composedDw = read(w2.grad());
            assertAllClose("dW", composedDw, fusedDw, 1e-5 * maxAbs(composedDw, 1e-9), 1e-3);
        }
    }

    // ---- bad input --------------------------------------------------------------------------------

    private static void assertRejected(String argument, Runnable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call::run);
        assertTrue(e.getMessage().contains(argument), "message should name " + argument + ": " + e.getMessage());
    }

    @ParameterizedTest
    @EnumSource(
            value = Backend.class,
            names = {"REFERENCE", "CPU"})
    void badArraysAreRejectedAndNothingIsWritten(Backend backend) {
        PolicyLoss loss = PolicyLoss.create(backend);
        int n = 11, v = 17;
        Data d = Data.of(n, v, 2);
        float[] grad = new float[n * v];
        Arrays.fill(grad, 42f);
        float[] untouched = grad.clone();

        int[] badTarget = d.targets.clone();
        badTarget[3] = 17;
        assertRejected("targets[3]", () -> loss.tokenLogprobsBackward(d.logits, v, badTarget, 1f, d.gradLogp, grad));
        badTarget[3] = -1;
        assertRejected("targets[3]", () -> loss.tokenLogprobsBackward(d.logits, v, badTarget, 1f, d.gradLogp, grad));
        float[] nanLogits = d.logits.clone();
        nanLogits[6 * v + 5] = Float.NaN;
        assertRejected("logits row 6", () -> loss.tokenLogprobsBackward(nanLogits, v, d.targets, 1f, d.gradLogp, grad));
        float[] infLogits = d.logits.clone();
        infLogits[8 * v] = Float.NEGATIVE_INFINITY;
        assertRejected("logits row 8", () -> loss.tokenLogprobsBackward(infLogits, v, d.targets, 1f, d.gradLogp, grad));
        float[] nanGrad = d.gradLogp.clone();
        nanGrad[9] = Float.NaN;
        assertRejected("gradLogp[9]", () -> loss.tokenLogprobsBackward(d.logits, v, d.targets, 1f, nanGrad, grad));
        nanGrad[9] = Float.POSITIVE_INFINITY;
        assertRejected("gradLogp[9]", () -> loss.tokenLogprobsBackward(d.logits, v, d.targets, 1f, nanGrad, grad));
        assertArrayEquals(untouched, grad, "gradLogits must be untouched by rejected calls");

        // In place: a rejected call leaves the logits as they were.
        float[] inPlace = nanLogits.clone();
        assertRejected(
                "logits row 6", () -> loss.tokenLogprobsBackward(inPlace, v, d.targets, 1f, d.gradLogp, inPlace));
        assertArrayEquals(nanLogits, inPlace, "in-place logits must survive a rejected call");

        assertRejected(
                "gradLogp", () -> loss.tokenLogprobsBackward(d.logits, v, d.targets, 1f, new float[n - 1], grad));
        assertRejected(
                "gradLogits",
                () -> loss.tokenLogprobsBackward(d.logits, v, d.targets, 1f, d.gradLogp, new float[n * v + 1]));
        assertRejected("logits", () -> loss.tokenLogprobsBackward(new float[5], v, d.targets, 1f, d.gradLogp, grad));
        assertRejected("vocab", () -> loss.tokenLogprobsBackward(d.logits, 0, d.targets, 1f, d.gradLogp, grad));
        assertRejected("temperature", () -> loss.tokenLogprobsBackward(d.logits, v, d.targets, 0f, d.gradLogp, grad));
        assertRejected(
                "temperature", () -> loss.tokenLogprobsBackward(d.logits, v, d.targets, Float.NaN, d.gradLogp, grad));
        assertRejected("logits", () -> loss.tokenLogprobsBackward(null, v, d.targets, 1f, d.gradLogp, grad));
        assertRejected("targets", () -> loss.tokenLogprobsBackward(d.logits, v, null, 1f, d.gradLogp, grad));
        assertRejected("gradLogp", () -> loss.tokenLogprobsBackward(d.logits, v, d.targets, 1f, null, grad));
        assertRejected("gradLogits", () -> loss.tokenLogprobsBackward(d.logits, v, d.targets, 1f, d.gradLogp, null));
        assertArrayEquals(untouched, grad, "gradLogits must be untouched by rejected calls");
    }

    /**
     * Through the pointer entry only the native code sees the values: each bad value is found in the
     * read-only pass, after the rows before it were read, and the in-place buffer survives (f32 and bf16).
     */
    @ParameterizedTest
    @EnumSource(
            value = DType.class,
            names = {"F32", "BF16"})
    void nativeChecksBeforeWritingInPlace(DType dtype) {
        int n = 64, v = 33;
        Data d = Data.of(n, v, 4);
        d.gradLogp[n - 1] = 0.5f;
        try (PointerScope scope = new PointerScope()) {
            Function<float[], Pointer> upload = x -> {
                if (dtype == DType.F32) return new FloatPointer(x);
                short[] raw = new short[x.length];
                for (int i = 0; i < raw.length; i++) raw[i] = Bf16.fromFloat(x[i]);
                return new ShortPointer(raw);
            };
            Function<Pointer, float[]> download = p -> NativeArrays.toFloats(p, dtype, (long) n * v);

            int[] badTarget = d.targets.clone();
            badTarget[n - 1] = 1000; // the last row: found only after every other row was read
            Pointer buf = upload.apply(d.logits);
            float[] before = download.apply(buf);
            assertRejected(
                    "targets[" + (n - 1) + "]",
                    () -> cpu.tokenLogprobsBackward(
                            n,
                            v,
                            buf,
                            dtype,
                            new IntPointer(badTarget),
                            DType.I32,
                            1f,
                            new FloatPointer(d.gradLogp),
                            buf));
            assertArrayEquals(before, download.apply(buf), "in-place logits must survive a rejected call");

            float[] nanLogits = d.logits.clone();
            nanLogits[(n - 1) * v + 7] = Float.NaN;
            Pointer nanBuf = upload.apply(nanLogits);
            float[] nanBefore = download.apply(nanBuf);
            assertRejected(
                    "logits row " + (n - 1),
                    () -> cpu.tokenLogprobsBackward(
                            n,
                            v,
                            nanBuf,
                            dtype,
                            new IntPointer(d.targets),
                            DType.I32,
                            1f,
                            new FloatPointer(d.gradLogp),
                            nanBuf));
            assertArrayEquals(nanBefore, download.apply(nanBuf), "in-place logits must survive a rejected call");

            float[] nanGrad = d.gradLogp.clone();
            nanGrad[n - 1] = Float.NaN;
            assertRejected(
                    "gradLogp[" + (n - 1) + "]",
                    () -> cpu.tokenLogprobsBackward(
                            n,
                            v,
                            buf,
                            dtype,
                            new IntPointer(d.targets),
                            DType.I32,
                            1f,
                            new FloatPointer(nanGrad),
                            buf));
            assertArrayEquals(before, download.apply(buf), "in-place logits must survive a rejected call");

            assertRejected(
                    "gradLogits",
                    () -> cpu.tokenLogprobsBackward(
                            n,
                            v,
                            buf,
                            dtype,
                            new IntPointer(d.targets),
                            DType.I32,
                            1f,
                            new FloatPointer(d.gradLogp),
                            null));
            assertRejected(
                    "gradLogp",
                    () -> cpu.tokenLogprobsBackward(
                            n, v, buf, dtype, new IntPointer(d.targets), DType.I32, 1f, new FloatPointer(3), buf));
            assertRejected(
                    "logitsDtype",
                    () -> cpu.tokenLogprobsBackward(
                            n,
                            v,
                            buf,
                            DType.I32,
                            new IntPointer(d.targets),
                            DType.I32,
                            1f,
                            new FloatPointer(d.gradLogp),
                            buf));
            assertRejected("n", () -> cpu.tokenLogprobsBackward(-1, v, null, dtype, null, DType.I32, 1f, null, null));
            assertArrayEquals(before, download.apply(buf), "in-place logits must survive a rejected call");
        }
    }

    @Test
    void wrongTensorsAreRejectedWithTheArgumentNamed() {
        int n = 9, v = 5;
        Data d = Data.of(n, v, 1);
        try (PointerScope scope = new PointerScope()) {
            Tensor logits = AbstractTensor.create(d.logits, n, v);
            Tensor targets = AbstractTensor.create(d.targets);
            Tensor gradLogp = AbstractTensor.create(d.gradLogp);
            Tensor grad = torch.zeros(n, v);
            assertRejected(
                    "gradLogits",
                    () -> cpu.tokenLogprobsBackward(logits.to(ScalarType.BFloat16), targets, 1f, gradLogp, grad));
            assertRejected(
                    "gradLogits",
                    () -> cpu.tokenLogprobsBackward(logits, targets, 1f, gradLogp, torch.zeros(n, v + 1)));
            assertRejected(
                    "gradLogits",
                    () -> cpu.tokenLogprobsBackward(
                            logits, targets, 1f, gradLogp, torch.zeros(v, n).t())); // not contiguous
            assertRejected("gradLogits", () -> cpu.tokenLogprobsBackward(logits, targets, 1f, gradLogp, null));
            assertRejected(
                    "gradLogp",
                    () -> cpu.tokenLogprobsBackward(logits, targets, 1f, gradLogp.to(ScalarType.Double), grad));
            assertRejected("gradLogp", () -> cpu.tokenLogprobsBackward(logits, targets, 1f, torch.zeros(n + 1), grad));
            assertRejected(
                    "targets",
                    () -> cpu.tokenLogprobsBackward(logits, targets.to(ScalarType.Float), 1f, gradLogp, grad));
            assertRejected(
                    "logits", () -> cpu.tokenLogprobsBackward(logits.to(ScalarType.Half), targets, 1f, gradLogp, grad));
            float[] nan = d.gradLogp.clone();
            nan[2] = Float.NaN;
            Tensor nanGrad = AbstractTensor.create(nan);
            Tensor inPlace = logits.clone();
            assertRejected("gradLogp[2]", () -> cpu.tokenLogprobsBackward(inPlace, targets, 1f, nanGrad, inPlace));
            assertArrayEquals(d.logits, read(inPlace), "in-place logits must survive a rejected call");
            assertArrayEquals(new float[n * v], read(grad), "gradLogits must be untouched by rejected calls");
        }
    }
}
