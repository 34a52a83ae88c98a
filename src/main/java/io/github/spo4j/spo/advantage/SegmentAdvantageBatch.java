package io.github.spo4j.spo.advantage;

import io.github.spo4j.spo.SpoArguments;
import java.util.List;

/**
 * The credit of a batch of trajectories, in batch order, with the cost of its value estimation.
 *
 * @param trajectories    one entry per trajectory of the batch, in order
 * @param statesRequested boundary states whose value was needed, counted per trajectory
 * @param statesEstimated distinct states sent to the {@link ValueEstimator} (each estimated once)
 */
public record SegmentAdvantageBatch(List<SegmentAdvantages> trajectories, int statesRequested, int statesEstimated) {

    public SegmentAdvantageBatch {
        SpoArguments.notNull(trajectories, "trajectories");
        trajectories = List.copyOf(trajectories);
        SpoArguments.require(
                statesEstimated >= 0 && statesEstimated <= statesRequested,
                "statesEstimated must be in [0, statesRequested = " + statesRequested + "], got " + statesEstimated);
    }

    public SegmentAdvantages get(int index) {
        return trajectories.get(index);
    }

    public int size() {
        return trajectories.size();
    }
}
