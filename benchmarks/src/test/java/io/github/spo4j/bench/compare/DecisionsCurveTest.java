package io.github.spo4j.bench.compare;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.spo4j.report.EvalPoint;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DecisionsCurveTest {
    /** A run from a 0.30 base to {@code last}. */
    private static List<EvalPoint> run(String algorithm, long seed, double last) {
        List<EvalPoint> out = new ArrayList<>();
        out.add(new EvalPoint(algorithm, seed, 0, 0, 0, 0.30, Double.NaN, 0, 0, 0));
        out.add(new EvalPoint(algorithm, seed, 10, 1000, 1, last, Double.NaN, 0, 100, 10));
        return out;
    }

    /**
     * At 4 decisions GRPO ends at .40 and .44 (mean 42, s² = 8 points²), SPO-chain at .46 and .48 (47, s² = 2): gap
     * +5, error √(8/2 + 2/2) = √5. At 8 decisions, one seed each: gap −1, error 0.
     */
    @Test
    void gapsAreDifferencesOfMeansWithTheirStandardErrors() throws Exception {
        List<EvalPoint> four = new ArrayList<>();
        four.addAll(run("grpo", 0, 0.40));
        four.addAll(run("grpo", 1, 0.44));
        four.addAll(run("spo-chain", 0, 0.46));
        four.addAll(run("spo-chain", 1, 0.48));
        List<EvalPoint> eight = new ArrayList<>();
        eight.addAll(run("grpo", 0, 0.20));
        eight.addAll(run("spo-chain", 0, 0.19));
        List<DecisionsCurve.Gap> gaps = DecisionsCurve.gaps(Map.of(8, eight, 4, four));
        assertEquals(2, gaps.size());
        assertEquals(4, gaps.get(0).decisions(), "lengths ascending");
        assertEquals(5.0, gaps.get(0).gap(), 1e-9);
        assertEquals(Math.sqrt(5), gaps.get(0).error(), 1e-9);
        assertEquals(30.0, gaps.get(0).base(), 1e-9);
        assertEquals(42.0, gaps.get(0).baseline(), 1e-9);
        assertEquals(-1.0, gaps.get(1).gap(), 1e-9);
        assertEquals(0.0, gaps.get(1).error(), 1e-9);
        assertTrue(DecisionsCurve.markdown(gaps).contains("| 4 | 30.0% | 42.0% | spo-chain | 2 | +5.0 | 2.2 |"));
        assertTrue(DecisionsCurve.png(gaps).length > 1000);

        assertThrows(IllegalArgumentException.class, () -> DecisionsCurve.gaps(Map.of(6, run("spo-tree", 0, 0.5))));
    }
}
