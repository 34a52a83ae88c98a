package io.github.spo4j.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.github.spo4j.cli.Spo4jCli;
import io.github.spo4j.model.Policy;
import io.github.spo4j.model.io.AtomicFiles;
import io.github.spo4j.model.io.SafeTensors;
import io.github.spo4j.model.tokenizer.BpeTokenizer;
import io.github.spo4j.model.tokenizer.BpeTokenizerTest;
import io.github.spo4j.tasks.TaskFiles;
import io.github.spo4j.train.RunLock;
import io.github.spo4j.train.Workspace;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import picocli.CommandLine;

/**
 * Fault injection over every command ({@code sft}, {@code train}, {@code eval}, {@code compare}, {@code credit}) and
 * the library entries users embed ({@link Policy#load}, {@link SafeTensors}, {@link BpeTokenizer}, {@link TaskFiles},
 * checkpoint resume): malformed, truncated, byte-flipped, missing and misplaced files of every format spo4j reads; a
 * full file system through {@link AtomicFiles#injectFault} and on a real small tmpfs (where this machine can mount
 * one); runs killed with SIGKILL at random moments and resumed; two processes on one directory.
 *
 * <p>Every case asserts: no crash (no stack trace, no unexpected exception type, no JVM error file, no signal exit),
 * a clear one-line message and a non-zero exit on failure, every input file byte-identical afterwards, no temporary
 * left, and {@code --resume} working where a checkpoint exists. The totals are printed at the end.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FaultInjectionTest {
    private static final String[] TINY_TASK = {"--train-size", "16", "--test-size", "3"};
    private static final String[] TINY_MODEL = {"--hidden", "16", "--layers", "1"};
    private static final String[] TINY_RUN = {
        "--set", "questions=2", "--set", "samples=2", "--set", "max-new-tokens=6", "--set", "minibatch=4",
        "--set", "micro-batch=4", "--set", "eval-problems=2", "--set", "iterations=2", "--set", "checkpoint-every=1",
        "--quiet"
    };
    private static final String[] TINY_TREE = {
        "--set", "questions=1", "--set", "branching=2-2", "--set", "segment-tokens=3", "--set", "max-new-tokens=8",
        "--set", "episodes=4", "--set", "minibatch=4", "--set", "micro-batch=4", "--set", "eval-problems=2",
        "--set", "iterations=2", "--set", "checkpoint-every=1", "--quiet"
    };

    private final AtomicInteger cases = new AtomicInteger();
    private final AtomicInteger crashes = new AtomicInteger();
    private final AtomicInteger dataLost = new AtomicInteger();
    private final Map<String, Integer> byGroup = new TreeMap<>();
    private String tmpfsNote = "not tried";

    private Path root, model, bpe, data, trainJsonl, testJsonl, run, treeRun, config;

    @BeforeAll
    void fixtures() throws Exception {
        root = Files.createTempDirectory("spo4j-faults");
        model = root.resolve("model");
        ok(cli(concat(
                List.of("sft", "--out", model.toString(), "--steps", "3", "--quiet"),
                List.of(TINY_TASK),
                List.of(TINY_MODEL))));
        bpe = Files.createDirectories(root.resolve("bpe"));
        Files.writeString(
                bpe.resolve("tokenizer.json"), BpeTokenizerTest.gpt2Json().toString());
        data = Files.createDirectories(root.resolve("data"));
        trainJsonl = data.resolve("train.jsonl");
        testJsonl = data.resolve("test.jsonl");
        StringBuilder tr = new StringBuilder(), te = new StringBuilder();
        for (int i = 0; i < 6; i++) {
            tr.append(String.format(
                    "{\"question\": \"What is %d + %d?\", \"answer\": \"%d + %d = %d\\n#### %d\"}%n",
                    i, i + 1, i, i + 1, 2 * i + 1, 2 * i + 1));
            te.append(String.format(
                    "{\"question\": \"What is %d + 2?\", \"answer\": \"%d + 2 = %d\\n#### %d\"}%n",
                    i, i, i + 2, i + 2));
        }
        Files.writeString(trainJsonl, tr);
        Files.writeString(testJsonl, te);
        run = root.resolve("run");
        ok(cli(trainArgs(run, "grpo", false)));
        treeRun = root.resolve("tree-run");
        ok(cli(treeArgs(treeRun, false)));
        assertTrue(Files.isRegularFile(treeRun.resolve("checkpoint/replay.bin")));
        config = data.resolve("config.json");
        Files.writeString(config, "{\"algorithm\": \"rloo\", \"lr\": 1e-4, \"samples\": 4, \"branching\": \"2-2\"}");
    }

    @AfterAll
    void totals() throws IOException {
        AtomicFiles.injectFault(null);
        System.out.printf(
                "fault injection: %d cases tried %s, crashes %d, data lost %d; real tmpfs: %s%n",
                cases.get(), byGroup, crashes.get(), dataLost.get(), tmpfsNote);
        deleteTree(root);
    }

    @Test
    @Order(0)
    void runFilesAreWrittenPrivate() throws IOException {
        for (Path f : list(run.resolve("checkpoint"))) {
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(f)), f.toString());
        }
    }

    // ---- corrupt inputs ---------------------------------------------------------------------------------------------

    /** What a mutated copy of a file is fed to. */
    @FunctionalInterface
    interface Probe {
        /** Runs the consumer on {@code dir}, the copy holding the mutated file; throws what the user would see. */
        void run(Path dir, Path file) throws Exception;
    }

    @TestFactory
    @Order(1)
    Stream<DynamicTest> corruptModelFiles() {
        List<DynamicTest> tests = new ArrayList<>();
        for (String f : List.of("config.json", "model.safetensors", Workspace.CHAR_TOKENIZER)) {
            tests.addAll(mutations("library Policy.load", model, f, FLIPS_MAY_PASS, (dir, file) -> {
                Workspace.loadTokenizer(dir);
                try (Policy p = Policy.load(dir)) {
                    assertTrue(p.parameterCount() > 0);
                }
            }));
            tests.addAll(mutations(
                    "command eval",
                    model,
                    f,
                    FLIPS_MAY_PASS,
                    (dir, file) -> command(concat(
                            List.of("eval", "--model", dir.toString(), "--problems", "2", "--max-new-tokens", "6"),
                            List.of(TINY_TASK)))));
        }
        for (String f : List.of("config.json", "model.safetensors", Workspace.CHAR_TOKENIZER)) {
            tests.addAll(mutations(
                    "command credit",
                    model,
                    f,
                    FLIPS_MAY_PASS,
                    (dir, file) -> command(concat(
                            List.of(
                                    "credit",
                                    "--model",
                                    dir.toString(),
                                    "--questions",
                                    "1",
                                    "--samples",
                                    "2",
                                    "--reference-rollouts",
                                    "2",
                                    "--max-new-tokens",
                                    "6",
                                    "--estimators",
                                    "grpo"),
                            List.of(TINY_TASK)))));
        }
        // The model directory itself missing, or a file where it should be.
        for (String what : List.of("missing", "a file")) {
            tests.add(DynamicTest.dynamicTest("command eval/train/credit: model directory " + what, () -> {
                Path dir = root.resolve("not-a-model");
                if (what.equals("a file")) Files.writeString(dir, "x");
                for (List<String> args : List.of(
                        List.of("eval", "--model", dir.toString()),
                        List.of("credit", "--model", dir.toString()),
                        List.of(
                                "train",
                                "--base",
                                dir.toString(),
                                "--out",
                                root.resolve("never").toString()),
                        List.of(
                                "sft",
                                "--model",
                                dir.toString(),
                                "--out",
                                root.resolve("never").toString()))) {
                    Outcome o = cli(args);
                    count("command " + args.get(0));
                    noCrash(String.join(" ", args), o);
                    assertNotEquals(0, o.exit);
                    assertTrue(
                            o.err.strip()
                                    .equals("error: model directory " + dir
                                            + (what.equals("a file") ? " is not a directory" : " does not exist")),
                            o.err);
                }
                assertFalse(Files.exists(root.resolve("never")), "a refused command wrote its output directory");
                Files.deleteIfExists(dir);
            }));
        }
        tests.addAll(mutations("library SafeTensors", model, "model.safetensors", FLIPS_MAY_PASS, (dir, file) -> {
            try (var reader = SafeTensors.open(file)) {
                for (String name : reader.names()) reader.readFloats(name);
            }
        }));
        return tests.stream();
    }

    @TestFactory
    @Order(2)
    Stream<DynamicTest> corruptTokenizerJson() {
        return mutations("library BpeTokenizer", bpe, "tokenizer.json", FLIPS_MAY_PASS, (dir, file) -> {
                    BpeTokenizer t = BpeTokenizer.fromJson(file);
                    t.decode(t.encode("hello world 123"));
                })
                .stream();
    }

    @TestFactory
    @Order(3)
    Stream<DynamicTest> corruptTaskFiles() {
        List<DynamicTest> tests = new ArrayList<>();
        tests.addAll(mutations(
                "library TaskFiles", data, trainJsonl.getFileName().toString(), FLIPS_MAY_PASS, (dir, file) -> {
                    TaskFiles.read(file);
                }));
        tests.addAll(mutations(
                "command sft",
                data,
                trainJsonl.getFileName().toString(),
                FLIPS_MAY_PASS,
                (dir, file) -> command(concat(
                        List.of(
                                "sft",
                                "--train",
                                file.toString(),
                                "--test",
                                testJsonl.toString(),
                                "--out",
                                dir.resolve("sft-out").toString(),
                                "--steps",
                                "1",
                                "--batch",
                                "2",
                                "--quiet"),
                        List.of(TINY_MODEL)))));
        tests.addAll(mutations(
                "command compare",
                data,
                trainJsonl.getFileName().toString(),
                FLIPS_MAY_PASS,
                (dir, file) -> command(concat(
                        List.of(
                                "compare",
                                "--train",
                                file.toString(),
                                "--test",
                                testJsonl.toString(),
                                "--out",
                                dir.resolve("cmp").toString(),
                                "--algorithms",
                                "grpo",
                                "--seeds",
                                "1",
                                "--budget",
                                "20",
                                "--sft-steps",
                                "1",
                                "--credit-questions",
                                "0",
                                "--base-check-questions",
                                "0", // a 1-step SFT base would be refused: this test is about the files
                                "--set",
                                "max-new-tokens=6",
                                "--set",
                                "questions=2",
                                "--quiet"),
                        List.of(TINY_MODEL)))));
        return tests.stream();
    }

    @TestFactory
    @Order(4)
    Stream<DynamicTest> corruptConfigFile() {
        return mutations(
                "command train --config",
                data,
                config.getFileName().toString(),
                FLIPS_MAY_PASS,
                (dir, file) -> command(List.of("train", "--config", file.toString(), "--knobs")))
                .stream();
    }

    @TestFactory
    @Order(5)
    Stream<DynamicTest> corruptCheckpoints() throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        for (Path f : list(run.resolve("checkpoint"))) {
            String name = "checkpoint/" + f.getFileName();
            // Only the state's checksum may go missing: checkpoints from before it existed have none.
            Predicate<String> mayPass = m -> name.endsWith(".sha256") && m.equals("missing");
            tests.addAll(mutations(
                    "command train --resume",
                    run,
                    name,
                    mayPass,
                    (dir, file) -> command(trainArgs(dir, "grpo", true))));
        }
        tests.addAll(mutations(
                "command train --resume",
                treeRun,
                "checkpoint/replay.bin",
                m -> false,
                (dir, file) -> command(treeArgs(dir, true))));
        return tests.stream();
    }

    /**
     * Each mutation of {@code relative} in a copy of {@code source}: empty, truncated at five points, twelve random
     * byte flips (half within the first 512 bytes, where the headers are), random garbage, a directory in its place,
     * missing, and (where permissions bind this user) unreadable.
     *
     * @param mayPass the mutations (by name) on which the consumer may succeed: a flip inside float data or inside a
     *                question's text leaves a valid file
     */
    private List<DynamicTest> mutations(
            String group, Path source, String relative, Predicate<String> mayPass, Probe probe) {
        List<DynamicTest> out = new ArrayList<>();
        Random random = new Random(relative.hashCode() * 31L + group.hashCode());
        long size;
        try {
            size = Files.size(source.resolve(relative));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        List<String> names = new ArrayList<>();
        List<Mutation> mutations = new ArrayList<>();
        names.add("empty");
        mutations.add(bytes -> new byte[0]);
        for (long cut : new long[] {1, size / 4, size / 2, 3 * size / 4, size - 1}) {
            names.add("truncated to " + cut + " bytes");
            mutations.add(bytes -> java.util.Arrays.copyOf(bytes, (int) cut));
        }
        for (int i = 0; i < 12; i++) {
            int at = (int) (i % 2 == 0 ? random.nextLong(size) : random.nextLong(Math.min(512, size)));
            int xor = 1 + random.nextInt(255);
            names.add("byte " + at + " xor " + xor);
            mutations.add(bytes -> {
                byte[] b = bytes.clone();
                b[at] ^= (byte) xor;
                return b;
            });
        }
        long garbageSeed = random.nextLong();
        names.add("64 random bytes");
        mutations.add(bytes -> {
            byte[] b = new byte[64];
            new Random(garbageSeed).nextBytes(b);
            return b;
        });
        names.add("a directory in its place");
        mutations.add(bytes -> null);
        names.add("missing");
        mutations.add(bytes -> MISSING);
        if (permissionsBind()) {
            names.add("unreadable (mode 000)");
            mutations.add(bytes -> UNREADABLE);
        }
        for (int i = 0; i < names.size(); i++) {
            Mutation m = mutations.get(i);
            String label = group + ": " + relative + " " + names.get(i);
            boolean pass = mayPass.test(names.get(i));
            out.add(DynamicTest.dynamicTest(label, () -> corruptCase(group, label, source, relative, m, pass, probe)));
        }
        return out;
    }

    private static final Predicate<String> FLIPS_MAY_PASS = m -> m.startsWith("byte ");

    private static final byte[] MISSING = new byte[0], UNREADABLE = new byte[0];

    @FunctionalInterface
    private interface Mutation {
        /** The new content; null for a directory in the file's place; {@link #MISSING}, {@link #UNREADABLE}. */
        byte[] apply(byte[] bytes);
    }

    private void corruptCase(
            String group, String label, Path source, String relative, Mutation m, boolean mayPass, Probe probe)
            throws Exception {
        Path dir = Files.createTempDirectory(root, "case");
        try {
            copyTree(source, dir);
            Path file = dir.resolve(relative);
            byte[] original = Files.readAllBytes(file);
            byte[] content = m.apply(original);
            // Cutting only trailing whitespace (a final newline) leaves a valid file.
            boolean harmless = content != null
                    && content != MISSING
                    && content != UNREADABLE
                    && content.length < original.length
                    && new String(
                                    original,
                                    content.length,
                                    original.length - content.length,
                                    StandardCharsets.ISO_8859_1)
                            .isBlank();
            if (content == null) {
                Files.delete(file);
                Files.createDirectory(file);
                Files.writeString(file.resolve("x"), "x");
            } else if (content == MISSING) {
                Files.delete(file);
            } else if (content == UNREADABLE) {
                Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("---------"));
            } else {
                Files.write(file, content);
            }
            Map<String, String> before = fingerprints(dir);
            Throwable thrown = null;
            try {
                probe.run(dir, file);
            } catch (Throwable t) {
                thrown = t;
            }
            count(group);
            if (thrown == null) {
                if (!mayPass && !harmless) fail(label + ": was accepted");
            } else {
                requireCleanError(label, thrown);
            }
            if (content == UNREADABLE)
                Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
            Map<String, String> after = fingerprints(dir);
            after.keySet().removeIf(k -> !before.containsKey(k)); // outputs of a probe that succeeded
            if (!before.equals(after)) {
                dataLost.incrementAndGet();
                fail(label + ": the input files changed");
            }
        } finally {
            deleteTree(dir);
        }
    }

    /** A refusal as users see it: an IOException or IllegalArgumentException with a message, or a one-line CLI error. */
    private void requireCleanError(String label, Throwable t) {
        if (t instanceof CommandFailed c) {
            if (c.crashed) {
                crashes.incrementAndGet();
                fail(label + ": crashed: " + c.err);
            }
            String err = c.err.strip();
            assertTrue(err.startsWith("error: ") && !err.contains("\n"), label + ": not one clear line: " + err);
            assertTrue(err.length() > "error: ".length() + 10, label + ": " + err);
            return;
        }
        if (t instanceof AssertionError a) throw a;
        if (!(t instanceof IOException || t instanceof IllegalArgumentException)) {
            crashes.incrementAndGet();
            throw new AssertionError(label + ": unexpected " + t, t);
        }
        assertTrue(t.getMessage() != null && !t.getMessage().isBlank(), label + ": no message: " + t);
    }

    // ---- a full file system
    // ------------------------------------------------------------------------------------------

    /**
     * A train run whose k-th file write fails as a full disk would, for every k: the run stops with one line naming
     * the file, leaves no temporary, keeps the previous checkpoint, and resumes to the end once space is back.
     */
    @TestFactory
    @Order(6)
    Stream<DynamicTest> fullDiskAtEveryWrite() throws Exception {
        List<String> written = new ArrayList<>();
        Path probe = root.resolve("count-writes");
        AtomicFiles.injectFault(
                (target, bytes) -> written.add(probe.relativize(target).toString()));
        try {
            ok(cli(trainArgs(probe, "grpo", false)));
        } finally {
            AtomicFiles.injectFault(null);
        }
        deleteTree(probe);
        List<DynamicTest> tests = new ArrayList<>();
        for (int k = 0; k < written.size(); k++) {
            int failAt = k;
            tests.add(DynamicTest.dynamicTest(
                    "full disk at write " + (k + 1) + " of " + written.size() + " (" + written.get(k) + ")",
                    () -> fullDiskCase(failAt)));
        }
        for (int k = 0; k < 3; k++) {
            int failAt = k;
            tests.add(DynamicTest.dynamicTest("full disk at sft write " + (k + 1), () -> fullDiskSftCase(failAt)));
        }
        return tests.stream();
    }

    private void fullDiskCase(int failAt) throws Exception {
        Path dir = root.resolve("full-" + failAt);
        AtomicInteger writes = new AtomicInteger();
        AtomicFiles.injectFault((target, bytes) -> {
            if (writes.getAndIncrement() == failAt) throw new IOException(target + ": No space left on device");
        });
        Outcome o;
        try {
            o = cli(trainArgs(dir, "grpo", false));
        } finally {
            AtomicFiles.injectFault(null);
        }
        count("full disk (injected)");
        noCrash("full disk at write " + (failAt + 1), o);
        assertNotEquals(0, o.exit, o.err);
        assertTrue(o.err.contains("No space left on device") && o.err.contains(dir.toString()), o.err);
        assertEquals(List.of(), temporaries(dir), "temporaries left");
        // Space is back: the run resumes from what it kept (or starts, when it had no checkpoint yet) and finishes.
        Outcome resumed = cli(trainArgs(dir, "grpo", true));
        assertEquals(0, resumed.exit, resumed.err);
        assertTrue(Files.isDirectory(dir.resolve("checkpoint")));
        deleteTree(dir);
    }

    private void fullDiskSftCase(int failAt) throws Exception {
        Path dir = root.resolve("full-sft-" + failAt);
        AtomicInteger writes = new AtomicInteger();
        AtomicFiles.injectFault((target, bytes) -> {
            if (writes.getAndIncrement() == failAt) throw new IOException(target + ": No space left on device");
        });
        Outcome o;
        try {
            o = cli(concat(
                    List.of("sft", "--out", dir.toString(), "--steps", "1", "--quiet"),
                    List.of(TINY_TASK),
                    List.of(TINY_MODEL)));
        } finally {
            AtomicFiles.injectFault(null);
        }
        count("full disk (injected)");
        noCrash("sft full disk", o);
        assertNotEquals(0, o.exit, o.err);
        assertTrue(o.err.startsWith("error: ") && o.err.contains("No space left on device"), o.err);
        assertEquals(List.of(), temporaries(dir), "temporaries left");
        deleteTree(dir);
    }

    /**
     * The same on a real tmpfs of a few sizes (the kernel's ENOSPC, not an injected one), where this machine lets the
     * test mount one (root with CAP_SYS_ADMIN); skipped, and said so in the totals, elsewhere.
     */
    @Test
    @Order(7)
    void fullDiskOnARealTmpfs() throws Exception {
        Path mount = Files.createDirectories(root.resolve("tmpfs"));
        if (!mount(mount, "16k")) {
            tmpfsNote = "skipped (cannot mount a tmpfs here)";
            return;
        }
        umount(mount);
        int failed = 0;
        for (String size : List.of("16k", "48k", "80k", "120k", "200k", "400k")) {
            assertTrue(mount(mount, size));
            try {
                Path dir = mount.resolve("run");
                Outcome o = cli(treeArgs(dir, false));
                count("full disk (tmpfs)");
                noCrash("tmpfs " + size, o);
                if (o.exit != 0) {
                    failed++;
                    assertTrue(o.err.startsWith("error: ") && !o.err.strip().contains("\n"), o.err);
                    assertTrue(
                            o.err.contains("No space left on device") || o.err.contains("no space for a checkpoint"),
                            o.err);
                    assertEquals(List.of(), temporaries(dir), size + ": temporaries left");
                    if (Files.isDirectory(dir.resolve("checkpoint"))) {
                        // The kept checkpoint is whole: it resumes (and stops again for space, cleanly) there.
                        Outcome again = cli(treeArgs(dir, true));
                        noCrash("tmpfs " + size + " resume", again);
                        assertTrue(again.exit == 0 || again.err.startsWith("error: "), again.err);
                        assertFalse(again.err.contains("corrupt"), again.err);
                    }
                }
            } finally {
                umount(mount);
            }
        }
        tmpfsNote = "6 sizes from 16k to 400k, " + failed + " stopped for space, none crashed";
        assertTrue(failed > 0, "no tmpfs size was small enough to fill");
    }

    private static boolean mount(Path at, String size) throws InterruptedException {
        try {
            Process p = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", at.toString())
                    .redirectErrorStream(true)
                    .start();
            p.getInputStream().readAllBytes();
            return p.waitFor() == 0;
        } catch (IOException e) {
            return false;
        }
    }

    private static void umount(Path at) throws Exception {
        Process p = new ProcessBuilder("umount", at.toString())
                .redirectErrorStream(true)
                .start();
        p.getInputStream().readAllBytes();
        assertEquals(0, p.waitFor(), "umount " + at);
    }

    // ---- processes -------------------------------------------------------------------------------------------------

    /**
     * An SPO-tree run killed with SIGKILL at seeded random moments (checkpoints every iteration, so many kills land in
     * a checkpoint write), resumed after each kill, and finished: no JVM error file, every resume accepted.
     */
    @Test
    @Order(8)
    void killedAtRandomMomentsThenResumed() throws Exception {
        Path dir = root.resolve("killed");
        Random random = new Random(20);
        List<String> args = new ArrayList<>(treeArgs(dir, true));
        args.set(args.indexOf("iterations=2"), "iterations=300");
        int killed = 0;
        for (int attempt = 0; attempt < 4; attempt++) {
            Process p = spawn(args, dir.resolveSibling("killed-" + attempt + ".log"));
            // Wait until the run holds its directory (the JVM and libtorch are up), then a random moment more.
            waitForLock(dir, p, 120);
            Thread.sleep(200 + random.nextInt(2500));
            if (p.isAlive()) {
                p.destroyForcibly().waitFor(60, TimeUnit.SECONDS);
                killed++;
            } else {
                assertEquals(0, p.exitValue(), "run ended on its own with an error");
            }
            count("killed and resumed");
            assertNoJvmErrorFiles();
        }
        Outcome finished = cli(args);
        assertEquals(0, finished.exit, finished.err);
        assertTrue(Files.isRegularFile(dir.resolve("metrics.jsonl")));
        assertEquals(List.of(), temporaries(dir));
        assertTrue(killed > 0, "no kill landed");
        System.out.printf("fault injection: %d of 4 SIGKILLs landed in the run, each resumed%n", killed);
    }

    /** A second process, or a second run in this one, on a directory a run holds is refused naming the holder. */
    @Test
    @Order(9)
    void twoProcessesOnOneDirectory() throws Exception {
        Path dir = root.resolve("shared");
        List<String> args = new ArrayList<>(trainArgs(dir, "grpo", false));
        args.set(args.indexOf("iterations=2"), "iterations=100000");
        args.set(args.indexOf("checkpoint-every=1"), "checkpoint-every=1000");
        Process holder = spawn(args, root.resolve("holder.log"));
        try {
            waitForLock(dir, holder, 120);
            String pid = Long.toString(holder.pid());
            for (List<String> second : List.of(
                    trainArgs(dir, "rloo", false),
                    trainArgs(dir, "grpo", true),
                    concat(List.of("sft", "--out", dir.toString(), "--steps", "1", "--quiet"), List.of(TINY_TASK)),
                    List.of("compare", "--out", dir.toString(), "--budget", "10", "--quiet"))) {
                Outcome o = cli(second);
                count("two processes");
                noCrash(second.get(0), o);
                assertEquals(1, o.exit, o.err);
                assertTrue(o.err.contains("in use by another spo4j run") && o.err.contains("pid " + pid), o.err);
                assertTrue(o.err.contains(dir.toString()), o.err);
            }
            assertTrue(holder.isAlive(), "the holder was disturbed");
        } finally {
            holder.destroyForcibly().waitFor(60, TimeUnit.SECONDS);
        }
        // The killed holder's lock is stale: it is taken over at once.
        try (RunLock lock = RunLock.acquire(dir, "test")) {
            count("two processes");
            assertTrue(Files.readString(dir.resolve(RunLock.FILE))
                    .startsWith(ProcessHandle.current().pid() + " "));
            // ... and within one process, a second holder is refused too.
            assertTrue(assertThrowsHeld(dir).contains("test"));
        }
        assertNoJvmErrorFiles();
    }

    private static String assertThrowsHeld(Path dir) throws IOException {
        try (RunLock second = RunLock.acquire(dir, "second")) {
            fail("a second lock was granted");
            return "";
        } catch (RunLock.HeldException e) {
            return e.holder();
        }
    }

    private Process spawn(List<String> args, Path log) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current()
                .info()
                .command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add("--enable-native-access=ALL-UNNAMED");
        cmd.add("-XX:ErrorFile=" + root.resolve("hs_err_pid%p.log"));
        String cache = System.getProperty("org.bytedeco.javacpp.cachedir");
        if (cache != null) cmd.add("-Dorg.bytedeco.javacpp.cachedir=" + cache);
        cmd.add(Spo4jCli.class.getName());
        cmd.addAll(args);
        return new ProcessBuilder(cmd)
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
    }

    private static void waitForLock(Path dir, Process p, int seconds) throws Exception {
        Path lock = dir.resolve(RunLock.FILE);
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        while (System.nanoTime() < deadline) {
            if (Files.isRegularFile(lock) && Files.readString(lock).startsWith(p.pid() + " ")) return;
            if (!p.isAlive()) return;
            Thread.sleep(50);
        }
        fail("the run did not take its lock within " + seconds + " s");
    }

    private void assertNoJvmErrorFiles() throws IOException {
        try (Stream<Path> s = Files.list(root)) {
            List<Path> errors = s.filter(f -> f.getFileName().toString().startsWith("hs_err"))
                    .toList();
            if (!errors.isEmpty()) {
                crashes.incrementAndGet();
                fail("JVM error files: " + errors);
            }
        }
    }

    // ---- helpers
    // -----------------------------------------------------------------------------------------------------

    private record Outcome(int exit, String out, String err) {}

    /** A CLI failure as the user sees it. */
    private static final class CommandFailed extends Exception {
        final String err;
        final boolean crashed;

        CommandFailed(Outcome o) {
            super(o.err);
            err = o.err;
            crashed = isCrash(o);
        }
    }

    private static boolean isCrash(Outcome o) {
        return o.err.contains("\tat ") || o.err.contains("Exception in") || o.exit >= 128;
    }

    private void noCrash(String label, Outcome o) {
        if (isCrash(o)) {
            crashes.incrementAndGet();
            fail(label + ": crashed: " + o.err);
        }
    }

    private static void command(List<String> args) throws CommandFailed {
        Outcome o = cli(args);
        if (o.exit != 0 || isCrash(o)) throw new CommandFailed(o);
    }

    private static Outcome cli(List<String> args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        CommandLine cl = new CommandLine(new Spo4jCli());
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int exit = cl.execute(args.toArray(String[]::new));
        return new Outcome(exit, out.toString(), err.toString());
    }

    private static void ok(Outcome o) {
        assertEquals(0, o.exit, o.err);
    }

    private List<String> trainArgs(Path out, String algorithm, boolean resume) {
        List<String> args = new ArrayList<>(
                List.of("train", "--algorithm", algorithm, "--base", model.toString(), "--out", out.toString()));
        args.addAll(List.of(TINY_TASK));
        args.addAll(List.of(TINY_RUN));
        if (resume) args.add("--resume");
        return args;
    }

    private List<String> treeArgs(Path out, boolean resume) {
        List<String> args = new ArrayList<>(
                List.of("train", "--algorithm", "spo-tree", "--base", model.toString(), "--out", out.toString()));
        args.addAll(List.of(TINY_TASK));
        args.addAll(List.of(TINY_TREE));
        if (resume) args.add("--resume");
        return args;
    }

    @SafeVarargs
    private static List<String> concat(List<String>... parts) {
        List<String> out = new ArrayList<>();
        for (List<String> p : parts) out.addAll(p);
        return out;
    }

    private synchronized void count(String group) {
        cases.incrementAndGet();
        byGroup.merge(group, 1, Integer::sum);
    }

    private static boolean permissionsBind() {
        return !"root".equals(System.getProperty("user.name"));
    }

    /** Every regular file under {@code dir} by relative path, with its SHA-256. */
    private static Map<String, String> fingerprints(Path dir) throws IOException {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path f : walk.filter(Files::isRegularFile).toList()) {
                if (!Files.isReadable(f)) {
                    out.put(dir.relativize(f).toString(), "unreadable");
                    continue;
                }
                try {
                    var md = java.security.MessageDigest.getInstance("SHA-256");
                    out.put(
                            dir.relativize(f).toString(),
                            java.util.HexFormat.of().formatHex(md.digest(Files.readAllBytes(f))));
                } catch (java.security.NoSuchAlgorithmException e) {
                    throw new IllegalStateException(e);
                }
            }
        }
        return out;
    }

    /** Temporaries a write left: {@code checkpoint.tmp} and {@link AtomicFiles}'s {@code .NAME.*.tmp}. */
    private static List<String> temporaries(Path dir) throws IOException {
        if (!Files.exists(dir)) return List.of();
        try (Stream<Path> walk = Files.walk(dir)) {
            return walk.map(p -> dir.relativize(p).toString())
                    .filter(n -> n.endsWith(".tmp") || n.contains(".tmp/"))
                    .sorted()
                    .toList();
        }
    }

    private static List<Path> list(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.sorted().toList();
        }
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> walk = Files.walk(from)) {
            for (Path p : walk.toList()) {
                Path rel = from.relativize(p);
                if (rel.toString().startsWith("case") || rel.toString().startsWith(RunLock.FILE)) continue;
                Path t = to.resolve(rel.toString());
                if (Files.isDirectory(p)) Files.createDirectories(t);
                else Files.copy(p, t);
            }
        }
    }

    private static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) return;
        try (Stream<Path> walk = Files.walk(p)) {
            for (Path x : walk.sorted(Comparator.reverseOrder()).toList()) Files.delete(x);
        }
    }
}
