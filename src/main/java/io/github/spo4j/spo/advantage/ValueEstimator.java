package io.github.spo4j.spo.advantage;

import io.github.spo4j.spo.data.MonteCarloValue;
import io.github.spo4j.spo.data.StatePrefix;
import java.util.List;

/**
 * The port through which the advantage code asks for Monte-Carlo state values (SPO_SPEC §2 "rollouts"). The
 * rollout layer implements it with shared-prefix sampling: for each state, N continuations sampled with the
 * training sampling parameters, as one request that pays the prefix once (§9), each scored with the task's reward
 * and combined with {@link MonteCarloValue#of}.
 *
 * <p>The advantage code calls it once per batch, with every distinct state of the batch exactly once; with SPO-chain's
 * tie refinement, a second time with the states around tied segments (possibly none), which must get fresh
 * rollouts.
 */
@FunctionalInterface
public interface ValueEstimator {

    /**
     * @param states   distinct states, unmodifiable; each continues from {@link StatePrefix#tokens()} and is scored
     *                 against the answer of {@link StatePrefix#questionId()}
     * @param rollouts N &gt; 0, the number of rollouts per state
     * @return [states.size()] V̂ of each state, finite, in the order of {@code states}
     */
    double[] estimate(List<StatePrefix> states, int rollouts);
}
