package io.github.spo4j.spo.advantage;

import io.github.spo4j.spo.SpoArguments;
import io.github.spo4j.spo.data.MonteCarloValue;
import io.github.spo4j.spo.data.Segment;
import io.github.spo4j.spo.data.StatePrefix;
import io.github.spo4j.spo.data.Trajectory;
import io.github.spo4j.spo.partition.Partition;
import io.github.spo4j.spo.partition.SegmentPartition;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The Monte-Carlo segment credit shared by SPO-chain (SPO_SPEC §2) and VinePPO (§8). For a trajectory cut into
 * segments j = 0 … S−1 with boundary states s_j:
 *
 * <pre>
 *   V(s_S) = the trajectory's end value (R, or 0 when cut by the length limit)
 *   V(s_j) = V̂(s_j)     if s_j is estimated            (mean of N rollouts, {@link MonteCarloValue})
 *          = V(s_{j+1})  otherwise                      (back-fill)
 *   A_j    = V(s_{j+1}) − V(s_j),  broadcast to the tokens of segment j; pre-segment tokens get 0
 * </pre>
 *
 * This is SPO-chain's A_j = V̂(s_{j+1}) − V̂(s_j), A_last = R − V̂(s_last) when every state is estimated. It is also
 * VinePPO's A_i = r_i + V_{i+1} − V_i with r_i = 0 except r_last = R and V(terminal) = 0, whose back-fill
 * V_i = r_i + V_{i+1} is V_{i+1} before the last step and R at it: the same numbers, with V(s_S) standing for
 * r_last + V(terminal). The two differ only in the partition, VinePPO's cap on estimated states and SPO-chain's
 * generator-side zeroing, which are the parameters here.
 *
 * <p>Over the whole batch, identical states are estimated once: one {@link ValueEstimator} call with the distinct
 * states in first-seen order (SPO_SPEC §2 "deduplicated", §9).
 *
 * <p>Tie refinement (not in the paper): with few rollouts both ends of a segment often get the same V̂, and its
 * tokens get no credit although the true values differ. With {@code tieRollouts} = M &gt; 0, a second call gives M
 * more rollouts to every estimated state that starts or ends a segment whose two values tie after the first N, and
 * such a state's V̂ becomes the mean of all N + M. A segment whose values are truly equal stays near zero; one whose
 * values only tied by chance gets the difference back. The states chosen depend only on each trajectory's own
 * values, so data-parallel shares of a batch choose exactly the states one process would.
 */
final class SegmentCredit {
    private static final int NOT_ESTIMATED = -1;

    private SegmentCredit() {}

    /**
     * @param estimatedStates only segments j &lt; estimatedStates of each trajectory may have an estimated start
     * @param tieRollouts     M &gt;= 0, the rollouts added to the states around tied segments (0: none, one call)
     * @param zeroConfident   whether to zero the advantage of tokens with p_t &gt; rho
     */
    static SegmentAdvantageBatch assign(
            List<Trajectory> batch,
            SegmentPartition partition,
            ValueEstimator estimator,
            int rollouts,
            int tieRollouts,
            int estimatedStates,
            boolean zeroConfident,
            double rho) {
        checkBatch(batch);
        int size = batch.size();

        Partition[] partitions = new Partition[size];
        for (int b = 0; b < size; b++) partitions[b] = capEstimates(split(partition, batch.get(b), b), estimatedStates);

        Map<StatePrefix, Integer> distinct = new LinkedHashMap<>();
        int[][] stateIndex = new int[size][];
        int requested = 0;
        for (int b = 0; b < size; b++) {
            List<Segment> segments = partitions[b].segments();
            stateIndex[b] = new int[segments.size()];
            for (int j = 0; j < segments.size(); j++) {
                if (!segments.get(j).startValueEstimated()) {
                    stateIndex[b][j] = NOT_ESTIMATED;
                    continue;
                }
                requested++;
                StatePrefix state = batch.get(b).prefix(segments.get(j).start());
                Integer index = distinct.get(state);
                if (index == null) {
                    index = distinct.size();
                    distinct.put(state, index);
                }
                stateIndex[b][j] = index;
            }
        }
        List<StatePrefix> states = List.copyOf(distinct.keySet());
        double[] values = estimate(estimator, states, rollouts);
        if (tieRollouts > 0)
            refineTies(batch, partitions, stateIndex, states, values, estimator, rollouts, tieRollouts);

        List<SegmentAdvantages> out = new ArrayList<>(size);
        for (int b = 0; b < size; b++) {
            out.add(credit(batch.get(b), partitions[b], stateIndex[b], values, zeroConfident, rho));
        }
        return new SegmentAdvantageBatch(out, requested, distinct.size());
    }

    /**
     * Gives {@code tieRollouts} more rollouts to each estimated state at either end of a segment whose two values
     * tie, and makes its value the mean of all its rollouts. Always calls the estimator (an empty list when nothing
     * ties), so every data-parallel share makes the same calls.
     */
    private static void refineTies(
            List<Trajectory> batch,
            Partition[] partitions,
            int[][] stateIndex,
            List<StatePrefix> states,
            double[] values,
            ValueEstimator estimator,
            int rollouts,
            int tieRollouts) {
        boolean[] tied = new boolean[states.size()];
        for (int b = 0; b < batch.size(); b++) {
            int[] index = stateIndex[b];
            for (int j = 0; j < index.length; j++) {
                if (index[j] == NOT_ESTIMATED) continue;
                boolean last = j + 1 == index.length;
                double end = last ? batch.get(b).endValue() : valueAt(index, j + 1, values, batch.get(b));
                if (end != values[index[j]]) continue;
                tied[index[j]] = true;
                if (!last && index[j + 1] != NOT_ESTIMATED) tied[index[j + 1]] = true;
            }
        }
        List<StatePrefix> more = new ArrayList<>();
        for (int i = 0; i < tied.length; i++) if (tied[i]) more.add(states.get(i));
        double[] extra = estimator.estimate(List.copyOf(more), tieRollouts);
        checkValues(extra, more);
        for (int i = 0, k = 0; i < tied.length; i++) {
            if (tied[i]) values[i] = (rollouts * values[i] + tieRollouts * extra[k++]) / (rollouts + tieRollouts);
        }
    }

    /** V(s_j): its estimate, or back-filled from the next estimated state or the end value. */
    private static double valueAt(int[] index, int j, double[] values, Trajectory trajectory) {
        for (int k = j; k < index.length; k++) if (index[k] != NOT_ESTIMATED) return values[index[k]];
        return trajectory.endValue();
    }

    /** Checks the whole batch before any partition or estimate is computed. */
    static void checkBatch(List<Trajectory> batch) {
        SpoArguments.notNull(batch, "batch");
        SpoArguments.require(!batch.isEmpty(), "batch must not be empty");
        for (int b = 0; b < batch.size(); b++) SpoArguments.notNull(batch.get(b), "batch[" + b + "]");
    }

    private static Partition split(SegmentPartition partition, Trajectory trajectory, int b) {
        Partition p = partition.split(trajectory);
        if (p == null || p.responseLength() != trajectory.responseLength()) {
            throw new IllegalStateException(
                    "partition returned " + (p == null ? "null" : "a partition of " + p.responseLength() + " tokens")
                            + " for batch[" + b + "] of " + trajectory.responseLength()
                            + " tokens");
        }
        return p;
    }

    private static Partition capEstimates(Partition p, int estimatedStates) {
        if (p.segmentCount() <= estimatedStates) return p;
        List<Segment> capped = new ArrayList<>(p.segments());
        for (int j = estimatedStates; j < capped.size(); j++)
            capped.set(j, capped.get(j).withStartValueEstimated(false));
        return new Partition(p.responseLength(), p.preSegmentLength(), capped);
    }

    private static double[] estimate(ValueEstimator estimator, List<StatePrefix> states, int rollouts) {
        if (states.isEmpty()) return new double[0]; // nothing to estimate: the port is not called
        double[] values = estimator.estimate(states, rollouts);
        checkValues(values, states);
        return values;
    }

    private static void checkValues(double[] values, List<StatePrefix> states) {
        if (values == null || values.length != states.size()) {
            throw new IllegalStateException("ValueEstimator returned "
                    + (values == null ? "null" : values.length + " values") + " for " + states.size() + " states");
        }
        for (int i = 0; i < values.length; i++) {
            if (!Double.isFinite(values[i])) {
                throw new IllegalStateException(
                        "ValueEstimator returned a non-finite value " + values[i] + " for " + states.get(i));
            }
        }
    }

    private static SegmentAdvantages credit(
            Trajectory trajectory, Partition p, int[] stateIndex, double[] values, boolean zeroConfident, double rho) {
        int segmentCount = p.segmentCount();
        double[] startValues = new double[segmentCount];
        double[] advantages = new double[segmentCount];
        double next = trajectory.endValue(); // V(s_S)
        for (int j = segmentCount - 1; j >= 0; j--) {
            startValues[j] = stateIndex[j] == NOT_ESTIMATED ? next : values[stateIndex[j]];
            advantages[j] = next - startValues[j];
            next = startValues[j];
        }
        float[] tokenAdvantages = new float[trajectory.responseLength()]; // pre-segment: 0
        for (int j = 0; j < segmentCount; j++) {
            Segment s = p.segments().get(j);
            Arrays.fill(tokenAdvantages, s.start(), s.end(), (float) advantages[j]);
        }
        if (zeroConfident) {
            for (int t = 0; t < tokenAdvantages.length; t++) {
                if (trajectory.tokenProbability(t) > rho) tokenAdvantages[t] = 0f;
            }
        }
        return new SegmentAdvantages(p, startValues, advantages, tokenAdvantages);
    }
}
