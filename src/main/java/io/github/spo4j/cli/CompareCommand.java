package io.github.spo4j.cli;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.spo4j.model.Policy;
import io.github.spo4j.model.io.AtomicFiles;
import io.github.spo4j.report.ComparePlots;
import io.github.spo4j.report.CompareReport;
import io.github.spo4j.report.EvalPoint;
import io.github.spo4j.report.MetricsFiles;
import io.github.spo4j.report.Progress;
import io.github.spo4j.report.Summary;
import io.github.spo4j.spo.Algorithm;
import io.github.spo4j.train.BaseCheck;
import io.github.spo4j.train.CreditAudit;
import io.github.spo4j.train.RunLock;
import io.github.spo4j.train.Sft;
import io.github.spo4j.train.TrainConfig;
import io.github.spo4j.train.Trainer;
import io.github.spo4j.train.TrainingTask;
import io.github.spo4j.train.Workspace;
import io.github.spo4j.train.distributed.Collective;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.IntFunction;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code spo4j compare}: the main job. One supervised base (cached in {@code OUT/base}), then every algorithm from
 * that base under the same budget of generated tokens, for each seed; a table on stdout, and metrics (JSONL, CSV), a
 * markdown report and plots in {@code OUT}.
 */
@Command(
        name = "compare",
        mixinStandardHelpOptions = true,
        description =
                "GRPO, GRPO with the probability mask, SPO-chain and SPO-tree (or any algorithms) from one SFT base,"
                        + " under the same budget of "
                        + "generated tokens, over several seeds: a table, metrics (JSONL, CSV), a markdown report and plots.")
public final class CompareCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    TaskOptions taskOptions;

    @Mixin
    DeviceOptions deviceOptions;

    @Mixin
    RankOptions rankOptions;

    @Option(
            names = "--algorithms",
            split = ",",
            defaultValue = "grpo,grpo-mask,spo-chain,spo-tree",
            description = "Algorithms to compare (default ${DEFAULT-VALUE}).")
    List<String> algorithms;

    @Option(
            names = "--seeds",
            defaultValue = "3",
            description = "Seeds 0..N-1 per algorithm (default ${DEFAULT-VALUE}).")
    int seeds;

    @Option(
            names = "--budget",
            defaultValue = "1m",
            description = "Generated tokens per run (responses, Monte-Carlo rollouts, tree segments); k and m suffixes "
                    + "(default ${DEFAULT-VALUE}).")
    String budget;

    @Option(
            names = "--out",
            defaultValue = "runs/compare",
            paramLabel = "DIR",
            description = "Output directory (default ${DEFAULT-VALUE}).")
    Path out;

    @Option(
            names = "--model",
            paramLabel = "DIR",
            description = "Hugging Face (or spo4j) model directory to start from instead of the built-in model; "
                    + "it is still SFT'd on the task unless --sft-steps 0.")
    Path model;

    @Option(
            names = "--sft-steps",
            defaultValue = "3000",
            description = "SFT steps of the base; with --sft-until, the most (default ${DEFAULT-VALUE}).")
    int sftSteps;

    @Option(
            names = "--sft-until",
            paramLabel = "ACC",
            defaultValue = "0.4",
            description = "Stop the base's SFT at the first check (every --sft-check-every steps) where greedy "
                    + "pass@1 on 128 training questions reaches ACC (0 to 1): a base just past the model's learning "
                    + "transition, where RL has errors to remove and samples to learn from; the learning-rate "
                    + "schedule still spans --sft-steps; 0 runs every step (default ${DEFAULT-VALUE}).")
    double sftUntil;

    @Option(
            names = "--sft-check-every",
            paramLabel = "STEPS",
            defaultValue = "" + Sft.Target.DEFAULT_CHECK_EVERY,
            description = "Steps between the --sft-until checks; fewer land the base closer to the target where "
                    + "the model learns in a sharp transition (default ${DEFAULT-VALUE}).")
    int sftCheckEvery;

    @Option(
            names = "--runs-at-once",
            paramLabel = "N",
            defaultValue = "0",
            description =
                    "Training runs side by side, each on its own thread; their results are the same as one at a "
                            + "time, bit for bit. 0 fits them to the cores: as many as the cores hold at the threads one run "
                            + "uses (2 on 2 cores for the built-in model, whose runs use one thread each; 1 for models large "
                            + "enough to use every core). A data-parallel compare runs one at a time (default ${DEFAULT-VALUE}).")
    int runsAtOnce;

    @Option(
            names = "--sft-seed",
            paramLabel = "SEED",
            defaultValue = "0",
            description = "Seed of the base's initialization and SFT batches: another seed gives another base, so that "
                    + "a result can be checked across bases as well as RL seeds (default ${DEFAULT-VALUE}).")
    long sftSeed;

    @Option(
            names = "--sft-lr",
            defaultValue = "3e-3",
            description = "SFT peak learning rate (default ${DEFAULT-VALUE}).")
    double sftLr;

    @Option(
            names = "--sft-slips",
            paramLabel = "RATE",
            description = "Chain task: SFT the base on worked solutions where each line's result slips, with "
                    + "probability RATE, to a neighbouring value and the chain carries on from it (spo4j sft --slips; "
                    + "0: the worked solutions; default 0.3 for the built-in chain task, 0 for every other task).")
    Double sftSlips;

    @Option(
            names = "--set",
            paramLabel = "KNOB=VALUE",
            description = "Sets a knob for every algorithm it applies to (after the compare defaults); repeatable. "
                    + "Prefix with an algorithm to target one: --set spo-tree.branching=4-4-4.")
    Map<String, String> set = new LinkedHashMap<>();

    @Option(
            names = "--credit-questions",
            defaultValue = "32",
            description = "Questions of the credit audit of the base (spo4j credit), reported with the results; "
                    + "0 skips it (default ${DEFAULT-VALUE}).")
    int creditQuestions;

    @Option(
            names = "--credit-rollouts",
            defaultValue = "64",
            description = "Rollouts per state of the credit audit's reference (even; default ${DEFAULT-VALUE}).")
    int creditRollouts;

    @Option(
            names = "--base-check-questions",
            defaultValue = "64",
            description = "Training questions on which the base is checked before any RL run (greedy pass@1, mean "
                    + "sampled accuracy and reward); 0 skips the check and its stops (default ${DEFAULT-VALUE}).")
    int baseCheckQuestions;

    @Option(
            names = "--min-base-accuracy",
            defaultValue = "0.02",
            description = "Stop before the RL runs when fewer of the base's samples on training questions are "
                    + "correct (RL would have next to no signal), or when the base's SFT missed --sft-until; 0 runs "
                    + "anyway (default ${DEFAULT-VALUE}).")
    double minBaseAccuracy;

    @Option(
            names = "--warm-up-tokens",
            defaultValue = "30k",
            description = "Untimed generated tokens of every algorithm from the base before the timed runs (at most "
                    + "--budget, at least one iteration), then discarded, so that the first run does not pay the "
                    + "process's warm-up on the wall-clock axis; k and m suffixes; 0 skips it (default "
                    + "${DEFAULT-VALUE}).")
    String warmUpTokens;

    @Option(names = "--resume", description = "Reuse finished runs and continue checkpointed ones in --out.")
    boolean resume;

    @Option(names = "--quiet", description = "No progress bars (plain progress lines only).")
    boolean quiet;

    /**
     * The compare defaults for a small policy on a CPU, applied over each algorithm's preset: the same questions per
     * iteration, batching and evaluation for all; SPO's own segment settings scaled to short answers; each compared
     * algorithm's learning rate chosen by one sweep (5e-5 to 4e-4, 2 seeds) on a validation split of the default
     * task and base recipe, never the test set (docs/compare/lr-sweep-chain12): 1e-4 did best for all four. Algorithms
     * the sweep did not cover keep 5e-5, the rate an earlier sweep chose for every algorithm on the arithmetic task
     * (docs/compare/lr-sweep). SPO-chain's segment settings (K 1 or 2, N 4 or 8, tie refinement M 4, one epoch) and
     * SPO-tree's shape (3-3-3, 2-2-2-2) were swept on the 8-decision task's split (docs/compare/lr-sweep-chain8):
     * K = 2, N = 4 with M = 4 and 2-2-2 did best; at 12 decisions longer tree segments and no refinement did no better.
     * SPO-tree draws as many questions per iteration as the others: with 4 trees per iteration it fell below its base.
     */
    static final Map<String, String> COMMON = new LinkedHashMap<>(Map.of());

    static final Map<String, Map<String, String>> PER_ALGORITHM = new LinkedHashMap<>();

    static {
        COMMON.put("lr", "5e-5");
        COMMON.put("warmup", "0.03");
        COMMON.put("iterations", "100000");
        COMMON.put("max-new-tokens", "64");
        COMMON.put("questions", "16");
        COMMON.put("samples", "8");
        COMMON.put("minibatch", "64");
        COMMON.put("micro-batch", "64");
        COMMON.put("checkpoint-every", "20");
        PER_ALGORITHM.put("grpo", Map.of("lr", "1e-4"));
        PER_ALGORITHM.put("grpo-mask", Map.of("lr", "1e-4"));
        PER_ALGORITHM.put(
                "spo-chain", Map.of("lr", "1e-4", "cutpoint-interval", "2", "rollouts", "4", "tie-rollouts", "4"));
        PER_ALGORITHM.put("vineppo", Map.of("rollouts", "4"));
        PER_ALGORITHM.put(
                "spo-tree",
                Map.of(
                        "lr",
                        "1e-4",
                        "branching",
                        "2-2-2",
                        "segment-tokens",
                        "10",
                        "questions",
                        "16",
                        "episodes",
                        "128"));
    }

    /**
     * Settings for bases SFT'd on slipped chains, chosen on a validation split of two such bases (12 decisions, slip
     * rate 0.3). SPO's segments first (docs/compare/chain/slips-curve/q30-d12-validation), by the largest mean of the
     * worse of the gaps to GRPO at equal wall time and at equal episodes: SPO-chain with one segment boundary per
     * response (its rollouts cost more than its finer credit bought at every finer setting), SPO-tree 4-4 with
     * 20-token segments. Then every algorithm's learning rate with those segments, by the best mean accuracy
     * (docs/compare/lr-sweep-q30-d12). Applied over {@link #PER_ALGORITHM} when the base is slipped.
     */
    static final Map<String, Map<String, String>> SLIPPED_CHAIN = Map.of(
            "grpo", Map.of("lr", "2e-4"),
            "grpo-mask", Map.of("lr", "2e-4"),
            "spo-chain", Map.of("lr", "1e-4", "max-segments", "1"),
            "spo-tree", Map.of("lr", "2e-4", "branching", "4-4", "segment-tokens", "20"));

    /** The slip rate in effect: {@code --sft-slips}, else the task's default. */
    double sftSlips() {
        return sftSlips != null ? sftSlips : taskOptions.defaultSlips();
    }

    @Override
    public Integer call() throws Exception {
        return Commands.run(spec.commandLine().getErr(), () -> {
            Progress.setEnabled(!quiet);
            if (seeds < 1) throw new IllegalArgumentException("--seeds must be >= 1, got " + seeds);
            if (runsAtOnce < 0) throw new IllegalArgumentException("--runs-at-once must be >= 0, got " + runsAtOnce);
            sftTarget(); // refused here, before anything is written
            taskOptions.sftTargets(sftSlips(), "--sft-slips");
            if (baseCheckQuestions < 0) {
                throw new IllegalArgumentException("--base-check-questions must be >= 0, got " + baseCheckQuestions);
            }
            if (!(minBaseAccuracy >= 0 && minBaseAccuracy <= 1)) {
                throw new IllegalArgumentException("--min-base-accuracy must be in [0, 1], got " + minBaseAccuracy);
            }
            if (creditQuestions < 0) {
                throw new IllegalArgumentException("--credit-questions must be >= 0, got " + creditQuestions);
            }
            if (creditQuestions > 0 && (creditRollouts < 2 || creditRollouts % 2 != 0)) {
                throw new IllegalArgumentException("--credit-rollouts must be even and >= 2, got " + creditRollouts);
            }
            List<TrainConfig> configs = new ArrayList<>();
            for (String name : algorithms) configs.add(configFor(TrainConfig.algorithmNamed(name)));
            long warmUp = warmUpBudget(configs.get(0));
            if (rankOptions.launchesLocalRanks()) return rankOptions.launch(spec);
            long start = System.nanoTime();
            TrainingTask task = taskOptions.task(model == null ? null : Workspace.loadTokenizer(model));
            configs = fitResponseLength(configs, task);
            try (Collective world = rankOptions.join();
                    RunLock lock = world.rank() == 0 ? RunLock.acquire(out, "spo4j compare") : null;
                    Prepared prepared = prepare(world, task, configs)) {
                if (prepared.base == null) return Commands.IO_ERROR; // rank 0 failed and says why
                boolean lead = world.rank() == 0;
                warmUp(task, prepared.base, configs, world, warmUp);
                List<TrainConfig> runs = new ArrayList<>();
                for (TrainConfig c : configs) {
                    for (int seed = 0; seed < seeds; seed++) runs.add(c.with("seed", Integer.toString(seed)));
                }
                int atOnce = world.worldSize() > 1
                        ? 1
                        : Math.min(
                                runs.size(), runsAtOnce > 0 ? runsAtOnce : Trainer.runsThatFitTheCores(prepared.base));
                if (atOnce > 1) {
                    spec.commandLine().getErr().println("compare: " + atOnce + " runs at once");
                }
                List<EvalPoint> points = runAll(runs, atOnce, task, prepared.base, world);
                if (lead) writeOutputs(points, configs, prepared.credit, (System.nanoTime() - start) / 1e9);
            }
            return 0;
        });
    }

    /**
     * Every run, {@code atOnce} at a time on threads of their own (each run's thread pools are set on its own thread,
     * and its numbers depend only on its config and the base), the metrics file rewritten after each one in the order
     * of {@code runs}, whatever order they finish in.
     */
    private List<EvalPoint> runAll(List<TrainConfig> runs, int atOnce, TrainingTask task, Policy base, Collective world)
            throws IOException {
        boolean lead = world.rank() == 0;
        List<List<EvalPoint>> finished = new ArrayList<>(Collections.nCopies(runs.size(), null));
        IntFunction<List<EvalPoint>> runOne = i -> {
            TrainConfig c = runs.get(i);
            String name = TrainConfig.nameOf(c.algorithm().algorithm());
            long seed = c.run().seed();
            Path dir = out.resolve("runs").resolve(name + "-seed" + seed);
            try {
                if (lead && !resume && Files.exists(dir)) deleteTree(dir);
                List<EvalPoint> points = Runs.run(name + " seed " + seed, task, base, c, dir, resume, world, p -> {});
                synchronized (finished) {
                    finished.set(i, points);
                    if (lead) {
                        List<EvalPoint> sofar = new ArrayList<>();
                        for (List<EvalPoint> f : finished) if (f != null) sofar.addAll(f);
                        MetricsFiles.writeJsonl(out.resolve("metrics.jsonl"), sofar);
                    }
                }
                return points;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        };
        if (atOnce == 1) {
            try {
                for (int i = 0; i < runs.size(); i++) runOne.apply(i);
            } catch (UncheckedIOException e) {
                throw e.getCause();
            }
        } else {
            boolean bars = Progress.isEnabled();
            Progress.setEnabled(false); // progress bars of runs side by side would draw over each other
            ExecutorService pool = Executors.newFixedThreadPool(atOnce, r -> {
                Thread t = new Thread(r, "spo4j compare run");
                t.setDaemon(true);
                return t;
            });
            try {
                List<Future<List<EvalPoint>>> futures = new ArrayList<>();
                for (int i = 0; i < runs.size(); i++) {
                    int run = i;
                    futures.add(pool.submit(() -> runOne.apply(run)));
                }
                for (var f : futures) f.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while the runs ran");
            } catch (ExecutionException e) {
                Throwable cause = e.getCause();
                if (cause instanceof UncheckedIOException u) throw u.getCause();
                if (cause instanceof RuntimeException r) throw r;
                if (cause instanceof Error err) throw err;
                throw new IllegalStateException(cause);
            } finally {
                pool.shutdownNow();
                Progress.setEnabled(bars);
            }
        }
        List<EvalPoint> points = new ArrayList<>();
        for (List<EvalPoint> f : finished) points.addAll(f);
        return points;
    }

    /**
     * {@code --warm-up-tokens} of every algorithm from the base, each a throwaway run under OUT/runs/.warm-up (deleted
     * after) with its own seed: nothing of them reaches the results, and the timed runs that follow are seeded as
     * before. Measured (GRPO and SPO-tree at the compare's settings, 300k tokens each, the order alternating): without
     * a warm-up the first run of the process took a median 10-27% longer than the same run second, a bias on the
     * wall-clock axis against whichever algorithm comes first; 2 iterations of each left most of it, 10 (about 30k
     * tokens) removed it within the runs' noise. The cost is a fixed one of the process, hence a token count, not a
     * share of the budget.
     */
    private void warmUp(TrainingTask task, Policy base, List<TrainConfig> configs, Collective world, long tokens)
            throws IOException {
        if (tokens == 0) return;
        boolean lead = world.rank() == 0;
        if (lead) {
            spec.commandLine()
                    .getErr()
                    .println("compare: warm-up, " + tokens + " untimed tokens of each algorithm (then discarded)");
        }
        Path root = out.resolve("runs").resolve(".warm-up");
        for (TrainConfig c : configs) {
            String name = TrainConfig.nameOf(c.algorithm().algorithm());
            TrainConfig warm = c.with("seed", Integer.toString(WARM_UP_SEED))
                    .with("budget", Long.toString(tokens))
                    .with("eval-every", "0")
                    .with("eval-every-tokens", "0");
            Path dir = root.resolve(name);
            if (lead && Files.exists(dir)) deleteTree(dir);
            Runs.run("warm-up " + name, task, base, warm, dir, false, world, p -> {});
        }
        world.barrier();
        if (lead) deleteTree(root);
    }

    /** The warm-up's tokens per algorithm: {@code --warm-up-tokens}, at most a run's token budget. */
    private long warmUpBudget(TrainConfig c) {
        long tokens;
        try {
            tokens = c.with("budget", warmUpTokens).run().tokenBudget();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(
                    "--warm-up-tokens must be a token count (k and m suffixes), got '" + warmUpTokens + "'", e);
        }
        long budget = c.run().tokenBudget();
        return budget > 0 ? Math.min(tokens, budget) : tokens;
    }

    /** A seed no timed run uses (they count from 0). */
    private static final int WARM_UP_SEED = 1_000_003;

    /**
     * The configs with a response limit that fits the task's worked solutions: at least 1.25 × the longest training
     * solution (with its end token), unless {@code --set max-new-tokens} chose the limit. A limit below the solutions'
     * length would score every right answer 0 (truncated) and mislead the whole compare.
     */
    List<TrainConfig> fitResponseLength(List<TrainConfig> configs, TrainingTask task) {
        if (set.keySet().stream().anyMatch(k -> k.equals("max-new-tokens") || k.endsWith(".max-new-tokens"))) {
            return configs;
        }
        int fit = task.fittingResponseLimit();
        List<TrainConfig> fitted = new ArrayList<>();
        for (TrainConfig c : configs) {
            boolean tooShort = c.algorithm().sampling().maxNewTokens() < fit;
            fitted.add(tooShort ? c.with("max-new-tokens", Integer.toString(fit)) : c);
        }
        return fitted;
    }

    /** The SFT base and the credit audit; a null base on every rank when rank 0 failed to prepare them. */
    private record Prepared(Policy base, CreditAudit.Result credit) implements AutoCloseable {
        @Override
        public void close() {
            if (base != null) base.close();
        }
    }

    /**
     * Rank 0 makes (or reuses) the SFT base, checks it and audits the credit, while the other ranks wait; then they
     * load the base rank 0 wrote into OUT/base (every rank must see OUT). A failure on rank 0 ends every rank: rank 0
     * reports it, the others exit quietly.
     */
    private Prepared prepare(Collective world, TrainingTask task, List<TrainConfig> configs) throws IOException {
        Policy base = null;
        CreditAudit.Result credit = null;
        Exception failure = null;
        if (world.rank() == 0) {
            try {
                base = base(task);
                if (baseCheckQuestions > 0) {
                    if (sftMissedItsTarget && minBaseAccuracy > 0) throw missedTarget();
                    checkBase(base, task, configs.get(0));
                }
                if (creditQuestions > 0) credit = audit(base, task, configs);
            } catch (IOException | RuntimeException e) {
                failure = e;
                if (base != null) base.close();
            }
        }
        boolean ready = world.broadcast(new byte[] {(byte) (failure == null ? 1 : 0)})[0] == 1;
        if (failure instanceof IOException io) throw io;
        if (failure != null) throw (RuntimeException) failure;
        if (!ready) return new Prepared(null, null);
        if (world.rank() != 0) base = Policy.load(out.resolve("base"), deviceOptions.resolve());
        return new Prepared(base, credit);
    }

    TrainConfig configFor(Algorithm a) {
        String name = TrainConfig.nameOf(a);
        TrainConfig c = TrainConfig.preset(a)
                .with(COMMON, true)
                .with(PER_ALGORITHM.getOrDefault(name, Map.of()), true)
                .with(sftSlips() > 0 ? SLIPPED_CHAIN.getOrDefault(name, Map.of()) : Map.of(), true)
                .with("budget", budget);
        for (Map.Entry<String, String> e : set.entrySet()) {
            String key = e.getKey();
            int dot = key.indexOf('.');
            if (dot > 0) {
                if (key.substring(0, dot).equals(name)) c = c.with(key.substring(dot + 1), e.getValue());
                else TrainConfig.algorithmNamed(key.substring(0, dot)); // a typo in the prefix is an error
            } else if (c.applies(key)) {
                c = c.with(key, e.getValue());
            } else if (!TrainConfig.knobHelp().containsKey(key)) {
                c.with(key, e.getValue()); // unknown knob: the error names the knobs
            }
        }
        boolean scheduled = set.keySet().stream()
                .anyMatch(k -> k.equals("eval-every")
                        || k.equals("eval-every-tokens")
                        || k.equals(name + ".eval-every")
                        || k.equals(name + ".eval-every-tokens"));
        long tokens = c.run().tokenBudget();
        if (!scheduled && tokens > 0) {
            c = c.with("eval-every-tokens", Long.toString(Math.max(1, tokens / EVALUATIONS_PER_RUN)));
        }
        return c;
    }

    /**
     * Evaluations of a run under a token budget, at equal shares of it: every algorithm evaluates as often per
     * generated token (evaluating every few iterations made the algorithms with smaller iterations evaluate more
     * often, and pay for it on the wall-clock axis: SPO-tree 1.3 times as often as GRPO at the defaults).
     */
    static final int EVALUATIONS_PER_RUN = 16;

    /** What the base's SFT did, for the report. */
    private String sftDone = "no SFT (--sft-steps 0)";

    /** Whether the base's SFT ran all its steps without reaching {@code --sft-until}. */
    private boolean sftMissedItsTarget;

    /**
     * A base whose SFT missed its target is below the band it was made for. Measured on the chain task, no algorithm
     * learned from such bases (three, 11-24% greedy, most questions mixed) at the default budget, while each of the
     * seven that reached the target improved (GRPO by 3 to 37 points); so the compare stops rather than spend its
     * runs there.
     */
    private IllegalArgumentException missedTarget() {
        return new IllegalArgumentException("the SFT base missed --sft-until " + sftUntil + ": " + sftDone
                + "; it is kept in " + out.resolve("base") + ". On the chain task no algorithm learned from such bases"
                + " in the measured compares. Try another --sft-seed (now " + sftSeed + ") or more --sft-steps (now "
                + sftSteps
                + "); or pass --min-base-accuracy 0 to run from this base anyway");
    }

    private Sft.Target sftTarget() {
        return SftCommand.target(sftUntil, "--sft-until", sftCheckEvery, "--sft-check-every");
    }

    /** The SFT base: reused from OUT/base when it was made from the same task and SFT settings. */
    private Policy base(TrainingTask task) throws IOException {
        Path dir = out.resolve("base");
        JsonObject key = new JsonObject();
        key.addProperty("task", taskOptions.describe());
        key.addProperty(
                "model",
                model == null
                        ? "built-in " + taskOptions.hidden + "x" + taskOptions.layers
                        : model.toAbsolutePath().toString());
        key.addProperty("sftSteps", sftSteps);
        key.addProperty("sftLr", sftLr);
        // only when not 0, so that bases made before the option existed are still reused
        if (sftSeed != 0) key.addProperty("sftSeed", sftSeed);
        if (sftSlips() != 0) key.addProperty("sftSlips", sftSlips());
        if (sftUntil != 0) {
            key.addProperty("sftUntil", sftUntil);
            key.addProperty("sftCheckEvery", sftCheckEvery);
        }
        Path keyFile = dir.resolve("spo4j-sft.json");
        try (RunLock lock = RunLock.acquire(dir, "spo4j compare, SFT base")) {
            return base(task, dir, key, keyFile);
        }
    }

    private Policy base(TrainingTask task, Path dir, JsonObject key, Path keyFile) throws IOException {
        if (Files.isRegularFile(keyFile) && Files.isRegularFile(dir.resolve("model.safetensors"))) {
            try {
                if (JsonParser.parseString(Files.readString(keyFile)).equals(key)) {
                    spec.commandLine().getErr().println("compare: reusing the SFT base in " + dir);
                    Path outcome = dir.resolve(SftCommand.OUTCOME);
                    if (Files.isRegularFile(outcome)) {
                        JsonObject recorded = JsonParser.parseString(Files.readString(outcome))
                                .getAsJsonObject();
                        sftDone = recorded.get("summary").getAsString();
                        sftMissedItsTarget = recorded.has("reached")
                                && !recorded.get("reached").getAsBoolean();
                    }
                    return Policy.load(dir, deviceOptions.resolve());
                }
            } catch (RuntimeException e) {
                // an unreadable key: make the base again
            }
        }
        Policy policy = model == null
                ? taskOptions.randomPolicy(task, sftSeed, deviceOptions.resolve())
                : Policy.load(model, deviceOptions.resolve());
        try {
            JsonObject outcome = new JsonObject();
            if (sftSteps > 0) {
                Sft.Result sft = SftCommand.train(
                        policy,
                        task,
                        new Sft.Config(sftSteps, 32, sftLr, 0.05, sftSeed),
                        sftTarget(),
                        taskOptions.sftTargets(sftSlips(), "--sft-slips"));
                outcome = SftCommand.outcome(sft, sftTarget());
                sftDone = outcome.get("summary").getAsString();
                sftMissedItsTarget = sftTarget() != null && !sft.reached();
                spec.commandLine().getErr().println("compare: SFT base, " + sftDone);
            } else {
                outcome.addProperty("steps", 0);
                outcome.addProperty("summary", sftDone);
            }
            Workspace.saveModel(dir, policy, task.tokenizer());
            AtomicFiles.write(
                    dir.resolve(SftCommand.OUTCOME), outcome.toString().getBytes(StandardCharsets.UTF_8));
            AtomicFiles.write(keyFile, key.toString().getBytes(StandardCharsets.UTF_8));
            return policy;
        } catch (IOException | RuntimeException e) {
            policy.close();
            throw e;
        }
    }

    /**
     * Checks the base on training questions as the first algorithm samples them, writes {@code base-check.json}, and
     * refuses to run RL from a base whose samples are almost never correct, saying what would make it stronger.
     */
    private void checkBase(Policy base, TrainingTask task, TrainConfig first) throws IOException {
        BaseCheck.Result r = BaseCheck.run(
                base,
                task,
                first.algorithm().sampling(),
                baseCheckQuestions,
                8,
                0,
                first.run().kvBlockSize(),
                first.run().kvBlocks());
        spec.commandLine().getErr().println("compare: base " + r.describe());
        JsonObject json = new JsonObject();
        json.addProperty("questions", r.questions());
        json.addProperty("samples", r.samples());
        json.addProperty("greedyAccuracy", r.greedyAccuracy());
        json.addProperty("sampledAccuracy", r.sampledAccuracy());
        json.addProperty("meanReward", r.meanReward());
        json.addProperty("informativeShare", r.informativeShare());
        json.addProperty("minBaseAccuracy", minBaseAccuracy);
        Files.createDirectories(out);
        AtomicFiles.write(out.resolve("base-check.json"), json.toString().getBytes(StandardCharsets.UTF_8));
        if (r.sampledAccuracy() >= minBaseAccuracy) return;
        String stronger = model == null
                ? "more SFT (--sft-steps, now " + sftSteps + "), a wider or deeper built-in model (--hidden "
                        + taskOptions.hidden + " and --layers " + taskOptions.layers + " now), or a Hugging Face"
                        + " model (--model DIR)"
                : "more SFT (--sft-steps, now " + sftSteps + ") or a larger model than " + model;
        throw new IllegalArgumentException("the base is too weak for RL to learn from: " + r.describe()
                + "; below --min-base-accuracy " + minBaseAccuracy + ", few questions have a correct sample to"
                + " learn from. Make the base stronger: " + stronger + "; or pass --min-base-accuracy 0 to run"
                + " anyway");
    }

    /**
     * The credit audit of the base: GRPO's and the compared SPO-chain's advantages (unrefined and tie-refined), and
     * finer chains, against the many-rollout reference.
     */
    /**
     * The fewest audit questions with which the audit also measures the gradient noise: the built-in bases' noise
     * scales measured 260-550 questions, and with many fewer questions than that the pairs of questions cannot tell
     * the expected gradient from the noise.
     */
    static final int MIN_GRADIENT_NOISE_QUESTIONS = 256;

    private CreditAudit.Result audit(Policy base, TrainingTask task, List<TrainConfig> configs) throws IOException {
        TrainConfig chain = configFor(Algorithm.SPO_CHAIN);
        for (TrainConfig c : configs) if (c.algorithm().algorithm() == Algorithm.SPO_CHAIN) chain = c;
        String compared = "spo-chain:" + chain.knobs().get("cutpoint-interval") + ":"
                + chain.knobs().get("rollouts");
        String tie = chain.knobs().get("tie-rollouts");
        String segments = chain.knobs().get("max-segments");
        // The compared SPO-chain (with its cap on segments, if any), the same uncapped without and with tie refinement
        // (M = 4 unless it is refined already).
        Set<String> names = new LinkedHashSet<>(List.of(
                "grpo",
                segments.equals("0")
                        ? (tie.equals("0") ? compared : compared + ":" + tie)
                        : compared + ":" + tie + ":" + segments,
                tie.equals("0") ? compared : compared + ":" + tie,
                compared,
                compared + ":" + (tie.equals("0") ? "4" : tie),
                "spo-chain:1:4",
                "spo-chain:1:8",
                "vineppo:4"));
        List<CreditAudit.Estimator> estimators = new ArrayList<>();
        for (String n : names) estimators.add(CreditAudit.Estimator.parse(n));
        CreditAudit.Config d = CreditAudit.Config.defaults();
        var sampling = chain.algorithm().sampling();
        int questions = Math.min(creditQuestions, task.train().size());
        CreditAudit.Config config = new CreditAudit.Config(
                questions,
                d.samples(),
                creditRollouts,
                sampling.temperature(),
                sampling.topP(),
                sampling.maxNewTokens(),
                d.rho(),
                0,
                d.maxStreams(),
                d.kvBlockSize(),
                d.kvBlocks(),
                questions >= MIN_GRADIENT_NOISE_QUESTIONS
                        && CreditAudit.gradientNoiseMeasurable(base.parameterCount(), estimators.size(), questions));
        spec.commandLine()
                .getErr()
                .println("compare: credit audit of the base (" + config.questions() + " questions × " + config.samples()
                        + " responses, " + config.referenceRollouts() + " reference rollouts per state)");
        CreditAudit.Result r = CreditAudit.run(base, task, config, estimators);
        AtomicFiles.write(
                out.resolve("credit.json"),
                new GsonBuilder()
                        .setPrettyPrinting()
                        .serializeSpecialFloatingPointValues()
                        .create()
                        .toJson(r)
                        .getBytes(StandardCharsets.UTF_8));
        return r;
    }

    /** The token budget every run shares, or 0 where {@code --set} gave an algorithm its own or an iteration count. */
    static long sharedTokenBudget(List<TrainConfig> configs) {
        long first = configs.get(0).run().tokenBudget();
        return configs.stream().allMatch(c -> c.run().tokenBudget() == first) ? first : 0;
    }

    /** Each algorithm's own budget: {@code "grpo 1m generated tokens, spo-chain 99 iterations"}. */
    static String budgets(List<TrainConfig> configs) {
        return configs.stream()
                .map(c -> TrainConfig.nameOf(c.algorithm().algorithm()) + " "
                        + (c.run().tokenBudget() > 0
                                ? tokenCount(c.run().tokenBudget()) + " generated tokens"
                                : c.algorithm().optimizer().iterations() + " iterations"))
                .collect(Collectors.joining(", "));
    }

    /** A token count as {@code --budget} writes it: {@code 1m}, {@code 300k}, else the digits. */
    static String tokenCount(long tokens) {
        if (tokens % 1_000_000 == 0) return tokens / 1_000_000 + "m";
        if (tokens % 1_000 == 0) return tokens / 1_000 + "k";
        return Long.toString(tokens);
    }

    private void writeOutputs(
            List<EvalPoint> points, List<TrainConfig> configs, CreditAudit.Result credit, double seconds)
            throws IOException {
        MetricsFiles.writeJsonl(out.resolve("metrics.jsonl"), points);
        MetricsFiles.writeCsv(out.resolve("metrics.csv"), points);
        long sharedBudget = sharedTokenBudget(configs);
        String title = "spo4j compare: " + String.join(" vs ", algorithms) + " (" + seeds + " seeds, "
                + (sharedBudget > 0 ? tokenCount(sharedBudget) + " tokens each" : budgets(configs)) + ")";
        ComparePlots.accuracyVsTokens(out.resolve("accuracy_vs_tokens.png"), points, title);
        ComparePlots.accuracyVsTime(out.resolve("accuracy_vs_time.png"), points, title);
        ComparePlots.accuracyVsIterations(out.resolve("accuracy_vs_iterations.png"), points, title);
        // Runs resumed from an older spo4j's metrics may lack episode counts.
        boolean episodes = points.stream().anyMatch(p -> p.episodes() != EvalPoint.UNRECORDED);
        if (episodes) ComparePlots.accuracyVsEpisodes(out.resolve("accuracy_vs_episodes.png"), points, title);
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("task", taskOptions.describe());
        settings.put(
                "model",
                model == null
                        ? "built-in Llama, hidden " + taskOptions.hidden + ", " + taskOptions.layers + " layers"
                        : model.toString());
        settings.put(
                "SFT",
                (sftUntil == 0
                                ? sftSteps + " steps"
                                : String.format(
                                        "until greedy pass@1 %.0f%% on 128 training questions (checked every %d "
                                                + "steps), at most %d steps",
                                        100 * sftUntil, sftCheckEvery, sftSteps))
                        + ", lr " + sftLr + (sftSeed == 0 ? "" : ", seed " + sftSeed)
                        + (sftSlips() == 0 ? "" : ", slips " + sftSlips() + " per line") + "; took " + sftDone);
        settings.put(
                "budget",
                sharedBudget > 0
                        ? tokenCount(sharedBudget) + " generated tokens per run"
                        : budgets(configs) + " per run");
        for (TrainConfig c : configs)
            settings.put(
                    TrainConfig.nameOf(c.algorithm().algorithm()), c.knobs().toString());
        settings.put("total wall time", String.format("%.0f s", seconds));
        List<String> axisTables = Summary.axisSections(points, sharedBudget);
        List<String> sections = new ArrayList<>(axisTables);
        if (credit != null) sections.add(CreditCommand.markdown(credit));
        CompareReport.writeMarkdown(
                out.resolve("report.md"),
                title,
                commandLine(),
                settings,
                points,
                episodes
                        ? List.of(
                                "accuracy_vs_tokens.png",
                                "accuracy_vs_time.png",
                                "accuracy_vs_episodes.png",
                                "accuracy_vs_iterations.png")
                        : List.of("accuracy_vs_tokens.png", "accuracy_vs_time.png", "accuracy_vs_iterations.png"),
                sections);
        var pw = spec.commandLine().getOut();
        pw.println(Summary.table(Summary.finalResults(points)));
        for (String table : axisTables) pw.println(table);
        if (credit != null) {
            pw.println();
            pw.println("credit assignment on the base (spo4j credit):");
            CreditCommand.print(pw, credit);
            pw.println();
        }
        pw.printf(
                "wrote %s (report.md, metrics.jsonl, metrics.csv, accuracy_vs_*.png%s%s) " + "in %.0f s%n",
                out, baseCheckQuestions > 0 ? ", base-check.json" : "", credit == null ? "" : ", credit.json", seconds);
        pw.flush();
    }

    private String commandLine() {
        // The parse result's original arguments are the whole command line: "compare" and its options when run
        // under spo4j, the options alone when this command is the top one.
        List<String> original = spec.commandLine().getParseResult().originalArgs();
        List<String> args = new ArrayList<>(List.of("spo4j"));
        if (!original.contains(spec.name())) args.add(spec.name());
        args.addAll(original);
        return String.join(" ", args);
    }

    private static void deleteTree(Path p) throws IOException {
        try (var walk = Files.walk(p)) {
            for (Path x : walk.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(x);
        }
    }
}
