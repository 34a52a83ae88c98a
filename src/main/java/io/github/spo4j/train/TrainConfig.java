package io.github.spo4j.train;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import io.github.spo4j.kernels.loss.PolicyLossConfig;
import io.github.spo4j.model.Precision;
import io.github.spo4j.model.io.JsonErrors;
import io.github.spo4j.spo.Algorithm;
import io.github.spo4j.spo.AlgorithmConfig;
import io.github.spo4j.spo.AlgorithmConfig.Batching;
import io.github.spo4j.spo.AlgorithmConfig.ChainSettings;
import io.github.spo4j.spo.AlgorithmConfig.Optimizer;
import io.github.spo4j.spo.AlgorithmConfig.Sampling;
import io.github.spo4j.spo.AlgorithmConfig.TreeSettings;
import io.github.spo4j.spo.advantage.VinePpoConfig;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * Every knob of a training run: the algorithm's settings ({@link AlgorithmConfig}, starting from its preset) and the
 * run's ({@link RunSettings}). Knobs have kebab-case names, the same as flags ({@code --set lr=3e-4}) and as keys
 * of a JSON config file ({@code {"algorithm": "spo-tree", "branching": "4-4-4", "lr": 3e-4}}); {@link #knobs()}
 * lists them with their current values.
 */
public record TrainConfig(AlgorithmConfig algorithm, RunSettings run) {

    public TrainConfig {
        if (algorithm == null) throw new IllegalArgumentException("algorithm must not be null");
        if (run == null) throw new IllegalArgumentException("run must not be null");
    }

    /** The preset of {@code algorithm} (SPO_SPEC's reference settings) and {@link RunSettings#defaults()}. */
    public static TrainConfig preset(Algorithm algorithm) {
        return new TrainConfig(AlgorithmConfig.of(algorithm), RunSettings.defaults());
    }

    /** The CLI name of an algorithm: "spo-chain", "spo-tree", "grpo", "grpo-mask", "vineppo", "rloo". */
    public static String nameOf(Algorithm a) {
        return a == Algorithm.VINEPPO
                ? "vineppo"
                : a.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** @throws IllegalArgumentException listing the names when {@code name} is none of them */
    public static Algorithm algorithmNamed(String name) {
        if (name == null) throw new IllegalArgumentException("algorithm must not be null");
        for (Algorithm a : Algorithm.values()) if (nameOf(a).equals(name.strip().toLowerCase(Locale.ROOT))) return a;
        List<String> names = new ArrayList<>();
        for (Algorithm a : Algorithm.values()) names.add(nameOf(a));
        throw new IllegalArgumentException("algorithm must be one of " + names + ", got \"" + name + "\"");
    }

    private record Knob(
            String name,
            String help,
            Predicate<Algorithm> appliesTo,
            Function<TrainConfig, String> get,
            BiFunction<TrainConfig, String, TrainConfig> set) {}

    private static final Predicate<Algorithm> ALL = a -> true;
    private static final List<Knob> KNOBS = List.of(
            // loss (SPO_SPEC §4)
            new Knob(
                    "clip-eps",
                    "PPO clip ε (both sides)",
                    ALL,
                    c -> f(c.loss().epsLow()),
                    (c, v) -> c.withLoss(c.loss().toBuilder().eps(parseFloat(v)).build())),
            new Knob(
                    "clip-eps-high",
                    "upper clip ε (clip-higher)",
                    ALL,
                    c -> f(c.loss().epsHigh()),
                    (c, v) -> c.withLoss(
                            c.loss().toBuilder().epsHigh(parseFloat(v)).build())),
            new Knob(
                    "mask-rho",
                    "probability mask: train tokens with p_old < ρ (1 = off)",
                    ALL,
                    c -> f(c.loss().rho()),
                    (c, v) -> c.withLoss(c.loss().toBuilder().rho(parseFloat(v)).build())),
            new Knob(
                    "kl-beta",
                    "β of the k3 KL penalty to the frozen reference",
                    ALL,
                    c -> f(c.loss().beta()),
                    (c, v) ->
                            c.withLoss(c.loss().toBuilder().beta(parseFloat(v)).build())),
            new Knob(
                    "whiten",
                    "whiten advantages per micro-batch",
                    ALL,
                    c -> Boolean.toString(c.loss().whiten()),
                    (c, v) -> c.withLoss(
                            c.loss().toBuilder().whiten(parseBoolean(v)).build())),
            new Knob(
                    "max-mean-ratio",
                    "skip a micro-batch whose mean ratio exceeds this (0 = never)",
                    ALL,
                    c -> f(c.loss().maxMeanRatio()),
                    (c, v) -> c.withLoss(
                            c.loss().toBuilder().maxMeanRatio(parseFloat(v)).build())),
            // sampling
            new Knob(
                    "temperature",
                    "sampling temperature T (also of π_old)",
                    ALL,
                    c -> f(c.sampling().temperature()),
                    (c, v) -> c.withSampling(new Sampling(
                            parseFloat(v),
                            c.sampling().topP(),
                            c.sampling().maxNewTokens(),
                            c.sampling().contextTokens()))),
            new Knob(
                    "top-p",
                    "nucleus sampling p",
                    ALL,
                    c -> f(c.sampling().topP()),
                    (c, v) -> c.withSampling(new Sampling(
                            c.sampling().temperature(),
                            parseFloat(v),
                            c.sampling().maxNewTokens(),
                            c.sampling().contextTokens()))),
            new Knob(
                    "max-new-tokens",
                    "response length limit",
                    ALL,
                    c -> i(c.sampling().maxNewTokens()),
                    (c, v) -> c.withSampling(new Sampling(
                            c.sampling().temperature(),
                            c.sampling().topP(),
                            parseInt(v),
                            c.sampling().contextTokens()))),
            // batching
            new Knob(
                    "questions",
                    "questions per iteration",
                    ALL,
                    c -> i(c.batching().questionsPerIteration()),
                    (c, v) -> c.withBatching(batching(c.batching(), 0, parseInt(v)))),
            new Knob(
                    "samples",
                    "responses per question",
                    a -> a != Algorithm.SPO_TREE,
                    c -> i(c.batching().samplesPerQuestion()),
                    (c, v) -> c.withBatching(batching(c.batching(), 1, parseInt(v)))),
            new Knob(
                    "episodes",
                    "training episodes per iteration (tree edges are resampled to this)",
                    a -> a == Algorithm.SPO_TREE,
                    c -> i(c.batching().episodesPerIteration()),
                    (c, v) -> c.withBatching(batching(c.batching(), 2, parseInt(v)))),
            new Knob(
                    "minibatch",
                    "episodes per optimizer step",
                    ALL,
                    c -> i(c.batching().miniBatchSize()),
                    (c, v) -> c.withBatching(batching(c.batching(), 3, parseInt(v)))),
            new Knob(
                    "epochs",
                    "passes over an iteration's episodes",
                    ALL,
                    c -> i(c.batching().epochsPerIteration()),
                    (c, v) -> c.withBatching(batching(c.batching(), 4, parseInt(v)))),
            // optimizer
            new Knob(
                    "lr",
                    "AdamW peak learning rate",
                    ALL,
                    c -> d(c.optimizer().learningRate()),
                    (c, v) -> c.withOptimizer(optimizer(c.optimizer(), 0, v))),
            new Knob(
                    "weight-decay",
                    "AdamW weight decay",
                    ALL,
                    c -> d(c.optimizer().weightDecay()),
                    (c, v) -> c.withOptimizer(optimizer(c.optimizer(), 1, v))),
            new Knob(
                    "grad-clip",
                    "gradient-norm clip",
                    ALL,
                    c -> d(c.optimizer().gradientClip()),
                    (c, v) -> c.withOptimizer(optimizer(c.optimizer(), 2, v))),
            new Knob(
                    "warmup",
                    "fraction of the schedule spent warming up linearly",
                    ALL,
                    c -> d(c.optimizer().warmupFraction()),
                    (c, v) -> c.withOptimizer(optimizer(c.optimizer(), 3, v))),
            new Knob(
                    "iterations",
                    "iterations (the run's end and schedule when there is no token budget)",
                    ALL,
                    c -> i(c.optimizer().iterations()),
                    (c, v) -> c.withOptimizer(optimizer(c.optimizer(), 4, v))),
            // SPO-chain (§1a, §2) and VinePPO (§8)
            new Knob(
                    "cutpoint-rho",
                    "cutpoints are tokens with p_old < ρ",
                    a -> a == Algorithm.SPO_CHAIN,
                    c -> d(c.chain().partition().rho()),
                    (c, v) -> c.withChain(new ChainSettings(
                            c.chain().partition().withRho(parseDouble(v)),
                            c.chain().advantages()))),
            new Knob(
                    "cutpoint-interval",
                    "K: a segment boundary every K-th cutpoint",
                    a -> a == Algorithm.SPO_CHAIN,
                    c -> i(c.chain().partition().cutpointInterval()),
                    (c, v) -> c.withChain(new ChainSettings(
                            c.chain().partition().withCutpointInterval(parseInt(v)),
                            c.chain().advantages()))),
            new Knob(
                    "max-segments",
                    "S: the most segments of one response; K grows to ceil(cutpoints / S) where needed (0: no cap, the paper's)",
                    a -> a == Algorithm.SPO_CHAIN,
                    c -> i(c.chain().partition().maxSegments()),
                    (c, v) -> c.withChain(new ChainSettings(
                            c.chain().partition().withMaxSegments(parseInt(v)),
                            c.chain().advantages()))),
            new Knob(
                    "rollouts",
                    "N: Monte-Carlo rollouts per state",
                    a -> a == Algorithm.SPO_CHAIN || a == Algorithm.VINEPPO,
                    c -> i(
                            c.chain() != null
                                    ? c.chain().advantages().rollouts()
                                    : c.vine().rollouts()),
                    (c, v) -> c.chain() != null
                            ? c.withChain(new ChainSettings(
                                    c.chain().partition(),
                                    c.chain().advantages().withRollouts(parseInt(v))))
                            : c.withVine(new VinePpoConfig(parseInt(v), c.vine().maxStepsEstimated()))),
            new Knob(
                    "tie-rollouts",
                    "M: rollouts added to both states of a segment whose values tie (0: none, the paper's)",
                    a -> a == Algorithm.SPO_CHAIN,
                    c -> i(c.chain().advantages().tieRollouts()),
                    (c, v) -> c.withChain(new ChainSettings(
                            c.chain().partition(), c.chain().advantages().withTieRollouts(parseInt(v))))),
            new Knob(
                    "max-steps-estimated",
                    "VinePPO: states estimated per response",
                    a -> a == Algorithm.VINEPPO,
                    c -> i(c.vine().maxStepsEstimated()),
                    (c, v) -> c.withVine(new VinePpoConfig(c.vine().rollouts(), parseInt(v)))),
            // SPO-tree (§1b, §3)
            new Knob(
                    "branching",
                    "children per node at each depth, e.g. 6-6-6",
                    a -> a == Algorithm.SPO_TREE,
                    c -> String.join(
                            "-",
                            c.tree().branching().stream().map(String::valueOf).toList()),
                    (c, v) -> c.withTree(tree(
                            c.tree(),
                            parseBranching(v),
                            c.tree().segmentTokens(),
                            c.tree().replayMaxAge(),
                            c.tree().replayPerQuestion()))),
            new Knob(
                    "segment-tokens",
                    "M: tokens per tree segment",
                    a -> a == Algorithm.SPO_TREE,
                    c -> i(c.tree().segmentTokens()),
                    (c, v) -> c.withTree(tree(
                            c.tree(),
                            c.tree().branching(),
                            parseInt(v),
                            c.tree().replayMaxAge(),
                            c.tree().replayPerQuestion()))),
            new Knob(
                    "branch-below",
                    "end a segment early before a step whose likeliest token is below this probability (0 = fixed M)",
                    a -> a == Algorithm.SPO_TREE,
                    c -> Double.toString(c.tree().branchBelow()),
                    (c, v) -> {
                        TreeSettings t = c.tree();
                        return c.withTree(new TreeSettings(
                                t.branching(),
                                t.segmentTokens(),
                                t.backup(),
                                t.truncatedLeaves(),
                                t.replayMaxAge(),
                                t.replayPerQuestion(),
                                parseDouble(v)));
                    }),
            new Knob(
                    "replay-max-age",
                    "iterations a tree edge stays in the replay buffer",
                    a -> a == Algorithm.SPO_TREE,
                    c -> i(c.tree().replayMaxAge()),
                    (c, v) -> c.withTree(tree(
                            c.tree(),
                            c.tree().branching(),
                            c.tree().segmentTokens(),
                            parseInt(v),
                            c.tree().replayPerQuestion()))),
            new Knob(
                    "replay-per-question",
                    "edges drawn per question and iteration",
                    a -> a == Algorithm.SPO_TREE,
                    c -> i(c.tree().replayPerQuestion()),
                    (c, v) -> c.withTree(tree(
                            c.tree(),
                            c.tree().branching(),
                            c.tree().segmentTokens(),
                            c.tree().replayMaxAge(),
                            parseInt(v)))));

    private static final List<Knob> RUN_KNOBS = List.of(
            new Knob("seed", "run seed", ALL, c -> Long.toString(c.run.seed()), (c, v) -> c.withRun(run(c.run, 0, v))),
            new Knob(
                    "budget",
                    "generated-token budget (0 = run the iterations)",
                    ALL,
                    c -> Long.toString(c.run.tokenBudget()),
                    (c, v) -> c.withRun(run(c.run, 1, v))),
            new Knob(
                    "eval-every",
                    "iterations between evaluations (0 = at the end only)",
                    ALL,
                    c -> i(c.run.evalEvery()),
                    (c, v) -> c.withRun(run(c.run, 2, v))),
            new Knob(
                    "eval-problems",
                    "test problems evaluated (0 = all)",
                    ALL,
                    c -> i(c.run.evalProblems()),
                    (c, v) -> c.withRun(run(c.run, 3, v))),
            new Knob(
                    "eval-samples",
                    "k of the sampled accuracy (0 = greedy only)",
                    ALL,
                    c -> i(c.run.evalSamples()),
                    (c, v) -> c.withRun(run(c.run, 4, v))),
            new Knob(
                    "eval-temperature",
                    "temperature of the sampled accuracy",
                    ALL,
                    c -> f(c.run.evalTemperature()),
                    (c, v) -> c.withRun(run(c.run, 5, v))),
            new Knob(
                    "micro-batch",
                    "sequences per forward/backward",
                    ALL,
                    c -> i(c.run.microBatchSize()),
                    (c, v) -> c.withRun(run(c.run, 6, v))),
            new Knob(
                    "checkpoint-every",
                    "iterations between checkpoints (0 = at the end only)",
                    ALL,
                    c -> i(c.run.checkpointEvery()),
                    (c, v) -> c.withRun(run(c.run, 7, v))),
            new Knob(
                    "max-streams",
                    "continuations decoded together",
                    ALL,
                    c -> i(c.run.maxStreams()),
                    (c, v) -> c.withRun(run(c.run, 8, v))),
            new Knob(
                    "kv-blocks",
                    "KV-cache pool size in blocks",
                    ALL,
                    c -> i(c.run.kvBlocks()),
                    (c, v) -> c.withRun(run(c.run, 9, v))),
            new Knob(
                    "kv-block-size",
                    "tokens per KV block",
                    ALL,
                    c -> i(c.run.kvBlockSize()),
                    (c, v) -> c.withRun(run(c.run, 10, v))),
            new Knob(
                    "packed-forward",
                    "compute shared prefixes once in the training and log-prob forwards (true/false)",
                    ALL,
                    c -> Boolean.toString(c.run.packedForward()),
                    (c, v) -> c.withRun(run(c.run, 11, v))),
            new Knob(
                    "precision",
                    "arithmetic of the training and log-prob forwards: fp32, or bf16 autocast (fp32 master weights)",
                    ALL,
                    c -> c.run.precision().toString(),
                    (c, v) -> c.withRun(run(c.run, 12, v))),
            new Knob(
                    "eval-every-tokens",
                    "generated tokens between evaluations, in place of eval-every (0 = eval-every); k and m suffixes",
                    ALL,
                    c -> Long.toString(c.run.evalEveryTokens()),
                    (c, v) -> c.withRun(run(c.run, 13, v))));

    /** The knobs that apply to this algorithm, in a fixed order, with their values ("algorithm" first). */
    public Map<String, String> knobs() {
        Map<String, String> out = new LinkedHashMap<>();
        out.put("algorithm", nameOf(algorithm.algorithm()));
        for (Knob k : KNOBS) if (k.appliesTo.test(algorithm.algorithm())) out.put(k.name, k.get.apply(this));
        for (Knob k : RUN_KNOBS) out.put(k.name, k.get.apply(this));
        return out;
    }

    /** Every knob's name and one-line help, for {@code --help}. */
    public static Map<String, String> knobHelp() {
        Map<String, String> out = new LinkedHashMap<>();
        out.put("algorithm", "spo-chain, spo-tree, grpo, grpo-mask, vineppo or rloo (selects the preset)");
        for (Knob k : KNOBS) out.put(k.name, k.help);
        for (Knob k : RUN_KNOBS) out.put(k.name, k.help);
        return out;
    }

    /**
     * This config with one knob set.
     *
     * @throws IllegalArgumentException naming the knob for an unknown name, a knob that does not apply to the
     *                                  algorithm, or a bad value
     */
    public TrainConfig with(String knob, String value) {
        if (knob == null) throw new IllegalArgumentException("knob must not be null");
        if (value == null) throw new IllegalArgumentException("value of " + knob + " must not be null");
        String name = knob.strip();
        if (name.equals("algorithm")) {
            Algorithm a = algorithmNamed(value);
            if (a != algorithm.algorithm()) {
                throw new IllegalArgumentException(
                        "algorithm is chosen first (it selects the preset); set it before " + "other knobs");
            }
            return this;
        }
        for (List<Knob> list : List.of(KNOBS, RUN_KNOBS)) {
            for (Knob k : list) {
                if (!k.name.equals(name)) continue;
                if (!k.appliesTo.test(algorithm.algorithm())) {
                    throw new IllegalArgumentException(
                            "knob " + name + " does not apply to " + nameOf(algorithm.algorithm()));
                }
                try {
                    return k.set.apply(this, value.strip());
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("knob " + name + " = \"" + value + "\": " + e.getMessage(), e);
                }
            }
        }
        throw new IllegalArgumentException(
                "unknown knob \"" + knob + "\"; the knobs are " + knobHelp().keySet());
    }

    /** Sets each knob in order, skipping those that do not apply when {@code skipInapplicable}. */
    public TrainConfig with(Map<String, String> values, boolean skipInapplicable) {
        TrainConfig c = this;
        for (Map.Entry<String, String> e : values.entrySet()) {
            if (skipInapplicable && !c.applies(e.getKey())) continue;
            c = c.with(e.getKey(), e.getValue());
        }
        return c;
    }

    /** Whether {@code knob} names a knob of this config's algorithm. */
    public boolean applies(String knob) {
        if ("algorithm".equals(knob)) return true;
        for (Knob k : KNOBS) if (k.name.equals(knob)) return k.appliesTo.test(algorithm.algorithm());
        for (Knob k : RUN_KNOBS) if (k.name.equals(knob)) return true;
        return false;
    }

    /** The knobs as one flat JSON object. */
    public JsonObject toJson() {
        JsonObject o = new JsonObject();
        knobs().forEach(o::addProperty);
        return o;
    }

    /**
     * A config from a flat JSON object of knobs: "algorithm" selects the preset (or {@code defaultAlgorithm} when
     * absent), then every other key is set in file order.
     *
     * @throws IllegalArgumentException naming the key at fault
     */
    public static TrainConfig fromJson(String json, Algorithm defaultAlgorithm) {
        JsonObject o;
        try {
            JsonElement e = JsonParser.parseString(json);
            if (!e.isJsonObject()) throw new IllegalArgumentException("a config must be a JSON object of knobs");
            o = e.getAsJsonObject();
        } catch (JsonParseException e) {
            throw new IllegalArgumentException("config is not valid JSON: " + JsonErrors.reason(e), e);
        }
        Map<String, String> values = new LinkedHashMap<>();
        for (Map.Entry<String, JsonElement> e : o.entrySet()) {
            JsonElement v = e.getValue();
            if (!v.isJsonPrimitive()) {
                throw new IllegalArgumentException("config key " + e.getKey() + " must be a string, number or boolean");
            }
            JsonPrimitive p = v.getAsJsonPrimitive();
            values.put(e.getKey(), p.getAsString());
        }
        String name = values.remove("algorithm");
        Algorithm a = name != null ? algorithmNamed(name) : defaultAlgorithm;
        if (a == null) throw new IllegalArgumentException("config names no \"algorithm\"");
        return preset(a).with(values, false);
    }

    public TrainConfig withRun(RunSettings r) {
        return new TrainConfig(algorithm, r);
    }

    public TrainConfig withAlgorithm(AlgorithmConfig a) {
        return new TrainConfig(a, run);
    }

    private PolicyLossConfig loss() {
        return algorithm.loss();
    }

    private Sampling sampling() {
        return algorithm.sampling();
    }

    private Batching batching() {
        return algorithm.batching();
    }

    private Optimizer optimizer() {
        return algorithm.optimizer();
    }

    private ChainSettings chain() {
        return algorithm.chain();
    }

    private TreeSettings tree() {
        return algorithm.tree();
    }

    private VinePpoConfig vine() {
        return algorithm.vine();
    }

    private TrainConfig withLoss(PolicyLossConfig l) {
        return withAlgorithm(algorithm.withLoss(l));
    }

    private TrainConfig withSampling(Sampling s) {
        return withAlgorithm(algorithm.withSampling(s));
    }

    private TrainConfig withBatching(Batching b) {
        return withAlgorithm(algorithm.withBatching(b));
    }

    private TrainConfig withOptimizer(Optimizer o) {
        return withAlgorithm(algorithm.withOptimizer(o));
    }

    private TrainConfig withChain(ChainSettings c) {
        return withAlgorithm(algorithm.withChain(c));
    }

    private TrainConfig withTree(TreeSettings t) {
        return withAlgorithm(algorithm.withTree(t));
    }

    private TrainConfig withVine(VinePpoConfig v) {
        return withAlgorithm(algorithm.withVine(v));
    }

    private static Batching batching(Batching b, int field, int v) {
        int[] x = {
            b.questionsPerIteration(),
            b.samplesPerQuestion(),
            b.episodesPerIteration(),
            b.miniBatchSize(),
            b.epochsPerIteration()
        };
        x[field] = v;
        return new Batching(x[0], x[1], x[2], x[3], x[4]);
    }

    private static Optimizer optimizer(Optimizer o, int field, String v) {
        double lr = o.learningRate(), wd = o.weightDecay(), clip = o.gradientClip(), warmup = o.warmupFraction();
        int iterations = o.iterations();
        switch (field) {
            case 0 -> lr = parseDouble(v);
            case 1 -> wd = parseDouble(v);
            case 2 -> clip = parseDouble(v);
            case 3 -> warmup = parseDouble(v);
            default -> iterations = parseInt(v);
        }
        return new Optimizer(lr, wd, clip, warmup, iterations);
    }

    private static TreeSettings tree(TreeSettings t, List<Integer> branching, int m, int age, int perQuestion) {
        return new TreeSettings(branching, m, t.backup(), t.truncatedLeaves(), age, perQuestion, t.branchBelow());
    }

    private static RunSettings run(RunSettings r, int field, String v) {
        long seed = r.seed(), budget = r.tokenBudget(), evalTokens = r.evalEveryTokens();
        int[] x = {
            r.evalEvery(),
            r.evalProblems(),
            r.evalSamples(),
            0,
            r.microBatchSize(),
            r.checkpointEvery(),
            r.maxStreams(),
            r.kvBlocks(),
            r.kvBlockSize()
        };
        float evalT = r.evalTemperature();
        boolean packed = r.packedForward();
        Precision precision = r.precision();
        switch (field) {
            case 0 -> seed = parseLong(v);
            case 1 -> budget = parseLong(v);
            case 5 -> evalT = parseFloat(v);
            case 11 -> packed = parseBoolean(v);
            case 12 -> precision = Precision.parse(v);
            case 13 -> evalTokens = parseLong(v);
            default -> x[field - 2] = parseInt(v);
        }
        return new RunSettings(
                seed, budget, x[0], x[1], x[2], evalT, x[4], x[5], x[6], x[7], x[8], packed, precision, evalTokens);
    }

    static List<Integer> parseBranching(String v) {
        String[] parts = v.strip().split("-");
        List<Integer> out = new ArrayList<>();
        for (String p : parts) out.add(parseInt(p));
        if (out.isEmpty()) throw new IllegalArgumentException("branching must be like 6-6-6, got " + v);
        return out;
    }

    private static int parseInt(String v) {
        try {
            return Integer.parseInt(v.strip().replace("_", ""));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not an integer: \"" + v + "\"");
        }
    }

    private static long parseLong(String v) {
        String s = v.strip().replace("_", "").toLowerCase(Locale.ROOT);
        long scale = 1;
        if (s.endsWith("k")) scale = 1_000;
        else if (s.endsWith("m")) scale = 1_000_000;
        if (scale != 1) s = s.substring(0, s.length() - 1);
        try {
            return Math.multiplyExact(Long.parseLong(s), scale);
        } catch (NumberFormatException | ArithmeticException e) {
            throw new IllegalArgumentException("not an integer: \"" + v + "\"");
        }
    }

    private static double parseDouble(String v) {
        try {
            double d = Double.parseDouble(v.strip());
            if (!Double.isFinite(d)) throw new NumberFormatException();
            return d;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a finite number: \"" + v + "\"");
        }
    }

    private static float parseFloat(String v) {
        return (float) parseDouble(v);
    }

    private static boolean parseBoolean(String v) {
        String s = v.strip().toLowerCase(Locale.ROOT);
        if (s.equals("true")) return true;
        if (s.equals("false")) return false;
        throw new IllegalArgumentException("not true or false: \"" + v + "\"");
    }

    private static String f(float v) {
        return Float.toString(v);
    }

    private static String d(double v) {
        return Double.toString(v);
    }

    private static String i(int v) {
        return Integer.toString(v);
    }

    @Override
    public String toString() {
        return knobs().toString();
    }

    static String describe(int[] a) {
        return Arrays.toString(a);
    }
}
