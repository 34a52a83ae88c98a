package io.github.spo4j.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

class EvalPointTest {
    private static void rejects(String field, Executable construct) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, construct);
        assertTrue(e.getMessage().startsWith(field + " "), e.getMessage());
    }

    @Test
    void acceptsNaNWhereAllowed() {
        EvalPoint p = new EvalPoint("grpo", -3, 0, 0, 0, 1, Double.NaN, Double.NaN);
        assertEquals(-3, p.seed());
        assertTrue(Double.isNaN(p.sampledAccuracy()));
    }

    @Test
    void rejectsBadFieldsByName() {
        rejects("algorithm", () -> new EvalPoint(" ", 1, 0, 0, 0, 0.5, 0.5, 0));
        rejects("algorithm", () -> new EvalPoint(null, 1, 0, 0, 0, 0.5, 0.5, 0));
        rejects("iteration", () -> new EvalPoint("a", 1, -1, 0, 0, 0.5, 0.5, 0));
        rejects("generatedTokens", () -> new EvalPoint("a", 1, 0, -1, 0, 0.5, 0.5, 0));
        rejects("wallSeconds", () -> new EvalPoint("a", 1, 0, 0, -0.1, 0.5, 0.5, 0));
        rejects("wallSeconds", () -> new EvalPoint("a", 1, 0, 0, Double.POSITIVE_INFINITY, 0.5, 0.5, 0));
        rejects("greedyAccuracy", () -> new EvalPoint("a", 1, 0, 0, 0, 1.01, 0.5, 0));
        rejects("greedyAccuracy", () -> new EvalPoint("a", 1, 0, 0, 0, Double.NaN, 0.5, 0));
        rejects("sampledAccuracy", () -> new EvalPoint("a", 1, 0, 0, 0, 0.5, -0.01, 0));
        rejects("trainReward", () -> new EvalPoint("a", 1, 0, 0, 0, 0.5, 0.5, Double.NEGATIVE_INFINITY));
    }
}
