package io.github.spo4j.train;

import io.github.spo4j.kernels.Backend;
import io.github.spo4j.model.io.AtomicFiles;
import io.github.spo4j.rollout.SampledTree;
import io.github.spo4j.rollout.TreeSampler;
import io.github.spo4j.rollout.TreeShape;
import io.github.spo4j.spo.AlgorithmConfig;
import io.github.spo4j.spo.advantage.TreeAdvantages;
import io.github.spo4j.spo.data.SamplingTree;
import io.github.spo4j.spo.data.TreeEdge;
import io.github.spo4j.spo.replay.ReplayBuffer;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * SPO-tree: one tree per question (branching × segment tokens), π_old of every node's segment given its parent's
 * text, the tree backup's edge advantages (SPO_SPEC §3), and the {@link ReplayBuffer} that turns each iteration's
 * edges into exactly E episodes, keeping unsampled edges for later iterations. The buffer is the family's state: a
 * checkpoint holds it as {@value #REPLAY}. A rank samples and backs up the trees of its share of the questions; the
 * edges of all ranks are gathered in rank order into one buffer that every rank keeps alike.
 */
final class TreeReplaySource implements EpisodeSource {
    /** The checkpoint file of the replay buffer. */
    static final String REPLAY = "replay.bin";

    private static final int REPLAY_MAGIC = 0x53504F52; // "SPOR"

    private final TrainingContext context;
    private final TreeSampler sampler;
    private final TreeShape shape;
    private final TreeAdvantages treeAdvantages;
    private final ReplayBuffer replay;

    TreeReplaySource(TrainingContext context) {
        this.context = context;
        AlgorithmConfig.TreeSettings t = context.algo().tree();
        if (t == null) throw new IllegalArgumentException(context.algo().algorithm() + " samples no trees");
        sampler = new TreeSampler(context.policy(), context.pool());
        shape = new TreeShape(
                t.branching().stream().mapToInt(Integer::intValue).toArray(), t.segmentTokens(), t.branchBelow());
        replay = new ReplayBuffer(
                context.algo().batching().episodesPerIteration(),
                t.replayMaxAge(),
                t.replayPerQuestion(),
                Seeds.mix(context.config().run().seed(), Seeds.REPLAY));
        // The backup runs beside the policy: the CUDA kernel (bit-identical to the CPU's) on a GPU.
        Backend backup = context.policy().device().isCuda() ? Backend.CUDA : Backend.autoHost();
        treeAdvantages = new TreeAdvantages(backup, t.backup(), t.truncatedLeaves());
    }

    @Override
    public Batch collect(List<Integer> questions, int iteration) {
        long tokensBefore = sampler.generatedTokens();
        DataParallel.Range mine = context.parallel().share(questions.size());
        List<Integer> myQuestions = mine.of(questions);
        long start = System.nanoTime();
        List<SampledTree> sampled = sample(context.prompts(myQuestions), mine.from(), iteration);
        context.clock().stop(IterationClock.Phase.SAMPLING, start);
        // π_old of every node's segment given its parent's text, in one batched forward (SPO_SPEC §3).
        List<int[]> queries = new ArrayList<>(), targets = new ArrayList<>();
        for (SampledTree tree : sampled) {
            for (int n = 0; n < tree.numNodes(); n++) {
                SampledTree.Node node = tree.nodes().get(n);
                int[] prompt = tree.promptIds();
                int[] above = node.parent() == SamplingTree.ROOT ? new int[0] : tree.responseIds(node.parent());
                int[] query = Arrays.copyOf(prompt, prompt.length + above.length);
                System.arraycopy(above, 0, query, prompt.length, above.length);
                queries.add(query);
                targets.add(node.segment().tokens());
            }
        }
        float[][] oldLogp = context.logprobs(queries, targets);
        TrainingTask task = context.task();
        List<SamplingTree> trees = new ArrayList<>(sampled.size());
        double rewardSum = 0;
        int leaves = 0;
        for (int i = 0, row = 0; i < sampled.size(); i++) {
            SampledTree tree = sampled.get(i);
            float[][] nodeLogp = Arrays.copyOfRange(oldLogp, row, row + tree.numNodes());
            row += tree.numNodes();
            SamplingTree st = tree.toSamplingTree(myQuestions.get(i), task.trainReward(), nodeLogp);
            trees.add(st);
            for (int n = 0; n < st.numNodes(); n++) {
                if (!st.isLeaf(n)) continue;
                rewardSum += task.reward(
                        task.train().get(myQuestions.get(i)),
                        tree.responseIds(n),
                        tree.nodes().get(n).segment().finishReason());
                leaves++;
            }
        }
        List<TreeEdge> myEdges = trees.isEmpty()
                ? List.of()
                : treeAdvantages.compute(trees, iteration).edges();
        // The buffer draws from every rank's edges, so each rank holds the same buffer and the same episodes.
        List<TreeEdge> edges = replay.nextBatch(iteration, context.parallel().gatherEdges(myEdges))
                .edges();
        List<int[]> edgeQueries = new ArrayList<>(edges.size()), edgeTargets = new ArrayList<>(edges.size());
        for (TreeEdge e : edges) {
            edgeQueries.add(e.queryIds());
            edgeTargets.add(e.responseIds());
        }
        float[][] refLogp = context.sharedReferenceLogprobs(edgeQueries, edgeTargets);
        List<Episode> episodes = new ArrayList<>(edges.size());
        for (int k = 0; k < edges.size(); k++) {
            TreeEdge e = edges.get(k);
            episodes.add(new Episode(
                    edgeQueries.get(k),
                    edgeTargets.get(k),
                    e.oldLogp(),
                    TrainingContext.constant(e.responseLength(), e.advantage()),
                    TrainingContext.row(refLogp, k)));
        }
        double[] totals = context.parallel().sum(rewardSum, leaves, sampler.generatedTokens() - tokensBefore);
        return new Batch(episodes, totals[1] == 0 ? 0 : totals[0] / totals[1], (int) totals[1], (long) totals[2]);
    }

    /**
     * One tree per prompt, as many trees per sampler call as the run's stream cap holds leaves. The prompts are
     * positions {@code first, first + 1, ...} of the iteration's questions; calls are cut at the positions a single
     * process cuts them, and each tree draws the streams it has there.
     */
    private List<SampledTree> sample(List<int[]> prompts, int first, int iteration) {
        int leavesPerTree = 1;
        for (int b : shape.branching()) leavesPerTree *= b;
        int treesPerCall = Math.max(1, context.config().run().maxStreams() / leavesPerTree);
        Threads.sampling(context.policy());
        List<SampledTree> sampled = new ArrayList<>(prompts.size());
        int end = first + prompts.size();
        for (int from = first; from < end; ) {
            int call = from - from % treesPerCall;
            int to = Math.min(end, call + treesPerCall);
            sampled.addAll(sampler.sample(
                    prompts.subList(from - first, to - first),
                    from - call,
                    shape,
                    context.generation(Seeds.mix(Seeds.TREES, call), iteration)));
            from = to;
        }
        return sampled;
    }

    /** The replay buffer (its edges wait here between iterations). */
    ReplayBuffer replay() {
        return replay;
    }

    @Override
    public void save(Path checkpoint) throws IOException {
        AtomicFiles.write(checkpoint.resolve(REPLAY), replayBytes(replay));
    }

    @Override
    public void restore(Path checkpoint) throws IOException {
        readReplay(checkpoint.resolve(REPLAY), replay);
    }

    /**
     * The buffer as {@value #REPLAY} holds it, big-endian: magic "SPOR", the last iteration, the edge count, then
     * per pending edge its question, iteration, query and response (each a length and the ids), the response's π_old
     * log-probs and the advantage.
     */
    static byte[] replayBytes(ReplayBuffer replay) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(REPLAY_MAGIC);
            out.writeInt(replay.lastIteration());
            List<TreeEdge> edges = replay.pending();
            out.writeInt(edges.size());
            for (TreeEdge e : edges) writeEdge(out, e);
        }
        return bytes.toByteArray();
    }

    /** Restores a fresh {@code replay} from {@code file} ({@link #replayBytes}'s format). */
    static void readReplay(Path file, ReplayBuffer replay) throws IOException {
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(file)))) {
            if (in.readInt() != REPLAY_MAGIC) throw new IOException(file + " is not a replay buffer file");
            int last = in.readInt();
            int n = in.readInt();
            List<TreeEdge> edges = new ArrayList<>(n);
            for (int i = 0; i < n; i++) edges.add(readEdge(in));
            replay.restore(edges, last);
        } catch (EOFException e) {
            throw new IOException(file + " ends early: truncated", e);
        }
    }

    /** One edge: its question, iteration, query and response (each a length and the ids), π_old, the advantage. */
    static void writeEdge(DataOutputStream out, TreeEdge e) throws IOException {
        out.writeInt(e.questionId());
        out.writeInt(e.iteration());
        DataParallel.writeInts(out, e.queryIds());
        DataParallel.writeInts(out, e.responseIds());
        for (float x : e.oldLogp()) out.writeFloat(x);
        out.writeFloat(e.advantage());
    }

    static TreeEdge readEdge(DataInputStream in) throws IOException {
        int q = in.readInt(), it = in.readInt();
        int[] query = DataParallel.readInts(in), response = DataParallel.readInts(in);
        float[] logp = new float[response.length];
        for (int t = 0; t < logp.length; t++) logp[t] = in.readFloat();
        return new TreeEdge(q, it, query, response, logp, in.readFloat());
    }
}
