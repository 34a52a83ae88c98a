package io.github.spo4j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.spo4j.kernels.kv.KvCache;
import io.github.spo4j.model.Policy;
import io.github.spo4j.spo.Algorithm;
import io.github.spo4j.spo.data.TreeEdge;
import io.github.spo4j.spo.replay.ReplayBuffer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Each algorithm family's episode source on its own, with the policy held fixed: which family an algorithm gets,
 * what its episodes and token counts are made of, and that the tree family's checkpoint part (the replay buffer)
 * round-trips so a restored source continues exactly.
 */
class EpisodeSourceTest {
    private static final List<Integer> QUESTIONS = List.of(0, 1, 2, 3);
    private static TrainingTask task;
    private static Policy base;

    @BeforeAll
    static void base() {
        TinyArithmetic tiny = TinyArithmetic.create();
        task = tiny.task();
        base = tiny.base();
    }

    @AfterAll
    static void close() {
        base.close();
    }

    private interface Body<T> {
        T apply(TrainingContext context) throws IOException;
    }

    /** Runs {@code body} on a context of {@code config} around the fixed base policy. */
    private static <T> T withContext(TrainConfig config, Body<T> body) throws IOException {
        try (KvCache pool = KvCache.create(
                base.kvCacheConfig(config.run().kvBlockSize(), config.run().kvBlocks()))) {
            return body.apply(new TrainingContext(task, config, base, base, pool, new IterationClock()));
        }
    }

    @ParameterizedTest
    @EnumSource(Algorithm.class)
    void eachAlgorithmGetsItsFamily(Algorithm a) throws IOException {
        Class<?> family = switch (a) {
            case GRPO, GRPO_MASK, RLOO -> GroupBaselineSource.class;
            case SPO_CHAIN, VINEPPO -> ChainMonteCarloSource.class;
            case SPO_TREE -> TreeReplaySource.class;
        };
        withContext(TrainerTest.tiny(a), c -> assertInstanceOf(family, EpisodeSource.of(c)));
    }

    @Test
    void groupBaselinesPutTheGroupAdvantageOfEachResponseOnEveryTokenAndCountOnlyResponses(@TempDir Path dir)
            throws IOException {
        TrainConfig config = TrainerTest.tiny(Algorithm.GRPO).with("kl-beta", "0");
        int g = config.algorithm().batching().samplesPerQuestion();
        EpisodeSource.Batch batch = withContext(config, c -> EpisodeSource.of(c).collect(QUESTIONS, 0));
        // The same streams sampled again give the responses and rewards the source saw.
        TrainingContext.Groups sampled = withContext(config, c -> c.sampleGroups(c.chainSampler(), QUESTIONS, 0, 0));
        assertEquals(QUESTIONS.size() * g, batch.episodes().size());
        assertEquals(batch.episodes().size(), batch.responses());
        long responseTokens = 0;
        for (int i = 0; i < QUESTIONS.size(); i++) {
            float[] rewards = new float[g];
            for (int j = 0; j < g; j++) rewards[j] = (float) sampled.rewards()[i * g + j];
            float[] expected = config.algorithm().group().advantages(rewards);
            for (int j = 0; j < g; j++) {
                Episode e = batch.episodes().get(i * g + j);
                assertArrayEquals(task.promptIds(task.train().get(QUESTIONS.get(i))), e.query());
                assertArrayEquals(sampled.targets().get(i * g + j), e.response());
                for (float a : e.advantages()) assertEquals(expected[j], a);
                assertNull(e.refLogp(), "no reference log-probs at kl-beta 0");
                responseTokens += e.response().length;
            }
        }
        assertEquals(responseTokens, batch.generatedTokens());
        assertEquals(Arrays.stream(sampled.rewards()).average().orElse(0), batch.meanReward(), 1e-12);
        withContext(config, c -> {
            EpisodeSource.of(c).save(dir);
            return null;
        });
        try (var files = Files.list(dir)) {
            assertEquals(0, files.count(), "a stateless family writes nothing into a checkpoint");
        }
    }

    @ParameterizedTest
    @EnumSource(
            value = Algorithm.class,
            names = {"SPO_CHAIN", "VINEPPO"})
    void chainMonteCarloCountsItsRolloutsAndAFreshSourceDrawsWhatAUsedOneDraws(Algorithm a) throws IOException {
        TrainConfig config = TrainerTest.tiny(a);
        List<EpisodeSource.Batch> batches = withContext(config, c -> {
            EpisodeSource first = EpisodeSource.of(c), second = EpisodeSource.of(c);
            return List.of(first.collect(QUESTIONS, 0), first.collect(QUESTIONS, 1), second.collect(QUESTIONS, 1));
        });
        EpisodeSource.Batch zero = batches.get(0), one = batches.get(1), again = batches.get(2);
        long responseTokens = 0;
        for (Episode e : zero.episodes()) {
            responseTokens += e.response().length;
            assertTrue(e.refLogp() != null && e.refLogp().length == e.response().length);
        }
        assertTrue(
                zero.generatedTokens() > responseTokens,
                "the Monte-Carlo rollouts are counted: " + zero.generatedTokens() + " tokens for " + responseTokens
                        + " response tokens");
        assertSameEpisodes(one, again); // what a resumed run relies on: the estimator is reseeded per iteration
    }

    @Test
    void theTreeFamilysCheckpointPartRestoresItsReplayBufferAndContinuesExactly(@TempDir Path dir) throws IOException {
        // Two edges per question per iteration, so the rest wait in the buffer.
        TrainConfig config = TrainerTest.tiny(Algorithm.SPO_TREE).with("replay-per-question", "2");
        int episodesPerIteration = config.algorithm().batching().episodesPerIteration();
        withContext(config, c -> {
            TreeReplaySource saved = (TreeReplaySource) EpisodeSource.of(c);
            EpisodeSource.Batch zero = saved.collect(QUESTIONS, 0);
            assertEquals(episodesPerIteration, zero.episodes().size());
            saved.collect(QUESTIONS, 1);
            assertTrue(saved.replay().size() > 0, "edges wait in the buffer");
            saved.save(dir);
            assertTrue(Files.isRegularFile(dir.resolve(TreeReplaySource.REPLAY)));

            TreeReplaySource restored = (TreeReplaySource) EpisodeSource.of(c);
            restored.restore(dir);
            assertEquals(saved.replay().pending(), restored.replay().pending());
            assertEquals(1, restored.replay().lastIteration());
            assertSameEpisodes(saved.collect(QUESTIONS, 2), restored.collect(QUESTIONS, 2));
            assertEquals(saved.replay().pending(), restored.replay().pending());
            return null;
        });
    }

    @Test
    void theReplayFileRoundTripsAndATruncatedOrForeignOneIsRefused(@TempDir Path dir) throws IOException {
        ReplayBuffer buffer = new ReplayBuffer(2, 8, 1, 7); // one edge per question drawn: two of three stay
        List<TreeEdge> edges = new ArrayList<>();
        for (int q = 0; q < 3; q++) {
            for (int k = 0; k < 3; k++) {
                edges.add(new TreeEdge(
                        q,
                        0,
                        new int[] {1, 2, q},
                        new int[] {3, k + 4},
                        new float[] {-0.5f, -k},
                        0.25f * (k - 1) + 0.125f));
            }
        }
        buffer.nextBatch(0, edges);
        assertEquals(6, buffer.size());
        byte[] bytes = TreeReplaySource.replayBytes(buffer);
        Path file = dir.resolve(TreeReplaySource.REPLAY);
        Files.write(file, bytes);
        ReplayBuffer restored = new ReplayBuffer(2, 7);
        TreeReplaySource.readReplay(file, restored);
        assertEquals(buffer.pending(), restored.pending());
        assertEquals(buffer.lastIteration(), restored.lastIteration());

        Files.write(file, Arrays.copyOf(bytes, bytes.length - 3));
        IOException truncated =
                assertThrows(IOException.class, () -> TreeReplaySource.readReplay(file, new ReplayBuffer(2, 7)));
        assertTrue(truncated.getMessage().contains("truncated"), truncated.getMessage());

        bytes[0] ^= 1;
        Files.write(file, bytes);
        IOException foreign =
                assertThrows(IOException.class, () -> TreeReplaySource.readReplay(file, new ReplayBuffer(2, 7)));
        assertTrue(foreign.getMessage().contains("not a replay buffer file"), foreign.getMessage());
    }

    private static void assertSameEpisodes(EpisodeSource.Batch expected, EpisodeSource.Batch actual) {
        assertEquals(expected.episodes().size(), actual.episodes().size());
        assertEquals(expected.generatedTokens(), actual.generatedTokens());
        assertEquals(expected.meanReward(), actual.meanReward());
        for (int k = 0; k < expected.episodes().size(); k++) {
            Episode e = expected.episodes().get(k), a = actual.episodes().get(k);
            assertArrayEquals(e.query(), a.query());
            assertArrayEquals(e.response(), a.response());
            assertArrayEquals(e.oldLogp(), a.oldLogp());
            assertArrayEquals(e.advantages(), a.advantages());
            assertArrayEquals(e.refLogp(), a.refLogp());
        }
    }
}
