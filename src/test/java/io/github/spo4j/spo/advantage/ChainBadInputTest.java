package io.github.spo4j.spo.advantage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.spo4j.spo.data.MonteCarloValue;
import io.github.spo4j.spo.data.RolloutOutcome;
import io.github.spo4j.spo.data.Segment;
import io.github.spo4j.spo.data.StatePrefix;
import io.github.spo4j.spo.data.TokenTextDecoder;
import io.github.spo4j.spo.data.Trajectory;
import io.github.spo4j.spo.partition.CutpointPartition;
import io.github.spo4j.spo.partition.EqualSplitPartition;
import io.github.spo4j.spo.partition.FixedTokenPartition;
import io.github.spo4j.spo.partition.NewlineStepPartition;
import io.github.spo4j.spo.partition.Partition;
import io.github.spo4j.spo.partition.SegmentPartition;
import io.github.spo4j.tasks.FinishReason;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Every public entry of the chain side rejects bad input with an IllegalArgumentException naming the argument. */
class ChainBadInputTest {
    private static final int[] PROMPT = {1, 2};
    private static final int[] RESPONSE = {3, 4, 5};
    private static final float[] LOGP = {-0.1f, -1f, -2f};

    private static Trajectory good() {
        return new Trajectory(0, PROMPT, RESPONSE, LOGP, 1, FinishReason.EOS);
    }

    private static void assertRejected(String argument, Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains(argument), "message should name " + argument + ": " + e.getMessage());
    }

    @Test
    void trajectory() {
        FinishReason eos = FinishReason.EOS;
        assertRejected("questionId", () -> new Trajectory(-1, PROMPT, RESPONSE, LOGP, 1, eos));
        assertRejected("promptIds", () -> new Trajectory(0, null, RESPONSE, LOGP, 1, eos));
        assertRejected("promptIds", () -> new Trajectory(0, new int[0], RESPONSE, LOGP, 1, eos));
        assertRejected("promptIds[1]", () -> new Trajectory(0, new int[] {1, -2}, RESPONSE, LOGP, 1, eos));
        assertRejected("responseIds", () -> new Trajectory(0, PROMPT, null, LOGP, 1, eos));
        assertRejected("responseIds[2]", () -> new Trajectory(0, PROMPT, new int[] {3, 4, -5}, LOGP, 1, eos));
        assertRejected("oldLogp", () -> new Trajectory(0, PROMPT, RESPONSE, null, 1, eos));
        assertRejected("oldLogp", () -> new Trajectory(0, PROMPT, RESPONSE, new float[2], 1, eos));
        assertRejected("oldLogp", () -> new Trajectory(0, PROMPT, new int[0], LOGP, 1, eos));
        assertRejected("oldLogp[1]", () -> new Trajectory(0, PROMPT, RESPONSE, new float[] {0, Float.NaN, 0}, 1, eos));
        assertRejected(
                "oldLogp[0]",
                () -> new Trajectory(0, PROMPT, RESPONSE, new float[] {Float.NEGATIVE_INFINITY, 0, 0}, 1, eos));
        assertRejected("reward", () -> new Trajectory(0, PROMPT, RESPONSE, LOGP, Double.NaN, eos));
        assertRejected("reward", () -> new Trajectory(0, PROMPT, RESPONSE, LOGP, Double.POSITIVE_INFINITY, eos));
        assertRejected("finishReason", () -> new Trajectory(0, PROMPT, RESPONSE, LOGP, 1, null));
        assertRejected("responseTokens", () -> good().prefix(-1));
        assertRejected("responseTokens", () -> good().prefix(4));
    }

    @Test
    void statePrefix() {
        assertRejected("questionId", () -> new StatePrefix(-3, PROMPT, RESPONSE));
        assertRejected("promptIds", () -> new StatePrefix(0, null, RESPONSE));
        assertRejected("promptIds", () -> new StatePrefix(0, new int[0], RESPONSE));
        assertRejected("promptIds[0]", () -> new StatePrefix(0, new int[] {-1}, RESPONSE));
        assertRejected("responsePrefixIds", () -> new StatePrefix(0, PROMPT, null));
        assertRejected("responsePrefixIds[0]", () -> new StatePrefix(0, PROMPT, new int[] {-7}));
    }

    @Test
    void segmentAndPartition() {
        assertRejected("start", () -> new Segment(-1, 2, true));
        assertRejected("end", () -> new Segment(2, 2, true));
        assertRejected("end", () -> new Segment(3, 2, true));
        assertRejected("responseLength", () -> new Partition(-1, 0, List.of()));
        assertRejected("preSegmentLength", () -> new Partition(3, 4, List.of()));
        assertRejected("preSegmentLength", () -> new Partition(3, -1, List.of()));
        assertRejected("segments", () -> new Partition(3, 0, null));
        assertRejected("segments[0]", () -> new Partition(3, 0, Arrays.asList((Segment) null)));
        // A gap, an overlap, a short end, uncovered tokens.
        assertRejected(
                "segments[1]", () -> new Partition(5, 0, List.of(new Segment(0, 2, true), new Segment(3, 5, true))));
        assertRejected(
                "segments[1]", () -> new Partition(5, 0, List.of(new Segment(0, 3, true), new Segment(2, 5, true))));
        assertRejected("segments[0]", () -> new Partition(5, 1, List.of(new Segment(0, 5, true))));
        assertRejected("segments end", () -> new Partition(5, 0, List.of(new Segment(0, 4, true))));
        assertRejected("segments end", () -> new Partition(5, 2, List.of()));
        assertRejected("boundaries", () -> Partition.fromBoundaries(3, null));
        assertRejected("boundaries[1]", () -> Partition.fromBoundaries(3, new int[] {1, 1}));
        assertRejected("boundaries[0]", () -> Partition.fromBoundaries(3, new int[] {-1}));
        assertRejected("boundaries[1]", () -> Partition.fromBoundaries(3, new int[] {0, 3}));
        assertRejected("responseLength", () -> Partition.unscored(-2));
    }

    @Test
    void partitions() {
        for (double rho : new double[] {0, -0.5, 1.0001, Double.NaN, Double.POSITIVE_INFINITY}) {
            assertRejected("rho", () -> new CutpointPartition(rho, 5));
        }
        assertRejected("cutpointInterval", () -> new CutpointPartition(0.9, 0));
        assertRejected("cutpointInterval", () -> new CutpointPartition(0.9, -5));
        assertRejected("segmentTokens", () -> new FixedTokenPartition(0));
        assertRejected("segmentTokens", () -> new FixedTokenPartition(-30));
        assertRejected("parts", () -> new EqualSplitPartition(0));
        assertRejected("parts", () -> new EqualSplitPartition(-4));
        assertRejected("responseLength", () -> EqualSplitPartition.defaults().partSizes(-1));
        assertRejected("decoder", () -> new NewlineStepPartition(null));
        assertRejected("pieceOf", () -> TokenTextDecoder.perToken(null));
        assertRejected("text", () -> NewlineStepPartition.stepBoundaries(null));
        assertRejected("trajectory", () -> CutpointPartition.defaults().cutpoints(null));
        NewlineStepPartition newline = new NewlineStepPartition(TokenTextDecoder.perToken(id -> "x"));
        for (SegmentPartition p : List.of(
                CutpointPartition.defaults(), new FixedTokenPartition(3), EqualSplitPartition.defaults(), newline)) {
            assertRejected("trajectory", () -> p.split(null));
        }
        assertRejected("trajectory", () -> newline.tokenSteps(null));
        // A decoder that breaks its contract is a programming error of the decoder, not bad input.
        assertThrows(
                IllegalStateException.class,
                () -> new NewlineStepPartition(ids -> new String[ids.length + 1]).split(good()));
        assertThrows(
                IllegalStateException.class,
                () -> new NewlineStepPartition(ids -> new String[ids.length]).split(good()));
        assertThrows(IllegalStateException.class, () -> new NewlineStepPartition(ids -> null).split(good()));
    }

    @Test
    void monteCarloValue() {
        assertRejected("reward", () -> new RolloutOutcome(Double.NaN, FinishReason.EOS));
        assertRejected("reward", () -> new RolloutOutcome(Double.NEGATIVE_INFINITY, FinishReason.EOS));
        assertRejected("finishReason", () -> new RolloutOutcome(1, null));
        assertRejected("reward", () -> MonteCarloValue.score(Double.NaN, FinishReason.LENGTH));
        assertRejected("finishReason", () -> MonteCarloValue.score(1, null));
        assertRejected("rollouts", () -> MonteCarloValue.of(null));
        assertRejected(
                "rollouts[1]", () -> MonteCarloValue.of(Arrays.asList(new RolloutOutcome(1, FinishReason.EOS), null)));
        assertRejected("rewards", () -> MonteCarloValue.of(null, new FinishReason[0]));
        assertRejected("finishReasons", () -> MonteCarloValue.of(new double[0], null));
        assertRejected("finishReasons", () -> MonteCarloValue.of(new double[2], new FinishReason[] {FinishReason.EOS}));
        assertRejected(
                "rewards[1]",
                () -> MonteCarloValue.of(
                        new double[] {0, Double.NaN}, new FinishReason[] {FinishReason.EOS, FinishReason.EOS}));
        assertRejected("finishReasons[0]", () -> MonteCarloValue.of(new double[1], new FinishReason[1]));
    }

    @Test
    void configs() {
        assertRejected("rollouts", () -> new ChainAdvantageConfig(0, true, 0.9));
        assertRejected("rollouts", () -> new ChainAdvantageConfig(-9, true, 0.9));
        assertRejected("rollouts", () -> ChainAdvantageConfig.defaults().withRollouts(0));
        for (double rho : new double[] {0, 1.5, Double.NaN}) {
            assertRejected("rho", () -> new ChainAdvantageConfig(9, true, rho));
        }
        assertRejected("rollouts", () -> new VinePpoConfig(0, 25));
        assertRejected("maxStepsEstimated", () -> new VinePpoConfig(9, -1));
    }

    @Test
    void results() {
        Partition two = Partition.fromBoundaries(3, new int[] {0, 2});
        assertRejected("partition", () -> new SegmentAdvantages(null, new double[2], new double[2], new float[3]));
        assertRejected("startValues", () -> new SegmentAdvantages(two, new double[1], new double[2], new float[3]));
        assertRejected("advantages", () -> new SegmentAdvantages(two, new double[2], new double[3], new float[3]));
        assertRejected("tokenAdvantages", () -> new SegmentAdvantages(two, new double[2], new double[2], new float[2]));
        assertRejected("trajectories", () -> new SegmentAdvantageBatch(null, 0, 0));
        assertRejected("statesEstimated", () -> new SegmentAdvantageBatch(List.of(), 1, 2));
    }

    @Test
    void advantageEntriesCheckEverythingBeforeAnyWork() {
        AtomicInteger splits = new AtomicInteger();
        AtomicInteger estimates = new AtomicInteger();
        SegmentPartition countingPartition = t -> {
            splits.incrementAndGet();
            return new FixedTokenPartition(1).split(t);
        };
        ValueEstimator countingEstimator = (states, n) -> {
            estimates.incrementAndGet();
            return new double[states.size()];
        };
        ChainAdvantages chain =
                new ChainAdvantages(countingPartition, countingEstimator, ChainAdvantageConfig.defaults());
        VinePpoAdvantages vine = new VinePpoAdvantages(countingPartition, countingEstimator, VinePpoConfig.defaults());
        List<Trajectory> lastIsNull = new ArrayList<>(List.of(good(), good()));
        lastIsNull.add(null);
        for (var compute : List.<java.util.function.Function<List<Trajectory>, SegmentAdvantageBatch>>of(
                chain::compute, vine::compute)) {
            assertRejected("batch", () -> compute.apply(null));
            assertRejected("batch", () -> compute.apply(List.of()));
            assertRejected("batch[2]", () -> compute.apply(lastIsNull));
        }
        assertEquals(0, splits.get(), "no partition before the batch is checked");
        assertEquals(0, estimates.get(), "no estimate before the batch is checked");

        ValueEstimator estimator = countingEstimator;
        ChainAdvantageConfig config = ChainAdvantageConfig.defaults();
        assertRejected("partition", () -> new ChainAdvantages(null, estimator, config));
        assertRejected("estimator", () -> new ChainAdvantages(countingPartition, null, config));
        assertRejected("config", () -> new ChainAdvantages(countingPartition, estimator, null));
        assertRejected("estimator", () -> ChainAdvantages.spoChain(null));
        assertRejected("steps", () -> new VinePpoAdvantages(null, estimator, VinePpoConfig.defaults()));
        assertRejected("estimator", () -> new VinePpoAdvantages(countingPartition, null, VinePpoConfig.defaults()));
        assertRejected("config", () -> new VinePpoAdvantages(countingPartition, estimator, null));
        assertRejected("decoder", () -> VinePpoAdvantages.gsm8k(null, estimator));
    }
}
