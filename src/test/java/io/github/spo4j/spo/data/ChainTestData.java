package io.github.spo4j.spo.data;

import io.github.spo4j.spo.partition.CutpointPartition;
import io.github.spo4j.spo.partition.EqualSplitPartition;
import io.github.spo4j.spo.partition.FixedTokenPartition;
import io.github.spo4j.spo.partition.NewlineStepPartition;
import io.github.spo4j.spo.partition.SegmentPartition;
import io.github.spo4j.tasks.FinishReason;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/** Trajectories for the chain-side tests: hand-written ones from token probabilities, and seeded random batches. */
public final class ChainTestData {
    public static final int[] PROMPT = {101, 102, 103};

    /** Vocabulary of the random batches, with the text of each token (ids are indices). */
    public static final String[] PIECES = {"a", "b ", "\n", "c\n", "\n#### ", "42", "", " =", "\n\n"};

    public static final TokenTextDecoder DECODER = TokenTextDecoder.perToken(id -> PIECES[id]);

    private ChainTestData() {}

    /** log p as the float a trajectory stores. */
    public static float[] logp(double... probabilities) {
        float[] out = new float[probabilities.length];
        for (int t = 0; t < out.length; t++) out[t] = (float) Math.log(probabilities[t]);
        return out;
    }

    /** Question 0, {@link #PROMPT}, response tokens 0, 1, 2, … with the given probabilities. */
    public static Trajectory fromProbabilities(double reward, double... probabilities) {
        int[] response = new int[probabilities.length];
        for (int t = 0; t < response.length; t++) response[t] = t;
        return new Trajectory(0, PROMPT, response, logp(probabilities), reward, FinishReason.EOS);
    }

    /**
     * A seeded random batch in which trajectories share prompts (3 questions) and response prefixes (each question's
     * responses branch off a common stem), with a mix of confident (p ≥ 0.9) and uncertain tokens, some empty,
     * truncated and repeated responses.
     */
    public static List<Trajectory> randomBatch(long seed, int size) {
        Random rng = new Random(seed);
        int questions = 3;
        int[][] prompts = new int[questions][];
        int[][] stems = new int[questions][];
        for (int q = 0; q < questions; q++) {
            prompts[q] = new int[] {200 + q, 7, 300 + rng.nextInt(5)};
            stems[q] = randomTokens(rng, 4 + rng.nextInt(12));
        }
        List<Trajectory> batch = new ArrayList<>(size);
        for (int i = 0; i < size; i++) {
            if (i > 0 && rng.nextInt(8) == 0) {
                // The same response sampled twice (with its own reward): all its states repeat.
                Trajectory again = batch.get(rng.nextInt(i));
                batch.add(new Trajectory(
                        again.questionId(),
                        again.promptIds(),
                        again.responseIds(),
                        again.oldLogp(),
                        rng.nextInt(2),
                        FinishReason.EOS));
                continue;
            }
            int q = rng.nextInt(questions);
            int shared = rng.nextInt(stems[q].length + 1);
            int length = rng.nextInt(8) == 0 ? rng.nextInt(3) : shared + rng.nextInt(30);
            int[] response = Arrays.copyOf(randomTokens(rng, Math.max(length, 0)), length);
            System.arraycopy(stems[q], 0, response, 0, Math.min(shared, length));
            float[] oldLogp = new float[length];
            for (int t = 0; t < length; t++) {
                double p = rng.nextBoolean() ? 0.9 + 0.0999 * rng.nextDouble() : 0.01 + 0.88 * rng.nextDouble();
                oldLogp[t] = (float) Math.log(p);
            }
            double reward = new double[] {0, 1, 1, -2}[rng.nextInt(4)];
            FinishReason reason = rng.nextInt(6) == 0 ? FinishReason.LENGTH : FinishReason.EOS;
            batch.add(new Trajectory(q, prompts[q], response, oldLogp, reward, reason));
        }
        return batch;
    }

    private static int[] randomTokens(Random rng, int length) {
        int[] tokens = new int[length];
        for (int t = 0; t < length; t++) tokens[t] = rng.nextInt(PIECES.length);
        return tokens;
    }

    /** The partitions the property tests run over, with odd and extreme parameters. */
    public static List<SegmentPartition> partitions() {
        return List.of(
                CutpointPartition.defaults(),
                new CutpointPartition(0.5, 1),
                new CutpointPartition(1.0, 3),
                new CutpointPartition(0.95, 100),
                new FixedTokenPartition(1),
                new FixedTokenPartition(7),
                new FixedTokenPartition(1000),
                EqualSplitPartition.defaults(),
                new EqualSplitPartition(1),
                new EqualSplitPartition(9),
                new NewlineStepPartition(DECODER));
    }
}
