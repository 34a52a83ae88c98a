package io.github.spo4j.train;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import io.github.spo4j.model.Policy;
import io.github.spo4j.model.Tensors;
import io.github.spo4j.model.io.AtomicFiles;
import io.github.spo4j.model.io.JsonErrors;
import io.github.spo4j.tasks.Problem;
import io.github.spo4j.train.distributed.Collective;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

/**
 * One training run in a directory: the {@link Trainer}'s iterations with evaluations on the test set and checkpoints
 * between iterations. A checkpoint ({@value #CHECKPOINT}/) holds the weights, the AdamW state, the algorithm family's
 * state ({@code EpisodeSource.save}: SPO-tree's replay buffer), the counters, the evaluations so far, the config and a
 * fingerprint of the task and of the starting policy, and a manifest of every file's size and SHA-256. It is written
 * into a temporary directory and swapped in by renames, so a kill at any moment leaves the previous checkpoint or the
 * new one. {@link #resume} refuses a checkpoint whose files do not match the manifest (truncated, corrupt) or whose
 * config, task or base differ, with a message that says which, and touches nothing.
 *
 * <p>In a data-parallel run every rank makes its own {@code TrainingRun} on the same directory with the same task,
 * base and config, and refuses to start unless the others did (fingerprints of the config, task, base and code).
 * Rank 0 holds the directory and writes the checkpoints and logs; evaluations are shared out by problem and summed.
 * Every rank resumes from the directory's checkpoint, which must be visible to all of them (one machine, or a shared
 * file system); the ranks check that they read the same one. A checkpoint holds no trace of the world size, so a run
 * may resume with another.
 */
public final class TrainingRun implements AutoCloseable {
    public static final String CHECKPOINT = "checkpoint";
    private static final String STATE = "state.json";
    private static final String OPTIMIZER = "optimizer.pt";
    /** SHA-256 of {@value #STATE}, which holds the manifest of the other files and so cannot list itself. */
    private static final String STATE_SHA = "state.json.sha256";
    /** Per-iteration training statistics ({@link Trainer.IterationStats}), one JSON object a line. */
    public static final String ITERATIONS = "iterations.jsonl";

    private static final int FORMAT = 1;

    /** One evaluation of the policy on the test set. Iteration 0 is the starting policy. */
    public record Evaluation(
            int iteration,
            long generatedTokens,
            double wallSeconds,
            double greedyAccuracy,
            double sampledAccuracy,
            double trainReward,
            long episodes,
            long optimizerSteps) {}

    /** Receives a run's events; every method is optional. */
    public interface Listener {
        default void iteration(Trainer.IterationStats stats) {}

        default void evaluation(Evaluation evaluation) {}

        default void checkpoint(Path directory) {}
    }

    private final Path directory;
    private final RunLock lock;
    private final Trainer trainer;
    private final String baseFingerprint;
    private final List<Evaluation> evaluations = new ArrayList<>();
    private final List<Trainer.IterationStats> iterationStats = new ArrayList<>();
    private double wallBefore;
    private double lastReward = Double.NaN;

    private TrainingRun(Path directory, RunLock lock, Trainer trainer, String baseFingerprint) {
        this.directory = directory;
        this.lock = lock;
        this.trainer = trainer;
        this.baseFingerprint = baseFingerprint;
    }

    /**
     * A fresh run in {@code directory}.
     *
     * @throws IllegalArgumentException when the directory already holds a checkpoint (resume it, or choose another)
     */
    public static TrainingRun start(Path directory, TrainingTask task, Policy base, TrainConfig config)
            throws IOException {
        return start(directory, task, base, config, Collective.single());
    }

    /** {@link #start(Path, TrainingTask, Policy, TrainConfig)} as one rank of {@code world} (see the class doc). */
    public static TrainingRun start(
            Path directory, TrainingTask task, Policy base, TrainConfig config, Collective world) throws IOException {
        if (directory == null) throw new IllegalArgumentException("directory must not be null");
        if (world == null) throw new IllegalArgumentException("world must not be null");
        RunLock lock = world.rank() == 0 ? lock(directory, config) : null;
        try {
            if (world.rank() == 0
                    && (Files.exists(directory.resolve(CHECKPOINT))
                            || Files.exists(directory.resolve(CHECKPOINT + ".old")))) {
                throw new IllegalArgumentException(
                        directory + " already holds a checkpoint: resume it or use another directory");
            }
            String fp = fingerprint(base);
            requireSameRun(world, task, fp, config);
            return new TrainingRun(directory, lock, new Trainer(task, base, config, world), fp);
        } catch (RuntimeException e) {
            if (lock != null) lock.close();
            throw e;
        }
    }

    private static RunLock lock(Path directory, TrainConfig config) throws IOException {
        return RunLock.acquire(
                directory,
                "training run, " + TrainConfig.nameOf(config.algorithm().algorithm()));
    }

    /** Refuses to go on unless every rank of {@code world} runs the same config, task, base and code. */
    private static void requireSameRun(
            Collective world, TrainingTask task, String baseFingerprint, TrainConfig config) {
        if (world.worldSize() == 1) return;
        try {
            world.requireSame("code version", HexFormat.of().parseHex(CodeVersion.fingerprint()));
            world.requireSame(
                    "config", sha256().digest(config.toJson().toString().getBytes(StandardCharsets.UTF_8)));
            world.requireSame("task", HexFormat.of().parseHex(taskFingerprint(task)));
            world.requireSame("base model", HexFormat.of().parseHex(baseFingerprint));
        } catch (IllegalStateException e) {
            throw new IllegalArgumentException(e.getMessage(), e); // the ranks were given different inputs
        }
    }

    /** Whether {@code directory} holds a checkpoint to resume. */
    public static boolean hasCheckpoint(Path directory) {
        return Files.isDirectory(directory.resolve(CHECKPOINT))
                || Files.isDirectory(directory.resolve(CHECKPOINT + ".old"));
    }

    /**
     * Continues the run checkpointed in {@code directory}: the same task, starting policy and config must be given.
     *
     * @throws IOException              naming the file for a checkpoint that is missing, truncated or corrupt
     * @throws IllegalArgumentException naming what differs for a different config, task or base
     */
    public static TrainingRun resume(Path directory, TrainingTask task, Policy base, TrainConfig config)
            throws IOException {
        return resume(directory, task, base, config, Collective.single());
    }

    /** {@link #resume(Path, TrainingTask, Policy, TrainConfig)} as one rank of {@code world} (see the class doc). */
    public static TrainingRun resume(
            Path directory, TrainingTask task, Policy base, TrainConfig config, Collective world) throws IOException {
        if (directory == null) throw new IllegalArgumentException("directory must not be null");
        if (world == null) throw new IllegalArgumentException("world must not be null");
        if (!Files.isDirectory(directory)) throw new IOException("run directory " + directory + " does not exist");
        RunLock lock = world.rank() == 0 ? lock(directory, config) : null;
        try {
            return resume(directory, lock, task, base, config, world);
        } catch (IOException | RuntimeException e) {
            if (lock != null) lock.close();
            throw e;
        }
    }

    private static TrainingRun resume(
            Path directory, RunLock lock, TrainingTask task, Policy base, TrainConfig config, Collective world)
            throws IOException {
        requireSameRun(world, task, fingerprint(base), config);
        // Rank 0 clears what a killed run left; the others wait for that before they look.
        if (world.rank() == 0) deleteTree(directory.resolve(CHECKPOINT + ".tmp"));
        world.barrier();
        Path dir = directory.resolve(CHECKPOINT);
        if (!Files.isDirectory(dir)) dir = directory.resolve(CHECKPOINT + ".old"); // killed mid-swap
        if (!Files.isDirectory(dir)) throw new IOException("no checkpoint to resume in " + directory);
        JsonObject state = readState(dir);
        verifyManifest(dir, state);
        String fp = fingerprint(base);
        requireSame(state, "base", fp, "the starting policy differs from the one the run started from");
        requireSame(state, "task", taskFingerprint(task), "the task's data differ from the run's");
        JsonObject saved = state.getAsJsonObject("config").deepCopy();
        // Runs checkpointed before packed forwards existed ran unpacked; they resume exactly with packed-forward=false.
        if (!saved.has("packed-forward")) saved.addProperty("packed-forward", "false");
        // Runs checkpointed before the precision knob ran fp32.
        if (!saved.has("precision")) saved.addProperty("precision", "fp32");
        // SPO-tree runs checkpointed before the branch-below knob sampled fixed M-token segments.
        if (saved.has("branching") && !saved.has("branch-below")) saved.addProperty("branch-below", "0.0");
        JsonObject now = config.toJson();
        if (!saved.equals(now)) {
            List<String> diff = new ArrayList<>();
            for (String k : now.keySet()) {
                if (!Objects.equals(saved.get(k), now.get(k))) diff.add(k + ": " + saved.get(k) + " → " + now.get(k));
            }
            for (String k : saved.keySet()) if (!now.has(k)) diff.add(k + ": " + saved.get(k) + " → (none)");
            throw new IllegalArgumentException("the config differs from the checkpoint's in " + diff
                    + "; resume with the run's config (" + dir.resolve(STATE) + ")");
        }
        try {
            world.requireSame(
                    "checkpoint (every rank must see rank 0's run directory, e.g. on a shared file system)",
                    sha256().digest(Files.readAllBytes(dir.resolve(STATE))));
        } catch (IllegalStateException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
        Trainer trainer = new Trainer(task, base, config, world);
        TrainingRun run = new TrainingRun(directory, lock, trainer, fp);
        try {
            try (Policy saved2 = Policy.load(dir, base.device())) {
                trainer.policy().copyFrom(saved2);
            }
            trainer.optimizer().load(dir.resolve(OPTIMIZER));
            trainer.episodeSource().restore(dir);
            trainer.restoreCounters(
                    state.get("iteration").getAsInt(),
                    state.get("generatedTokens").getAsLong());
            run.wallBefore = state.get("wallSeconds").getAsDouble();
            for (JsonElement e : state.getAsJsonArray("evaluations")) {
                JsonObject o = e.getAsJsonObject();
                run.evaluations.add(new Evaluation(
                        o.get("iteration").getAsInt(),
                        o.get("generatedTokens").getAsLong(),
                        o.get("wallSeconds").getAsDouble(),
                        o.get("greedyAccuracy").getAsDouble(),
                        number(o, "sampledAccuracy"),
                        number(o, "trainReward"),
                        o.has("episodes") ? o.get("episodes").getAsLong() : -1,
                        o.has("optimizerSteps") ? o.get("optimizerSteps").getAsLong() : -1));
            }
            run.iterationStats.addAll(readIterations(dir.resolve(ITERATIONS)));
            // Checkpoints from before the counts were kept: the iterations log has them.
            for (int i = 0; i < run.evaluations.size(); i++) {
                Evaluation e = run.evaluations.get(i);
                if (e.episodes() < 0) run.evaluations.set(i, run.withCounts(e));
            }
        } catch (IOException | RuntimeException e) {
            trainer.close();
            if (e instanceof IOException io) throw io;
            throw new IOException("checkpoint " + dir + " cannot be restored: " + e.getMessage(), e);
        }
        return run;
    }

    public Trainer trainer() {
        return trainer;
    }

    public Path directory() {
        return directory;
    }

    /** The evaluations so far, oldest first. */
    public List<Evaluation> evaluations() {
        return List.copyOf(evaluations);
    }

    /** The statistics of every iteration so far, oldest first (also in {@value #ITERATIONS} of the run directory). */
    public List<Trainer.IterationStats> iterationStats() {
        return List.copyOf(iterationStats);
    }

    /** Wall-clock seconds spent in this run, over every session of it. */
    public double wallSeconds(long sessionStart) {
        return wallBefore + (System.nanoTime() - sessionStart) / 1e9;
    }

    /**
     * Runs until the trainer is finished, or {@code maxIterations} more iterations in this call (for tests and
     * staged runs): evaluates the starting policy first (fresh runs), then every {@code evalEvery} iterations (or
     * after each iteration that passes a multiple of {@code evalEveryTokens} generated tokens) and at the end;
     * checkpoints every {@code checkpointEvery} iterations and at the end.
     */
    public void run(Listener listener, int maxIterations) throws IOException {
        Listener l = listener == null ? new Listener() {} : listener;
        RunSettings s = trainer.config().run();
        long start = System.nanoTime();
        if (evaluations.isEmpty()) evaluate(l, start);
        for (int done = 0; done < maxIterations && !trainer.finished(); done++) {
            Trainer.IterationStats stats = trainer.step();
            lastReward = stats.meanReward();
            iterationStats.add(stats);
            l.iteration(stats);
            int it = trainer.iteration();
            boolean end = trainer.finished();
            if (end || evaluationDue(s, it)) {
                long evalStart = System.nanoTime();
                evaluate(l, start);
                double seconds = (System.nanoTime() - evalStart) / 1e9;
                amendLastSplit(split -> split.withFollowing(seconds, split.checkpoint()));
            }
            if (end || (s.checkpointEvery() > 0 && it % s.checkpointEvery() == 0)) {
                if (trainer.world().rank() == 0) checkpoint(start);
                l.checkpoint(directory.resolve(CHECKPOINT));
            }
        }
    }

    /** Whether the schedule asks for an evaluation after iteration {@code it}. */
    private boolean evaluationDue(RunSettings s, int it) {
        if (s.evalEveryTokens() > 0) {
            long every = s.evalEveryTokens();
            long last = evaluations.isEmpty()
                    ? 0
                    : evaluations.get(evaluations.size() - 1).generatedTokens();
            return trainer.generatedTokens() / every > last / every;
        }
        return s.evalEvery() > 0 && it % s.evalEvery() == 0;
    }

    /** {@link #run(Listener, int)} to the end. */
    public void run(Listener listener) throws IOException {
        run(listener, Integer.MAX_VALUE);
    }

    private void evaluate(Listener l, long start) {
        RunSettings s = trainer.config().run();
        List<Problem> test = trainer.task().test();
        if (s.evalProblems() > 0 && s.evalProblems() < test.size()) test = test.subList(0, s.evalProblems());
        Collective world = trainer.world();
        DataParallel.Range mine = DataParallel.share(test.size(), world.rank(), world.worldSize());
        Evaluator.Counts c = Evaluator.count(
                trainer.policy(),
                trainer.task(),
                mine.of(test),
                mine.from(),
                trainer.config().algorithm().sampling().maxNewTokens(),
                s.evalSamples(),
                s.evalTemperature(),
                s.seed(),
                s.maxStreams(),
                trainer.pool());
        if (world.worldSize() > 1) c = c.sum(world);
        Evaluator.Result r = c.result(test.size(), s.evalSamples());
        Evaluation e = withCounts(new Evaluation(
                trainer.iteration(),
                trainer.generatedTokens(),
                wallSeconds(start),
                r.greedyAccuracy(),
                r.sampledAccuracy(),
                trainer.iteration() == 0 ? Double.NaN : lastReward,
                -1,
                -1));
        evaluations.add(e);
        l.evaluation(e);
    }

    /** {@code e} with the episodes and optimizer steps of the iterations before it, from the iterations log. */
    private Evaluation withCounts(Evaluation e) {
        long episodes = 0, steps = 0;
        for (Trainer.IterationStats st : iterationStats) {
            if (st.iteration() >= e.iteration()) continue;
            episodes += st.episodes();
            steps += st.optimizerSteps();
        }
        return new Evaluation(
                e.iteration(),
                e.generatedTokens(),
                e.wallSeconds(),
                e.greedyAccuracy(),
                e.sampledAccuracy(),
                e.trainReward(),
                episodes,
                steps);
    }

    // ---- checkpoints ----------------------------------------------------------------------------------------------

    /**
     * Writes the checkpoint into {@value #CHECKPOINT}.tmp and swaps it in. Any failure (a full disk, an unwritable
     * file) is an {@link IOException} naming the file; the temporary is removed and the previous checkpoint stays.
     */
    private void checkpoint(long start) throws IOException {
        long checkpointStart = System.nanoTime();
        Path tmp = directory.resolve(CHECKPOINT + ".tmp");
        deleteTree(tmp);
        requireFreeSpace();
        try {
            writeCheckpoint(tmp, start, checkpointStart);
        } catch (IOException | RuntimeException e) {
            try {
                deleteTree(tmp);
            } catch (IOException cleanup) {
                e.addSuppressed(cleanup);
            }
            if (e instanceof IOException io) {
                throw new IOException(
                        "checkpoint of iteration " + trainer.iteration() + " not written (" + io.getMessage()
                                + "); the previous checkpoint in " + directory + " is intact",
                        io);
            }
            throw e;
        }
        Path current = directory.resolve(CHECKPOINT), old = directory.resolve(CHECKPOINT + ".old");
        deleteTree(old);
        if (Files.exists(current)) Files.move(current, old, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        Files.move(tmp, current, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        deleteTree(old);
        AtomicFiles.write(directory.resolve(ITERATIONS), iterationsJsonl());
    }

    /**
     * The new checkpoint is written beside the current one, so the file system needs about one more checkpoint: the
     * current one's size, or before the first, the weights and AdamW's two moments (3 × 4 bytes a parameter) and a
     * margin for the rest.
     */
    private void requireFreeSpace() throws IOException {
        Path current = directory.resolve(CHECKPOINT);
        long needed = Files.isDirectory(current)
                ? treeSize(current)
                : 12L * trainer.policy().parameterCount() + (64 << 10);
        long free = Files.getFileStore(directory).getUsableSpace();
        if (free < needed) {
            throw new IOException("no space for a checkpoint in " + directory + ": it needs about " + bytes(needed)
                    + " and " + bytes(free) + " are free; free some space and --resume");
        }
    }

    private static String bytes(long n) {
        return n < 1_000_000 ? String.format("%.1f kB", n / 1e3) : String.format("%.1f MB", n / 1e6);
    }

    private static long treeSize(Path p) throws IOException {
        try (Stream<Path> walk = Files.walk(p)) {
            long total = 0;
            for (Path x : walk.toList()) if (Files.isRegularFile(x)) total += Files.size(x);
            return total;
        }
    }

    private void writeCheckpoint(Path tmp, long start, long checkpointStart) throws IOException {
        Files.createDirectories(tmp);
        trainer.policy().save(tmp);
        Workspace.saveTokenizer(tmp, trainer.task().tokenizer());
        trainer.optimizer().save(tmp.resolve(OPTIMIZER));
        trainer.episodeSource().save(tmp);
        // The checkpoint's time as far as the log's own write, which follows: the weights, optimizer and buffer.
        double seconds = (System.nanoTime() - checkpointStart) / 1e9;
        amendLastSplit(split -> split.withFollowing(split.evaluation(), seconds));
        byte[] log = iterationsJsonl();
        AtomicFiles.write(tmp.resolve(ITERATIONS), log);
        JsonObject state = new JsonObject();
        state.addProperty("format", FORMAT);
        state.addProperty("iteration", trainer.iteration());
        state.addProperty("generatedTokens", trainer.generatedTokens());
        state.addProperty("wallSeconds", wallSeconds(start));
        state.add("config", trainer.config().toJson());
        state.addProperty("task", taskFingerprint(trainer.task()));
        state.addProperty("base", baseFingerprint);
        JsonArray evals = new JsonArray();
        Gson gson = new GsonBuilder().serializeSpecialFloatingPointValues().create();
        for (Evaluation e : evaluations) evals.add(gson.toJsonTree(e));
        state.add("evaluations", evals);
        JsonObject files = new JsonObject();
        try (Stream<Path> list = Files.list(tmp)) {
            for (Path f : list.sorted().toList()) {
                JsonObject info = new JsonObject();
                info.addProperty("bytes", Files.size(f));
                info.addProperty("sha256", sha256(f));
                files.add(f.getFileName().toString(), info);
            }
        }
        state.add("files", files);
        byte[] stateBytes = gson.toJson(state).getBytes(StandardCharsets.UTF_8);
        AtomicFiles.write(tmp.resolve(STATE), stateBytes);
        AtomicFiles.write(
                tmp.resolve(STATE_SHA),
                HexFormat.of().formatHex(sha256().digest(stateBytes)).getBytes(StandardCharsets.US_ASCII));
    }

    /** Adds to the last iteration's split what followed its step (logs from before splits existed have none). */
    private void amendLastSplit(UnaryOperator<Trainer.Split> amend) {
        if (iterationStats.isEmpty()) return;
        int last = iterationStats.size() - 1;
        Trainer.IterationStats stats = iterationStats.get(last);
        if (stats.split() != null) iterationStats.set(last, stats.withSplit(amend.apply(stats.split())));
    }

    private byte[] iterationsJsonl() {
        Gson gson = new GsonBuilder().serializeSpecialFloatingPointValues().create();
        StringBuilder sb = new StringBuilder();
        for (Trainer.IterationStats s : iterationStats)
            sb.append(gson.toJson(s)).append('\n');
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static List<Trainer.IterationStats> readIterations(Path file) throws IOException {
        List<Trainer.IterationStats> out = new ArrayList<>();
        if (!Files.isRegularFile(file)) return out; // a checkpoint from before the log existed
        Gson gson = new GsonBuilder().serializeSpecialFloatingPointValues().create();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (!line.isBlank()) out.add(gson.fromJson(line, Trainer.IterationStats.class));
        }
        return out;
    }

    private static JsonObject readState(Path dir) throws IOException {
        Path f = dir.resolve(STATE);
        if (!Files.isRegularFile(f)) throw new IOException("checkpoint " + dir + " has no " + STATE);
        byte[] bytes = Files.readAllBytes(f);
        Path sha = dir.resolve(STATE_SHA);
        if (Files.exists(sha)) { // checkpoints written before the checksum existed have none
            String expected = new String(Files.readAllBytes(sha), StandardCharsets.US_ASCII).strip();
            if (!HexFormat.of().formatHex(sha256().digest(bytes)).equals(expected)) {
                throw new IOException("checkpoint file " + f + " does not match its SHA-256 in " + sha + ": corrupt");
            }
        }
        try {
            JsonObject o = JsonParser.parseString(new String(bytes, StandardCharsets.UTF_8))
                    .getAsJsonObject();
            if (!o.has("format") || o.get("format").getAsInt() != FORMAT) {
                throw new IOException(f + " is not a format-" + FORMAT + " spo4j checkpoint");
            }
            for (String k : List.of(
                    "iteration", "generatedTokens", "wallSeconds", "config", "task", "base", "evaluations", "files")) {
                if (!o.has(k)) throw new IOException(f + " has no \"" + k + "\"");
            }
            return o;
        } catch (JsonParseException
                | IllegalStateException
                | UnsupportedOperationException
                | NumberFormatException
                | ClassCastException e) {
            throw new IOException(
                    f + " is not valid checkpoint JSON (truncated or corrupt): " + JsonErrors.reason(e), e);
        }
    }

    private static void verifyManifest(Path dir, JsonObject state) throws IOException {
        for (Map.Entry<String, JsonElement> e : state.getAsJsonObject("files").entrySet()) {
            Path f = dir.resolve(e.getKey());
            JsonObject info = e.getValue().getAsJsonObject();
            long expected = info.get("bytes").getAsLong();
            if (!Files.isRegularFile(f)) throw new IOException("checkpoint file " + f + " is missing");
            long actual = Files.size(f);
            if (actual != expected) {
                throw new IOException("checkpoint file " + f + " is " + actual + " bytes, the manifest says " + expected
                        + ": it is truncated or corrupt");
            }
            if (!sha256(f).equals(info.get("sha256").getAsString())) {
                throw new IOException("checkpoint file " + f + " does not match its SHA-256 in the manifest: corrupt");
            }
        }
    }

    private static void requireSame(JsonObject state, String key, String now, String message) {
        if (!state.get(key).getAsString().equals(now)) throw new IllegalArgumentException(message + " (" + key + ")");
    }

    private static double number(JsonObject o, String k) {
        JsonElement e = o.get(k);
        if (e == null || e.isJsonNull()) return Double.NaN;
        if (e.getAsJsonPrimitive().isString()) return Double.parseDouble(e.getAsString()); // "NaN"
        return e.getAsDouble();
    }

    /** SHA-256 over the starting policy's parameters (names, shapes and fp32 values). */
    static String fingerprint(Policy base) {
        MessageDigest md = sha256();
        base.namedParameters().forEach((name, t) -> {
            md.update(name.getBytes(StandardCharsets.UTF_8));
            float[] v = Tensors.toFloats(t);
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(v.length * 4);
            b.asFloatBuffer().put(v);
            md.update(b.array());
        });
        return HexFormat.of().formatHex(md.digest());
    }

    /** SHA-256 over the task's prompt template and train and test problems. */
    static String taskFingerprint(TrainingTask task) {
        MessageDigest md = sha256();
        md.update(task.promptTemplate().getBytes(StandardCharsets.UTF_8));
        for (List<Problem> list : List.of(task.train(), task.test())) {
            md.update((byte) 0);
            for (Problem p : list) {
                for (String s : List.of(p.question(), p.solution(), p.answer())) {
                    md.update(s.getBytes(StandardCharsets.UTF_8));
                    md.update((byte) 1);
                }
            }
        }
        md.update(String.valueOf(task.tokenizer().vocabSize()).getBytes(StandardCharsets.UTF_8));
        return HexFormat.of().formatHex(md.digest());
    }

    private static String sha256(Path f) throws IOException {
        MessageDigest md = sha256();
        byte[] buf = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(f)) {
            for (int n; (n = in.read(buf)) > 0; ) md.update(buf, 0, n);
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) return;
        try (Stream<Path> walk = Files.walk(p)) {
            for (Path x : walk.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(x);
        }
    }

    /** Ends the run: frees the trainer and releases the directory's {@link RunLock}. */
    @Override
    public void close() throws IOException {
        try {
            trainer.close();
        } finally {
            if (lock != null) lock.close();
        }
    }
}
