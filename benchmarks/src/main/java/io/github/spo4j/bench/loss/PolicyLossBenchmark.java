package io.github.spo4j.bench.loss;

import io.github.spo4j.bench.BenchSupport;
import io.github.spo4j.kernels.Backend;
import io.github.spo4j.kernels.loss.PolicyLoss;
import io.github.spo4j.kernels.loss.PolicyLossConfig;
import io.github.spo4j.kernels.loss.PolicyLossInputs;
import io.github.spo4j.kernels.loss.PolicyLossReference;
import io.github.spo4j.kernels.loss.PolicyLossTorch;
import io.github.spo4j.kernels.loss.TokenBatch;
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
 * The policy loss's per-token entry, loss and gradient d loss / d logp together, with the SPO config
 * (whitening, k3 KL against refLogp with β = 1e-4, ρ = 0.9, ratio skip at 10) on N tokens in ragged
 * sequences of about 512 tokens, 90% valid ({@link PolicyLossInputs#tokenBatch}).
 *
 * <ul>
 *   <li>{@code reference}: {@link PolicyLossReference#tokens} on Java arrays (double arithmetic; the
 *       baseline, slow by design).</li>
 *   <li>{@code cpu}: the native kernel through the zero-copy pointer entry, buffers allocated once.</li>
 *   <li>{@code torch}: {@link PolicyLossTorch#loss} (the loss composed from libtorch ops), forward and
 *       autograd backward, the gradient zeroed in place before each step.</li>
 *   <li>{@code cuda}: the native CUDA kernel on device buffers. Not in the default list, so the run
 *       completes on machines without a GPU; ask for it with {@code -p impl=cuda} (with no usable GPU its
 *       trial fails in setup with "cuda unavailable" and JMH goes on with the next one).</li>
 * </ul>
 *
 * Our kernels and libtorch both use {@code -Dspo4j.bench.threads} threads (default: all cores).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
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
public class PolicyLossBenchmark {
    @Param({"reference", "cpu", "torch"})
    public String impl;

    /** Tokens N: an odd size, one of 64 K, 1 M. */
    @Param({"4099", "65536", "1048576"})
    public int n;

    private final PolicyLossConfig config = PolicyLossConfig.spo();
    private DoubleSupplier step;
    private AutoCloseable resources;

    @Setup(Level.Trial)
    public void setup() {
        BenchSupport.configureThreads();
        TokenBatch x = PolicyLossInputs.tokenBatch(n, new SplittableRandom(BenchSupport.SEED));
        switch (impl) {
            case "reference" -> {
                float[] grad = new float[n];
                step = () -> PolicyLossReference.tokens(config, x, grad).loss();
            }
            case "cpu", "cuda" -> {
                boolean cuda = impl.equals("cuda");
                if (cuda) BenchSupport.requireCuda();
                PolicyLoss loss = PolicyLoss.create(cuda ? Backend.CUDA : Backend.CPU);
                BenchSupport.Buffers buf = new BenchSupport.Buffers(cuda);
                resources = buf;
                int b = x.numSeqs();
                IntPointer offsets = buf.ints(x.seqOffsets());
                FloatPointer logp = buf.floats(x.logp());
                FloatPointer oldLogp = buf.floats(x.oldLogp());
                FloatPointer refLogp = buf.floats(x.refLogp());
                FloatPointer advantages = buf.floats(x.advantages());
                BytePointer valid = buf.bools(x.valid());
                FloatPointer grad = buf.floats((long) n);
                step = () -> loss.tokens(config, n, b, offsets, logp, oldLogp, refLogp, advantages, valid, grad)
                        .loss();
            }
            case "torch" -> {
                Tensor offsets = BenchSupport.Tensors.ints(x.seqOffsets());
                Tensor logp = BenchSupport.Tensors.floats(x.logp());
                logp.requires_grad_(true);
                Tensor oldLogp = BenchSupport.Tensors.floats(x.oldLogp());
                Tensor refLogp = BenchSupport.Tensors.floats(x.refLogp());
                Tensor advantages = BenchSupport.Tensors.floats(x.advantages());
                Tensor valid = BenchSupport.Tensors.bools(x.valid());
                resources = () -> BenchSupport.Tensors.release(offsets, logp, oldLogp, refLogp, advantages, valid);
                step = () -> {
                    BenchSupport.Tensors.zeroGrad(logp);
                    try (PointerScope scope = new PointerScope()) {
                        Tensor loss = PolicyLossTorch.loss(config, offsets, logp, oldLogp, refLogp, advantages, valid);
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

    /** One loss + gradient; the loss is returned so JMH consumes it. */
    @Benchmark
    public double tokens() {
        return step.getAsDouble();
    }
}
