package io.github.spo4j.bench;

import io.github.spo4j.bench.attention.PrefixAttentionBenchmark;
import io.github.spo4j.bench.loss.PolicyLossBenchmark;
import io.github.spo4j.bench.loss.PolicyLossLogitsBenchmark;
import io.github.spo4j.bench.rollout.RolloutReport;
import io.github.spo4j.bench.sampler.SamplerBenchmark;
import io.github.spo4j.bench.training.TrainingStepReport;
import io.github.spo4j.bench.tree.TreeBackupBenchmark;
import io.github.spo4j.kernels.attention.PrefixAttention;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.results.format.ResultFormatType;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * Runs the policy-loss and copy-bandwidth benchmarks through JMH's Runner API and writes
 * {@code benchmarks/results/policy_loss_cpu.csv} ({@link ResultsCsv} columns); with
 * {@code -Dspo4j.bench.suite=tree-backup}, the tree-backup benchmark into {@code tree_backup_cpu.csv} (rows
 * {@code time}, {@code throughput} in million nodes per second, and the speedups); with
 * {@code -Dspo4j.bench.suite=sampler}, the sampler benchmark into {@code sampler_cpu.csv} (rows {@code time},
 * {@code throughput} in billion logits per second, and the speedups); with
 * {@code -Dspo4j.bench.suite=prefix-attention}, the attention benchmark into {@code prefix_attention_cpu.csv}
 * (rows {@code time}, the speedups, and {@code speedup_vs_paged} of the shared path); with
 * {@code -Dspo4j.bench.suite=rollout}, {@link RolloutReport} (not JMH: generation with and without the shared KV
 * cache) into {@code rollout_cpu.csv}, taking only {@code -wi} and {@code -i}; with
 * {@code -Dspo4j.bench.suite=training-step}, {@link TrainingStepReport} (not JMH: the log-prob and training passes of
 * an iteration over GRPO groups and SPO-tree trees) into {@code training_step_cpu.csv}, the same two options.
 *
 * <pre>
 *   java -cp benchmarks/target/benchmarks.jar io.github.spo4j.bench.RecordResults [JMH options]
 * </pre>
 *
 * JMH options (e.g. {@code -wi 1 -i 3}, {@code -p impl=cpu,torch}, a benchmark regex) override the
 * annotations. {@code -Dspo4j.bench.csv=FILE} changes the output (default: benchmarks/results/policy_loss_cpu.csv
 * from the repository root, results/policy_loss_cpu.csv from benchmarks/); the raw JMH results go to
 * {@code target/jmh-policy-loss.json} beside it. Rows, per kernel and shape:
 * <ul>
 *   <li>{@code time}: the median over the measurement iterations ({@code getPercentile(50)}), in ms;</li>
 *   <li>{@code effective_bandwidth}: bytes an ideal implementation moves / time, in GB/s. Per-token entry:
 *       21 B per token (logp, oldLogp, refLogp, advantages 4 B each and valid 1 B read; the gradient 4 B
 *       written). Logits entry: 8 B per logit (4 B read, 4 B of gradient written);</li>
 *   <li>{@code speedup_vs_reference}, {@code speedup_vs_torch} (for cpu and cuda): t_other / t_impl;</li>
 *   <li>{@code fraction_of_copy_bandwidth} (for cpu): its effective GB/s over the best measured copy GB/s;</li>
 *   <li>kernel {@code copy}: {@code bandwidth} of each copy benchmark (2 × bytes / time) and the best one.</li>
 * </ul>
 */
public final class RecordResults {
    private RecordResults() {}

    static final String TOKENS = "policy_loss.tokens";
    static final String LOGITS = "policy_loss.logits";
    static final String COPY = "copy";

    static final String TREE_BACKUP = "tree_backup";

    static final String SAMPLER = "sampler";

    static final String PREFIX_ATTENTION = "prefix_attention";

    public static void main(String[] args) throws Exception {
        String suite = System.getProperty("spo4j.bench.suite", "policy-loss");
        if (suite.equals("rollout")) {
            RolloutReport.main(args); // whole sampling calls, timed by wall clock: not JMH
            return;
        }
        if (suite.equals("training-step")) {
            TrainingStepReport.main(args); // whole training passes, timed by wall clock: not JMH
            return;
        }
        CommandLineOptions cli = new CommandLineOptions(args);
        boolean trees = suite.equals("tree-backup");
        boolean sampler = suite.equals("sampler");
        boolean attention = suite.equals("prefix-attention");
        String name = trees
                ? "tree_backup_cpu.csv"
                : sampler ? "sampler_cpu.csv" : attention ? "prefix_attention_cpu.csv" : "policy_loss_cpu.csv";
        Path csv = Path.of(System.getProperty(
                "spo4j.bench.csv",
                Files.isDirectory(Path.of("benchmarks")) ? "benchmarks/results/" + name : "results/" + name));
        Path json = Path.of(
                Files.isDirectory(Path.of("benchmarks")) ? "benchmarks/target" : "target",
                trees
                        ? "jmh-tree-backup.json"
                        : sampler
                                ? "jmh-sampler.json"
                                : attention ? "jmh-prefix-attention.json" : "jmh-policy-loss.json");
        Files.createDirectories(json.getParent());
        OptionsBuilder builder = new OptionsBuilder();
        builder.parent(cli);
        if (cli.getIncludes().isEmpty() && trees) {
            builder.include(TreeBackupBenchmark.class.getName() + "\\.");
        } else if (cli.getIncludes().isEmpty() && sampler) {
            builder.include(SamplerBenchmark.class.getName() + "\\.");
        } else if (cli.getIncludes().isEmpty() && attention) {
            builder.include(PrefixAttentionBenchmark.class.getName() + "\\.");
        } else if (cli.getIncludes().isEmpty()) {
            builder.include(PolicyLossBenchmark.class.getName() + "\\.")
                    .include(PolicyLossLogitsBenchmark.class.getName() + "\\.")
                    .include(CopyBandwidthBenchmark.class.getName() + "\\.");
        }
        Options options = builder.result(json.toString())
                .resultFormat(ResultFormatType.JSON)
                .build();
        Collection<RunResult> results = new Runner(options).run();

        ResultsCsv table = new ResultsCsv(
                BenchSupport.machine() + "; " + BenchSupport.threads() + " threads",
                LocalDate.now().toString());
        record(results, table);
        derive(table);
        table.write(csv);
        System.out.println();
        System.out.print(table);
        System.out.println("wrote " + csv.toAbsolutePath());
    }

    /** One time row per run, plus its effective bandwidth. */
    static void record(Collection<RunResult> results, ResultsCsv table) {
        for (RunResult rr : results) {
            BenchmarkParams p = rr.getParams();
            double ms = rr.getPrimaryResult().getStatistics().getPercentile(50) * toMillis(p.getTimeUnit());
            String cls = p.getBenchmark().substring(0, p.getBenchmark().lastIndexOf('.'));
            String method = p.getBenchmark().substring(p.getBenchmark().lastIndexOf('.') + 1);
            if (cls.equals(PolicyLossBenchmark.class.getName())) {
                long n = Long.parseLong(p.getParam("n"));
                String shape = "N=" + n;
                table.add(TOKENS, p.getParam("impl"), shape, "time", ms, "ms");
                table.add(TOKENS, p.getParam("impl"), shape, "effective_bandwidth", gbPerS(21.0 * n, ms), "GB/s");
            } else if (cls.equals(PolicyLossLogitsBenchmark.class.getName())) {
                String[] nv = p.getParam("shape").split("x");
                long n = Long.parseLong(nv[0]), v = Long.parseLong(nv[1]);
                String shape = "N=" + n + " V=" + v;
                table.add(LOGITS, p.getParam("impl"), shape, "time", ms, "ms");
                table.add(LOGITS, p.getParam("impl"), shape, "effective_bandwidth", gbPerS(8.0 * n * v, ms), "GB/s");
            } else if (cls.equals(TreeBackupBenchmark.class.getName())) {
                String shape = p.getParam("shape");
                long nodes = TreeBackupBenchmark.forest(shape).numNodes();
                String label = shape + " N=" + nodes;
                table.add(TREE_BACKUP, p.getParam("impl"), label, "time", ms, "ms");
                table.add(TREE_BACKUP, p.getParam("impl"), label, "throughput", nodes / (ms * 1e-3) / 1e6, "Mnodes/s");
            } else if (cls.equals(SamplerBenchmark.class.getName())) {
                long rows = Long.parseLong(p.getParam("rows")), vocab = Long.parseLong(p.getParam("vocab"));
                String label = "B=" + rows + " V=" + vocab + " topP=" + p.getParam("topP");
                table.add(SAMPLER, p.getParam("impl"), label, "time", ms, "ms");
                table.add(
                        SAMPLER,
                        p.getParam("impl"),
                        label,
                        "throughput",
                        rows * vocab / (ms * 1e-3) / 1e9,
                        "Glogits/s");
            } else if (cls.equals(PrefixAttentionBenchmark.class.getName())) {
                String label = "P=" + p.getParam("prefix") + " B=" + p.getParam("branches") + " model="
                        + p.getParam("model")
                        + (p.getParam("minShared").equals("" + PrefixAttention.MIN_SHARED_TOKENS)
                                ? ""
                                : " minShared=" + p.getParam("minShared"));
                table.add(PREFIX_ATTENTION, p.getParam("impl"), label, "time", ms, "ms");
            } else if (cls.equals(CopyBandwidthBenchmark.class.getName())) {
                long bytes = Long.parseLong(p.getParam("bytes"));
                String shape = (bytes >> 20) + "MiB";
                table.add(COPY, method, shape, "time", ms, "ms");
                table.add(COPY, method, shape, "bandwidth", gbPerS(2.0 * bytes, ms), "GB/s");
            }
        }
    }

    /** Speedups of the native kernels and their share of the copy bandwidth. */
    static void derive(ResultsCsv table) {
        double bestCopy = 0;
        String copyShape = null;
        for (ResultsCsv.Row r : table.rows()) {
            if (r.kernel().equals(COPY) && r.metric().equals("bandwidth") && r.median() > bestCopy) {
                bestCopy = r.median();
                copyShape = r.shape();
            }
        }
        if (copyShape != null) table.add(COPY, "best", copyShape, "bandwidth", bestCopy, "GB/s");
        List<ResultsCsv.Row> times = new ArrayList<>();
        for (ResultsCsv.Row r : table.rows()) {
            if (!r.kernel().equals(COPY) && r.metric().equals("time")) times.add(r);
        }
        for (ResultsCsv.Row r : times) {
            if (!r.impl().startsWith("cpu") && !r.impl().startsWith("cuda")) continue;
            if (r.impl().endsWith("-shared")) {
                String paged = r.impl().replace("-shared", "-paged");
                ResultsCsv.Row o = table.find(r.kernel(), paged, r.shape(), "time");
                if (o != null)
                    table.add(r.kernel(), r.impl(), r.shape(), "speedup_vs_paged", o.median() / r.median(), "x");
            }
            for (String other : new String[] {"reference", "torch"}) {
                ResultsCsv.Row o = table.find(r.kernel(), other, r.shape(), "time");
                if (o != null) {
                    table.add(r.kernel(), r.impl(), r.shape(), "speedup_vs_" + other, o.median() / r.median(), "x");
                }
            }
            if (r.impl().equals("cpu") && bestCopy > 0) {
                ResultsCsv.Row bw = table.find(r.kernel(), r.impl(), r.shape(), "effective_bandwidth");
                if (bw == null) continue;
                table.add(
                        r.kernel(), r.impl(), r.shape(), "fraction_of_copy_bandwidth", bw.median() / bestCopy, "ratio");
            }
        }
    }

    private static double gbPerS(double bytes, double ms) {
        return bytes / (ms * 1e-3) / 1e9;
    }

    private static double toMillis(TimeUnit unit) {
        return unit.toNanos(1) / 1e6;
    }
}
