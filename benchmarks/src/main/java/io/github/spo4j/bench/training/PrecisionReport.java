package io.github.spo4j.bench.training;

import io.github.spo4j.bench.BenchSupport;
import io.github.spo4j.bench.ResultsCsv;
import io.github.spo4j.kernels.loss.PolicyLossConfig;
import io.github.spo4j.model.ModelConfig;
import io.github.spo4j.model.Policy;
import io.github.spo4j.model.Precision;
import io.github.spo4j.spo.Algorithm;
import io.github.spo4j.train.TrainConfig;
import io.github.spo4j.train.Workspace;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.Arrays;
import java.util.List;
import org.bytedeco.openblas.presets.openblas_nolapack;
import org.bytedeco.pytorch.global.torch;

/**
 * Does bf16 pay on the CPU? The trainer's packed passes ({@link TrainingStepBench}'s logprob and forward_backward)
 * in fp32 and under bf16 autocast, side by side in one process, on the compare's GRPO batch (16 prompts × 8
 * responses, 64 + 64 tokens) and SPO-tree batch (16 trees 2-2-2, 10-token segments, 64-token prompts), for the
 * built-in model and two wider ones. Not JMH: each pass is 5 ms to seconds, timed by wall clock, fp32 and bf16
 * alternating so that drift hits both; the median of {@code -i} pairs.
 *
 * <pre>
 *   java -cp benchmarks/target/benchmarks.jar io.github.spo4j.bench.training.PrecisionReport [-i 7] [-sizes 64x2,256x4,512x8]
 * </pre>
 *
 * Writes {@code benchmarks/results/precision_cpu.csv}: per model, workload and phase, {@code time} (ms) for
 * {@code fp32} and {@code bf16}, and {@code speedup_vs_fp32} for bf16 (written after every model, so a long run that
 * is stopped keeps the models it finished). Models: hidden x layers, 32 ids, as the built-in one.
 */
public final class PrecisionReport {
    private PrecisionReport() {}

    public static void main(String[] args) throws IOException {
        int repeats = 7;
        String sizes = "64x2,256x4,512x8";
        for (int i = 0; i + 1 < args.length; i++) {
            if (args[i].equals("-i")) repeats = Integer.parseInt(args[++i]);
            else if (args[i].equals("-sizes")) sizes = args[++i];
        }
        Path csv = Path.of(System.getProperty(
                "spo4j.bench.csv",
                Files.isDirectory(Path.of("benchmarks"))
                        ? "benchmarks/results/precision_cpu.csv"
                        : "results/precision_cpu.csv"));
        torch.set_num_threads(1);
        openblas_nolapack.blas_set_num_threads(BenchSupport.threads());
        PolicyLossConfig loss =
                TrainConfig.preset(Algorithm.SPO_TREE).algorithm().loss();
        List<TrainingStepBench.Workload> workloads = List.of(
                TrainingStepBench.Workload.grpo(16, 8, 64, 64),
                TrainingStepBench.Workload.tree(16, new int[] {2, 2, 2}, 10, 64));
        ResultsCsv table = new ResultsCsv(
                BenchSupport.machine() + "; " + BenchSupport.threads() + " threads",
                LocalDate.now().toString());
        System.out.printf(
                "precision: torch 1 thread, BLAS %d, median of %d alternating pairs%n",
                BenchSupport.threads(), repeats);
        System.out.printf(
                "%-22s %-10s %-16s %10s %10s %8s%n", "model", "workload", "phase", "fp32 ms", "bf16 ms", "bf16 x");
        for (String spec : sizes.split(",")) {
            String[] hl = spec.strip().split("x");
            int[] size = {Integer.parseInt(hl[0]), Integer.parseInt(hl[1])};
            ModelConfig model = Workspace.builtInModel(32, size[0], size[1]);
            String name = "hidden " + size[0] + " x " + size[1] + " layers";
            try (Policy policy = Policy.random(model, BenchSupport.SEED)) {
                for (TrainingStepBench.Workload w : workloads) {
                    for (String phase : new String[] {"logprob", "forward_backward"}) {
                        Runnable pass = phase.equals("logprob")
                                ? () -> TrainingStepBench.logprobs(policy, w, 256, "packed")
                                : () -> TrainingStepBench.forwardBackward(policy, w, 64, loss, "packed");
                        double[] fp32 = new double[repeats], bf16 = new double[repeats];
                        for (int r = -1; r < repeats; r++) { // r = -1: warm-up of both
                            double a = timed(policy, Precision.FP32, pass), b = timed(policy, Precision.BF16, pass);
                            if (r >= 0) {
                                fp32[r] = a;
                                bf16[r] = b;
                            }
                        }
                        for (var p : policy.namedParameters().values())
                            if (p.grad().defined()) p.grad().zero_();
                        Arrays.sort(fp32);
                        Arrays.sort(bf16);
                        double f = fp32[repeats / 2], h = bf16[repeats / 2];
                        String shape = name + "; " + w.shape();
                        String kernel = "precision." + w.name() + "." + phase;
                        table.add(kernel, "fp32", shape, "time", f, "ms");
                        table.add(kernel, "bf16", shape, "time", h, "ms");
                        table.add(kernel, "bf16", shape, "speedup_vs_fp32", f / h, "x");
                        System.out.printf(
                                "%-22s %-10s %-16s %10.2f %10.2f %8.2f%n", name, w.name(), phase, f, h, f / h);
                    }
                }
            }
            table.write(csv);
        }
        System.out.println("wrote " + csv.toAbsolutePath());
    }

    private static double timed(Policy policy, Precision precision, Runnable pass) {
        policy.setPrecision(precision);
        long t0 = System.nanoTime();
        pass.run();
        return (System.nanoTime() - t0) / 1e6;
    }
}
