package io.github.spo4j.bench.rollout;

import io.github.spo4j.bench.BenchSupport;
import io.github.spo4j.bench.ResultsCsv;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.List;

/**
 * Generation throughput and KV memory, shared KV cache against unshared ({@link RolloutBench}; not JMH: each
 * operation is a whole sampling call of 0.1-5 s, timed by wall clock, and the memory figures are counts). Run through
 * {@code RecordResults} with {@code -Dspo4j.bench.suite=rollout}, or directly; it writes
 * {@code benchmarks/results/rollout_cpu.csv} ({@link ResultsCsv} columns) and prints the table.
 *
 * <pre>
 *   java -Dspo4j.bench.suite=rollout -cp benchmarks/target/benchmarks.jar io.github.spo4j.bench.RecordResults [-wi 1] [-i 5]
 * </pre>
 *
 * Shapes: {@link RolloutBench.Config#full()} ({@code -Dspo4j.bench.quick=true}: {@link RolloutBench.Config#quick()}).
 * {@code -wi} warm-up runs (default 1) and {@code -i} timed runs (default 5) per workload and mode; threads as the
 * other suites ({@code -Dspo4j.bench.threads}), libtorch's BLAS on {@link RolloutBench#BLAS_THREADS}.
 * Rows per workload ({@code rollout.tree}, {@code rollout.chain}) and impl ({@code shared}, {@code unshared}):
 * {@code time} (ms, median), {@code throughput} (delivered response tokens/s), {@code response_tokens},
 * {@code prefill_tokens}, {@code decode_tokens}, {@code peak_kv_bytes} (MiB); impl {@code shared} also
 * {@code speedup_vs_unshared} (unshared time / shared time) and {@code kv_reduction_vs_unshared} (unshared peak
 * KV bytes / shared).
 */
public final class RolloutReport {
    private RolloutReport() {}

    public static void main(String[] args) throws IOException {
        int warmup = 1, repeats = 5;
        for (int i = 0; i + 1 < args.length; i++) {
            if (args[i].equals("-wi")) warmup = Integer.parseInt(args[++i]);
            else if (args[i].equals("-i")) repeats = Integer.parseInt(args[++i]);
        }
        Path csv = Path.of(System.getProperty(
                "spo4j.bench.csv",
                Files.isDirectory(Path.of("benchmarks"))
                        ? "benchmarks/results/rollout_cpu.csv"
                        : "results/rollout_cpu.csv"));
        BenchSupport.configureThreads();
        RolloutBench.Config config =
                Boolean.getBoolean("spo4j.bench.quick") ? RolloutBench.Config.quick() : RolloutBench.Config.full();
        System.out.printf(
                "rollout: %d threads (torch, spo4j), BLAS %d, warmup %d, median of %d timed runs%n",
                BenchSupport.threads(), RolloutBench.BLAS_THREADS, warmup, repeats);
        List<RolloutBench.Comparison> results = RolloutBench.run(config, warmup, repeats);
        ResultsCsv table = new ResultsCsv(
                BenchSupport.machine() + "; " + BenchSupport.threads() + " threads",
                LocalDate.now().toString());
        for (RolloutBench.Comparison c : results) {
            for (RolloutBench.Measurement m : List.of(c.shared(), c.unshared())) {
                String kernel = "rollout." + m.workload();
                table.add(kernel, m.mode(), m.shape(), "time", m.medianMs(), "ms");
                table.add(kernel, m.mode(), m.shape(), "throughput", m.tokensPerSecond(), "tokens/s");
                table.add(kernel, m.mode(), m.shape(), "response_tokens", m.responseTokens(), "tokens");
                table.add(kernel, m.mode(), m.shape(), "prefill_tokens", m.prefillTokens(), "tokens");
                table.add(kernel, m.mode(), m.shape(), "decode_tokens", m.decodeTokens(), "tokens");
                table.add(kernel, m.mode(), m.shape(), "peak_kv_bytes", m.peakKvBytes() / (double) (1 << 20), "MiB");
            }
            String kernel = "rollout." + c.shared().workload();
            table.add(kernel, "shared", c.shared().shape(), "speedup_vs_unshared", c.throughputGain(), "x");
            table.add(kernel, "shared", c.shared().shape(), "kv_reduction_vs_unshared", c.kvReduction(), "x");
        }
        table.write(csv);
        PrintWriter out = new PrintWriter(System.out, true);
        out.println();
        RolloutBench.print(results, out);
        out.println();
        out.print(table);
        out.println("wrote " + csv.toAbsolutePath());
        out.flush();
    }
}
