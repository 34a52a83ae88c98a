package io.github.spo4j.kernels.sampler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.spo4j.kernels.Backend;
import io.github.spo4j.testutil.ChiSquare;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Token frequencies against the probabilities: 200,000 draws (one per position) of a V = 111 row, and
 * Pearson's chi-square over the kept tokens against softmax(logits / T) renormalised to the top-k / top-p
 * set (bins with an expected count under 5 are pooled). The test fails when the statistic exceeds the
 * chi-square quantile at tail 1e-6 for its degrees of freedom ({@link ChiSquare#quantile}), i.e. a correct
 * sampler fails one run in a million; tokens outside the set must never appear. The draws are seeded, so
 * each run is the same.
 */
class SamplerStatisticsTest {
    private static final int V = 111;
    private static final int DRAWS = 200_000;
    private static final int ROWS_PER_CALL = 4000;
    private static final double TAIL = 1e-6;

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (Backend backend : new Backend[] {Backend.REFERENCE, Backend.CPU}) {
            SamplerConfig base = SamplerConfig.of(backend == Backend.CPU ? 77 : 78);
            out.add(Arguments.of(backend, base));
            out.add(Arguments.of(backend, base.withTemperature(0.6f)));
            out.add(Arguments.of(backend, base.withTemperature(1.7f).withTopK(20)));
            out.add(Arguments.of(backend, base.withTopP(0.8f)));
            out.add(Arguments.of(
                    backend, base.withTemperature(0.9f).withTopK(30).withTopP(0.7f)));
        }
        return out.stream();
    }

    /** The row: uniform in ±2.55, no two logits equal, so the expected top-k / top-p sets are unambiguous. */
    static float[] row() {
        SplittableRandom rng = new SplittableRandom(2024);
        float[] row = new float[V];
        for (int i = 0; i < V; i++) row[i] = (float) (1.5 * (rng.nextDouble() * 2 - 1) * 1.7);
        return row;
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void frequenciesMatchTheTruncatedSoftmax(Backend backend, SamplerConfig config) {
        float[] row = row();
        long[] counts = draw(Sampler.create(backend), config, row);
        Set<Integer> kept = SamplerReferenceTest.top(row, config.temperature(), config.topK(), config.topP());
        double[] prob = probabilities(row, config.temperature());
        double keptMass = 0;
        for (int i : kept) keptMass += prob[i];

        List<Long> observed = new ArrayList<>();
        List<Double> expected = new ArrayList<>();
        long pooledObs = 0;
        double pooledExp = 0;
        for (int i = 0; i < V; i++) {
            if (!kept.contains(i)) {
                assertEquals(0, counts[i], "token " + i + " is outside the kept set but was drawn");
                continue;
            }
            double e = DRAWS * prob[i] / keptMass;
            if (e < 5) {
                pooledObs += counts[i];
                pooledExp += e;
            } else {
                observed.add(counts[i]);
                expected.add(e);
            }
        }
        if (pooledExp > 0) {
            observed.add(pooledObs);
            expected.add(pooledExp);
        }
        int bins = observed.size();
        assertTrue(bins >= 2, "need two bins, got " + bins);
        long[] o = observed.stream().mapToLong(Long::longValue).toArray();
        double[] e = expected.stream().mapToDouble(Double::doubleValue).toArray();
        double chi2 = ChiSquare.statistic(o, e);
        int df = bins - 1;
        double limit = ChiSquare.quantile(TAIL, df);
        assertTrue(
                chi2 < limit,
                String.format(
                        "chi2 = %.2f over %d df exceeds the 1e-6 quantile %.2f (p = %.3g)",
                        chi2, df, limit, ChiSquare.pValue(chi2, df)));
    }

    @Test
    void chiSquareQuantilesMatchTables() {
        // Published values: chi2_{0.05}(1) = 3.841, chi2_{0.01}(10) = 23.209, chi2_{0.001}(100) = 149.449.
        assertEquals(3.841, ChiSquare.quantile(0.05, 1), 1e-3);
        assertEquals(23.209, ChiSquare.quantile(0.01, 10), 1e-3);
        assertEquals(149.449, ChiSquare.quantile(0.001, 100), 1e-3);
    }

    /** Counts of each token over DRAWS rows (one seqId, positions 0 .. DRAWS − 1). */
    static long[] draw(Sampler sampler, SamplerConfig config, float[] row) {
        long[] counts = new long[V];
        float[] logits = SamplerReferenceTest.tile(row, ROWS_PER_CALL);
        long[] ids = new long[ROWS_PER_CALL];
        int[] pos = new int[ROWS_PER_CALL];
        java.util.Arrays.fill(ids, 31337L);
        for (int start = 0; start < DRAWS; start += ROWS_PER_CALL) {
            for (int r = 0; r < ROWS_PER_CALL; r++) pos[r] = start + r;
            for (int t : sampler.sample(config, logits, V, ids, pos).tokens()) counts[t]++;
        }
        return counts;
    }

    /** softmax(row / T) in double, with x = row / T rounded to float as the sampler does. */
    static double[] probabilities(float[] row, float temperature) {
        double m = Double.NEGATIVE_INFINITY;
        for (float l : row) m = Math.max(m, l / temperature);
        double[] p = new double[row.length];
        double s = 0;
        for (int i = 0; i < row.length; i++) {
            p[i] = Math.exp((double) (row[i] / temperature) - m);
            s += p[i];
        }
        for (int i = 0; i < row.length; i++) p[i] /= s;
        return p;
    }
}
