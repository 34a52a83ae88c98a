package io.github.spo4j.bench.compare;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.spo4j.report.EvalPoint;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AcrossBasesTest {
    /** One seed of each algorithm from a 0.30 base; every run ends at 1 s and 100 episodes. */
    private static List<EvalPoint> compare(double grpo, double spoChain) {
        List<EvalPoint> out = new ArrayList<>();
        for (var e : Map.of("grpo", grpo, "spo-chain", spoChain).entrySet()) {
            out.add(new EvalPoint(e.getKey(), 0, 0, 0, 0, 0.30, Double.NaN, 0, 0, 0));
            out.add(new EvalPoint(e.getKey(), 0, 10, 1000, 1, e.getValue(), Double.NaN, 0, 100, 10));
        }
        return out;
    }

    /** Gaps +6, −2, +2 points from three bases: mean +2, standard error sd 4 / √3, two of three above 0. */
    @Test
    void theMeanGapIsTakenOverBasesWithTheSpreadAcrossBasesAsItsError() {
        Map<String, List<EvalPoint>> byBase = new LinkedHashMap<>();
        byBase.put("s0", compare(0.40, 0.46));
        byBase.put("s1", compare(0.50, 0.48));
        byBase.put("s2", compare(0.20, 0.22));
        List<AcrossBases.BaseGap> gaps = AcrossBases.gaps(byBase);
        assertEquals(
                List.of("s0", "s1", "s2"),
                gaps.stream().map(AcrossBases.BaseGap::base).toList());
        assertEquals(-2.0, gaps.get(1).gap().gap(), 1e-9);

        List<AcrossBases.Pooled> pooled = AcrossBases.pooled(gaps);
        assertEquals(3, pooled.size(), "one per axis");
        for (AcrossBases.Pooled p : pooled) {
            assertEquals("spo-chain", p.algorithm());
            assertEquals(3, p.bases());
            assertEquals(2.0, p.mean(), 1e-9, p.axis());
            assertEquals(4 / Math.sqrt(3), p.error(), 1e-9, p.axis());
            assertEquals(2, p.positive());
        }
        String md = AcrossBases.markdown(gaps);
        assertTrue(md.contains("| s1 | 30.0% | 50.0% | spo-chain | 1 | -2.0 ± 0.0 | -2.0 ± 0.0 | -2.0 ± 0.0 |"), md);
        assertTrue(md.contains("| spo-chain | +2.0 ± 2.3 (2 of 3) | +2.0 ± 2.3 (2 of 3) | +2.0 ± 2.3 (2 of 3) |"), md);
    }

    @Test
    void oneBaseHasNoErrorAcrossBasesAndNoBasesIsRefused() {
        List<AcrossBases.BaseGap> gaps = AcrossBases.gaps(Map.of("only", compare(0.40, 0.43)));
        AcrossBases.Pooled p = AcrossBases.pooled(gaps).get(0);
        assertEquals(3.0, p.mean(), 1e-9);
        assertTrue(Double.isNaN(p.error()));
        assertTrue(AcrossBases.markdown(gaps).contains("| spo-chain | +3.0 (1 of 1) |"));
        assertThrows(IllegalArgumentException.class, () -> AcrossBases.gaps(Map.of()));
    }
}
