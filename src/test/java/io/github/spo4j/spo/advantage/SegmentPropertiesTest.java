package io.github.spo4j.spo.advantage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.spo4j.spo.data.ChainTestData;
import io.github.spo4j.spo.data.Segment;
import io.github.spo4j.spo.data.StatePrefix;
import io.github.spo4j.spo.data.Trajectory;
import io.github.spo4j.spo.partition.CutpointPartition;
import io.github.spo4j.spo.partition.EqualSplitPartition;
import io.github.spo4j.spo.partition.FixedTokenPartition;
import io.github.spo4j.spo.partition.Partition;
import io.github.spo4j.spo.partition.SegmentPartition;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Properties over seeded random batches, for every partition. */
class SegmentPropertiesTest {
    private static final int BATCHES = 40;
    private static final int BATCH_SIZE = 24;

    static List<SegmentPartition> partitions() {
        return ChainTestData.partitions();
    }

    private static List<List<Trajectory>> batches() {
        List<List<Trajectory>> out = new ArrayList<>();
        for (int seed = 0; seed < BATCHES; seed++) out.add(ChainTestData.randomBatch(seed, BATCH_SIZE));
        return out;
    }

    @ParameterizedTest
    @MethodSource("partitions")
    void partitionsCoverEveryTokenExactlyOnce(SegmentPartition partition) {
        for (List<Trajectory> batch : batches()) {
            for (Trajectory t : batch) {
                Partition p = partition.split(t);
                assertEquals(t.responseLength(), p.responseLength());
                int[] covered = new int[t.responseLength()];
                for (int i = 0; i < p.preSegmentLength(); i++) covered[i]++;
                for (Segment s : p.segments()) {
                    assertTrue(s.length() > 0);
                    for (int i = s.start(); i < s.end(); i++) covered[i]++;
                }
                int[] once = new int[t.responseLength()];
                Arrays.fill(once, 1);
                assertArrayEquals(once, covered, partition + " on " + t);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("partitions")
    void partitionsFollowTheirRule(SegmentPartition partition) {
        for (List<Trajectory> batch : batches()) {
            for (Trajectory t : batch) {
                Partition p = partition.split(t);
                List<Segment> segments = p.segments();
                if (partition instanceof CutpointPartition c) {
                    // Pre-segment tokens are confident; a segment starts at a cutpoint and holds K of them
                    // (the last at most K).
                    for (int i = 0; i < p.preSegmentLength(); i++) assertTrue(t.tokenProbability(i) >= c.rho());
                    for (int j = 0; j < segments.size(); j++) {
                        Segment s = segments.get(j);
                        assertTrue(t.tokenProbability(s.start()) < c.rho());
                        int count = 0;
                        for (int i = s.start(); i < s.end(); i++) count += t.tokenProbability(i) < c.rho() ? 1 : 0;
                        if (j + 1 < segments.size()) assertEquals(c.cutpointInterval(), count);
                        else assertTrue(count >= 1 && count <= c.cutpointInterval());
                    }
                } else if (partition instanceof FixedTokenPartition f) {
                    assertEquals(0, p.preSegmentLength());
                    for (int j = 0; j + 1 < segments.size(); j++)
                        assertEquals(f.segmentTokens(), segments.get(j).length());
                } else if (partition instanceof EqualSplitPartition e && t.responseLength() > 0) {
                    int parts = Math.min(e.parts(), t.responseLength());
                    assertEquals(parts - 1, segments.size());
                    int[] sizes = new int[parts];
                    sizes[0] = p.preSegmentLength();
                    for (int j = 0; j < segments.size(); j++)
                        sizes[j + 1] = segments.get(j).length();
                    int min = Arrays.stream(sizes).min().getAsInt();
                    int max = Arrays.stream(sizes).max().getAsInt();
                    assertTrue(max - min <= 1);
                    for (int j = 1; j < parts; j++) assertTrue(sizes[j] <= sizes[j - 1]);
                }
                for (Segment s : segments) assertTrue(s.startValueEstimated());
            }
        }
    }

    /** Σ_j A_j = V(s_S) − V(s_0) = end value − V̂(first estimated state), for SPO-chain and capped VinePPO alike. */
    @ParameterizedTest
    @MethodSource("partitions")
    void segmentAdvantagesTelescope(SegmentPartition partition) {
        for (List<Trajectory> batch : batches()) {
            RecordingEstimator estimator = new RecordingEstimator(RecordingEstimator::hashValue);
            SegmentAdvantageBatch chain =
                    new ChainAdvantages(partition, estimator, ChainAdvantageConfig.defaults()).compute(batch);
            SegmentAdvantageBatch vine =
                    new VinePpoAdvantages(partition, estimator, new VinePpoConfig(3, 2)).compute(batch);
            for (int b = 0; b < batch.size(); b++) {
                for (SegmentAdvantages a : List.of(chain.get(b), vine.get(b))) {
                    if (a.segmentCount() == 0) continue;
                    Trajectory t = batch.get(b);
                    double sum = Arrays.stream(a.advantages()).sum();
                    double first = RecordingEstimator.hashValue(
                            t.prefix(a.partition().segments().get(0).start()));
                    assertEquals(t.endValue() - first, sum, 1e-12);
                }
            }
        }
    }

    /** Token advantages are the owning segment's advantage, 0 in the pre-segment, 0 where zeroed (p &gt; ρ). */
    @ParameterizedTest
    @MethodSource("partitions")
    void tokenAdvantagesBroadcastSegmentAdvantages(SegmentPartition partition) {
        for (List<Trajectory> batch : batches()) {
            ValueEstimator estimator = new RecordingEstimator(RecordingEstimator::hashValue);
            SegmentAdvantageBatch plain = new ChainAdvantages(
                            partition,
                            estimator,
                            ChainAdvantageConfig.defaults().withZeroConfidentTokens(false))
                    .compute(batch);
            SegmentAdvantageBatch zeroed =
                    new ChainAdvantages(partition, estimator, ChainAdvantageConfig.defaults()).compute(batch);
            for (int b = 0; b < batch.size(); b++) {
                Trajectory t = batch.get(b);
                int[] owner = plain.get(b).partition().segmentOfToken();
                double[] segmentAdvantages = plain.get(b).advantages();
                float[] tokens = plain.get(b).tokenAdvantages();
                float[] zeroedTokens = zeroed.get(b).tokenAdvantages();
                for (int i = 0; i < t.responseLength(); i++) {
                    float expected = owner[i] == Partition.PRE_SEGMENT ? 0f : (float) segmentAdvantages[owner[i]];
                    assertEquals(expected, tokens[i]);
                    assertEquals(t.tokenProbability(i) > 0.9 ? 0f : expected, zeroedTokens[i]);
                }
            }
        }
    }

    /**
     * The estimator is called once per batch, with every distinct boundary state exactly once, and each segment
     * reads back the value of its own state. The expected states are rebuilt here from the partitions.
     */
    @ParameterizedTest
    @MethodSource("partitions")
    void distinctStatesAreEstimatedOnceInOneCall(SegmentPartition partition) {
        int sharedSomewhere = 0;
        int withStates = 0;
        for (List<Trajectory> batch : batches()) {
            RecordingEstimator estimator = new RecordingEstimator(RecordingEstimator::hashValue);
            SegmentAdvantageBatch out =
                    new ChainAdvantages(partition, estimator, ChainAdvantageConfig.defaults()).compute(batch);

            Set<StatePrefix> expected = new LinkedHashSet<>();
            int requested = 0;
            for (Trajectory t : batch) {
                for (Segment s : partition.split(t).segments()) {
                    int[] response = t.responseIds();
                    expected.add(new StatePrefix(t.questionId(), t.promptIds(), Arrays.copyOf(response, s.start())));
                    requested++;
                }
            }
            assertEquals(requested, out.statesRequested());
            assertEquals(expected.size(), out.statesEstimated());
            if (expected.isEmpty()) {
                assertEquals(0, estimator.calls.size());
                continue;
            }
            withStates++;
            List<StatePrefix> sent = estimator.onlyCall();
            assertEquals(sent.size(), new HashSet<>(sent).size(), "a state was sent twice");
            assertEquals(expected, new HashSet<>(sent));
            if (requested > expected.size()) sharedSomewhere++;

            for (int b = 0; b < batch.size(); b++) {
                Trajectory t = batch.get(b);
                List<Segment> segments = out.get(b).partition().segments();
                double[] values = out.get(b).startValues();
                for (int j = 0; j < segments.size(); j++) {
                    assertEquals(
                            RecordingEstimator.hashValue(
                                    t.prefix(segments.get(j).start())),
                            values[j]);
                }
            }
        }
        // The random batches share states (prompts, common stems, repeated responses): deduplication was exercised.
        if (withStates > 0) assertTrue(sharedSomewhere > 0, "no batch shared a state for " + partition);
    }
}
