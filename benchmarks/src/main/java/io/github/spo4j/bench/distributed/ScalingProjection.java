package io.github.spo4j.bench.distributed;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A projection, on paper, of data-parallel scaling efficiency at 8 and 64 ranks over 25 and 100 GB/s links: the
 * built-in model from {@link DataParallelReport}'s measured one-rank iterations ({@code
 * benchmarks/results/data_parallel_cpu.csv}), and Qwen2 0.5B and 1.5B from stated assumptions. Nothing here is
 * measured on many machines; it prints the inputs it assumes beside the table.
 *
 * <p>Weak scaling: each rank keeps the share of work it has at 8 ranks of the reference batch (the built-in model:
 * compare's whole batch per rank), so the global batch grows with the ranks and the optimizer steps per iteration stay
 * fixed. Efficiency = compute / (compute + communication), with
 *
 * <pre>
 *   ring all-reduce of B bytes in buckets of b over N ranks: 2(N−1)/N · B / bandwidth + ⌈B/b⌉ · 2(N−1) · α
 *   all-gather of G bytes from every rank (episodes, edges):     (N−1) · G / bandwidth + (N−1) · α
 *   sums of statistics (a few doubles):                          2(N−1) · α each
 * </pre>
 *
 * α = 10 µs per message, b = 25 MiB ({@code PolicyOptimizer.BUCKET_BYTES}); no overlap of the all-reduce with the
 * backward (not built), fp32 gradients (what the trainer all-reduces).
 */
public final class ScalingProjection {
    static final double ALPHA = 10e-6, BUCKET = 25 * (1 << 20);
    static final int[] RANKS = {8, 64};
    static final double[] LINKS = {25e9, 100e9};

    /**
     * One workload: per-rank compute seconds per iteration, gradient bytes, all-reduces (optimizer steps) per
     * iteration, bytes each rank contributes to the gathers, and the number of sums and gathers per iteration.
     */
    record Workload(String name, double seconds, double gradientBytes, int steps, double gatherBytes, int exchanges) {
        double communication(int n, double bandwidth) {
            double allReduce = 2.0 * (n - 1) / n * gradientBytes / bandwidth
                    + Math.ceil(gradientBytes / BUCKET) * 2 * (n - 1) * ALPHA;
            double gather = (n - 1) * gatherBytes / bandwidth + (n - 1) * ALPHA;
            return steps * allReduce + gather + exchanges * 2 * (n - 1) * ALPHA;
        }
    }

    private ScalingProjection() {}

    public static void main(String[] args) throws IOException {
        Path csv = Path.of(
                Files.isDirectory(Path.of("benchmarks"))
                        ? "benchmarks/results/data_parallel_cpu.csv"
                        : "results/data_parallel_cpu.csv");
        List<String> rows = Files.readAllLines(csv);
        StringBuilder md = new StringBuilder("| workload | s/iteration per rank | gradient per step | steps |");
        for (int n : RANKS) for (double l : LINKS) md.append(String.format(" %d ranks, %.0f GB/s |", n, l / 1e9));
        md.append("\n|---|---:|---:|---:|");
        for (int i = 0; i < RANKS.length * LINKS.length; i++) md.append("---:|");
        md.append('\n');
        // The built-in model at compare's settings: measured per iteration at one rank; 2 optimizer steps; episodes
        // of about 50 tokens, each token an id and three floats (π_old, advantage, reference) on the wire.
        for (String algorithm : List.of("grpo", "spo-chain", "spo-tree")) {
            double ms = measured(rows, algorithm, "iteration"), bytes = measured(rows, algorithm + "-2", "bytes");
            int exchanges = algorithm.equals("spo-chain") ? 4 : 3;
            add(md, new Workload("built-in " + algorithm, ms / 1e3, bytes, 2, 128 * 50 * 16.0, exchanges));
        }
        // Qwen2 on one H100 per rank, the reference's Qwen tree MATH batch (32 trees of 6-6-6, M = 600, 512 episodes,
        // minibatch 128: 4 steps) at 8 ranks: 4 trees a rank, about 90k generated tokens a tree (3.6k + 21.6k at the
        // upper levels, 216 leaves of about 300), 64 episodes of about 1,500 tokens a rank. Training 6·P FLOPs a token,
        // log-prob forwards 2·P (π_old over the generated tokens, the reference over the episodes), at 400 TFLOP/s
        // (40% of the bf16 peak); sampling at 40k (0.5B) and 20k (1.5B) tokens/s, an assumption of a batched engine.
        double flops = 400e12, generated = 4 * 90e3, trained = 64 * 1500;
        for (Object[] q : new Object[][] {{"Qwen2-0.5B", 0.494e9, 40e3}, {"Qwen2-1.5B", 1.544e9, 20e3}}) {
            double p = (Double) q[1];
            double seconds =
                    generated / (Double) q[2] + 6 * p * trained / flops + 2 * p * (generated + trained) / flops;
            add(md, new Workload(q[0] + " SPO-tree", seconds, 4 * p, 4, 64 * 1500 * 16.0, 3));
        }
        System.out.println("Projected data-parallel efficiency (on paper; weak scaling; α = 10 µs, 25 MiB buckets, fp32"
                + " gradients, no overlap):\n");
        System.out.print(md);
    }

    private static void add(StringBuilder md, Workload w) {
        md.append(String.format(
                "| %s | %.3f | %s | %d |",
                w.name(),
                w.seconds(),
                w.gradientBytes() < 1e9
                        ? String.format("%.2f MB", w.gradientBytes() / 1e6)
                        : String.format("%.2f GB", w.gradientBytes() / 1e9),
                w.steps()));
        for (int n : RANKS) {
            for (double l : LINKS) {
                double c = w.communication(n, l);
                md.append(String.format(" %.1f%% |", 100 * w.seconds() / (w.seconds() + c)));
            }
        }
        md.append('\n');
    }

    /**
     * A one-rank measurement of {@link DataParallelReport}: the iteration's milliseconds ("iteration"), or with
     * {@code algorithm-2} and "bytes" the gradient bytes all-reduced per step at two ranks.
     */
    private static double measured(List<String> rows, String key, String what) {
        String algorithm = key.endsWith("-2") ? key.substring(0, key.length() - 2) : key;
        String ranks = key.endsWith("-2") ? "ranks=2" : "ranks=1";
        String metric = what.equals("bytes") ? "allreduce_bytes_per_step" : "iteration";
        for (String r : rows) {
            List<String> f = fields(r);
            if (f.size() > 4
                    && f.get(2).startsWith(algorithm + " ")
                    && f.get(2).endsWith(ranks)
                    && f.get(3).equals(metric)) {
                return Double.parseDouble(f.get(4));
            }
        }
        throw new IllegalStateException("no " + metric + " of " + algorithm + " at " + ranks
                + " in data_parallel_cpu.csv: run DataParallelReport first");
    }

    /** The fields of a CSV line ({@code ResultsCsv}'s: a field with a comma is quoted). */
    static List<String> fields(String line) {
        List<String> out = new java.util.ArrayList<>();
        StringBuilder f = new StringBuilder();
        boolean quoted = false;
        for (char c : line.toCharArray()) {
            if (c == '"') quoted = !quoted;
            else if (c == ',' && !quoted) {
                out.add(f.toString());
                f.setLength(0);
            } else f.append(c);
        }
        out.add(f.toString());
        return out;
    }
}
