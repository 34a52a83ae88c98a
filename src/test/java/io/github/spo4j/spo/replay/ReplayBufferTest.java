package io.github.spo4j.spo.replay;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.spo4j.spo.data.TreeEdge;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The tree-edge replay buffer (SPO_SPEC §3): ageing, per-question sampling, single use, batch size, seeding. */
class ReplayBufferTest {

    /** Edges of one question and iteration; response ids (question, iteration, i) make each one distinct. */
    private static List<TreeEdge> edges(int question, int iteration, int count) {
        List<TreeEdge> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            out.add(new TreeEdge(
                    question,
                    iteration,
                    new int[] {question},
                    new int[] {question, iteration, i},
                    new float[] {-0.1f * (i + 1), -0.5f, -2f},
                    i % 2 == 0 ? 0.5f : -0.25f));
        }
        return out;
    }

    private static Set<TreeEdge> identitySet(List<TreeEdge> edges) {
        Set<TreeEdge> set = Collections.newSetFromMap(new IdentityHashMap<>());
        set.addAll(edges);
        return set;
    }

    @Test
    void edgesAgeOutAfterEightIterations() {
        // 300 edges of one question: 32 are drawn per iteration, 0..7 (ages 0..7) take 256; at iteration 8 the
        // remaining 44 are 8 iterations old and dropped.
        ReplayBuffer buffer = new ReplayBuffer(32, 1);
        List<TreeEdge> generated = edges(0, 0, 300);
        for (int it = 0; it < 8; it++) {
            ReplayBuffer.Batch b = buffer.nextBatch(it, it == 0 ? generated : List.of());
            assertEquals(32, b.sampled(), "iteration " + it);
            assertEquals(0, b.agedOut());
        }
        assertEquals(44, buffer.size());
        ReplayBuffer.Batch last = buffer.nextBatch(8, List.of());
        assertEquals(44, last.agedOut());
        assertEquals(0, last.sampled());
        assertTrue(last.edges().isEmpty());
        assertEquals(0, buffer.size());
    }

    @Test
    void maxAgeIsConfigurableAndCountsFromEachEdgesOwnIteration() {
        ReplayBuffer buffer = new ReplayBuffer(1, 2, 1, 7);
        buffer.nextBatch(0, edges(0, 0, 5)); // draws 1 of iteration 0's five
        buffer.nextBatch(1, edges(1, 1, 5)); // draws 1 of question 0, 1 of question 1
        assertEquals(7, buffer.size());
        ReplayBuffer.Batch b = buffer.nextBatch(2, List.of());
        assertEquals(3, b.agedOut(), "question 0's three remaining edges are 2 iterations old");
        assertEquals(1, b.sampled());
        assertEquals(1, b.edges().get(0).questionId());
    }

    @Test
    void atMostThirtyTwoEdgesPerQuestionAndAllOfASmallQuestion() {
        List<TreeEdge> all = new ArrayList<>();
        all.addAll(edges(1, 0, 50));
        all.addAll(edges(2, 0, 10));
        all.addAll(edges(3, 0, 32));
        ReplayBuffer buffer = new ReplayBuffer(74, 3);
        ReplayBuffer.Batch b = buffer.nextBatch(0, all);
        assertEquals(74, b.sampled());
        int[] perQuestion = new int[4];
        for (TreeEdge e : b.edges()) perQuestion[e.questionId()]++;
        assertArrayEquals(new int[] {0, 32, 10, 32}, perQuestion);
        assertEquals(74, identitySet(b.edges()).size(), "exactly E: no copies, no subsampling");
        assertEquals(18, buffer.size(), "question 1's other 18 wait for the next iteration");
    }

    @Test
    void anEdgeIsNeverDrawnInTwoIterations() {
        ReplayBuffer buffer = new ReplayBuffer(40, 11);
        Map<TreeEdge, Integer> drawnIn = new IdentityHashMap<>();
        for (int it = 0; it < 20; it++) {
            List<TreeEdge> fresh = new ArrayList<>();
            for (int q = 0; q < 3; q++) fresh.addAll(edges(q, it, 10 + 7 * ((it + q) % 5)));
            ReplayBuffer.Batch b = buffer.nextBatch(it, fresh);
            for (TreeEdge e : identitySet(b.edges())) {
                Integer before = drawnIn.put(e, it);
                assertEquals(null, before, "edge " + e + " drawn in iterations " + before + " and " + it);
                assertTrue(it - e.iteration() < ReplayBuffer.DEFAULT_MAX_AGE);
            }
        }
    }

    @Test
    void tooFewEdgesAreCopiedShuffledAndTruncated() {
        ReplayBuffer buffer = new ReplayBuffer(12, 5);
        List<TreeEdge> five = edges(0, 0, 5);
        ReplayBuffer.Batch b = buffer.nextBatch(0, five);
        assertEquals(12, b.edges().size());
        assertEquals(5, b.sampled());
        Set<TreeEdge> sources = identitySet(five);
        Map<TreeEdge, Integer> copies = new IdentityHashMap<>();
        for (TreeEdge e : b.edges()) {
            assertTrue(sources.contains(e), "only the sampled edges");
            copies.merge(e, 1, Integer::sum);
        }
        // 12 / 5 + 1 = 3 copies of each, shuffled, cut to 12.
        for (int c : copies.values()) assertTrue(c <= 3, "at most 3 copies, got " + c);
        assertEquals(0, buffer.size());
    }

    @Test
    void tooManyEdgesAreSubsampledAndAllOfThemAreUsedUp() {
        ReplayBuffer buffer = new ReplayBuffer(16, 9);
        List<TreeEdge> all = new ArrayList<>(edges(0, 0, 20));
        all.addAll(edges(1, 0, 20));
        ReplayBuffer.Batch b = buffer.nextBatch(0, all);
        assertEquals(40, b.sampled());
        assertEquals(16, b.edges().size());
        assertEquals(16, identitySet(b.edges()).size(), "a subset: no copies");
        assertTrue(identitySet(all).containsAll(identitySet(b.edges())));
        assertEquals(0, buffer.size(), "the 24 not chosen are removed too, as in the reference");
    }

    @Test
    void sameSeedSameBatchesAndAnotherSeedOthers() {
        List<List<TreeEdge>> perIteration = new ArrayList<>();
        for (int it = 0; it < 6; it++) {
            List<TreeEdge> fresh = new ArrayList<>(edges(0, it, 45));
            fresh.addAll(edges(1, it, 3));
            perIteration.add(fresh);
        }
        List<List<TreeEdge>> a = run(42, perIteration), b = run(42, perIteration), c = run(43, perIteration);
        for (int it = 0; it < 6; it++) {
            assertEquals(a.get(it).size(), b.get(it).size());
            for (int i = 0; i < a.get(it).size(); i++)
                assertSame(a.get(it).get(i), b.get(it).get(i));
        }
        assertNotEquals(a, c);
    }

    private static List<List<TreeEdge>> run(long seed, List<List<TreeEdge>> perIteration) {
        ReplayBuffer buffer = new ReplayBuffer(30, seed);
        List<List<TreeEdge>> batches = new ArrayList<>();
        for (int it = 0; it < perIteration.size(); it++) {
            batches.add(buffer.nextBatch(it, perIteration.get(it)).edges());
        }
        return batches;
    }

    @Test
    void replayedEdgesKeepTheirGenerationTimeLogProbs() {
        ReplayBuffer buffer = new ReplayBuffer(1, ReplayBuffer.DEFAULT_MAX_AGE, 1, 2);
        List<TreeEdge> generated = edges(0, 0, 6);
        float[][] logpAtGeneration = new float[6][];
        for (int i = 0; i < 6; i++) logpAtGeneration[i] = generated.get(i).oldLogp();
        Map<TreeEdge, Integer> index = new IdentityHashMap<>();
        for (int i = 0; i < 6; i++) index.put(generated.get(i), i);
        for (int it = 0; it < 6; it++) {
            TreeEdge e = buffer.nextBatch(it, it == 0 ? generated : List.of())
                    .edges()
                    .get(0);
            assertEquals(0, e.iteration(), "still tagged with its generation iteration");
            assertArrayEquals(logpAtGeneration[index.get(e)], e.oldLogp(), "iteration " + it);
        }
    }

    @Test
    void anEmptyBufferGivesAnEmptyBatch() {
        ReplayBuffer.Batch b = new ReplayBuffer(8, 0).nextBatch(0, List.of());
        assertTrue(b.edges().isEmpty());
        assertEquals(0, b.sampled());
    }
}
