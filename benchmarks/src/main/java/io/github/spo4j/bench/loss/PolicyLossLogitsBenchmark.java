package io.github.spo4j.bench.loss;

import io.github.spo4j.bench.BenchSupport;
import io.github.spo4j.kernels.Backend;
import io.github.spo4j.kernels.DType;
import io.github.spo4j.kernels.loss.LogitsBatch;
import io.github.spo4j.kernels.loss.PolicyLoss;
import io.github.spo4j.kernels.loss.PolicyLossConfig;
import io.github.spo4j.kernels.loss.PolicyLossInputs;
import io.github.spo4j.kernels.loss.PolicyLossReference;
import io.github.spo4j.kernels.loss.PolicyLossTorch;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.DoubleSupplier;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
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
 * The policy loss's logits entry: logp = log_softmax(logits / T)[target], the SPO loss, and
 * d loss / d logits [N, V], fp32. Shapes hold 128-156 MB of logits: N = 1024 at V = 32000 (Llama-2 size),
 * N = 256 at V = 151936 (Qwen2 size). Inputs: {@link BenchSupport#logitsBatch}.
 *
 * <ul>
 *   <li>{@code reference}: {@link PolicyLossReference#logits} on Java arrays. About 2 s per call at these
 *       shapes: each JMH iteration then holds a single call, which is fine for a baseline.</li>
 *   <li>{@code cpu}: the native kernel through the pointer entry (online log-sum-exp, no [N, V] temporary),
 *       logits and gradient buffers allocated once.</li>
 *   <li>{@code torch}: {@link PolicyLossTorch#lossFromLogits} ({@code log_softmax(logits / T).gather}, [N, V]
 *       temporaries), forward and autograd backward, the logits' gradient zeroed in place before each step.</li>
 *   <li>{@code cuda}: {@code -p impl=cuda} on a GPU machine (see {@link PolicyLossBenchmark}).</li>
 * </ul>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(
        value = 1,
        jvmArgsPrepend = {
            "--enable-native-access=ALL-UNNAMED",
            "-Xss4m",
            "-Dorg.bytedeco.javacpp.cachedir=target/javacpp-cache"
        })
@State(Scope.Benchmark)
@SuppressWarnings("try") // PointerScope is opened for its effect: it frees what is created inside
public class PolicyLossLogitsBenchmark {
    @Param({"reference", "cpu", "torch"})
    public String impl;

    /** N x V. */
    @Param({"1024x32000", "256x151936"})
    public String shape;

    private final PolicyLossConfig config = PolicyLossConfig.spo();
    private DoubleSupplier step;
    private AutoCloseable resources;

    @Setup(Level.Trial)
    public void setup() {
        BenchSupport.configureThreads();
        String[] nv = shape.split("x");
        int n = Integer.parseInt(nv[0]);
        int v = Integer.parseInt(nv[1]);
        LogitsBatch x = PolicyLossInputs.logitsBatch(n, v, new SplittableRandom(BenchSupport.SEED));
        switch (impl) {
            case "reference" -> {
                float[] grad = new float[x.logits().length];
                step = () ->
                        PolicyLossReference.logits(config, x, grad, null, null).loss();
            }
            case "cpu", "cuda" -> {
                boolean cuda = impl.equals("cuda");
                if (cuda) BenchSupport.requireCuda();
                PolicyLoss loss = PolicyLoss.create(cuda ? Backend.CUDA : Backend.CPU);
                BenchSupport.Buffers buf = new BenchSupport.Buffers(cuda);
                resources = buf;
                int b = x.seqOffsets().length - 1;
                float temperature = x.temperature();
                IntPointer offsets = buf.ints(x.seqOffsets());
                FloatPointer logits = buf.floats(x.logits());
                IntPointer targets = buf.ints(x.targets());
                FloatPointer oldLogp = buf.floats(x.oldLogp());
                FloatPointer refLogp = buf.floats(x.refLogp());
                FloatPointer advantages = buf.floats(x.advantages());
                BytePointer valid = buf.bools(x.valid());
                FloatPointer grad = buf.floats((long) n * v);
                step = () -> loss.logits(
                                config,
                                n,
                                v,
                                b,
                                offsets,
                                logits,
                                DType.F32,
                                targets,
                                DType.I32,
                                temperature,
                                oldLogp,
                                refLogp,
                                advantages,
                                valid,
                                grad,
                                null,
                                null)
                        .loss();
            }
            case "torch" -> {
                float temperature = x.temperature();
                Tensor offsets = BenchSupport.Tensors.ints(x.seqOffsets());
                Tensor logits = BenchSupport.Tensors.floats(x.logits(), n, v);
                logits.requires_grad_(true);
                Tensor targets = BenchSupport.Tensors.longs(x.targets());
                Tensor oldLogp = BenchSupport.Tensors.floats(x.oldLogp());
                Tensor refLogp = BenchSupport.Tensors.floats(x.refLogp());
                Tensor advantages = BenchSupport.Tensors.floats(x.advantages());
                Tensor valid = BenchSupport.Tensors.bools(x.valid());
                resources = () ->
                        BenchSupport.Tensors.release(offsets, logits, targets, oldLogp, refLogp, advantages, valid);
                step = () -> {
                    BenchSupport.Tensors.zeroGrad(logits);
                    try (PointerScope scope = new PointerScope()) {
                        Tensor loss = PolicyLossTorch.lossFromLogits(
                                config, offsets, logits, targets, temperature, oldLogp, refLogp, advantages, valid);
                        loss.backward();
                        return loss.item_double();
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

    /** One loss + gradient w.r.t. the logits; the loss is returned so JMH consumes it. */
    @Benchmark
    public double logits() {
        return step.getAsDouble();
    }
}
