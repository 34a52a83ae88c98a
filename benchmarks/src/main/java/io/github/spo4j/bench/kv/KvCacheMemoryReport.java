package io.github.spo4j.bench.kv;

import io.github.spo4j.bench.BenchSupport;
import io.github.spo4j.bench.ResultsCsv;
import io.github.spo4j.kernels.Backend;
import io.github.spo4j.kernels.kv.KvCache;
import io.github.spo4j.kernels.kv.KvCacheConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Memory of a 6-6-6 SPO tree on the paged {@link KvCache} (not JMH: the figures are counts, not times).
 *
 * <p>The tree: a 512-token prompt, then three levels of branching 6; every one of the 6 + 36 + 216 = 258
 * segments (the 216 leaf segments included) is M tokens. Sampled breadth-first as a batched sampler does:
 * the prompt is appended at every layer, then per level each frontier sequence forks 6 children and is
 * released, and the 6^level children decode M tokens in lockstep (one {@code appendBatch} per token per
 * layer). Accounting, in bytes of K and V over all layers:
 * <ul>
 *   <li><b>peak</b>: the most {@link KvCache#bytesInUse()} after any operation (whole blocks, including
 *       the partly filled tail blocks and the copy-on-write copies of shared tails);</li>
 *   <li><b>lower bound</b>: the tree's distinct tokens, 512 + 258·M, times {@link KvCacheConfig#tokenBytes()};</li>
 *   <li><b>dense</b>: every leaf path stored on its own, 216 · (512 + 3·M) tokens (copying the prefix into
 *       every branch).</li>
 * </ul>
 * Model shape L = 2, Hkv = 2, D = 64 (2 KiB per token): only the ratios matter, and they do not depend on it.
 * Writes {@code benchmarks/results/kv_memory.csv} and prints the table.
 *
 * <pre>java -cp benchmarks/target/benchmarks.jar io.github.spo4j.bench.kv.KvCacheMemoryReport [out.csv]</pre>
 */
public final class KvCacheMemoryReport {
    static final int PROMPT = 512;
    static final int BRANCHING = 6;
    static final int DEPTH = 3;
    static final int[] SEGMENTS = {30, 600};
    static final int[] BLOCK_SIZES = {1, 2, 4, 8, 16};
    static final int LAYERS = 2, KV_HEADS = 2, HEAD_DIM = 64;
    static final double TARGET = 1.05;

    private KvCacheMemoryReport() {}

    /** One tree's figures. */
    record Row(
            int m,
            int blockSize,
            long peakBytes,
            long lowerBoundBytes,
            long denseBytes,
            long copies,
            long poolUniqueTokens,
            int blocksAtPeak) {
        double overLowerBound() {
            return (double) peakBytes / lowerBoundBytes;
        }

        double denseOverPeak() {
            return (double) denseBytes / peakBytes;
        }
    }

    public static void main(String[] args) throws IOException {
        BenchSupport.configureThreads();
        Path out = Path.of(
                args.length > 0
                        ? args[0]
                        : Files.isDirectory(Path.of("benchmarks"))
                                ? "benchmarks/results/kv_memory.csv"
                                : "results/kv_memory.csv");
        List<Row> rows = new ArrayList<>();
        for (int m : SEGMENTS) {
            for (int bs : BLOCK_SIZES) rows.add(simulate(m, bs, Backend.autoHost()));
        }
        ResultsCsv csv = new ResultsCsv(
                BenchSupport.machine() + "; " + BenchSupport.threads() + " threads",
                LocalDate.now().toString());
        System.out.printf(
                Locale.ROOT,
                "%-5s %-4s %11s %13s %9s %11s %11s %9s %s%n",
                "M",
                "bs",
                "peak MiB",
                "lower bd MiB",
                "ratio",
                "dense MiB",
                "dense/peak",
                "copies",
                "within 5%");
        for (Row r : rows) {
            String shape = "666 prompt=" + PROMPT + " M=" + r.m() + " bs=" + r.blockSize();
            double mib = 1 << 20;
            System.out.printf(
                    Locale.ROOT,
                    "%-5d %-4d %11.2f %13.2f %9.4f %11.2f %11.2f %9d %s%n",
                    r.m(),
                    r.blockSize(),
                    r.peakBytes() / mib,
                    r.lowerBoundBytes() / mib,
                    r.overLowerBound(),
                    r.denseBytes() / mib,
                    r.denseOverPeak(),
                    r.copies(),
                    r.overLowerBound() <= TARGET ? "yes" : "no");
            csv.add("kv_pool", "paged", shape, "peak_bytes_in_use", r.peakBytes() / mib, "MiB");
            csv.add("kv_pool", "paged", shape, "peak_over_lower_bound", r.overLowerBound(), "ratio");
            csv.add("kv_pool", "paged", shape, "dense_over_peak", r.denseOverPeak(), "ratio");
            csv.add("kv_pool", "paged", shape, "cow_copies", r.copies(), "blocks");
            csv.add("kv_pool", "paged", shape, "pool_unique_tokens_at_peak", r.poolUniqueTokens(), "tokens");
            csv.add("kv_pool", "lower_bound", shape, "bytes", r.lowerBoundBytes() / mib, "MiB");
            csv.add("kv_pool", "dense_paths", shape, "bytes", r.denseBytes() / mib, "MiB");
        }
        csv.write(out);
        System.out.println("wrote " + out);
    }

    /** Samples one tree on a fresh pool and returns its figures. */
    static Row simulate(int m, int blockSize, Backend backend) {
        long branches = 0, leaves = 1;
        for (int d = 0; d < DEPTH; d++) {
            leaves *= BRANCHING;
            branches += leaves;
        }
        long unique = PROMPT + branches * m;
        // Room for every token, one partial tail per segment and the copies of the shared tails.
        long blocks = (unique + blockSize - 1) / blockSize + 2 * (branches + 1) + 8;
        KvCacheConfig config = new KvCacheConfig(LAYERS, KV_HEADS, HEAD_DIM, blockSize, (int) blocks);
        int row = config.rowFloats();
        long peak = 0, poolUnique = 0;
        int blocksAtPeak = 0;
        try (KvCache pool = KvCache.create(config, backend)) {
            int root = pool.newSequence();
            float[] prompt = new float[PROMPT * row];
            for (int l = 0; l < LAYERS; l++) pool.append(root, l, prompt, prompt);
            int[] frontier = {root};
            for (int level = 0; level < DEPTH; level++) {
                int[] next = new int[frontier.length * BRANCHING];
                for (int i = 0; i < frontier.length; i++) {
                    System.arraycopy(pool.fork(frontier[i], BRANCHING), 0, next, i * BRANCHING, BRANCHING);
                    pool.release(frontier[i]);
                }
                frontier = next;
                float[] step = new float[frontier.length * row];
                for (int t = 0; t < m; t++) {
                    for (int l = 0; l < LAYERS; l++) pool.appendBatch(frontier, l, step, step);
                    if (pool.bytesInUse() > peak) {
                        peak = pool.bytesInUse();
                        poolUnique = pool.uniqueTokens();
                        blocksAtPeak = pool.blocksInUse();
                    }
                }
            }
            long copies = pool.copyOnWrites();
            for (int s : frontier) pool.release(s);
            if (pool.blocksInUse() != 0) throw new IllegalStateException("blocks leaked: " + pool.blocksInUse());
            long dense = leaves * (PROMPT + (long) DEPTH * m) * config.tokenBytes();
            return new Row(m, blockSize, peak, unique * config.tokenBytes(), dense, copies, poolUnique, blocksAtPeak);
        }
    }
}
