package io.github.spo4j.bench.sampler;

import io.github.spo4j.bench.BenchSupport;
import io.github.spo4j.kernels.Backend;
import io.github.spo4j.kernels.DType;
import io.github.spo4j.kernels.sampler.Sampler;
import io.github.spo4j.kernels.sampler.SamplerConfig;
import io.github.spo4j.kernels.sampler.SamplerReference;
import io.github.spo4j.kernels.sampler.SamplerTorch;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.DoubleSupplier;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One sampling step: a token and its log-prob for each of B rows of fp32 logits [B, V], at T = 1 with top-p
 * {@code topP} (1 = plain sampling).
 *
 * <ul>
 *   <li>{@code reference}: {@link SamplerReference#sample} on Java arrays (full sort per row; the baseline).</li>
 *   <li>{@code cpu}: {@link Sampler} on {@link Backend#CPU}, zero-copy pointer entry, buffers allocated once.</li>
 *   <li>{@code torch}: {@link SamplerTorch#sample}: softmax(logits / T), full sort + cumsum top-p mask, scatter,
 *       multinomial, log_softmax + gather, on a tensor made once.</li>
 *   <li>{@code cuda}: {@link Sampler} on {@link Backend#CUDA} over device buffers; only with {@code -p impl=cuda}.</li>
 * </ul>
 *
 * Logits: N(0, 2.5²) per token, each row with a few tokens raised by 4..10 (a peaked head over a long tail,
 * like a language model's): top-p 0.95 keeps from a handful to a few thousand tokens per row.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(
        value = 1,
        jvmArgsPrepend = {
            "--enable-native-access=ALL-UNNAMED",
            "-Xss4m",
            "-Xmx3g",
            "-Dorg.bytedeco.javacpp.cachedir=target/javacpp-cache"
        })
@State(Scope.Benchmark)
@SuppressWarnings("try") // PointerScope is opened for its effect: it frees what is created inside
public class SamplerBenchmark {
    @Param({"reference", "cpu", "torch"})
    public String impl;

    @Param({"1", "216"})
    public int rows;

    @Param({"32000", "151936"})
    public int vocab;

    @Param({"0.95", "1.0"})
    public float topP;

    private DoubleSupplier step;
    private AutoCloseable resources;

    /** The benchmark's logits, [rows, vocab] (fixed seed). */
    static float[] logits(int rows, int vocab) {
        SplittableRandom rng = new SplittableRandom(BenchSupport.SEED);
        float[] out = new float[rows * vocab];
        for (int r = 0; r < rows; r++) {
            for (int i = 0; i < vocab; i++) {
                double u = rng.nextDouble(), w = rng.nextDouble();
                out[r * vocab + i] = (float) (2.5 * Math.sqrt(-2 * Math.log(1 - u)) * Math.cos(2 * Math.PI * w));
            }
            for (int j = 0; j < 8; j++) out[r * vocab + rng.nextInt(vocab)] += 4 + 6 * (float) rng.nextDouble();
        }
        return out;
    }

    @Setup(Level.Trial)
    public void setup() {
        BenchSupport.configureThreads();
        SamplerConfig config = SamplerConfig.of(BenchSupport.SEED).withTopP(topP);
        float[] logits = logits(rows, vocab);
        long[] ids = new long[rows];
        int[] pos = new int[rows];
        for (int r = 0; r < rows; r++) {
            ids[r] = r;
            pos[r] = 100 + r;
        }
        int v = vocab, b = rows;
        switch (impl) {
            case "reference" ->
                step = () ->
                        SamplerReference.sample(config, logits, v, ids, pos).tokens()[0];
            case "cpu", "cuda" -> {
                boolean cuda = impl.equals("cuda");
                if (cuda) BenchSupport.requireCuda();
                Sampler sampler = Sampler.create(cuda ? Backend.CUDA : Backend.CPU);
                BenchSupport.Buffers buf = new BenchSupport.Buffers(cuda);
                resources = buf;
                LongPointer seqIds = buf.longs(ids);
                FloatPointer lg = buf.floats(logits);
                IntPointer positions = buf.ints(pos);
                IntPointer tokens = buf.ints((long) b);
                FloatPointer logprobs = buf.floats((long) b);
                step = () -> {
                    sampler.sample(config, b, v, lg, DType.F32, seqIds, positions, tokens, logprobs);
                    return b;
                };
            }
            case "torch" -> {
                Tensor lg = BenchSupport.Tensors.floats(logits, b, v);
                resources = () -> BenchSupport.Tensors.release(lg);
                step = () -> {
                    try (PointerScope scope = new PointerScope()) {
                        return SamplerTorch.sample(config, lg).tokens().numel();
                    }
                };
            }
            default -> throw new IllegalArgumentException("impl must be reference, cpu, torch or cuda; got " + impl);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        if (resources != null) resources.close();
        resources = null;
    }

    /** One sampling step over the whole batch. */
    @Benchmark
    public double sample() {
        return step.getAsDouble();
    }
}
