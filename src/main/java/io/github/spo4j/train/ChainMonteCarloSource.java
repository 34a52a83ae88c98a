package io.github.spo4j.train;

import io.github.spo4j.rollout.ChainSampler;
import io.github.spo4j.rollout.ChainValueEstimator;
import io.github.spo4j.spo.Algorithm;
import io.github.spo4j.spo.AlgorithmConfig;
import io.github.spo4j.spo.advantage.ChainAdvantages;
import io.github.spo4j.spo.advantage.SegmentAdvantageBatch;
import io.github.spo4j.spo.advantage.ValueEstimator;
import io.github.spo4j.spo.advantage.VinePpoAdvantages;
import io.github.spo4j.spo.data.Trajectory;
import io.github.spo4j.spo.partition.NewlineStepPartition;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * SPO-chain and VinePPO: G responses per question, each cut into segments (SPO-chain's cutpoints, VinePPO's newline
 * steps); a segment's advantage is the difference of the Monte-Carlo values of the states around it, N rollouts per
 * state drawn by the same sampler as the responses ({@link ChainValueEstimator}), so the rollout tokens count in the
 * iteration's tokens. Keeps nothing between iterations but its estimator, reseeded every iteration. A rank samples
 * and estimates its share of the questions; its rollouts draw the streams their states have in the whole iteration,
 * so the ranks together draw exactly the tokens of one process.
 */
final class ChainMonteCarloSource implements EpisodeSource {
    private final TrainingContext context;
    private final ChainSampler sampler;
    private final ChainValueEstimator estimator;
    private final Function<List<Trajectory>, SegmentAdvantageBatch> advantages;
    private int placements;

    ChainMonteCarloSource(TrainingContext context) {
        this.context = context;
        sampler = context.chainSampler();
        estimator = new ChainValueEstimator(
                sampler,
                context.generation(Seeds.MONTE_CARLO, 0),
                context.task().trainReward());
        // With several ranks, each rank's rollouts take the streams its states have in the whole iteration's requests.
        ValueEstimator placedEstimator = !context.parallel().distributed()
                ? estimator
                : (states, n) -> {
                    placements++;
                    estimator.placeNextEstimate(context.parallel().firstPositions(estimator.requestSizes(states)));
                    return estimator.estimate(states, n);
                };
        AlgorithmConfig algo = context.algo();
        if (algo.algorithm() == Algorithm.SPO_CHAIN) {
            advantages = new ChainAdvantages(
                    algo.chain().partition(), placedEstimator, algo.chain().advantages())::compute;
        } else if (algo.algorithm() == Algorithm.VINEPPO) {
            advantages = new VinePpoAdvantages(
                            new NewlineStepPartition(context.task().tokenizer()::tokenTexts),
                            placedEstimator,
                            algo.vine())::compute;
        } else {
            throw new IllegalArgumentException(algo.algorithm() + " is not a chain Monte-Carlo algorithm");
        }
    }

    @Override
    public Batch collect(List<Integer> questions, int iteration) {
        long tokensBefore = sampler.generatedTokens();
        int g = context.algo().batching().samplesPerQuestion();
        DataParallel.Range mine = context.parallel().share(questions.size());
        List<Integer> myQuestions = mine.of(questions);
        TrainingContext.Groups sampled = context.sampleGroups(sampler, myQuestions, mine.from(), iteration);
        List<Trajectory> batch = new ArrayList<>(sampled.targets().size());
        for (int k = 0; k < sampled.targets().size(); k++) {
            batch.add(new Trajectory(
                    myQuestions.get(k / g),
                    sampled.queries().get(k),
                    sampled.targets().get(k),
                    sampled.oldLogp()[k],
                    sampled.rewards()[k],
                    sampled.completions().get(k).finishReason()));
        }
        estimator.setSeed(context.seed(Seeds.MONTE_CARLO, iteration));
        Threads.sampling(context.policy());
        long start = System.nanoTime();
        placements = 0;
        List<Episode> episodes = new ArrayList<>(batch.size());
        if (!batch.isEmpty()) {
            SegmentAdvantageBatch segmentAdvantages = advantages.apply(batch);
            context.clock().stop(IterationClock.Phase.ROLLOUTS, start);
            float[][] refLogp = context.referenceLogprobs(sampled.queries(), sampled.targets());
            for (int k = 0; k < batch.size(); k++) {
                episodes.add(new Episode(
                        sampled.queries().get(k),
                        sampled.targets().get(k),
                        sampled.oldLogp()[k],
                        segmentAdvantages.get(k).tokenAdvantages(),
                        TrainingContext.row(refLogp, k)));
            }
        }
        // A rank with fewer estimator calls (no state to estimate) still takes part in the exchanges the others make.
        if (context.parallel().distributed()) {
            int calls = context.algo().algorithm() == Algorithm.SPO_CHAIN
                            && context.algo().chain().advantages().tieRollouts() > 0
                    ? 2
                    : 1;
            for (; placements < calls; placements++) context.parallel().firstPositions(new TreeMap<>());
        }
        return context.globalBatch(
                episodes, sampled.rewardSum(), sampled.completions().size(), sampler.generatedTokens() - tokensBefore);
    }
}
