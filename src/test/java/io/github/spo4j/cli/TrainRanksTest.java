package io.github.spo4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.spo4j.train.TrainingRun;
import io.github.spo4j.train.distributed.LocalRanks;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code spo4j train} and {@code compare} as ranks: {@code --nproc 2} trains and writes one run directory; a rank killed
 * mid-run ends the other with an error naming it, and {@code --resume} then finishes the run (here with another world
 * size); ranks given different configs refuse to start; a compare over two ranks reports what one process does. Ranks are JVMs of the command line on 127.0.0.1, each bounded in time.
 */
class TrainRanksTest {
    private static final int LIMIT_SECONDS = 180;

    @TempDir
    static Path shared;

    static Path base;

    @TempDir
    Path dir;

    @BeforeAll
    static void base() {
        base = shared.resolve("base");
        Result r = cli(
                "sft",
                "--out",
                base.toString(),
                "--steps",
                "150",
                "--train-size",
                "300",
                "--test-size",
                "40",
                "--quiet");
        assertEquals(0, r.status, r.err);
    }

    private static List<String> train(Path out, String iterations, String... extra) {
        List<String> args = new ArrayList<>(List.of(
                "train",
                "--algorithm",
                "grpo",
                "--base",
                base.toString(),
                "--out",
                out.toString(),
                "--train-size",
                "300",
                "--test-size",
                "40",
                "--quiet",
                "--collective-timeout",
                "60"));
        for (String s : new String[] {
            "questions=6",
            "samples=4",
            "max-new-tokens=32",
            "minibatch=12",
            "micro-batch=4",
            "kv-blocks=1024",
            "eval-every=0",
            "checkpoint-every=1",
            "iterations=" + iterations
        }) {
            args.add("--set");
            args.add(s);
        }
        args.addAll(List.of(extra));
        return args;
    }

    @Test
    void nprocTrainsOneRunAndPrintsOnce() throws IOException {
        Path out = dir.resolve("run");
        Result r = cli(train(out, "3", "--nproc", "2").toArray(new String[0]));
        assertEquals(0, r.status, r.err);
        assertTrue(r.out.contains("after 3 iterations") && r.out.contains("over 2 ranks"), r.out);
        assertEquals(1, r.out.lines().count(), "rank 0 alone reports: " + r.out);
        assertEquals(3, Files.readAllLines(out.resolve(TrainingRun.ITERATIONS)).size());
        assertTrue(Files.isRegularFile(out.resolve("metrics.csv")));
    }

    @Test
    void aKilledRankEndsTheOtherNamingItAndResumeFinishesTheRun() throws Exception {
        Path out = dir.resolve("run");
        List<Process> ranks = new ArrayList<>();
        List<Path> logs = new ArrayList<>();
        try {
            startRanks(List.of(train(out, "40"), train(out, "40")), ranks, logs);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(LIMIT_SECONDS);
            while (!Files.isDirectory(out.resolve(TrainingRun.CHECKPOINT))) {
                assertTrue(
                        System.nanoTime() < deadline && ranks.get(0).isAlive(), () -> "no checkpoint: " + read(logs));
                Thread.sleep(20);
            }
            ranks.get(1).destroyForcibly().waitFor();
            long killed = System.nanoTime();
            assertTrue(ranks.get(0).waitFor(30, TimeUnit.SECONDS), () -> "rank 0 did not end: " + read(logs));
            double seconds = (System.nanoTime() - killed) / 1e9;
            String rank0 = Files.readString(logs.get(0));
            assertEquals(1, ranks.get(0).exitValue(), rank0);
            assertTrue(rank0.contains("error: ") && rank0.contains("rank 1 stopped"), rank0);
            assertTrue(seconds < 10, "rank 0 ended " + seconds + " s after rank 1 was killed");
        } finally {
            for (Process p : ranks) p.destroyForcibly();
        }
        int done = Files.readAllLines(out.resolve(TrainingRun.ITERATIONS)).size();
        assertTrue(done >= 1 && done < 40, "checkpointed iterations: " + done);
        Result resumed = cli(train(out, "40", "--resume", "--nproc", "3").toArray(new String[0]));
        assertEquals(0, resumed.status, resumed.err);
        assertTrue(resumed.out.contains("after 40 iterations") && resumed.out.contains("over 3 ranks"), resumed.out);
        List<String> log = Files.readAllLines(out.resolve(TrainingRun.ITERATIONS));
        assertEquals(40, log.size());
        for (int i = 0; i < log.size(); i++) assertTrue(log.get(i).contains("\"iteration\":" + i), log.get(i));
    }

    @Test
    void ranksGivenDifferentConfigsRefuseToStart() throws Exception {
        Path out = dir.resolve("run");
        List<Process> ranks = new ArrayList<>();
        List<Path> logs = new ArrayList<>();
        try {
            startRanks(List.of(train(out, "3", "--set", "lr=1e-5"), train(out, "3", "--set", "lr=2e-5")), ranks, logs);
            for (int r = 0; r < 2; r++) {
                assertTrue(ranks.get(r).waitFor(LIMIT_SECONDS, TimeUnit.SECONDS), () -> "ran on: " + read(logs));
                String text = Files.readString(logs.get(r));
                assertEquals(2, ranks.get(r).exitValue(), text);
                assertTrue(text.contains("error: the ranks do not run the same config"), text);
            }
        } finally {
            for (Process p : ranks) p.destroyForcibly();
        }
        assertTrue(!Files.exists(out.resolve(TrainingRun.CHECKPOINT)), "nothing was trained");
    }

    @Test
    void compareOverTwoRanksReportsWhatOneProcessDoes() throws IOException {
        List<String> args = List.of(
                "compare",
                "--algorithms",
                "grpo,spo-tree",
                "--seeds",
                "1",
                "--budget",
                "4k",
                "--sft-steps",
                "100",
                "--base-check-questions",
                "8",
                "--min-base-accuracy",
                "0",
                "--credit-questions",
                "0",
                "--train-size",
                "300",
                "--test-size",
                "40",
                "--quiet");
        Path one = dir.resolve("one"), two = dir.resolve("two");
        List<String> a = new ArrayList<>(args), b = new ArrayList<>(args);
        a.addAll(List.of("--out", one.toString()));
        b.addAll(List.of("--out", two.toString(), "--nproc", "2"));
        Result r1 = cli(a.toArray(new String[0])), r2 = cli(b.toArray(new String[0]));
        assertEquals(0, r1.status, r1.err);
        assertEquals(0, r2.status, r2.err);
        assertEquals(withoutWallTime(one.resolve("metrics.csv")), withoutWallTime(two.resolve("metrics.csv")));
        assertTrue(Files.isRegularFile(two.resolve("report.md")));
    }

    /** The metrics with the wall-clock column blanked: same iterations, tokens and accuracies. */
    private static List<String> withoutWallTime(Path csv) throws IOException {
        List<String> lines = Files.readAllLines(csv);
        int wall = List.of(lines.get(0).split(",")).indexOf("wallSeconds");
        List<String> out = new ArrayList<>();
        for (String line : lines) {
            String[] f = line.split(",", -1);
            f[wall] = "";
            out.add(String.join(",", f));
        }
        return out;
    }

    /** Starts rank r of the command line with {@code args.get(r)}, its output in DIR/rank{r}.log. */
    private void startRanks(List<List<String>> args, List<Process> ranks, List<Path> logs) throws IOException {
        int port = LocalRanks.freePort();
        for (int r = 0; r < args.size(); r++) {
            ProcessBuilder pb = LocalRanks.worker(r, args.size(), port, Spo4jCli.class.getName(), args.get(r));
            Path log = dir.resolve("rank" + r + ".log");
            pb.redirectErrorStream(true).redirectOutput(log.toFile());
            ranks.add(pb.start());
            logs.add(log);
        }
    }

    record Result(int status, String out, String err) {}

    static Result cli(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        CommandLine cl = new CommandLine(new Spo4jCli());
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int status = cl.execute(args);
        return new Result(status, out.toString(), err.toString());
    }

    private static String read(List<Path> logs) {
        StringBuilder b = new StringBuilder();
        for (Path p : logs) {
            try {
                b.append("--- ").append(p.getFileName()).append('\n').append(Files.readString(p));
            } catch (IOException e) {
                b.append("(unreadable)\n");
            }
        }
        return b.toString();
    }
}
