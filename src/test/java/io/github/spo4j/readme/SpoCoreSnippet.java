package io.github.spo4j.readme;

import io.github.spo4j.spo.advantage.ChainAdvantages;
import io.github.spo4j.spo.advantage.SegmentAdvantageBatch;
import io.github.spo4j.spo.advantage.TreeAdvantageResult;
import io.github.spo4j.spo.advantage.TreeAdvantages;
import io.github.spo4j.spo.advantage.ValueEstimator;
import io.github.spo4j.spo.data.SamplingTree;
import io.github.spo4j.spo.data.StatePrefix;
import io.github.spo4j.spo.data.Trajectory;
import io.github.spo4j.spo.data.TreeEdge;
import io.github.spo4j.spo.data.TreeNode;
import io.github.spo4j.spo.replay.ReplayBuffer;
import io.github.spo4j.tasks.FinishReason;
import java.util.List;

/** README, "The SPO core": chain advantages, tree advantages and the replay buffer. */
final class SpoCoreSnippet {
    private SpoCoreSnippet() {}

    record Result(float[] tokenAdvantages, TreeAdvantageResult tree, List<TreeEdge> batch) {}

    static Result run(long seed) {
        int iteration = 0;
        List<Trajectory> trajectories = List.of(
                new Trajectory(
                        0,
                        new int[] {1, 2},
                        new int[] {5, 6, 7, 8, 9, 10, 11, 12},
                        new float[] {-0.9f, -0.01f, -1.2f, -0.02f, -0.7f, -0.3f, -0.01f, -2f},
                        1.0,
                        FinishReason.EOS),
                new Trajectory(
                        1,
                        new int[] {3},
                        new int[] {4, 4, 4},
                        new float[] {-1.5f, -0.4f, -0.05f},
                        0.0,
                        FinishReason.EOS));
        SamplingTree.Builder b = SamplingTree.builder(0, new int[] {1, 2}, 2);
        int mid = b.add(
                SamplingTree.ROOT,
                new int[] {5, 6},
                new float[] {-0.5f, -0.6f},
                TreeNode.NO_REWARD,
                FinishReason.LENGTH);
        b.add(mid, new int[] {7}, new float[] {-0.2f}, 1f, FinishReason.EOS);
        b.add(mid, new int[] {8}, new float[] {-1.7f}, 0f, FinishReason.EOS);
        b.add(SamplingTree.ROOT, new int[] {9}, new float[] {-1.1f}, 1f, FinishReason.EOS);
        List<SamplingTree> samplingTrees = List.of(b.build());
        // README begin
        ValueEstimator rollouts = (states, n) -> meanRewards(states, n); // V̂ of each state from n samples of yours
        SegmentAdvantageBatch chain = ChainAdvantages.spoChain(rollouts).compute(trajectories);
        float[] tokenAdvantages = chain.get(0).tokenAdvantages(); // one per response token

        TreeAdvantageResult tree = TreeAdvantages.create().compute(samplingTrees, iteration);
        ReplayBuffer replay = new ReplayBuffer(1024, seed);
        List<TreeEdge> batch = replay.nextBatch(iteration, tree.edges()).edges();
        // README end
        return new Result(tokenAdvantages, tree, batch);
    }

    /** A stand-in for rollouts: states further into the response are worth more. */
    private static double[] meanRewards(List<StatePrefix> states, int n) {
        double[] v = new double[states.size()];
        for (int i = 0; i < v.length; i++) v[i] = Math.min(1.0, states.get(i).responsePrefixLength() / 8.0);
        return v;
    }
}
