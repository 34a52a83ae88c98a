package io.github.spo4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.spo4j.train.distributed.LocalRanks;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A data-parallel run equals one process ({@link DataParallelWorker}, worker JVMs over Gloo on 127.0.0.1): the same
 * episodes (tokens exactly; advantages, π_old and reference log-probs within float noise, since the ranks' forwards
 * see other batches) and the same update up to the order of the sums (the trained weights' distance from the one
 * process's under 0.1% of the update's norm). Both ways of sharing the update: each
 * micro-batch split over the ranks with the whole one's whitening, normalisers and skip (SPO's aggregations), and
 * micro-batches dealt out whole (a mean of per-sequence token means). Uneven shares included (8 questions over 3 ranks
 * are 2, 3 and 3; SPO-tree's 4 over 3 are 1, 1 and 2; a 6-sequence micro-batch over 3 is 2 each, a last one of fewer
 * sequences leaves a rank none).
 */
class DataParallelTest {
    private static final int LIMIT_SECONDS = 240;

    @TempDir
    Path dir;

    @ParameterizedTest
    @CsvSource({
        "grpo, 2, split",
        "spo-chain, 3, split",
        "spo-tree, 3, split",
        "grpo, 2, seq-mean-token-mean",
        "spo-tree, 3, seq-mean-token-mean"
    })
    void ranksDrawTheTokensOfOneProcessAndMatchItsUpdates(String algorithm, int ranks, String microBatches)
            throws Exception {
        Path one = dir.resolve("one"), many = dir.resolve("many");
        run(algorithm, 1, one, microBatches);
        run(algorithm, ranks, many, microBatches);
        List<String> expected = Files.readAllLines(one.resolve("episodes.txt"));
        List<String> actual = Files.readAllLines(many.resolve("episodes.txt"));
        assertEquals(expected.size(), actual.size(), "episode lines");
        assertTrue(expected.size() > 3 * 8, "episodes were trained on: " + expected.size());
        for (int i = 0; i < expected.size(); i++) {
            String e = expected.get(i), a = actual.get(i);
            if (e.startsWith("iteration ")) {
                assertEquals(e, a, "iteration header (tokens generated, mean reward)");
                continue;
            }
            assertEquals(e.substring(0, e.indexOf(" A ")), a.substring(0, a.indexOf(" A ")), "tokens of line " + i);
            assertClose(floats(e, " A ", " old "), floats(a, " A ", " old "), 1e-5, "advantages of line " + i);
            assertClose(floats(e, " old ", " ref "), floats(a, " old ", " ref "), 1e-4, "π_old of line " + i);
            assertClose(floats(e, " ref ", null), floats(a, " ref ", null), 1e-5, "reference of line " + i);
        }
        // Adam moves a parameter by about the learning rate whatever its gradient's size, so a near-zero gradient's
        // summation noise can move it visibly: compare the whole update, not the worst parameter.
        float[] w0 = weights(one.resolve("base.bin")), w1 = weights(one.resolve("weights.bin"));
        float[] wn = weights(many.resolve("weights.bin"));
        assertEquals(w1.length, wn.length);
        double update = 0, differ = 0;
        for (int i = 0; i < w1.length; i++) {
            update += (w1[i] - w0[i]) * (double) (w1[i] - w0[i]);
            differ += (w1[i] - wn[i]) * (double) (w1[i] - wn[i]);
        }
        assertTrue(update > 0, "the weights were updated");
        double relative = Math.sqrt(differ / update);
        assertTrue(relative < 1e-3, "the updates differ by " + relative + " of their norm");
    }

    private void run(String algorithm, int ranks, Path out, String microBatches) throws Exception {
        int port = LocalRanks.freePort();
        List<Process> procs = new ArrayList<>();
        List<Path> logs = new ArrayList<>();
        for (int r = 0; r < ranks; r++) {
            ProcessBuilder pb = LocalRanks.worker(
                    r,
                    ranks,
                    port,
                    DataParallelWorker.class.getName(),
                    List.of(algorithm, "3", out.toString(), microBatches));
            Path log = dir.resolve(algorithm + "-" + ranks + "-rank" + r + ".log");
            pb.redirectErrorStream(true).redirectOutput(log.toFile());
            procs.add(pb.start());
            logs.add(log);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(LIMIT_SECONDS);
        try {
            for (int r = 0; r < ranks; r++) {
                Process p = procs.get(r);
                if (!p.waitFor(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                    throw new AssertionError("a worker ran past " + LIMIT_SECONDS + " s:\n" + read(logs));
                }
                assertEquals(0, p.exitValue(), () -> "worker failed:\n" + read(logs));
            }
        } finally {
            for (Process p : procs) p.destroyForcibly();
        }
    }

    private static float[] floats(String line, String from, String to) {
        int start = line.indexOf(from) + from.length();
        String s = to == null ? line.substring(start) : line.substring(start, line.indexOf(to));
        if (s.equals("null")) return null;
        s = s.substring(1, s.length() - 1).strip();
        if (s.isEmpty()) return new float[0];
        String[] parts = s.split(", ");
        float[] v = new float[parts.length];
        for (int i = 0; i < v.length; i++) v[i] = Float.parseFloat(parts[i]);
        return v;
    }

    private static void assertClose(float[] expected, float[] actual, double tolerance, String what) {
        if (expected == null || actual == null) {
            assertEquals(expected == null, actual == null, what);
            return;
        }
        assertEquals(expected.length, actual.length, what);
        for (int i = 0; i < expected.length; i++) {
            assertTrue(
                    Math.abs(expected[i] - actual[i]) <= tolerance,
                    what + "[" + i + "]: " + expected[i] + " vs " + actual[i]);
        }
    }

    private static float[] weights(Path file) throws IOException {
        List<Float> v = new ArrayList<>();
        try (DataInputStream in = new DataInputStream(Files.newInputStream(file))) {
            while (true) v.add(in.readFloat());
        } catch (EOFException end) {
            // all read
        }
        float[] out = new float[v.size()];
        for (int i = 0; i < out.length; i++) out[i] = v.get(i);
        return out;
    }

    private static String read(List<Path> logs) {
        StringBuilder b = new StringBuilder();
        for (Path p : logs) {
            b.append("--- ").append(p.getFileName()).append('\n');
            try {
                b.append(Files.readString(p));
            } catch (IOException e) {
                b.append("(unreadable: ").append(e.getMessage()).append(")\n");
            }
        }
        return b.toString();
    }
}
