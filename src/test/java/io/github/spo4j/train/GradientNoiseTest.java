package io.github.spo4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.spo4j.model.Policy;
import io.github.spo4j.spo.data.Trajectory;
import io.github.spo4j.tasks.FinishReason;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The gradient noise scale and alignment: their estimators on known moments, then on a policy's gradients. */
class GradientNoiseTest {
    private static final int VOCAB = 23, G = 3;
    private static Policy policy;
    private static List<Trajectory> batch;

    @BeforeAll
    static void setUp() {
        policy = Policy.random(Workspace.builtInModel(VOCAB, 16, 1), 5);
        // Ragged groups of random responses, one of them empty; every other token a decision (p 0.5 < ρ).
        Random random = new Random(3);
        batch = new ArrayList<>();
        for (int q = 0; q < 7; q++) {
            for (int j = 0; j < G; j++) {
                int length = q == 2 && j == 1 ? 0 : 1 + random.nextInt(q == 4 ? 111 : 9);
                int[] prompt = random.ints(1 + random.nextInt(5), 0, VOCAB).toArray();
                int[] response = random.ints(length, 0, VOCAB).toArray();
                float[] old = new float[length];
                for (int i = 0; i < length; i++) old[i] = (float) Math.log(i % 2 == 0 ? 0.5 : 0.99);
                batch.add(new Trajectory(q, prompt, response, old, j % 2, FinishReason.EOS));
            }
        }
    }

    @AfterAll
    static void close() {
        policy.close();
    }

    private static float[][] advantages(long seed, double scale, double shift) {
        Random random = new Random(seed);
        float[][] out = new float[batch.size()][];
        for (int k = 0; k < batch.size(); k++) {
            out[k] = new float[batch.get(k).responseLength()];
            for (int i = 0; i < out[k].length; i++) out[k][i] = (float) (scale * random.nextGaussian() + shift);
        }
        return out;
    }

    @Test
    void theEstimatorsRecoverKnownMomentsOfSyntheticGradients() {
        // g_q = G + ε_q, ε ~ N(0, σ² I) in d dimensions: tr Σ = d σ², so B = d σ² / |G|²; h_q = G' + ε'_q with
        // cos(G, G') = 0.6.
        int d = 40, questions = 4000;
        double sigma = 0.5;
        double[] mean = new double[d], other = new double[d];
        mean[0] = 1;
        other[0] = 0.6;
        other[1] = 0.8;
        Random random = new Random(11);
        double[] s = new double[d], t = new double[d];
        double squares = 0, otherSquares = 0, same = 0;
        for (int q = 0; q < questions; q++) {
            double[] g = new double[d], h = new double[d];
            for (int i = 0; i < d; i++) {
                g[i] = mean[i] + sigma * random.nextGaussian();
                h[i] = other[i] + sigma * random.nextGaussian();
                s[i] += g[i];
                t[i] += h[i];
                squares += g[i] * g[i];
                otherSquares += h[i] * h[i];
                same += g[i] * h[i];
            }
        }
        double ss = 0, tt = 0, st = 0;
        for (int i = 0; i < d; i++) {
            ss += s[i] * s[i];
            tt += t[i] * t[i];
            st += s[i] * t[i];
        }
        assertEquals(d * sigma * sigma, GradientNoise.noiseScale(ss, squares, questions), 0.5);
        assertEquals(0.6, GradientNoise.alignment(st, same, ss, squares, tt, otherSquares, questions), 0.03);
        // Pure noise: the pairs find no signal.
        assertEquals(Double.POSITIVE_INFINITY, GradientNoise.noiseScale(0, 5, questions));
        assertTrue(Double.isNaN(GradientNoise.alignment(1, 0, 0, 5, tt, otherSquares, questions)));
    }

    @Test
    void theJackknifeErrorIsZeroForConstantsAndUnknownForUnboundedEstimates() {
        assertEquals(0, GradientNoise.jackknifeError(new double[] {2, 2, 2}));
        // sqrt((n − 1)/n Σ (θ − θ̄)²) for 1, 2, 3: sqrt(2/3 · 2).
        assertEquals(Math.sqrt(4.0 / 3), GradientNoise.jackknifeError(new double[] {1, 2, 3}), 1e-12);
        assertTrue(Double.isNaN(GradientNoise.jackknifeError(new double[] {1, Double.POSITIVE_INFINITY, 3})));
    }

    @Test
    void aScaledAndShiftedCopyOfTheReferenceIsTheSameGradient() {
        float[][] reference = advantages(1, 1, 0.3);
        float[][] copy = new float[reference.length][];
        for (int k = 0; k < copy.length; k++) {
            copy[k] = reference[k].clone();
            for (int i = 0; i < copy[k].length; i++) copy[k][i] = 2.5f * copy[k][i] - 4f;
        }
        List<GradientNoise.Stats> stats =
                GradientNoise.measure(policy, batch, G, List.of(reference, copy, advantages(2, 1, 0)), 0.9, 0.6f);
        GradientNoise.Stats ref = stats.get(0), same = stats.get(1), unrelated = stats.get(2);
        // Centring removes the shift and B does not see the scale.
        assertEquals(ref.noiseScale(), same.noiseScale(), 1e-4 * ref.noiseScale());
        assertEquals(1, same.sameResponsesCosine(), 1e-5);
        if (Double.isFinite(same.alignment())) assertEquals(1, same.alignment(), 1e-4);
        assertTrue(Double.isNaN(ref.alignment()) && Double.isNaN(ref.alignmentError()), ref.toString());
        assertTrue(Math.abs(unrelated.sameResponsesCosine()) < 0.9, unrelated.toString());
        assertEquals(
                stats,
                GradientNoise.measure(policy, batch, G, List.of(reference, copy, advantages(2, 1, 0)), 0.9, 0.6f),
                "the same numbers again");
    }

    @Test
    void anotherEstimatorsOwnEpisodesAreAlignedButHaveNoSameResponseCosine() {
        float[][] reference = advantages(1, 1, 0);
        // The same questions, other episodes: each question's responses in reverse order (a different list).
        List<Trajectory> reversed = new ArrayList<>();
        float[][] copy = new float[batch.size()][];
        for (int q = 0; q < batch.size() / G; q++) {
            for (int j = G - 1; j >= 0; j--) {
                copy[reversed.size()] = reference[q * G + j];
                reversed.add(batch.get(q * G + j));
            }
        }
        List<GradientNoise.Stats> stats = GradientNoise.measure(
                policy,
                List.of(
                        GradientNoise.Episodes.groups(batch, G, reference),
                        GradientNoise.Episodes.groups(reversed, G, copy)),
                0.9,
                0.6f);
        // A question's gradient is a sum over its episodes: the order does not change it.
        assertEquals(
                stats.get(0).noiseScale(),
                stats.get(1).noiseScale(),
                1e-4 * stats.get(0).noiseScale());
        assertTrue(
                Double.isNaN(stats.get(1).sameResponsesCosine()), stats.get(1).toString());
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> GradientNoise.measure(
                        policy,
                        List.of(
                                GradientNoise.Episodes.groups(batch, G, reference),
                                GradientNoise.Episodes.groups(
                                        batch.subList(0, 4 * G), G, Arrays.copyOf(reference, 4 * G))),
                        0.9,
                        0.6f));
        assertTrue(e.getMessage().contains("questions"), e.getMessage());
        assertThrows(
                IllegalArgumentException.class,
                () -> new GradientNoise.Episodes(batch, new int[] {0, 5, 3, batch.size()}, reference));
    }

    @Test
    void zeroAdvantagesHaveNoSignalAndNoDirection() {
        float[][] zero = advantages(1, 0, 0);
        List<GradientNoise.Stats> stats =
                GradientNoise.measure(policy, batch, G, List.of(advantages(1, 1, 0), zero), 0.9, 0.6f);
        GradientNoise.Stats z = stats.get(1);
        assertEquals(Double.POSITIVE_INFINITY, z.noiseScale(), z.toString());
        assertTrue(Double.isNaN(z.alignment()) && Double.isNaN(z.sameResponsesCosine()), z.toString());
    }

    @Test
    void partialGroupsAndTooFewQuestionsAreRefused() {
        float[][] a = advantages(1, 1, 0);
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> GradientNoise.measure(policy, batch.subList(0, 5), G, List.<float[][]>of(a), 0.9, 0.6f));
        assertTrue(e.getMessage().contains("batch"), e.getMessage());
        e = assertThrows(
                IllegalArgumentException.class,
                () -> GradientNoise.measure(
                        policy, batch.subList(0, 2 * G), G, List.<float[][]>of(Arrays.copyOf(a, 2 * G)), 0.9, 0.6f));
        assertTrue(e.getMessage().contains("questions"), e.getMessage());
    }
}
