package io.github.spo4j.bench.attention;

import io.github.spo4j.bench.BenchSupport;
import io.github.spo4j.kernels.Backend;
import io.github.spo4j.kernels.attention.PrefixAttention;
import io.github.spo4j.kernels.attention.PrefixAttentionPlan;
import io.github.spo4j.kernels.kv.KvCache;
import io.github.spo4j.kernels.kv.KvCacheConfig;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.DoubleSupplier;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One decode step of attention (one layer) for {@code branches} sequences that continue one prompt of
 * {@code prefix} tokens, each with {@link #SUFFIX} tokens of its own: the shape of an SPO tree level or of
 * Monte-Carlo rollouts from one state. The branches are made on a {@link KvCache} by {@code fork}, so they
 * share the prompt's blocks (block size 16).
 *
 * <ul>
 *   <li>{@code reference}: {@link PrefixAttention} on {@link Backend#REFERENCE} (dense, in double; the baseline).</li>
 *   <li>{@code cpu-paged}, {@code cuda-paged}: the native kernel with one part per branch over its whole table
 *       (plain paged decode: the prompt is read once per branch);</li>
 *   <li>{@code cpu-shared}, {@code cuda-shared}: the native kernel with {@link PrefixAttentionPlan#decodeShared}
 *       (the prompt is read once for all branches, then each branch merges it with its own suffix);</li>
 *   <li>{@code torch}: {@code scaled_dot_product_attention} on dense per-branch K/V (the prompt duplicated into
 *       every branch, GQA heads expanded), made once outside the timing.</li>
 * </ul>
 * {@code model} is {@code Hq x Hkv x D}: 12x2x128 is Qwen2-1.5B (SPO's DeepSeek-R1-Distill-Qwen-1.5B), 8x8x64
 * multi-head attention.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(
        value = 1,
        jvmArgsPrepend = {
            "--enable-native-access=ALL-UNNAMED",
            "-Xss4m",
            "-Dorg.bytedeco.javacpp.cachedir=target/javacpp-cache"
        })
@State(Scope.Benchmark)
@SuppressWarnings("try")
public class PrefixAttentionBenchmark {
    static final int SUFFIX = 32;
    static final int BLOCK = 16;

    @Param({"reference", "cpu-paged", "cpu-shared", "torch"})
    public String impl;

    @Param({"128", "512", "2048"})
    public int prefix;

    @Param({"6", "36", "216"})
    public int branches;

    @Param({"12x2x128"})
    public String model;

    /** The shared plan's {@code minSharedTokens}; 1 shares every common run (to measure the crossover). */
    @Param({"" + PrefixAttention.MIN_SHARED_TOKENS})
    public int minShared;

    private DoubleSupplier step;
    private AutoCloseable resources;

    /** The pool, its branches and queries of one benchmark shape (also the quick side-by-side's). */
    static final class Scene implements AutoCloseable {
        final KvCache pool;
        final int[] seqs;
        final int prefix, qHeads, kvHeads, headDim;
        final float[] q;

        Scene(Backend backend, int prefix, int branches, int qHeads, int kvHeads, int headDim) {
            this(backend, prefix, branches, qHeads, kvHeads, headDim, BenchSupport.SEED);
        }

        Scene(Backend backend, int prefix, int branches, int qHeads, int kvHeads, int headDim, long seed) {
            this.prefix = prefix;
            this.qHeads = qHeads;
            this.kvHeads = kvHeads;
            this.headDim = headDim;
            int blocks = (prefix + BLOCK - 1) / BLOCK + branches * ((SUFFIX + BLOCK - 1) / BLOCK + 1) + 1;
            pool = KvCache.create(new KvCacheConfig(1, kvHeads, headDim, BLOCK, blocks), backend);
            SplittableRandom r = new SplittableRandom(seed);
            int root = pool.newSequence();
            pool.append(root, 0, gaussian(r, prefix * kvHeads * headDim), gaussian(r, prefix * kvHeads * headDim));
            seqs = pool.fork(root, branches);
            pool.release(root);
            for (int s : seqs) {
                pool.append(s, 0, gaussian(r, SUFFIX * kvHeads * headDim), gaussian(r, SUFFIX * kvHeads * headDim));
            }
            q = gaussian(r, branches * qHeads * headDim);
        }

        int[][] tables() {
            int[][] t = new int[seqs.length][];
            for (int i = 0; i < seqs.length; i++) t[i] = pool.blockTable(seqs[i]);
            return t;
        }

        int[] lengths() {
            int[] l = new int[seqs.length];
            for (int i = 0; i < seqs.length; i++) l[i] = pool.length(seqs[i], 0);
            return l;
        }

        PrefixAttentionPlan plan(boolean shared, int minShared) {
            return shared
                    ? PrefixAttentionPlan.decodeShared(tables(), lengths(), BLOCK, minShared)
                    : PrefixAttentionPlan.decode(tables(), lengths(), BLOCK);
        }

        /**
         * Retained CPU tensors for {@code scaled_dot_product_attention}: q [B, Hq, 1, D] and dense per-branch K and
         * V [B, Hq, P + SUFFIX, D], the prompt copied into every branch and each KV head repeated for its group.
         * Closes the pool.
         */
        Tensor[] denseQkv() {
            int branches = seqs.length, t = prefix + SUFFIX;
            float[] k = new float[branches * t * kvHeads * headDim], v = new float[k.length];
            float[] kb = new float[t * kvHeads * headDim], vb = new float[kb.length];
            for (int b = 0; b < branches; b++) {
                pool.readKv(seqs[b], 0, kb, vb);
                System.arraycopy(kb, 0, k, b * kb.length, kb.length);
                System.arraycopy(vb, 0, v, b * vb.length, vb.length);
            }
            close();
            int group = qHeads / kvHeads;
            return new Tensor[] {
                BenchSupport.Tensors.floats(q, branches, qHeads, 1, headDim),
                expandHeads(BenchSupport.Tensors.floats(k, branches, t, kvHeads, headDim), group),
                expandHeads(BenchSupport.Tensors.floats(v, branches, t, kvHeads, headDim), group)
            };
        }

        @Override
        public void close() {
            pool.close();
        }
    }

    static float[] gaussian(SplittableRandom r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian();
        return a;
    }

    static int[] model(String model) {
        String[] p = model.split("x");
        return new int[] {Integer.parseInt(p[0]), Integer.parseInt(p[1]), Integer.parseInt(p[2])};
    }

    @Setup(Level.Trial)
    public void setup() {
        BenchSupport.configureThreads();
        int[] m = model(model);
        int qHeads = m[0], kvHeads = m[1], d = m[2];
        float scale = PrefixAttention.defaultScale(d);
        switch (impl) {
            case "reference" -> {
                Scene s = new Scene(Backend.REFERENCE, prefix, branches, qHeads, kvHeads, d);
                resources = s;
                PrefixAttention a = PrefixAttention.create(Backend.REFERENCE);
                PrefixAttentionPlan plan = s.plan(false, minShared);
                step = () -> a.attend(s.pool, 0, plan, qHeads, scale, s.q, null)[0];
            }
            case "cpu-paged", "cpu-shared", "cuda-paged", "cuda-shared" -> {
                boolean cuda = impl.startsWith("cuda");
                if (cuda) BenchSupport.requireCuda();
                Backend backend = cuda ? Backend.CUDA : Backend.CPU;
                Scene s = new Scene(backend, prefix, branches, qHeads, kvHeads, d);
                PrefixAttention a = PrefixAttention.create(backend);
                PrefixAttentionPlan plan = s.plan(impl.endsWith("shared"), minShared);
                BenchSupport.Buffers buf = new BenchSupport.Buffers(cuda);
                FloatPointer q = buf.floats(s.q);
                FloatPointer out = buf.floats((long) s.q.length);
                resources = () -> {
                    buf.close();
                    s.close();
                };
                step = () -> {
                    a.attend(s.pool, 0, plan, qHeads, scale, q, out, null);
                    return plan.numQueries();
                };
            }
            case "torch" -> {
                // Dense per-branch K/V: [B, Hq, T, D], the prompt copied into every branch.
                Tensor[] qkv = new Scene(Backend.CPU, prefix, branches, qHeads, kvHeads, d).denseQkv();
                Tensor qt = qkv[0], kt = qkv[1], vt = qkv[2];
                resources = () -> BenchSupport.Tensors.release(qt, kt, vt);
                step = () -> {
                    try (PointerScope scope = new PointerScope()) {
                        return torch.scaled_dot_product_attention(qt, kt, vt).numel();
                    }
                };
            }
            default ->
                throw new IllegalArgumentException(
                        "impl must be reference, cpu-paged, cpu-shared, torch, cuda-paged or cuda-shared; got " + impl);
        }
    }

    /** [B, T, Hkv, D] to [B, Hq, T, D], each KV head repeated for its group; releases the input. */
    static Tensor expandHeads(Tensor x, long group) {
        try (PointerScope scope = new PointerScope()) {
            Tensor e = x.transpose(1, 2)
                    .repeat_interleave(group, new LongOptional(1), new LongOptional())
                    .contiguous();
            e.retainReference();
            BenchSupport.Tensors.release(x);
            return e;
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        if (resources != null) resources.close();
        resources = null;
    }

    @Benchmark
    public double decode() {
        return step.getAsDouble();
    }
}
