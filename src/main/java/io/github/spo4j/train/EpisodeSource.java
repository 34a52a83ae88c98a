package io.github.spo4j.train;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * One algorithm family's part of an iteration (SPO_SPEC §0 steps 2–5): from the iteration's questions to the
 * episodes the PPO-clip update trains on. The family samples, scores, assigns token advantages and fetches the
 * reference log-probs; it owns whatever it keeps between iterations and writes that into checkpoints.
 * <ul>
 *   <li>{@link GroupBaselineSource}: G responses per question, each advantage from its group's rewards (GRPO,
 *       GRPO+mask, RLOO);
 *   <li>{@link ChainMonteCarloSource}: G responses per question, token advantages from Monte-Carlo values of their
 *       segments (SPO-chain's cutpoints, VinePPO's newline steps);
 *   <li>{@link TreeReplaySource}: one tree per question, edge advantages from the tree backup, trained through a
 *       replay buffer that lives across iterations and checkpoints (SPO-tree).
 * </ul>
 */
interface EpisodeSource {
    /**
     * One iteration's episodes.
     *
     * @param meanReward      mean reward of the sampled responses (tree leaves for SPO-tree)
     * @param responses       responses scored (tree leaves for SPO-tree)
     * @param generatedTokens tokens generated in the iteration: responses, Monte-Carlo rollouts, tree segments
     */
    record Batch(List<Episode> episodes, double meanReward, int responses, long generatedTokens) {}

    /** The family of {@code context}'s algorithm. */
    static EpisodeSource of(TrainingContext context) {
        return switch (context.algo().algorithm()) {
            case GRPO, GRPO_MASK, RLOO -> new GroupBaselineSource(context);
            case SPO_CHAIN, VINEPPO -> new ChainMonteCarloSource(context);
            case SPO_TREE -> new TreeReplaySource(context);
        };
    }

    /** Samples {@code questions} (indices into the train set) into iteration {@code iteration}'s episodes. */
    Batch collect(List<Integer> questions, int iteration);

    /** Writes the family's state into the checkpoint directory being assembled (nothing for a stateless family). */
    default void save(Path checkpoint) throws IOException {}

    /** Puts the state {@link #save} wrote back, into a source that has not collected yet. */
    default void restore(Path checkpoint) throws IOException {}
}
