package io.github.spo4j.bench.training;

import io.github.spo4j.bench.BenchSupport;
import io.github.spo4j.kernels.loss.PolicyLossConfig;
import io.github.spo4j.model.ModelConfig;
import io.github.spo4j.model.Policy;
import io.github.spo4j.model.TargetBatch;
import io.github.spo4j.model.TrainingForward;
import io.github.spo4j.train.Workspace;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.openblas.presets.openblas_nolapack;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.global.torch;

/**
 * The training side of one iteration as the trainer runs it today, on synthetic episodes of exact shapes: every
 * episode is its own sequence (query + response), so a group's prompt or a tree's upper segments are recomputed once
 * per episode.
 * <ul>
 *   <li><b>logprob</b>: one no-grad log-prob forward over all episodes, {@link Config#logprobMicroBatch} sequences a
 *       pass (the trainer runs it once for π_old and once more for the reference when β &gt; 0);
 *   <li><b>forward_backward</b>: one epoch of the training forward and the fused loss's backward,
 *       {@link Config#trainMicroBatch} sequences a micro-batch (the parameters' gradients accumulate).
 * </ul>
 * Workloads (token ids uniform in [3, V), fixed seed; siblings and a group's responses differ in their first token,
 * so what they share is exactly the prompt and the segments above):
 * <ul>
 *   <li><b>grpo</b>: {@code prompts} prompts of P tokens, {@code samples} responses of R tokens each;
 *   <li><b>tree</b>: {@code trees} full trees of the shape with M-token segments under a P-token prompt; an episode
 *       per edge, its query the prompt and the segments above it (SPO_SPEC §3), as SPO-tree trains every edge.
 * </ul>
 * Each phase runs unpacked ({@link Policy#forward}: every episode its own padded sequence, as the trainer did),
 * and packed ({@link Policy#forwardPacked}, the trainer's: each micro-batch's token trie, every shared prefix once,
 * attention chunk by chunk).
 * Per workload, phase and impl: the median wall time, tokens processed (Σ query + response) and unique ({@link
 * TargetBatch#uniqueTokens}: each shared prefix once, what a packed forward computes), and the peak resident memory
 * above the level before the call ({@link BenchSupport#peakRssMib}). Threads as the trainer's training phases: libtorch
 * on one, BLAS on {@link BenchSupport#threads()}.
 */
@SuppressWarnings("try") // PointerScope and NoGradGuard are opened for their effect
public final class TrainingStepBench {
    public static final int FIRST_ID = 3;

    private TrainingStepBench() {}

    /**
     * @param logprobMicroBatch sequences per no-grad pass (the trainer: 4 × micro-batch)
     * @param trainMicroBatch   sequences per training micro-batch (compare's default 64)
     */
    public record Config(ModelConfig model, int logprobMicroBatch, int trainMicroBatch, List<Workload> workloads) {
        /** The built-in compare model (hidden 64, 2 layers, 32 ids) and the shapes. */
        public static Config full() {
            ModelConfig m = builtInModel();
            List<Workload> w = new ArrayList<>();
            for (int p : new int[] {64, 512}) w.add(Workload.grpo(16, 8, p, 64));
            for (int p : new int[] {64, 512}) {
                for (int mTokens : new int[] {10, 30}) {
                    w.add(Workload.tree(16, new int[] {2, 2, 2}, mTokens, p));
                    w.add(Workload.tree(1, new int[] {6, 6, 6}, mTokens, p));
                }
            }
            return new Config(m, 256, 64, w);
        }

        /** Small shapes for a smoke test. */
        public static Config quick() {
            return new Config(
                    builtInModel(),
                    7,
                    5,
                    List.of(Workload.grpo(2, 3, 9, 5), Workload.tree(1, new int[] {2, 3}, 4, 11)));
        }

        private static ModelConfig builtInModel() {
            return Workspace.builtInModel(32, 64, 2);
        }
    }

    /** Episodes as (query, response) pairs. */
    public record Workload(String name, String shape, List<int[]> queries, List<int[]> responses) {
        static Workload grpo(int prompts, int samples, int promptTokens, int responseTokens) {
            SplittableRandom r = new SplittableRandom(BenchSupport.SEED);
            List<int[]> q = new ArrayList<>(), t = new ArrayList<>();
            for (int i = 0; i < prompts; i++) {
                int[] prompt = ids(r, promptTokens);
                for (int j = 0; j < samples; j++) {
                    int[] response = ids(r, responseTokens);
                    if (responseTokens > 0) response[0] = FIRST_ID + j; // the responses share nothing but the prompt
                    q.add(prompt);
                    t.add(response);
                }
            }
            return new Workload(
                    "grpo",
                    String.format(Locale.ROOT, "%dx%d P=%d R=%d", prompts, samples, promptTokens, responseTokens),
                    q,
                    t);
        }

        static Workload tree(int trees, int[] branching, int segmentTokens, int promptTokens) {
            SplittableRandom r = new SplittableRandom(BenchSupport.SEED);
            List<int[]> q = new ArrayList<>(), t = new ArrayList<>();
            for (int i = 0; i < trees; i++) grow(r, ids(r, promptTokens), branching, 0, segmentTokens, q, t);
            StringBuilder shape = new StringBuilder();
            for (int b : branching) shape.append(shape.length() == 0 ? "" : "-").append(b);
            return new Workload(
                    "tree",
                    String.format(Locale.ROOT, "%dx%s M=%d P=%d", trees, shape, segmentTokens, promptTokens),
                    q,
                    t);
        }

        private static void grow(
                SplittableRandom r,
                int[] query,
                int[] branching,
                int depth,
                int m,
                List<int[]> queries,
                List<int[]> targets) {
            if (depth == branching.length) return;
            for (int c = 0; c < branching[depth]; c++) {
                int[] segment = ids(r, m);
                segment[0] = FIRST_ID + c; // siblings differ at once, so the token trie is the tree
                queries.add(query);
                targets.add(segment);
                int[] below = Arrays.copyOf(query, query.length + m);
                System.arraycopy(segment, 0, below, query.length, m);
                grow(r, below, branching, depth + 1, m, queries, targets);
            }
        }

        private static int[] ids(SplittableRandom r, int n) {
            int[] a = new int[n];
            for (int i = 0; i < n; i++) a[i] = r.nextInt(FIRST_ID, 32);
            return a;
        }

        public TargetBatch batch() {
            return TargetBatch.ofPairs(queries.toArray(new int[0][]), responses.toArray(new int[0][]));
        }
    }

    public record Measurement(
            String workload,
            String shape,
            String phase,
            String impl,
            int episodes,
            double medianMs,
            long tokens,
            long uniqueTokens,
            double peakRssMib) {
        public double redundancy() {
            return (double) tokens / uniqueTokens;
        }
    }

    /** Every workload of {@code config}, both phases: {@code warmup} untimed passes, the median of {@code repeats}. */
    public static List<Measurement> run(Config config, PolicyLossConfig loss, int warmup, int repeats) {
        torch.set_num_threads(1);
        openblas_nolapack.blas_set_num_threads(BenchSupport.threads());
        List<Measurement> out = new ArrayList<>();
        try (Policy policy = Policy.random(config.model(), BenchSupport.SEED)) {
            for (Workload w : config.workloads()) {
                TargetBatch all = w.batch();
                long tokens = all.totalTokens(), unique = all.uniqueTokens();
                int episodes = w.queries().size();
                for (String impl : new String[] {"unpacked", "packed"}) {
                    Runnable logprob = () -> logprobs(policy, w, config.logprobMicroBatch(), impl);
                    Runnable train = () -> forwardBackward(policy, w, config.trainMicroBatch(), loss, impl);
                    out.add(measure(w, "logprob", impl, episodes, tokens, unique, logprob, warmup, repeats));
                    out.add(measure(w, "forward_backward", impl, episodes, tokens, unique, train, warmup, repeats));
                }
                for (var p : policy.namedParameters().values()) {
                    if (p.grad().defined()) p.grad().zero_();
                }
            }
        }
        return out;
    }

    private static Measurement measure(
            Workload w,
            String phase,
            String impl,
            int episodes,
            long tokens,
            long unique,
            Runnable call,
            int warmup,
            int repeats) {
        for (int i = 0; i < warmup; i++) call.run();
        double peak = BenchSupport.peakRssMib(call);
        double[] ms = new double[repeats];
        for (int i = 0; i < repeats; i++) {
            long t0 = System.nanoTime();
            call.run();
            ms[i] = (System.nanoTime() - t0) / 1e6;
        }
        Arrays.sort(ms);
        return new Measurement(w.name(), w.shape(), phase, impl, episodes, ms[repeats / 2], tokens, unique, peak);
    }

    private static TrainingForward forward(Policy policy, TargetBatch b, String impl) {
        return switch (impl) {
            case "packed" -> policy.forwardPacked(b, 1f);
            default -> policy.forward(b, 1f);
        };
    }

    /** The trainer's π_old / reference pass: log-probs of every response, no graph. Returns Σ log-probs (a check). */
    static double logprobs(Policy policy, Workload w, int micro, String impl) {
        double sum = 0;
        for (int from = 0; from < w.queries().size(); from += micro) {
            int to = Math.min(w.queries().size(), from + micro);
            TargetBatch b = TargetBatch.ofPairs(
                    w.queries().subList(from, to).toArray(new int[0][]),
                    w.responses().subList(from, to).toArray(new int[0][]));
            try (PointerScope scope = new PointerScope();
                    NoGradGuard noGrad = new NoGradGuard();
                    TrainingForward f = forward(policy, b, impl)) {
                for (float x : f.logpArray()) sum += x;
            }
        }
        return sum;
    }

    /** One epoch of the trainer's update without the optimizer: forward, fused loss, backward per micro-batch. */
    static void forwardBackward(Policy policy, Workload w, int micro, PolicyLossConfig loss, String impl) {
        for (int from = 0; from < w.queries().size(); from += micro) {
            int to = Math.min(w.queries().size(), from + micro);
            TargetBatch b = TargetBatch.ofPairs(
                    w.queries().subList(from, to).toArray(new int[0][]),
                    w.responses().subList(from, to).toArray(new int[0][]));
            int n = b.numTargets();
            float[] old = new float[n], adv = new float[n];
            SplittableRandom r = new SplittableRandom(from);
            for (int i = 0; i < n; i++) {
                old[i] = -3.4f; // about log(1/29): π_old of a random model over 29 ids, so ratios stay unclipped
                adv[i] = (float) (r.nextDouble() * 2 - 1);
            }
            try (PointerScope scope = new PointerScope();
                    TrainingForward f = forward(policy, b, impl)) {
                f.policyLossBackward(loss, old, loss.beta() > 0 ? old : null, adv, null);
            }
        }
    }

    public static void print(List<Measurement> results, PrintWriter out) {
        out.printf(
                Locale.ROOT,
                "%-6s %-22s %-17s %-9s %9s %10s %9s %9s %11s %9s%n",
                "work",
                "shape",
                "phase",
                "impl",
                "episodes",
                "median ms",
                "tokens",
                "unique",
                "processed/u",
                "peak MiB");
        for (Measurement m : results) {
            out.printf(
                    Locale.ROOT,
                    "%-6s %-22s %-17s %-9s %9d %10.1f %9d %9d %10.1fx %9.1f%n",
                    m.workload(),
                    m.shape(),
                    m.phase(),
                    m.impl(),
                    m.episodes(),
                    m.medianMs(),
                    m.tokens(),
                    m.uniqueTokens(),
                    m.redundancy(),
                    m.peakRssMib());
        }
    }
}
