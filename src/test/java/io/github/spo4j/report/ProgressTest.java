package io.github.spo4j.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ProgressTest {
    private static final long SECOND = 1_000_000_000L;

    @Test
    void disabledProgressPrintsPlainLinesToStderr() {
        PrintStream err = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        boolean wasEnabled = Progress.isEnabled();
        Progress.setEnabled(false);
        try {
            System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
            try (Progress p = Progress.start("grpo seed 1", 4, "it")) {
                p.step(1);
                p.setExtra("acc 41.2%");
                p.stepTo(4);
                assertEquals(4, p.done());
            }
        } finally {
            System.setErr(err);
            Progress.setEnabled(wasEnabled);
        }
        List<String> lines = captured.toString(StandardCharsets.UTF_8).lines().toList();
        assertEquals(2, lines.size(), lines.toString());
        assertTrue(lines.get(0).startsWith("grpo seed 1: 1/4 it (25%)"), lines.get(0));
        assertTrue(lines.get(1).startsWith("grpo seed 1: 4/4 it (100%)"), lines.get(1));
        assertTrue(lines.get(1).endsWith(", acc 41.2%"), lines.get(1));
    }

    @Test
    void aResumedTaskCountsOnlyThisSessionsRate() {
        // 100 tokens in 2 s, not the 1000 of the whole run
        assertEquals(
                List.of("grpo seed 0: 1000/1000 tokens (100%), 50.0 tokens/s, 2.0s elapsed"),
                resumedTo1000(900, 2 * SECOND));
        // a finished run resumed: nothing done in this session, no rate (was "673M tokens/s")
        assertEquals(List.of(), resumedTo1000(1000, SECOND / 1000));
    }

    /** The lines of a 1000-token task resumed at {@code initial} and brought to 1000 after {@code nanos}. */
    private static List<String> resumedTo1000(long initial, long nanos) {
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        AtomicLong now = new AtomicLong(0);
        try (Progress p = Progress.plain(
                "grpo seed 0",
                1000,
                "tokens",
                initial,
                new PrintStream(captured, true, StandardCharsets.UTF_8),
                now::get)) {
            assertEquals(initial, p.done());
            now.addAndGet(nanos);
            p.stepTo(1000);
        }
        return captured.toString(StandardCharsets.UTF_8).lines().toList();
    }

    @Test
    void plainLinesAtMostPerTenthOrPerTenSeconds() {
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        AtomicLong now = new AtomicLong(0);
        try (Progress p = Progress.plain(
                "eval", 1000, "problems", new PrintStream(captured, true, StandardCharsets.UTF_8), now::get)) {
            for (int i = 1; i <= 250; i++) {
                now.addAndGet(SECOND / 100);
                p.step(1);
            }
            now.addAndGet(10 * SECOND);
            p.step(1);
            p.setExtra("acc 50.0%");
            now.addAndGet(SECOND);
            p.step(10);
        }
        List<String> lines = captured.toString(StandardCharsets.UTF_8).lines().toList();
        assertEquals(
                List.of(
                        "eval: 100/1000 problems (10%), 100 problems/s, ETA 9.0s, 1.0s elapsed",
                        "eval: 200/1000 problems (20%), 100 problems/s, ETA 8.0s, 2.0s elapsed",
                        "eval: 251/1000 problems (25%), 20.1 problems/s, ETA 37s, 13s elapsed",
                        "eval: 261/1000 problems (26%), 19.3 problems/s, ETA 38s, 14s elapsed, acc 50.0%"),
                lines);
    }

    @Test
    void unknownTotalAndClosedProgressDoNotThrow() {
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        AtomicLong now = new AtomicLong(0);
        Progress p = Progress.plain(
                "tokens", 0, "tokens", new PrintStream(captured, true, StandardCharsets.UTF_8), now::get);
        now.addAndGet(2 * SECOND);
        p.step(5000);
        p.close();
        p.step(1);
        p.setExtra("late");
        p.close();
        assertEquals(
                List.of("tokens: 5000 tokens, 2.50k tokens/s, 2.0s elapsed"),
                captured.toString(StandardCharsets.UTF_8).lines().toList());
        assertThrows(IllegalArgumentException.class, () -> Progress.start("", 1, "it"));
        assertThrows(IllegalArgumentException.class, () -> Progress.start("x", -1, "it"));
        Progress q = Progress.plain("x", 1, "it", new PrintStream(new ByteArrayOutputStream()), now::get);
        assertThrows(IllegalArgumentException.class, () -> q.step(-1));
    }
}
