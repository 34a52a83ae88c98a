package io.github.spo4j.bench.training;

import io.github.spo4j.bench.BenchSupport;
import io.github.spo4j.bench.ResultsCsv;
import io.github.spo4j.spo.Algorithm;
import io.github.spo4j.train.TrainConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.List;

/**
 * The training side of an iteration ({@link TrainingStepBench}; not JMH: each operation is a whole pass of 0.01-10 s,
 * timed by wall clock, and the token counts are counts). Run through {@code RecordResults} with
 * {@code -Dspo4j.bench.suite=training-step}, or directly; it writes {@code benchmarks/results/training_step_cpu.csv}
 * ({@link ResultsCsv} columns) and prints the table.
 *
 * <pre>
 *   java -Dspo4j.bench.suite=training-step -cp benchmarks/target/benchmarks.jar io.github.spo4j.bench.RecordResults [-wi 1] [-i 3]
 * </pre>
 *
 * Shapes: {@link TrainingStepBench.Config#full()} ({@code -Dspo4j.bench.quick=true}: {@link
 * TrainingStepBench.Config#quick()}); the loss is SPO-tree's preset. Rows per workload and phase (kernel
 * {@code training.grpo.logprob}, {@code training.tree.forward_backward}, ...) and impl ({@code unpacked},
 * {@code packed}): {@code time} (ms, median), {@code tokens} processed, {@code unique_tokens}, {@code redundancy}
 * (processed / unique), {@code peak_rss} (MiB above the level before one pass); for {@code packed} also
 * {@code speedup_vs_unpacked} and {@code memory_reduction_vs_unpacked}. Peaks read low unless the JVM runs with
 * {@code MALLOC_MMAP_THRESHOLD_=131072} (glibc reuses freed blocks below its adaptive threshold).
 */
public final class TrainingStepReport {
    private TrainingStepReport() {}

    public static void main(String[] args) throws IOException {
        int warmup = 1, repeats = 3;
        for (int i = 0; i + 1 < args.length; i++) {
            if (args[i].equals("-wi")) warmup = Integer.parseInt(args[++i]);
            else if (args[i].equals("-i")) repeats = Integer.parseInt(args[++i]);
        }
        Path csv = Path.of(System.getProperty(
                "spo4j.bench.csv",
                Files.isDirectory(Path.of("benchmarks"))
                        ? "benchmarks/results/training_step_cpu.csv"
                        : "results/training_step_cpu.csv"));
        TrainingStepBench.Config config = Boolean.getBoolean("spo4j.bench.quick")
                ? TrainingStepBench.Config.quick()
                : TrainingStepBench.Config.full();
        System.out.printf(
                "training step: torch 1 thread, BLAS %d, warmup %d, median of %d timed runs%n",
                BenchSupport.threads(), warmup, repeats);
        List<TrainingStepBench.Measurement> results = TrainingStepBench.run(
                config, TrainConfig.preset(Algorithm.SPO_TREE).algorithm().loss(), warmup, repeats);
        ResultsCsv table = new ResultsCsv(
                BenchSupport.machine() + "; " + BenchSupport.threads() + " threads",
                LocalDate.now().toString());
        for (TrainingStepBench.Measurement m : results) {
            String kernel = "training." + m.workload() + "." + m.phase();
            table.add(kernel, m.impl(), m.shape(), "time", m.medianMs(), "ms");
            table.add(kernel, m.impl(), m.shape(), "tokens", m.tokens(), "tokens");
            table.add(kernel, m.impl(), m.shape(), "unique_tokens", m.uniqueTokens(), "tokens");
            table.add(kernel, m.impl(), m.shape(), "redundancy", m.redundancy(), "x");
            table.add(kernel, m.impl(), m.shape(), "peak_rss", m.peakRssMib(), "MiB");
        }
        for (TrainingStepBench.Measurement m : results) {
            if (m.impl().equals("unpacked")) continue;
            String kernel = "training." + m.workload() + "." + m.phase();
            ResultsCsv.Row base = table.find(kernel, "unpacked", m.shape(), "time");
            ResultsCsv.Row baseRss = table.find(kernel, "unpacked", m.shape(), "peak_rss");
            table.add(kernel, m.impl(), m.shape(), "speedup_vs_unpacked", base.median() / m.medianMs(), "x");
            table.add(
                    kernel,
                    m.impl(),
                    m.shape(),
                    "memory_reduction_vs_unpacked",
                    baseRss.median() / Math.max(m.peakRssMib(), 0.1),
                    "x");
        }
        table.write(csv);
        PrintWriter out = new PrintWriter(System.out, true);
        out.println();
        TrainingStepBench.print(results, out);
        out.println("wrote " + csv.toAbsolutePath());
        out.flush();
    }
}
