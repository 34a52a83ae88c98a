package io.github.spo4j.bench;

import io.github.spo4j.bench.attention.PrefixAttentionQuick;
import io.github.spo4j.bench.loss.PolicyLossQuick;
import io.github.spo4j.bench.rollout.RolloutBench;
import io.github.spo4j.bench.sampler.SamplerQuick;
import io.github.spo4j.bench.tree.TreeBackupQuick;
import io.github.spo4j.kernels.Backend;
import io.github.spo4j.kernels.NativeCpu;
import io.github.spo4j.kernels.loss.PolicyLossConfig;
import io.github.spo4j.kernels.loss.PolicyLossInputs;
import io.github.spo4j.kernels.loss.PolicyLossTorch;
import io.github.spo4j.kernels.sampler.SamplerTorch;
import io.github.spo4j.kernels.tree.TreeBackupConfig;
import io.github.spo4j.kernels.tree.TreeBackupInputs;
import io.github.spo4j.kernels.tree.TreeBackupTorch;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.pytorch.global.torch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * The quick side-by-side of every backend of every kernel, on the same inputs (the {@code spo4j bench} of earlier
 * versions), run from the benchmarks jar:
 *
 * <pre>
 *   java -cp benchmarks/target/benchmarks.jar io.github.spo4j.bench.QuickBench [--kernel rollout] [--help]
 * </pre>
 *
 * <p>Kernels: the policy loss's per-token entry ({@code policy_loss.tokens}) and its logits entry
 * ({@code policy_loss.logits}), with {@link PolicyLossConfig#spo()} (whitening, k3 KL against a reference,
 * ρ = 0.9) and ragged sequences of about 512 tokens, 90% of tokens valid. Implementations: {@code reference}
 * (pure Java, double), {@code cpu} (native kernel, zero-copy pointer entry), {@code cuda} (native kernel on
 * device buffers, where a GPU is usable) and {@code torch} ({@link PolicyLossTorch}: the same loss composed
 * from libtorch ops, forward + autograd backward). Every implementation computes the loss and its gradient.
 * The tree backup ({@code tree_backup}, SPO-tree config, forests of 6-6-6 trees) is timed the same way
 * ({@link TreeBackupTorch} as the torch composition); its "gradient" column compares the advantages and its
 * "loss" column the sum of the trees' root values. Prefix attention ({@code prefix_attention}: one decode step of
 * one layer, Qwen2-1.5B heads, 36 branches forked on a {@code KvCache} from one prompt, with the paged and
 * the shared plan; torch = {@code scaled_dot_product_attention} on the prompt copied into every branch) compares
 * outputs; the sampler ({@code sampler}: 216 rows, T 0.7, top-p 0.95; torch = {@link SamplerTorch}) compares
 * log-probs and, in the "loss" column, the sum of the tokens.
 *
 * <p>{@code rollout} is not a kernel but generation with the tiny model: {@link RolloutBench} times SPO-tree and
 * SPO-chain sampling through the shared KV cache against the same tokens generated with nothing shared, and prints
 * its own table (time, tokens/s, peak KV bytes, and the ratios). It ignores {@code --backend} (CPU only).
 *
 * <p>Timing: {@code --warmup} untimed runs (and at least 0.3 s of them), then {@code --repeats} timed runs,
 * the median reported (implementations slower than 0.5 s per run do at most 3 timed runs). Each
 * implementation's gradient from its last run is compared with the reference gradient on the same inputs
 * (max |Δ|).
 *
 * <p>Each op's cases sit beside its JMH benchmark ({@link PolicyLossQuick}, {@link TreeBackupQuick},
 * {@link PrefixAttentionQuick}, {@link SamplerQuick}); the JMH figures are the measurements of record.
 */
@Command(
        name = "QuickBench",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = "Time every backend of every kernel side by side (loss + gradient) and check each against "
                + "the reference.")
public final class QuickBench implements Callable<Integer> {
    private static final List<String> IMPLS = List.of("reference", "cpu", "cuda", "torch");
    private static final List<String> KERNELS = List.of("tokens", "logits", "tree", "attention", "sampler", "rollout");
    private static final double SLOW_RUN_SECONDS = 0.5;
    private static final double MIN_WARMUP_SECONDS = 0.3;
    /** Rollout runs are whole sampling calls (0.05-3.5 s each): one warm-up run, at most 3 timed. */
    private static final int ROLLOUT_WARMUP = 1;

    private static final int ROLLOUT_REPEATS = 3;

    @Option(
            names = "--quick",
            negatable = true,
            defaultValue = "true",
            fallbackValue = "true",
            description = "Small shapes, well under a minute on 2 cores (default). --no-quick runs the JMH "
                    + "benchmark shapes (N = 1M tokens; logits 1024 x 32000 and 256 x 151936): a few minutes.")
    boolean quick;

    @Option(
            names = "--threads",
            paramLabel = "N",
            description = "Threads of our CPU kernels and of libtorch's intra-op pool (default: all cores, "
                    + "${DEFAULT-VALUE}).")
    int threads = Runtime.getRuntime().availableProcessors();

    @Option(
            names = "--backend",
            split = ",",
            paramLabel = "IMPL",
            description = "Implementations to run, comma-separated: reference, cpu, cuda, torch (default: all; "
                    + "cuda is skipped where no GPU is usable).")
    List<String> backends = IMPLS;

    @Option(
            names = "--kernel",
            split = ",",
            paramLabel = "KERNEL",
            description = "Kernels to run, comma-separated: tokens, logits, tree, attention, sampler, rollout "
                    + "(default: all).")
    List<String> kernels = KERNELS;

    @Option(
            names = "--repeats",
            paramLabel = "R",
            description = "Timed runs per implementation (default: ${DEFAULT-VALUE}).")
    int repeats = 7;

    @Option(
            names = "--warmup",
            paramLabel = "W",
            description = "Untimed runs first, and at least 0.3 s of them (default: ${DEFAULT-VALUE}).")
    int warmup = 2;

    @Option(names = "--seed", description = "Seed of the random inputs (default: ${DEFAULT-VALUE}).")
    long seed = 1;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        validate();
        PrintWriter out = spec.commandLine().getOut();
        torch.set_num_threads(threads);
        NativeCpu.setThreads(threads);
        boolean cudaUsable = Backend.CUDA.isAvailable();
        out.printf(
                "spo4j bench: %s, %s threads (spo4j_set_num_threads and torch.set_num_threads = %d), %s%n",
                BenchSupport.machine(), threads, threads, quick ? "quick shapes" : "full shapes");
        out.printf(
                "config: SPO (eps 0.2, rho 0.9, whitening, k3 KL beta 1e-4 vs reference logp, pg token-mean, "
                        + "kl seq-mean-token-sum); warmup %d, median of %d timed runs%n",
                warmup, repeats);
        if (backends.contains("cuda") && !cudaUsable) {
            out.println("cuda: unavailable here (" + reason() + "); skipped");
        }
        out.printf("memory copy bandwidth (memcpy of 64 MiB, read + write counted): %.1f GB/s%n%n", copyBandwidth());
        out.flush();

        List<Row> rows = new ArrayList<>();
        PolicyLossConfig config = PolicyLossConfig.spo();
        if (kernels.contains("tokens")) {
            int n = quick ? 65_536 : 1_048_576;
            rows.addAll(runCase(
                    PolicyLossQuick.tokens(config, PolicyLossInputs.tokenBatch(n, new SplittableRandom(seed))),
                    cudaUsable,
                    out));
        }
        if (kernels.contains("logits")) {
            int[][] shapes = quick ? new int[][] {{256, 32_000}} : new int[][] {{1024, 32_000}, {256, 151_936}};
            for (int[] s : shapes) {
                rows.addAll(runCase(
                        PolicyLossQuick.logits(
                                config, PolicyLossInputs.logitsBatch(s[0], s[1], new SplittableRandom(seed))),
                        cudaUsable,
                        out));
            }
        }
        if (kernels.contains("tree")) {
            int trees = quick ? 256 : 4096;
            rows.addAll(runCase(
                    TreeBackupQuick.of(TreeBackupConfig.spoTree(), TreeBackupInputs.fullForest(trees, seed, 6, 6, 6)),
                    cudaUsable,
                    out));
        }
        if (kernels.contains("attention")) {
            int prefix = quick ? 512 : 2048;
            for (boolean shared : new boolean[] {false, true}) {
                rows.addAll(
                        runCase(PrefixAttentionQuick.decode(prefix, 36, 12, 2, 128, shared, seed), cudaUsable, out));
            }
        }
        if (kernels.contains("sampler")) {
            int vocab = quick ? 32_000 : 151_936;
            rows.addAll(runCase(SamplerQuick.of(216, vocab, seed), cudaUsable, out));
        }
        if (!rows.isEmpty()) printTable(rows, out);
        if (kernels.contains("rollout")) {
            RolloutBench.Config rc = quick ? RolloutBench.Config.quick() : RolloutBench.Config.full();
            int timed = Math.min(repeats, ROLLOUT_REPEATS);
            out.printf(
                    "%nrollout: %s shapes, libtorch BLAS on %d thread (BUILD_NOTES.md), warmup %d, median of %d "
                            + "timed runs%n",
                    quick ? "quick" : "full", RolloutBench.BLAS_THREADS, ROLLOUT_WARMUP, timed);
            out.flush();
            RolloutBench.print(RolloutBench.run(rc.withSeed(seed), ROLLOUT_WARMUP, timed), out);
        }
        return 0;
    }

    private void validate() {
        if (threads < 1) throw new ParameterException(spec.commandLine(), "--threads must be >= 1");
        if (repeats < 1) throw new ParameterException(spec.commandLine(), "--repeats must be >= 1");
        if (warmup < 0) throw new ParameterException(spec.commandLine(), "--warmup must be >= 0");
        for (String b : backends) {
            if (!IMPLS.contains(b)) {
                throw new ParameterException(
                        spec.commandLine(), "unknown --backend '" + b + "', expected one of " + IMPLS);
            }
        }
        for (String k : kernels) {
            if (!KERNELS.contains(k)) {
                throw new ParameterException(
                        spec.commandLine(), "unknown --kernel '" + k + "', expected one of " + KERNELS);
            }
        }
    }

    // ---- harness -----------------------------------------------------------------------------------

    private record Row(
            String kernel,
            String impl,
            String shape,
            double medianMs,
            long bytes,
            double maxGradDiff,
            double lossDiff) {}

    private List<Row> runCase(QuickCase c, boolean cudaUsable, PrintWriter out) {
        List<String> impls = new ArrayList<>();
        for (String impl : IMPLS) {
            if (!backends.contains(impl)) continue;
            if (impl.equals("cuda") && !cudaUsable) continue;
            if (impl.equals("cpu") && !Backend.CPU.isAvailable()) continue;
            impls.add(impl);
        }
        if (impls.isEmpty()) return List.of();
        out.printf("%s %s:", c.kernel(), c.shape());
        out.flush();
        // The reference gradient is the yardstick of every implementation, run even when not timed.
        float[] refGrad;
        double refLoss;
        try (QuickCase.Impl ref = c.create("reference")) {
            refLoss = ref.run();
            refGrad = ref.gradient();
        }
        List<Row> rows = new ArrayList<>();
        for (String impl : impls) {
            try (QuickCase.Impl run = c.create(impl)) {
                double median = time(run) * 1e3;
                double loss = run.run();
                rows.add(new Row(
                        c.kernel(),
                        impl,
                        c.shape(),
                        median,
                        c.bytes(),
                        maxAbsDiff(run.gradient(), refGrad),
                        Math.abs(loss - refLoss)));
                out.printf(" %s %.2f ms", impl, median);
                out.flush();
            }
        }
        out.println();
        return rows;
    }

    /**
     * Median seconds of the timed runs, after {@code --warmup} runs and at least {@value #MIN_WARMUP_SECONDS} s
     * of warm-up (at most 100 runs), so the JIT has compiled the Java paths (the reference) before timing.
     */
    private double time(QuickCase.Impl impl) {
        int timed = repeats;
        long start = System.nanoTime();
        for (int i = 0; i < warmup || (i < 100 && (System.nanoTime() - start) * 1e-9 < MIN_WARMUP_SECONDS); i++) {
            long t0 = System.nanoTime();
            impl.run();
            if ((System.nanoTime() - t0) * 1e-9 > SLOW_RUN_SECONDS) timed = Math.min(timed, 3);
        }
        double[] seconds = new double[timed];
        for (int i = 0; i < timed; i++) {
            long t0 = System.nanoTime();
            impl.run();
            seconds[i] = (System.nanoTime() - t0) * 1e-9;
        }
        Arrays.sort(seconds);
        return timed % 2 == 1 ? seconds[timed / 2] : 0.5 * (seconds[timed / 2 - 1] + seconds[timed / 2]);
    }

    private static double maxAbsDiff(float[] a, float[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs((double) a[i] - b[i]));
        return m;
    }

    private static void printTable(List<Row> rows, PrintWriter out) {
        String fmt = "%-19s %-9s %-24s %11s %9s %9s %8s %12s %10s%n";
        out.println();
        out.printf(fmt, "kernel", "impl", "shape", "median ms", "vs ref", "vs torch", "GB/s", "max|dgrad|", "|dloss|");
        for (Row r : rows) {
            Row ref = find(rows, r, "reference");
            Row tch = find(rows, r, "torch");
            out.printf(
                    fmt,
                    r.kernel,
                    r.impl,
                    r.shape,
                    String.format(Locale.ROOT, "%.3f", r.medianMs),
                    ref == null ? "-" : String.format(Locale.ROOT, "%.2fx", ref.medianMs / r.medianMs),
                    tch == null ? "-" : String.format(Locale.ROOT, "%.2fx", tch.medianMs / r.medianMs),
                    String.format(Locale.ROOT, "%.2f", r.bytes / (r.medianMs * 1e-3) / 1e9),
                    String.format(Locale.ROOT, "%.2e", r.maxGradDiff),
                    String.format(Locale.ROOT, "%.2e", r.lossDiff));
        }
        out.println();
        out.println("vs ref / vs torch: speedup = that implementation's median / this one's (> 1 = faster).");
        out.println("GB/s: bytes an ideal implementation moves / median time; tokens: 21 B per token (logp, oldLogp,");
        out.println("refLogp, advantages 4 B each + valid 1 B read, gradient 4 B written); logits: 8 B per logit");
        out.println("(4 B read, 4 B of gradient written); tree: 24 B per node (parent, reward read; value, advantage,");
        out.println(
                "child count, depth written). max|dgrad|, |dloss|: against the reference on the same inputs (tree:");
        out.println("the advantages, and the sum of the trees' root values; attention: the outputs, and their sum;");
        out.println("sampler: the log-probs, and the sum of the tokens, so 0 = the same tokens; torch draws with its");
        out.println(
                "own generator). attention: one decode step of one layer (Qwen2-1.5B heads 12/2/128) for 36 branches");
        out.println("forked on a KV pool from one prompt; 'paged' reads the prompt once per branch, 'shared' once for");
        out.println("all (torch: SDPA on the prompt copied into every branch). GB/s counts the K/V bytes read once.");
        out.flush();
    }

    private static Row find(List<Row> rows, Row like, String impl) {
        for (Row r : rows) {
            if (r.kernel.equals(like.kernel) && r.shape.equals(like.shape) && r.impl.equals(impl)) return r;
        }
        return null;
    }

    // ---- helpers -----------------------------------------------------------------------------------

    /** Read + write GB/s of a 64 MiB off-heap memcpy, median of 5 after a warmup. */
    static double copyBandwidth() {
        long bytes = 64L << 20;
        try (BytePointer src = new BytePointer(bytes);
                BytePointer dst = new BytePointer(bytes)) {
            Pointer.memset(src, 1, bytes);
            Pointer.memset(dst, 0, bytes);
            double[] s = new double[5];
            Pointer.memcpy(dst, src, bytes);
            for (int i = 0; i < s.length; i++) {
                long t0 = System.nanoTime();
                Pointer.memcpy(dst, src, bytes);
                s[i] = (System.nanoTime() - t0) * 1e-9;
            }
            Arrays.sort(s);
            return 2.0 * bytes / s[2] / 1e9;
        }
    }

    private static String reason() {
        try {
            Backend.CUDA.requireAvailable();
            return "available";
        } catch (IllegalStateException e) {
            return e.getMessage();
        }
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new QuickBench()).execute(args));
    }
}
