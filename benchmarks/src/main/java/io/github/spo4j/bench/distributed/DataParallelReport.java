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
 * optimizer step, go to {@code benchmarks/results/data_parallel_cpu.csv} ({@code data_parallel_micro<M>_cpu.csv} for
 * another micro-batch) and a table on stdout.
 *
 * <p>Each configuration runs {@code -Dspo4j.bench.repeats} times (default 3), alternating, and the run with the median
 * iteration time is reported. A control runs two independent one-rank runs at the same time: how much this machine
 * slows each of two processes, which bounds what two ranks on it can gain.
 *
 * <p>One rank runs with spo4j's thread choice for the model (one thread for the built-in one, which measured
 * fastest); each of N ranks gets the cores divided by N. {@code -Dspo4j.bench.hidden} and {@code -Dspo4j.bench.layers}
 * size the built-in model (default compare's 64 and 2), {@code -Dspo4j.bench.sftSteps} its SFT (default 600), and
 * {@code -Dspo4j.bench.microBatch} the micro-batch (default compare's 64; each is split over the ranks).
 */
public final class DataParallelReport {
    static final String[] PHASES = {
        "sampling", "rollouts", "oldLogp", "refLogp", "forwardBackward", "optimizer", "communication", "other"
    };

    /** compare's settings (CompareCommand.COMMON and PER_ALGORITHM), without evaluations and checkpoints. */
    static final Map<String, List<String>> SETTINGS = new LinkedHashMap<>();

    static {
        List<String> common = List.of(
                "lr=5e-5",
                "warmup=0.03",
                "max-new-tokens=64",
                "questions=16",
                "minibatch=64",
                "eval-every=0",
                "checkpoint-every=0",
                "eval-problems=8");
        SETTINGS.put("grpo", concat(common, "samples=8"));
        SETTINGS.put("spo-chain", concat(common, "samples=8", "cutpoint-interval=2", "rollouts=4"));
        SETTINGS.put("spo-tree", concat(common, "branching=2-2-2", "segment-tokens=10", "episodes=128"));
    }

    private DataParallelReport() {}

    public static void main(String[] args) throws Exception {
        int ranks = Integer.getInteger("spo4j.bench.ranks", 2);
        int iterations = Integer.getInteger("spo4j.bench.iterations", 12);
        int repeats = Integer.getInteger("spo4j.bench.repeats", 3);
        String hidden = System.getProperty("spo4j.bench.hidden", "64"),
                layers = System.getProperty("spo4j.bench.layers", "2"),
                sftSteps = System.getProperty("spo4j.bench.sftSteps", "600"),
                microBatch = System.getProperty("spo4j.bench.microBatch", "64");
        if (ranks < 2) throw new IllegalArgumentException("-Dspo4j.bench.ranks must be >= 2, got " + ranks);
        if (iterations < 2) throw new IllegalArgumentException("-Dspo4j.bench.iterations must be >= 2");
        if (repeats < 1) throw new IllegalArgumentException("-Dspo4j.bench.repeats must be >= 1");
        Path work = Files.createTempDirectory("spo4j-dp-bench");
        Path base = work.resolve("base");
        cli(List.of(List.of(
                "sft",
                "--out",
                base.toString(),
                "--task",
                "arithmetic",
                "--steps",
                sftSteps,
                "--until",
                "0",
                "--hidden",
                hidden,
                "--layers",
                layers,
                "--quiet")));
        String model = "hidden " + hidden + ", " + layers + " layers, micro-batch " + microBatch;
        ResultsCsv table =
                new ResultsCsv(BenchSupport.machine(), LocalDate.now().toString());
        StringBuilder md = new StringBuilder("| algorithm | ranks | s/iteration");
        for (String p : PHASES) md.append(" | ").append(p);
        md.append(" | speed-up | all-reduced per step |\n|---|---|---:");
        for (int i = 0; i <= PHASES.length + 1; i++) md.append("|---:");
        md.append("|\n");
        List<String> configs = List.of("1", Integer.toString(ranks), "1 x2");
        for (var e : SETTINGS.entrySet()) {
            // Alternating repeats, reporting the median run: absolute times on a shared machine drift between minutes.
            Map<String, List<Split>> runs = new LinkedHashMap<>();
            for (int rep = 0; rep < repeats; rep++) {
                for (String config : configs) {
                    List<List<String>> commands = new ArrayList<>();
                    List<Path> outs = new ArrayList<>();
                    for (int c = 0; c < (config.endsWith("x2") ? 2 : 1); c++) {
                        Path out = work.resolve(e.getKey() + "-" + config.replace(' ', '_') + "-" + rep + "-" + c);
                        List<String> cmd = new ArrayList<>(List.of(
                                "train",
                                "--algorithm",
                                e.getKey(),
                                "--base",
                                base.toString(),
                                "--task",
                                "arithmetic",
                                "--out",
                                out.toString(),
                                "--hidden",
                                hidden,
                                "--layers",
                                layers,
                                "--quiet",
                                "--nproc",
                                config.split(" ")[0]));
                        for (String set : e.getValue()) cmd.addAll(List.of("--set", set));
                        cmd.addAll(List.of("--set", "iterations=" + iterations, "--set", "micro-batch=" + microBatch));
                        commands.add(cmd);
                        outs.add(out);
                    }
                    cli(commands);
                    for (Path out : outs) {
                        runs.computeIfAbsent(config, k -> new ArrayList<>())
                                .add(Split.mean(out.resolve("iterations.jsonl")));
                    }
                }
            }
            double oneRank = 0;
            for (String config : configs) {
                List<Split> sorted = new ArrayList<>(runs.get(config));
                sorted.sort((a, b) -> Double.compare(a.seconds, b.seconds));
                Split s = sorted.get(sorted.size() / 2);
                if (config.equals("1")) oneRank = s.seconds;
                String label = config.endsWith("x2") ? "1, two runs at once" : config;
                String shape = e.getKey() + " " + model + " ranks=" + config.replace(" x2", " twice at once");
                table.add("data_parallel", "gloo", shape, "iteration", s.seconds * 1e3, "ms");
                for (int p = 0; p < PHASES.length; p++) {
                    table.add("data_parallel", "gloo", shape, PHASES[p], s.phases[p] * 1e3, "ms");
                }
                table.add("data_parallel", "gloo", shape, "allreduce_bytes_per_step", s.bytesPerStep, "bytes");
                md.append("| ").append(e.getKey()).append(" | ").append(label);
                md.append(String.format(" | %.3f", s.seconds));
                for (double v : s.phases) md.append(String.format(" | %.3f", v));
                md.append(String.format(" | %.2fx | %.2f MB |%n", oneRank / s.seconds, s.bytesPerStep / 1e6));
            }
        }
        String name =
                microBatch.equals("64") ? "data_parallel_cpu.csv" : "data_parallel_micro" + microBatch + "_cpu.csv";
        Path csv = Path.of(System.getProperty(
                "spo4j.bench.csv",
                Files.isDirectory(Path.of("benchmarks")) ? "benchmarks/results/" + name : "results/" + name));
        table.write(csv);
        System.out.println("Seconds per iteration (rank 0's split, mean of iterations 2.." + iterations
                + ", the median of " + repeats + " runs; " + model + "; " + BenchSupport.machine()
                + "). \"1, two runs at once\": two independent one-rank runs at the same time, each one's time:\n");
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
                for (int p = 0; p < PHASES.length; p++)
                    phases[p] += split.get(PHASES[p]).getAsDouble();
                bytes += split.get("allReducedBytes").getAsDouble();
                steps += o.get("optimizerSteps").getAsDouble();
                n++;
            }
            for (int p = 0; p < PHASES.length; p++) phases[p] /= n;
            return new Split(seconds / n, phases, steps == 0 ? 0 : bytes / steps);
        }
    }

    /** Runs the spo4j command lines at once, each in a child JVM on this class path; their errors go to this one's. */
    private static void cli(List<List<String>> commands) throws IOException, InterruptedException {
        List<Process> running = new ArrayList<>();
        for (List<String> args : commands) {
            List<String> cmd = new ArrayList<>(List.of(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp",
                    System.getProperty("java.class.path"),
                    "io.github.spo4j.cli.Spo4jCli"));
            cmd.addAll(args);
            running.add(new ProcessBuilder(cmd)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(ProcessBuilder.Redirect.INHERIT)
                    .start());
        }
        for (int i = 0; i < running.size(); i++) {
            Process p = running.get(i);
            if (!p.waitFor(30, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new IOException("spo4j " + commands.get(i).get(0) + " ran past 30 minutes");
            }
            if (p.exitValue() != 0) {
                throw new IOException("spo4j " + String.join(" ", commands.get(i)) + " failed: " + p.exitValue());
            }
        }
    }

    private static List<String> concat(List<String> a, String... b) {
        List<String> out = new ArrayList<>(a);
        out.addAll(List.of(b));
        return out;
    }
}
