package io.github.spo4j.train;

import io.github.spo4j.rollout.ChainSampler;
import java.util.ArrayList;
import java.util.List;

/**
 * GRPO, GRPO+mask and RLOO: G responses per question; response j of a group gets one advantage on every token, from
 * the group's rewards alone (whitened, or leave-one-out: {@code algo.group()}). Keeps nothing between iterations. A
 * rank samples its share of the questions; a group never spans ranks, so its baseline is local.
 */
final class GroupBaselineSource implements EpisodeSource {
    private final TrainingContext context;
    private final ChainSampler sampler;

    GroupBaselineSource(TrainingContext context) {
        this.context = context;
        sampler = context.chainSampler();
    }

    @Override
    public Batch collect(List<Integer> questions, int iteration) {
        long tokensBefore = sampler.generatedTokens();
        int g = context.algo().batching().samplesPerQuestion();
        DataParallel.Range mine = context.parallel().share(questions.size());
        TrainingContext.Groups sampled = context.sampleGroups(sampler, mine.of(questions), mine.from(), iteration);
        float[][] refLogp = context.referenceLogprobs(sampled.queries(), sampled.targets());
        List<Episode> episodes = new ArrayList<>(sampled.targets().size());
        for (int i = 0; i < mine.size(); i++) {
            float[] groupRewards = new float[g];
            for (int j = 0; j < g; j++) groupRewards[j] = (float) sampled.rewards()[i * g + j];
            float[] adv = context.algo().group().advantages(groupRewards);
            for (int j = 0; j < g; j++) {
                int k = i * g + j;
                int[] response = sampled.targets().get(k);
                episodes.add(new Episode(
                        sampled.queries().get(k),
                        response,
                        sampled.oldLogp()[k],
                        TrainingContext.constant(response.length, adv[j]),
                        TrainingContext.row(refLogp, k)));
            }
        }
        return context.globalBatch(
                episodes, sampled.rewardSum(), sampled.completions().size(), sampler.generatedTokens() - tokensBefore);
    }
}
