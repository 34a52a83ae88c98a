package io.github.spo4j.bench.distributed;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.spo4j.bench.BenchSupport;
import io.github.spo4j.bench.ResultsCsv;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Where a training iteration's time goes at 1 rank and at {@code -Dspo4j.bench.ranks} (default 2) ranks on this
 * machine: {@code spo4j train} (the command line, in child JVMs) of GRPO, SPO-chain and SPO-tree at compare's
 * settings from one SFT base, {@code -Dspo4j.bench.iterations} iterations (default 12) without evaluations or
 * checkpoints between them. Rank 0's split of each iteration (sampling, Monte-Carlo rollouts, π_old and reference
 * log-probs, forward and backward, optimizer, communication: the gathers, sums and the gradient all-reduce including
 * the wait for slower ranks), averaged over the iterations after the first, and the gradient bytes all-reduced per
 * optimizer step, go to {@code benchmarks/results/data_parallel_cpu.csv} and a table on stdout.
 *
 * <p>One rank runs with spo4j's thread choice for the model (one thread for the built-in one, which measured
 * fastest); each of N ranks gets the cores divided by N. {@code -Dspo4j.bench.hidden} and {@code -Dspo4j.bench.layers}
 * size the built-in model (default compare's 64 and 2), {@code -Dspo4j.bench.sftSteps} its SFT (default 600).
 */
public final class DataParallelReport {
    static final String[] PHASES = {
        "sampling", "rollouts", "oldLogp", "refLogp", "forwardBackward", "optimizer", "communication", "other"
    };

    /** compare's settings (CompareCommand.COMMON and PER_ALGORITHM), without evaluations and checkpoints. */
    static final Map<String, List<String>> SETTINGS = new LinkedHashMap<>();

    static {
        List<String> common = List.of(
                "lr=5e-5", "warmup=0.03", "max-new-tokens=64", "questions=16", "minibatch=64", "micro-batch=64",
                "eval-every=0", "checkpoint-every=0", "eval-problems=8");
        SETTINGS.put("grpo", concat(common, "samples=8"));
        SETTINGS.put("spo-chain", concat(common, "samples=8", "cutpoint-interval=2", "rollouts=4"));
        SETTINGS.put(
                "spo-tree", concat(common, "branching=2-2-2", "segment-tokens=10", "episodes=128"));
    }

    private DataParallelReport() {}

    public static void main(String[] args) throws Exception {
        int ranks = Integer.getInteger("spo4j.bench.ranks", 2);
        int iterations = Integer.getInteger("spo4j.bench.iterations", 12);
        String hidden = System.getProperty("spo4j.bench.hidden", "64"),
                layers = System.getProperty("spo4j.bench.layers", "2"),
                sftSteps = System.getProperty("spo4j.bench.sftSteps", "600");
        if (ranks < 2) throw new IllegalArgumentException("-Dspo4j.bench.ranks must be >= 2, got " + ranks);
        if (iterations < 2) throw new IllegalArgumentException("-Dspo4j.bench.iterations must be >= 2");
        Path work = Files.createTempDirectory("spo4j-dp-bench");
        Path base = work.resolve("base");
        cli(List.of("sft", "--out", base.toString(), "--steps", sftSteps, "--hidden", hidden, "--layers", layers,
                "--quiet"));
        String model = "hidden " + hidden + ", " + layers + " layers";
        ResultsCsv table = new ResultsCsv(BenchSupport.machine(), LocalDate.now().toString());
        StringBuilder md = new StringBuilder("| algorithm | ranks | s/iteration");
        for (String p : PHASES) md.append(" | ").append(p);
        md.append(" | speed-up | all-reduced per step |\n|---|---:|---:");
        for (int i = 0; i <= PHASES.length + 1; i++) md.append("|---:");
        md.append("|\n");
        for (var e : SETTINGS.entrySet()) {
            double oneRank = 0;
            for (int w : new int[] {1, ranks}) {
                Path out = work.resolve(e.getKey() + "-" + w);
                List<String> cmd = new ArrayList<>(List.of(
                        "train", "--algorithm", e.getKey(), "--base", base.toString(), "--out", out.toString(),
                        "--hidden", hidden, "--layers", layers, "--quiet", "--nproc", Integer.toString(w)));
                for (String s : e.getValue()) cmd.addAll(List.of("--set", s));
                cmd.addAll(List.of("--set", "iterations=" + iterations));
                cli(cmd);
                Split s = Split.mean(out.resolve("iterations.jsonl"));
                if (w == 1) oneRank = s.seconds;
                String shape = e.getKey() + " " + model + " ranks=" + w;
                table.add("data_parallel", "gloo", shape, "iteration", s.seconds * 1e3, "ms");
                for (int p = 0; p < PHASES.length; p++) {
                    table.add("data_parallel", "gloo", shape, PHASES[p], s.phases[p] * 1e3, "ms");
                }
                table.add("data_parallel", "gloo", shape, "allreduce_bytes_per_step", s.bytesPerStep, "bytes");
                md.append("| ").append(e.getKey()).append(" | ").append(w);
                md.append(String.format(" | %.3f", s.seconds));
                for (double v : s.phases) md.append(String.format(" | %.3f", v));
                md.append(String.format(" | %.2fx | %.2f MB |%n", oneRank / s.seconds, s.bytesPerStep / 1e6));
            }
        }
        Path csv = Path.of(System.getProperty(
                "spo4j.bench.csv",
                Files.isDirectory(Path.of("benchmarks"))
                        ? "benchmarks/results/data_parallel_cpu.csv"
                        : "results/data_parallel_cpu.csv"));
        table.write(csv);
        System.out.println("Seconds per iteration (rank 0's split, mean of iterations 2.." + iterations + "; "
                + model + "; " + BenchSupport.machine() + "):\n");
        System.out.print(md);
        System.out.println("\nwrote " + csv.toAbsolutePath());
    }

    /** A run's mean iteration after the first: seconds, the phases, gradient bytes all-reduced per optimizer step. */
    record Split(double seconds, double[] phases, double bytesPerStep) {
        static Split mean(Path log) throws IOException {
            List<String> lines = Files.readAllLines(log);
            double seconds = 0, bytes = 0, steps = 0;
            double[] phases = new double[PHASES.length];
            int n = 0;
            for (String line : lines.subList(1, lines.size())) {
                JsonObject o = JsonParser.parseString(line).getAsJsonObject();
                JsonObject split = o.getAsJsonObject("split");
                seconds += o.get("seconds").getAsDouble();
                for (int p = 0; p < PHASES.length; p++) phases[p] += split.get(PHASES[p]).getAsDouble();
                bytes += split.get("allReducedBytes").getAsDouble();
                steps += o.get("optimizerSteps").getAsDouble();
                n++;
            }
            for (int p = 0; p < PHASES.length; p++) phases[p] /= n;
            return new Split(seconds / n, phases, steps == 0 ? 0 : bytes / steps);
        }
    }

    /** Runs the spo4j command line in a child JVM on this class path; its output goes to this one's. */
    private static void cli(List<String> args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                System.getProperty("java.class.path"),
                "io.github.spo4j.cli.Spo4jCli"));
        cmd.addAll(args);
        Process p = new ProcessBuilder(cmd)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        if (!p.waitFor(30, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new IOException("spo4j " + args.get(0) + " ran past 30 minutes");
        }
        if (p.exitValue() != 0) throw new IOException("spo4j " + String.join(" ", args) + " failed: " + p.exitValue());
    }

    private static List<String> concat(List<String> a, String... b) {
        List<String> out = new ArrayList<>(a);
        out.addAll(List.of(b));
        return out;
    }
}
