package io.github.spo4j.cli;

import io.github.spo4j.kernels.attention.PrefixAttentionPlan;
import io.github.spo4j.kernels.Backend;
import io.github.spo4j.kernels.engine.DType;
import io.github.spo4j.kernels.tree.Forest;
import io.github.spo4j.kernels.kv.KvCacheConfig;
import io.github.spo4j.kernels.kv.KvCache;
import io.github.spo4j.kernels.loss.LogitsBatch;
import io.github.spo4j.kernels.loss.PolicyLoss;
import io.github.spo4j.kernels.loss.PolicyLossConfig;
import io.github.spo4j.kernels.loss.PolicyLossTorch;
import io.github.spo4j.kernels.attention.PrefixAttention;
import io.github.spo4j.kernels.sampler.SampleResult;
import io.github.spo4j.kernels.sampler.Sampler;
import io.github.spo4j.kernels.sampler.SamplerTorch;
import io.github.spo4j.kernels.sampler.SamplerConfig;
import io.github.spo4j.kernels.loss.TokenBatch;
import io.github.spo4j.kernels.tree.TreeBackup;
import io.github.spo4j.kernels.tree.TreeBackupConfig;
import io.github.spo4j.kernels.tree.TreeBackupReference;
import io.github.spo4j.kernels.tree.TreeBackupResult;
import io.github.spo4j.kernels.tree.TreeBackupTorch;
import io.github.spo4j.kernels.nativebind.Spo4jNative;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code spo4j bench}: a short side-by-side of every backend of every kernel, on the same inputs.
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
 * one layer, Qwen2-1.5B heads, 36 branches forked on a {@link KvCache} from one prompt, with the paged and
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
 * For the JMH numbers, see {@code benchmarks/}.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Time every backend of every kernel side by side (loss + gradient) and check each against "
                + "the reference.")
@SuppressWarnings("try")  // PointerScope is opened for its effect: it frees what is created inside
public final class BenchCommand implements Callable<Integer> {
    private static final List<String> IMPLS = List.of("reference", "cpu", "cuda", "torch");
    private static final List<String> KERNELS = List.of("tokens", "logits", "tree", "attention", "sampler",
            "rollout");
    private static final double SLOW_RUN_SECONDS = 0.5;
    private static final double MIN_WARMUP_SECONDS = 0.3;
    /** Rollout runs are whole sampling calls (0.05-3.5 s each): one warm-up run, at most 3 timed. */
    private static final int ROLLOUT_WARMUP = 1;
    private static final int ROLLOUT_REPEATS = 3;

    @Option(names = "--quick", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Small shapes, well under a minute on 2 cores (default). --no-quick runs the JMH "
                    + "benchmark shapes (N = 1M tokens; logits 1024 x 32000 and 256 x 151936): a few minutes.")
    boolean quick;

    @Option(names = "--threads", paramLabel = "N",
            description = "Threads of our CPU kernels and of libtorch's intra-op pool (default: all cores, "
                    + "${DEFAULT-VALUE}).")
    int threads = Runtime.getRuntime().availableProcessors();

    @Option(names = "--backend", split = ",", paramLabel = "IMPL",
            description = "Implementations to run, comma-separated: reference, cpu, cuda, torch (default: all; "
                    + "cuda is skipped where no GPU is usable).")
    List<String> backends = IMPLS;

    @Option(names = "--kernel", split = ",", paramLabel = "KERNEL",
            description = "Kernels to run, comma-separated: tokens, logits, tree, attention, sampler, rollout "
                    + "(default: all).")
    List<String> kernels = KERNELS;

    @Option(names = "--repeats", paramLabel = "R",
            description = "Timed runs per implementation (default: ${DEFAULT-VALUE}).")
    int repeats = 7;

    @Option(names = "--warmup", paramLabel = "W",
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
        check(Spo4jNative.spo4j_set_num_threads(threads), "spo4j_set_num_threads");
        boolean cudaUsable = Backend.CUDA.isAvailable();
        out.printf("spo4j bench: %s, %s threads (spo4j_set_num_threads and torch.set_num_threads = %d), %s%n",
                machine(), threads, threads, quick ? "quick shapes" : "full shapes");
        out.printf("config: SPO (eps 0.2, rho 0.9, whitening, k3 KL beta 1e-4 vs reference logp, pg token-mean, "
                + "kl seq-mean-token-sum); warmup %d, median of %d timed runs%n", warmup, repeats);
        if (backends.contains("cuda") && !cudaUsable) {
            out.println("cuda: unavailable here (" + reason() + "); skipped");
        }
        out.printf("memory copy bandwidth (memcpy of 64 MiB, read + write counted): %.1f GB/s%n%n", copyBandwidth());
        out.flush();

        List<Row> rows = new ArrayList<>();
        PolicyLossConfig config = PolicyLossConfig.spo();
        if (kernels.contains("tokens")) {
            int n = quick ? 65_536 : 1_048_576;
            rows.addAll(runCase(new TokenCase(config, BenchInputs.tokenBatch(n, new SplittableRandom(seed))), cudaUsable, out));
        }
        if (kernels.contains("logits")) {
            int[][] shapes = quick ? new int[][] {{256, 32_000}} : new int[][] {{1024, 32_000}, {256, 151_936}};
            for (int[] s : shapes) {
                rows.addAll(runCase(new LogitsCase(config, BenchInputs.logitsBatch(s[0], s[1], new SplittableRandom(seed))),
                        cudaUsable, out));
            }
        }
        if (kernels.contains("tree")) {
            int trees = quick ? 256 : 4096;
            rows.addAll(runCase(new TreeCase(TreeBackupConfig.spoTree(), BenchInputs.fullForest(trees, seed, 6, 6, 6)),
                    cudaUsable, out));
        }
        if (kernels.contains("attention")) {
            int prefix = quick ? 512 : 2048;
            for (boolean shared : new boolean[] {false, true}) {
                rows.addAll(runCase(new AttentionCase(prefix, 36, 12, 2, 128, shared, seed), cudaUsable, out));
            }
        }
        if (kernels.contains("sampler")) {
            int vocab = quick ? 32_000 : 151_936;
            rows.addAll(runCase(new SamplerCase(216, vocab, seed), cudaUsable, out));
        }
        if (!rows.isEmpty()) printTable(rows, out);
        if (kernels.contains("rollout")) {
            RolloutBench.Config rc = quick ? RolloutBench.Config.quick() : RolloutBench.Config.full();
            int timed = Math.min(repeats, ROLLOUT_REPEATS);
            out.printf("%nrollout: %s shapes, libtorch BLAS on %d thread (BUILD_NOTES.md), warmup %d, median of %d "
                    + "timed runs%n", quick ? "quick" : "full", RolloutBench.BLAS_THREADS, ROLLOUT_WARMUP, timed);
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
                throw new ParameterException(spec.commandLine(),
                        "unknown --backend '" + b + "', expected one of " + IMPLS);
            }
        }
        for (String k : kernels) {
            if (!KERNELS.contains(k)) {
                throw new ParameterException(spec.commandLine(),
                        "unknown --kernel '" + k + "', expected one of " + KERNELS);
            }
        }
    }

    // ---- harness -----------------------------------------------------------------------------------

    /** One implementation of one kernel on fixed inputs, ready to run repeatedly. */
    private interface Impl extends AutoCloseable {
        /** One forward + gradient; returns the loss. */
        double run();

        /** The gradient of the last run, on the host. */
        float[] gradient();

        @Override
        void close();
    }

    /** A kernel on one input: its shape, its bytes moved once, and its implementations. */
    private interface Case {
        String kernel();

        String shape();

        /** Bytes an ideal implementation moves: inputs read once, the gradient written once. */
        long bytes();

        Impl create(String impl);
    }

    private record Row(String kernel, String impl, String shape, double medianMs, long bytes, double maxGradDiff,
            double lossDiff) {}

    private List<Row> runCase(Case c, boolean cudaUsable, PrintWriter out) {
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
        try (Impl ref = c.create("reference")) {
            refLoss = ref.run();
            refGrad = ref.gradient();
        }
        List<Row> rows = new ArrayList<>();
        for (String impl : impls) {
            try (Impl run = c.create(impl)) {
                double median = time(run) * 1e3;
                double loss = run.run();
                rows.add(new Row(c.kernel(), impl, c.shape(), median, c.bytes(), maxAbsDiff(run.gradient(), refGrad),
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
    private double time(Impl impl) {
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
            out.printf(fmt, r.kernel, r.impl, r.shape, String.format(Locale.ROOT, "%.3f", r.medianMs),
                    ref == null ? "-" : String.format(Locale.ROOT, "%.2fx", ref.medianMs / r.medianMs),
                    tch == null ? "-" : String.format(Locale.ROOT, "%.2fx", tch.medianMs / r.medianMs),
                    String.format(Locale.ROOT, "%.2f", r.bytes / (r.medianMs * 1e-3) / 1e9),
                    String.format(Locale.ROOT, "%.2e", r.maxGradDiff), String.format(Locale.ROOT, "%.2e", r.lossDiff));
        }
        out.println();
        out.println("vs ref / vs torch: speedup = that implementation's median / this one's (> 1 = faster).");
        out.println("GB/s: bytes an ideal implementation moves / median time; tokens: 21 B per token (logp, oldLogp,");
        out.println("refLogp, advantages 4 B each + valid 1 B read, gradient 4 B written); logits: 8 B per logit");
        out.println("(4 B read, 4 B of gradient written); tree: 24 B per node (parent, reward read; value, advantage,");
        out.println("child count, depth written). max|dgrad|, |dloss|: against the reference on the same inputs (tree:");
        out.println("the advantages, and the sum of the trees' root values; attention: the outputs, and their sum;");
        out.println("sampler: the log-probs, and the sum of the tokens, so 0 = the same tokens; torch draws with its");
        out.println("own generator). attention: one decode step of one layer (Qwen2-1.5B heads 12/2/128) for 36 branches");
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

    // ---- prefix attention ------------------------------------------------------------------------

    /** One decode step of one layer for branches forked on a pool from one prompt, paged or shared plan. */
    private record AttentionCase(int prefix, int branches, int qHeads, int kvHeads, int headDim, boolean shared,
            long seed) implements Case {
        static final int SUFFIX = 32;
        static final int BLOCK = 16;

        @Override
        public String kernel() {
            return "prefix_attention";
        }

        @Override
        public String shape() {
            return "P=" + prefix + " B=" + branches + (shared ? " shared" : " paged");
        }

        @Override
        public long bytes() {
            return 8L * (prefix + (long) branches * SUFFIX) * kvHeads * headDim;
        }

        /** The pool and the ids of its branches. */
        record Forked(KvCache pool, int[] seqs) {}

        Forked fork(Backend backend, SplittableRandom r) {
            int blocks = (prefix + BLOCK - 1) / BLOCK + branches * ((SUFFIX + BLOCK - 1) / BLOCK + 1) + 1;
            KvCache pool = KvCache.create(new KvCacheConfig(1, kvHeads, headDim, BLOCK, blocks), backend);
            int root = pool.newSequence();
            pool.append(root, 0, gaussian(r, prefix * kvHeads * headDim), gaussian(r, prefix * kvHeads * headDim));
            int[] kids = pool.fork(root, branches);
            pool.release(root);
            for (int k : kids) {
                pool.append(k, 0, gaussian(r, SUFFIX * kvHeads * headDim), gaussian(r, SUFFIX * kvHeads * headDim));
            }
            return new Forked(pool, kids);
        }

        @Override
        public Impl create(String impl) {
            SplittableRandom r = new SplittableRandom(seed);
            boolean cuda = impl.equals("cuda");
            Forked forked = fork(cuda ? Backend.CUDA : Backend.CPU, r);
            KvCache pool = forked.pool();
            int[] seqs = forked.seqs();
            float[] q = gaussian(r, branches * qHeads * headDim);
            float scale = PrefixAttention.defaultScale(headDim);
            if (impl.equals("torch")) return new AttentionOnTorch(this, pool, seqs, q);
            PrefixAttentionPlan plan = shared
                    ? PrefixAttentionPlan.decodeShared(pool, seqs, 0, PrefixAttention.MIN_SHARED_TOKENS)
                    : PrefixAttentionPlan.decode(pool, seqs, 0);
            PrefixAttention attention = PrefixAttention.create(switch (impl) {
                case "reference" -> Backend.REFERENCE;
                case "cpu" -> Backend.CPU;
                case "cuda" -> Backend.CUDA;
                default -> throw new IllegalArgumentException(impl);
            });
            return new Impl() {
                private float[] out;

                @Override
                public double run() {
                    out = attention.attend(pool, 0, plan, qHeads, scale, q, null);
                    return sum(out);
                }

                @Override
                public float[] gradient() {
                    return out;
                }

                @Override
                public void close() {
                    pool.close();
                }
            };
        }
    }

    /** {@code scaled_dot_product_attention} on dense per-branch K/V, the prompt copied into every branch. */
    private static final class AttentionOnTorch implements Impl {
        private final Tensor q, k, v;
        private float[] out;

        AttentionOnTorch(AttentionCase c, KvCache pool, int[] seqs, float[] qa) {
            int t = c.prefix() + AttentionCase.SUFFIX, row = c.kvHeads() * c.headDim();
            float[] ka = new float[seqs.length * t * row], va = new float[ka.length];
            float[] kb = new float[t * row], vb = new float[t * row];
            for (int b = 0; b < seqs.length; b++) {
                pool.readKv(seqs[b], 0, kb, vb);
                System.arraycopy(kb, 0, ka, b * kb.length, kb.length);
                System.arraycopy(vb, 0, va, b * vb.length, vb.length);
            }
            pool.close();
            long group = c.qHeads() / c.kvHeads();
            q = Tensors.floats(qa, seqs.length, c.qHeads(), 1, c.headDim());
            k = expandHeads(Tensors.floats(ka, seqs.length, t, c.kvHeads(), c.headDim()), group);
            v = expandHeads(Tensors.floats(va, seqs.length, t, c.kvHeads(), c.headDim()), group);
        }

        /** [B, T, Hkv, D] to [B, Hq, T, D], each KV head repeated for its group; releases the input. */
        private static Tensor expandHeads(Tensor x, long group) {
            try (PointerScope scope = new PointerScope()) {
                Tensor e = x.transpose(1, 2).repeat_interleave(group, new LongOptional(1), new LongOptional())
                        .contiguous();
                e.retainReference();
                Tensors.close(x);
                return e;
            }
        }

        @Override
        public double run() {
            try (PointerScope scope = new PointerScope()) {
                Tensor o = torch.scaled_dot_product_attention(q, k, v).contiguous();
                out = new float[(int) o.numel()];
                o.data_ptr_float().get(out);
                return sum(out);
            }
        }

        @Override
        public float[] gradient() {
            return out;
        }

        @Override
        public void close() {
            q.releaseReference();
            k.releaseReference();
            v.releaseReference();
        }
    }

    private static float[] gaussian(SplittableRandom r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian();
        return a;
    }

    // ---- sampler -----------------------------------------------------------------------------------

    /** One token for each of B rows of logits [B, V] at T = 0.7, top-p 0.95. */
    private record SamplerCase(int rows, int vocab, long seed) implements Case {
        static final SamplerConfig CONFIG = SamplerConfig.builder().temperature(0.7f).topP(0.95f).seed(7).build();

        @Override
        public String kernel() {
            return "sampler";
        }

        @Override
        public String shape() {
            return "B=" + rows + " V=" + vocab;
        }

        @Override
        public long bytes() {
            return 4L * rows * vocab;
        }

        @Override
        public Impl create(String impl) {
            SplittableRandom r = new SplittableRandom(seed);
            float[] logits = new float[rows * vocab];
            for (int i = 0; i < logits.length; i++) logits[i] = (float) (3 * r.nextGaussian());
            long[] ids = new long[rows];
            int[] positions = new int[rows];
            for (int i = 0; i < rows; i++) {
                ids[i] = i;
                positions[i] = 100 + i;
            }
            if (impl.equals("torch")) {
                Tensor x = Tensors.floats(logits, rows, vocab);
                return new Impl() {
                    private float[] logprobs;

                    @Override
                    public double run() {
                        try (PointerScope scope = new PointerScope()) {
                            SamplerTorch.Result res = SamplerTorch.sample(CONFIG, x);
                            logprobs = new float[rows];
                            res.logprobs().contiguous().data_ptr_float().get(logprobs);
                            long[] tokens = new long[rows];
                            res.tokens().contiguous().data_ptr_long().get(tokens);
                            return Arrays.stream(tokens).sum();
                        }
                    }

                    @Override
                    public float[] gradient() {
                        return logprobs;
                    }

                    @Override
                    public void close() {
                        x.releaseReference();
                    }
                };
            }
            Sampler sampler = Sampler.create(switch (impl) {
                case "reference" -> Backend.REFERENCE;
                case "cpu" -> Backend.CPU;
                case "cuda" -> Backend.CUDA;
                default -> throw new IllegalArgumentException(impl);
            });
            return new Impl() {
                private SampleResult last;

                @Override
                public double run() {
                    last = sampler.sample(CONFIG, logits, vocab, ids, positions);
                    return Arrays.stream(last.tokens()).asLongStream().sum();
                }

                @Override
                public float[] gradient() {
                    return last.logprobs();
                }

                @Override
                public void close() {}
            };
        }
    }

    // ---- per-token entry ---------------------------------------------------------------------------

    private record TokenCase(PolicyLossConfig config, TokenBatch x) implements Case {
        @Override
        public String kernel() {
            return "policy_loss.tokens";
        }

        @Override
        public String shape() {
            return "N=" + x.numTokens() + " B=" + x.numSeqs();
        }

        @Override
        public long bytes() {
            return 21L * x.numTokens();
        }

        @Override
        public Impl create(String impl) {
            return switch (impl) {
                case "reference" -> new TokensOnArrays(config, x, PolicyLoss.create(Backend.REFERENCE));
                case "cpu" -> new TokensOnPointers(config, x, false);
                case "cuda" -> new TokensOnPointers(config, x, true);
                case "torch" -> new TokensOnTorch(config, x);
                default -> throw new IllegalArgumentException(impl);
            };
        }
    }

    private static final class TokensOnArrays implements Impl {
        private final PolicyLossConfig config;
        private final TokenBatch x;
        private final PolicyLoss loss;
        private final float[] grad;

        TokensOnArrays(PolicyLossConfig config, TokenBatch x, PolicyLoss loss) {
            this.config = config;
            this.x = x;
            this.loss = loss;
            this.grad = new float[x.numTokens()];
        }

        @Override
        public double run() {
            return loss.tokens(config, x, grad).loss();
        }

        @Override
        public float[] gradient() {
            return grad;
        }

        @Override
        public void close() {}
    }

    /** The zero-copy pointer entry: host buffers for CPU, device buffers for CUDA, allocated once. */
    private static final class TokensOnPointers implements Impl {
        private final PolicyLossConfig config;
        private final PolicyLoss loss;
        private final int n, b;
        private final List<Pointer> host = new ArrayList<>();
        private final DeviceBuffers device;
        private final IntPointer offsets;
        private final FloatPointer logp, oldLogp, refLogp, advantages, grad;
        private final BytePointer valid;

        TokensOnPointers(PolicyLossConfig config, TokenBatch x, boolean cuda) {
            this.config = config;
            this.loss = PolicyLoss.create(cuda ? Backend.CUDA : Backend.CPU);
            this.n = x.numTokens();
            this.b = x.numSeqs();
            this.device = cuda ? new DeviceBuffers() : null;
            offsets = new IntPointer(place(new IntPointer(x.seqOffsets()), 4L * (b + 1)));
            logp = new FloatPointer(place(new FloatPointer(x.logp()), 4L * n));
            oldLogp = new FloatPointer(place(new FloatPointer(x.oldLogp()), 4L * n));
            refLogp = new FloatPointer(place(new FloatPointer(x.refLogp()), 4L * n));
            advantages = new FloatPointer(place(new FloatPointer(x.advantages()), 4L * n));
            valid = new BytePointer(place(BenchInputs.bytes(x.valid()), n));
            grad = new FloatPointer(cuda ? device.alloc(4L * n) : keep(new FloatPointer(n)));
        }

        private Pointer place(Pointer p, long bytes) {
            keep(p);
            return device == null ? p : device.upload(p, bytes);
        }

        private Pointer keep(Pointer p) {
            host.add(p);
            return p;
        }

        @Override
        public double run() {
            return loss.tokens(config, n, b, offsets, logp, oldLogp, refLogp, advantages, valid, grad).loss();
        }

        @Override
        public float[] gradient() {
            float[] g = new float[n];
            if (device == null) {
                grad.get(g);
            } else {
                try (FloatPointer h = new FloatPointer(n)) {
                    device.download(h, grad, 4L * n);
                    h.get(g);
                }
            }
            return g;
        }

        @Override
        public void close() {
            if (device != null) device.close();
            host.forEach(Pointer::close);
        }
    }

    /** {@link PolicyLossTorch#loss}: forward, autograd backward, gradient zeroed before each run. */
    private static final class TokensOnTorch implements Impl {
        private final PolicyLossConfig config;
        private final Tensor offsets, logp, oldLogp, refLogp, advantages, valid;

        TokensOnTorch(PolicyLossConfig config, TokenBatch x) {
            this.config = config;
            offsets = Tensors.ints(x.seqOffsets());
            logp = Tensors.floats(x.logp());
            logp.requires_grad_(true);
            oldLogp = Tensors.floats(x.oldLogp());
            refLogp = Tensors.floats(x.refLogp());
            advantages = Tensors.floats(x.advantages());
            valid = Tensors.bools(x.valid());
        }

        @Override
        public double run() {
            try (PointerScope scope = new PointerScope()) {
                Tensor grad = logp.grad();
                if (grad.defined()) grad.zero_();
                Tensor loss = PolicyLossTorch.loss(config, offsets, logp, oldLogp, refLogp, advantages, valid);
                loss.backward();
                return loss.item_double();
            }
        }

        @Override
        public float[] gradient() {
            try (PointerScope scope = new PointerScope()) {
                return Tensors.toFloats(logp.grad());
            }
        }

        @Override
        public void close() {
            Tensors.close(offsets, logp, oldLogp, refLogp, advantages, valid);
        }
    }

    // ---- tree backup -------------------------------------------------------------------------------

    /** The tree backup of a forest; its "gradient" is the advantages, its "loss" the sum of root values. */
    private record TreeCase(TreeBackupConfig config, Forest forest) implements Case {
        @Override
        public String kernel() {
            return "tree_backup";
        }

        @Override
        public String shape() {
            return "T=" + forest.numTrees() + " N=" + forest.numNodes();
        }

        @Override
        public long bytes() {
            return 24L * forest.numNodes();  // parent, reward read; value, advantage, child count, depth written
        }

        @Override
        public Impl create(String impl) {
            return switch (impl) {
                case "reference" -> new TreeOnReference(config, forest);
                case "cpu" -> new TreeOnPointers(config, forest, false);
                case "cuda" -> new TreeOnPointers(config, forest, true);
                case "torch" -> new TreeOnTorch(config, forest);
                default -> throw new IllegalArgumentException(impl);
            };
        }
    }

    private static double sum(float[] x) {
        double s = 0;
        for (float v : x) s += v;
        return s;
    }

    private static final class TreeOnReference implements Impl {
        private final TreeBackupConfig config;
        private final Forest forest;
        private TreeBackupResult last;

        TreeOnReference(TreeBackupConfig config, Forest forest) {
            this.config = config;
            this.forest = forest;
        }

        @Override
        public double run() {
            last = TreeBackupReference.backup(config, forest);
            return sum(last.rootValue());
        }

        @Override
        public float[] gradient() {
            return last.advantage();
        }

        @Override
        public void close() {}
    }

    private static final class TreeOnPointers implements Impl {
        private final TreeBackupConfig config;
        private final TreeBackup backup;
        private final int n, t;
        private final List<Pointer> host = new ArrayList<>();
        private final DeviceBuffers device;
        private final IntPointer offsets, parent, childCount, depth, nonzero;
        private final FloatPointer reward, value, advantage, rootValue;

        TreeOnPointers(TreeBackupConfig config, Forest f, boolean cuda) {
            this.config = config;
            this.backup = TreeBackup.create(cuda ? Backend.CUDA : Backend.CPU);
            this.n = f.numNodes();
            this.t = f.numTrees();
            this.device = cuda ? new DeviceBuffers() : null;
            offsets = new IntPointer(place(new IntPointer(f.treeOffsets()), 4L * (t + 1)));
            parent = new IntPointer(place(new IntPointer(f.parents()), 4L * n));
            reward = new FloatPointer(place(new FloatPointer(f.leafRewards()), 4L * n));
            value = new FloatPointer(out(new FloatPointer(n), 4L * n));
            advantage = new FloatPointer(out(new FloatPointer(n), 4L * n));
            childCount = new IntPointer(out(new IntPointer(n), 4L * n));
            depth = new IntPointer(out(new IntPointer(n), 4L * n));
            rootValue = new FloatPointer(out(new FloatPointer(t), 4L * t));
            nonzero = new IntPointer(out(new IntPointer(t), 4L * t));
        }

        private Pointer place(Pointer p, long bytes) {
            host.add(p);
            return device == null ? p : device.upload(p, bytes);
        }

        private Pointer out(Pointer p, long bytes) {
            host.add(p);
            return device == null ? p : device.alloc(bytes);
        }

        @Override
        public double run() {
            backup.backup(config, n, t, offsets, parent, reward, null, value, advantage, childCount, depth, rootValue,
                    nonzero);
            return sum(download(rootValue, t));
        }

        @Override
        public float[] gradient() {
            return download(advantage, n);
        }

        private float[] download(FloatPointer p, int count) {
            float[] x = new float[count];
            if (device == null) {
                p.get(x);
            } else {
                try (FloatPointer h = new FloatPointer(count)) {
                    device.download(h, p, 4L * count);
                    h.get(x);
                }
            }
            return x;
        }

        @Override
        public void close() {
            if (device != null) device.close();
            host.forEach(Pointer::close);
        }
    }

    /** {@link TreeBackupTorch}: the level-synchronous index_add composition. */
    private static final class TreeOnTorch implements Impl {
        private final TreeBackupConfig config;
        private final Tensor parent, reward;
        private final int[] roots;
        private float[] advantage;

        TreeOnTorch(TreeBackupConfig config, Forest f) {
            this.config = config;
            parent = Tensors.ints(f.parents());
            reward = Tensors.floats(f.leafRewards());
            roots = Arrays.copyOf(f.treeOffsets(), f.numTrees());
        }

        @Override
        public double run() {
            try (PointerScope scope = new PointerScope()) {
                TreeBackupTorch.Result r = TreeBackupTorch.backup(config, parent, reward, null);
                float[] value = Tensors.toFloats(r.value());
                advantage = Tensors.toFloats(r.advantage());
                double s = 0;
                for (int root : roots) s += value[root];
                return s;
            }
        }

        @Override
        public float[] gradient() {
            return advantage;
        }

        @Override
        public void close() {
            Tensors.close(parent, reward);
        }
    }

    // ---- logits entry ------------------------------------------------------------------------------

    private record LogitsCase(PolicyLossConfig config, LogitsBatch x) implements Case {
        @Override
        public String kernel() {
            return "policy_loss.logits";
        }

        @Override
        public String shape() {
            return "N=" + x.numTokens() + " V=" + x.vocab();
        }

        @Override
        public long bytes() {
            return 8L * x.numTokens() * x.vocab();
        }

        @Override
        public Impl create(String impl) {
            return switch (impl) {
                case "reference" -> new LogitsOnArrays(config, x);
                case "cpu" -> new LogitsOnPointers(config, x, false);
                case "cuda" -> new LogitsOnPointers(config, x, true);
                case "torch" -> new LogitsOnTorch(config, x);
                default -> throw new IllegalArgumentException(impl);
            };
        }
    }

    private static final class LogitsOnArrays implements Impl {
        private final PolicyLossConfig config;
        private final LogitsBatch x;
        private final PolicyLoss loss = PolicyLoss.create(Backend.REFERENCE);
        private final float[] grad;

        LogitsOnArrays(PolicyLossConfig config, LogitsBatch x) {
            this.config = config;
            this.x = x;
            this.grad = new float[x.logits().length];
        }

        @Override
        public double run() {
            return loss.logits(config, x, grad, null, null).loss();
        }

        @Override
        public float[] gradient() {
            return grad;
        }

        @Override
        public void close() {}
    }

    private static final class LogitsOnPointers implements Impl {
        private final PolicyLossConfig config;
        private final PolicyLoss loss;
        private final int n, b;
        private final long v;
        private final float temperature;
        private final List<Pointer> host = new ArrayList<>();
        private final DeviceBuffers device;
        private final IntPointer offsets, targets;
        private final FloatPointer logits, oldLogp, refLogp, advantages, grad;
        private final BytePointer valid;

        LogitsOnPointers(PolicyLossConfig config, LogitsBatch x, boolean cuda) {
            this.config = config;
            this.loss = PolicyLoss.create(cuda ? Backend.CUDA : Backend.CPU);
            this.n = x.numTokens();
            this.v = x.vocab();
            this.b = x.seqOffsets().length - 1;
            this.temperature = x.temperature();
            this.device = cuda ? new DeviceBuffers() : null;
            offsets = new IntPointer(place(new IntPointer(x.seqOffsets()), 4L * (b + 1)));
            logits = new FloatPointer(place(new FloatPointer(x.logits()), 4L * n * v));
            targets = new IntPointer(place(new IntPointer(x.targets()), 4L * n));
            oldLogp = new FloatPointer(place(new FloatPointer(x.oldLogp()), 4L * n));
            refLogp = new FloatPointer(place(new FloatPointer(x.refLogp()), 4L * n));
            advantages = new FloatPointer(place(new FloatPointer(x.advantages()), 4L * n));
            valid = new BytePointer(place(BenchInputs.bytes(x.valid()), n));
            grad = new FloatPointer(cuda ? device.alloc(4L * n * v) : keep(new FloatPointer(n * v)));
        }

        private Pointer place(Pointer p, long bytes) {
            keep(p);
            return device == null ? p : device.upload(p, bytes);
        }

        private Pointer keep(Pointer p) {
            host.add(p);
            return p;
        }

        @Override
        public double run() {
            return loss.logits(config, n, v, b, offsets, logits, DType.F32, targets, DType.I32, temperature, oldLogp,
                    refLogp, advantages, valid, grad, null, null).loss();
        }

        @Override
        public float[] gradient() {
            float[] g = new float[Math.toIntExact(n * v)];
            if (device == null) {
                grad.get(g);
            } else {
                try (FloatPointer h = new FloatPointer(n * v)) {
                    device.download(h, grad, 4L * n * v);
                    h.get(g);
                }
            }
            return g;
        }

        @Override
        public void close() {
            if (device != null) device.close();
            host.forEach(Pointer::close);
        }
    }

    /** {@link PolicyLossTorch#lossFromLogits}: log_softmax / gather with [N, V] temporaries, autograd backward. */
    private static final class LogitsOnTorch implements Impl {
        private final PolicyLossConfig config;
        private final float temperature;
        private final Tensor offsets, logits, targets, oldLogp, refLogp, advantages, valid;

        LogitsOnTorch(PolicyLossConfig config, LogitsBatch x) {
            this.config = config;
            this.temperature = x.temperature();
            offsets = Tensors.ints(x.seqOffsets());
            logits = Tensors.floats(x.logits(), x.numTokens(), x.vocab());
            logits.requires_grad_(true);
            targets = Tensors.longs(x.targets());
            oldLogp = Tensors.floats(x.oldLogp());
            refLogp = Tensors.floats(x.refLogp());
            advantages = Tensors.floats(x.advantages());
            valid = Tensors.bools(x.valid());
        }

        @Override
        public double run() {
            try (PointerScope scope = new PointerScope()) {
                Tensor grad = logits.grad();
                if (grad.defined()) grad.zero_();
                Tensor loss = PolicyLossTorch.lossFromLogits(config, offsets, logits, targets, temperature, oldLogp,
                        refLogp, advantages, valid);
                loss.backward();
                return loss.item_double();
            }
        }

        @Override
        public float[] gradient() {
            try (PointerScope scope = new PointerScope()) {
                return Tensors.toFloats(logits.grad());
            }
        }

        @Override
        public void close() {
            Tensors.close(offsets, logits, targets, oldLogp, refLogp, advantages, valid);
        }
    }


    // ---- helpers -----------------------------------------------------------------------------------

    /** Read + write GB/s of a 64 MiB off-heap memcpy, median of 5 after a warmup. */
    static double copyBandwidth() {
        long bytes = 64L << 20;
        try (BytePointer src = new BytePointer(bytes); BytePointer dst = new BytePointer(bytes)) {
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

    /** e.g. "2-core x86_64 AMD EPYC". */
    static String machine() {
        String model = "unknown CPU";
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    model = line.substring(line.indexOf(':') + 1).trim();
                    break;
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux: keep "unknown CPU"
        }
        String arch = System.getProperty("os.arch");
        if (arch.equals("amd64")) arch = "x86_64";
        return Runtime.getRuntime().availableProcessors() + "-core " + arch + " " + model;
    }

    private static String reason() {
        try {
            Backend.CUDA.requireAvailable();
            return "available";
        } catch (IllegalStateException e) {
            return e.getMessage();
        }
    }

    private static void check(int status, String what) {
        if (status != Spo4jNative.SPO4J_OK) {
            throw new IllegalStateException(what + " failed: " + Spo4jNative.spo4j_last_error().getString());
        }
    }

    /** CUDA buffers through libspo4j's helpers (no CUDA runtime needed on the Java side), freed together. */
    private static final class DeviceBuffers implements AutoCloseable {
        private final List<Pointer> owned = new ArrayList<>();

        Pointer alloc(long bytes) {
            try (PointerPointer<Pointer> out = new PointerPointer<>(1)) {
                check(Spo4jNative.spo4j_cuda_malloc(out, Math.max(bytes, 1)), "spo4j_cuda_malloc");
                Pointer p = out.get(0);
                owned.add(p);
                return p;
            }
        }

        Pointer upload(Pointer hostPointer, long bytes) {
            Pointer d = alloc(bytes);
            check(Spo4jNative.spo4j_cuda_memcpy(d, hostPointer, bytes, 0), "spo4j_cuda_memcpy");
            return d;
        }

        void download(Pointer hostPointer, Pointer devicePointer, long bytes) {
            check(Spo4jNative.spo4j_cuda_memcpy(hostPointer, devicePointer, bytes, 1), "spo4j_cuda_memcpy");
        }

        @Override
        public void close() {
            for (Pointer p : owned) Spo4jNative.spo4j_cuda_free(p);
            owned.clear();
        }
    }

    /** CPU tensors owning copies of Java arrays, outside any scope until {@link #close}. */
    private static final class Tensors {
        private Tensors() {}

        static Tensor floats(float[] a, long... shape) {
            try (PointerScope scope = new PointerScope()) {
                long[] s = shape.length == 0 ? new long[] {a.length} : shape;
                return keep(torch.from_blob(new FloatPointer(a), s, new TensorOptions(ScalarType.Float)).clone());
            }
        }

        static Tensor ints(int[] a) {
            try (PointerScope scope = new PointerScope()) {
                return keep(torch.from_blob(new IntPointer(a), new long[] {a.length}, new TensorOptions(ScalarType.Int))
                        .clone());
            }
        }

        static Tensor longs(int[] a) {
            try (PointerScope scope = new PointerScope()) {
                return keep(torch.from_blob(new IntPointer(a), new long[] {a.length}, new TensorOptions(ScalarType.Int))
                        .to(ScalarType.Long));
            }
        }

        static Tensor bools(boolean[] a) {
            try (PointerScope scope = new PointerScope()) {
                return keep(torch.from_blob(BenchInputs.bytes(a), new long[] {a.length}, new TensorOptions(ScalarType.Byte))
                        .to(ScalarType.Bool));
            }
        }

        static float[] toFloats(Tensor t) {
            Tensor c = t.contiguous();
            float[] out = new float[Math.toIntExact(c.numel())];
            new FloatPointer(c.data_ptr_float()).get(out);
            return out;
        }

        private static Tensor keep(Tensor t) {
            t.retainReference();  // survives the scope's close; released in close()
            return t;
        }

        static void close(Tensor... tensors) {
            for (Tensor t : tensors) {
                if (t != null) t.releaseReference();
            }
        }
    }
}
