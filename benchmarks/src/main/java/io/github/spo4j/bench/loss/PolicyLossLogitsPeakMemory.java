package io.github.spo4j.bench.loss;

import io.github.spo4j.bench.BenchSupport;
import io.github.spo4j.bench.ResultsCsv;
import io.github.spo4j.kernels.Backend;
import io.github.spo4j.kernels.DType;
import io.github.spo4j.kernels.engine.NativeArrays;
import io.github.spo4j.kernels.loss.LogitsBatch;
import io.github.spo4j.kernels.loss.PolicyLoss;
import io.github.spo4j.kernels.loss.PolicyLossConfig;
import io.github.spo4j.kernels.loss.PolicyLossInputs;
import io.github.spo4j.kernels.loss.PolicyLossTorch;
import java.io.IOException;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.SplittableRandom;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;

/**
 * Peak memory of one logits-entry call beyond its inputs and its [N, V] gradient buffer, for growing V:
 * the fused CPU kernel (work space O(N)) against the torch composition ({@code log_softmax} and its
 * backward hold [N, V] temporaries). Linux only: it resets the process's peak RSS through
 * {@code /proc/self/clear_refs}, runs one call, and reads {@code VmHWM} − {@code VmRSS} before.
 * Every buffer is allocated, and each implementation warmed up once, before the measured call.
 *
 * <pre>java -cp benchmarks/target/benchmarks.jar io.github.spo4j.bench.loss.PolicyLossLogitsPeakMemory [out.csv]</pre>
 */
@SuppressWarnings("try") // PointerScope is opened for its effect: it frees what is created inside
public final class PolicyLossLogitsPeakMemory {
    private static final int N = 256;
    private static final int[] VOCABS = {32_000, 151_936};

    private PolicyLossLogitsPeakMemory() {}

    public static void main(String[] args) throws IOException {
        BenchSupport.configureThreads();
        Path out = Path.of(args.length > 0 ? args[0] : "benchmarks/results/policy_loss_memory.csv");
        ResultsCsv csv = new ResultsCsv(
                BenchSupport.machine() + "; " + BenchSupport.threads() + " threads",
                LocalDate.now().toString());
        PolicyLossConfig config = PolicyLossConfig.spo();
        System.out.printf("%-8s %-16s %12s %22s%n", "impl", "shape", "[N,V] MiB", "extra peak MiB");
        for (int v : VOCABS) {
            LogitsBatch x = PolicyLossInputs.logitsBatch(N, v, new SplittableRandom(BenchSupport.SEED));
            String shape = "N=" + N + " V=" + v;
            double logitsMiB = (double) N * v * 4 / (1 << 20);
            double cpu = cpuPeak(config, x);
            double torchPeak = torchPeak(config, x);
            System.out.printf("%-8s %-16s %12.1f %22.1f%n", "cpu", shape, logitsMiB, cpu);
            System.out.printf("%-8s %-16s %12.1f %22.1f%n", "torch", shape, logitsMiB, torchPeak);
            csv.add("policy_loss.logits", "cpu", shape, "extra_peak_memory", cpu, "MiB");
            csv.add("policy_loss.logits", "torch", shape, "extra_peak_memory", torchPeak, "MiB");
            csv.add("policy_loss.logits", "any", shape, "logits_buffer", logitsMiB, "MiB");
        }
        csv.write(out);
        System.out.println("wrote " + out);
    }

    private static double cpuPeak(PolicyLossConfig config, LogitsBatch x) {
        PolicyLoss cpu = PolicyLoss.create(Backend.CPU);
        int n = x.numTokens(), v = x.vocab();
        try (PointerScope scope = new PointerScope()) {
            FloatPointer logits = new FloatPointer(x.logits());
            FloatPointer grad = new FloatPointer((long) n * v);
            IntPointer offs = new IntPointer(x.seqOffsets()), targets = new IntPointer(x.targets());
            FloatPointer old = new FloatPointer(x.oldLogp()), ref = new FloatPointer(x.refLogp());
            FloatPointer adv = new FloatPointer(x.advantages());
            BytePointer valid = NativeArrays.bytes(x.valid());
            Runnable call = () -> cpu.logits(
                    config,
                    n,
                    v,
                    x.seqOffsets().length - 1,
                    offs,
                    logits,
                    DType.F32,
                    targets,
                    DType.I32,
                    x.temperature(),
                    old,
                    ref,
                    adv,
                    valid,
                    grad,
                    null,
                    null);
            call.run();
            return measure(call);
        }
    }

    private static double torchPeak(PolicyLossConfig config, LogitsBatch x) {
        int n = x.numTokens(), v = x.vocab();
        Tensor logits = BenchSupport.Tensors.floats(x.logits(), n, v);
        logits.set_requires_grad(true);
        Tensor offs = BenchSupport.Tensors.ints(x.seqOffsets()), targets = BenchSupport.Tensors.longs(x.targets());
        Tensor old = BenchSupport.Tensors.floats(x.oldLogp()), ref = BenchSupport.Tensors.floats(x.refLogp());
        Tensor adv = BenchSupport.Tensors.floats(x.advantages()), valid = BenchSupport.Tensors.bools(x.valid());
        Runnable call = () -> {
            try (PointerScope scope = new PointerScope()) {
                PolicyLossTorch.lossFromLogits(config, offs, logits, targets, x.temperature(), old, ref, adv, valid)
                        .backward();
            }
        };
        try {
            call.run(); // allocates logits.grad, the [N, V] gradient buffer, which later calls reuse
            BenchSupport.Tensors.zeroGrad(logits);
            return measure(call);
        } finally {
            BenchSupport.Tensors.release(logits, offs, targets, old, ref, adv, valid);
        }
    }

    private static double measure(Runnable call) {
        return BenchSupport.peakRssMib(call);
    }
}
