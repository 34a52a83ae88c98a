package io.github.spo4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.spo4j.model.Policy;
import io.github.spo4j.spo.Algorithm;
import io.github.spo4j.tasks.ArithmeticTask;
import io.github.spo4j.tasks.Problem;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The credit audit on a briefly supervised built-in policy that solves some two-step problems. */
class CreditAuditTest {
    private static TrainingTask task;
    private static Policy policy;

    @BeforeAll
    static void base() {
        ArithmeticTask gen = new ArithmeticTask(new ArithmeticTask.Difficulty(2, 2, 9, 99, "+-*"));
        List<Problem> all = gen.generate(2000, 0, 1);
        task = new TrainingTask(
                "audit",
                all,
                all.subList(0, 16),
                io.github.spo4j.tasks.AnswerFormat.GSM8K,
                Workspace.charTokenizer(all, all, Workspace.BUILT_IN_PROMPT),
                Workspace.BUILT_IN_PROMPT);
        policy = Policy.random(Workspace.builtInModel(task.tokenizer().vocabSize(), 64, 2), 3);
        Sft.train(policy, task, new Sft.Config(250, 32, 3e-3, 0.05, 0), null);
    }

    @AfterAll
    static void close() {
        policy.close();
    }

    private static CreditAudit.Config config(int questions, int referenceRollouts) {
        return config(questions, referenceRollouts, true);
    }

    private static CreditAudit.Config config(int questions, int referenceRollouts, boolean gradientNoise) {
        CreditAudit.Config d = CreditAudit.Config.defaults();
        return new CreditAudit.Config(
                questions,
                8,
                referenceRollouts,
                d.temperature(),
                d.topP(),
                40,
                d.rho(),
                1,
                d.maxStreams(),
                d.kvBlockSize(),
                d.kvBlocks(),
                gradientNoise);
    }

    @Test
    void estimatorsParseAndBadSpecsNameTheForms() {
        assertEquals(new CreditAudit.Estimator(Algorithm.GRPO, 0, 0), CreditAudit.Estimator.parse("grpo"));
        assertEquals(
                new CreditAudit.Estimator(Algorithm.SPO_CHAIN, 2, 4), CreditAudit.Estimator.parse(" spo-chain:2:4"));
        assertEquals(new CreditAudit.Estimator(Algorithm.VINEPPO, 0, 9), CreditAudit.Estimator.parse("vineppo:9"));
        CreditAudit.Estimator tree = CreditAudit.Estimator.parse("spo-tree:2-4:10");
        assertEquals(List.of(2, 4), tree.branching());
        assertEquals(10, tree.segmentTokens());
        assertEquals("spo-tree 2-4 x10", tree.name());
        CreditAudit.Estimator capped = CreditAudit.Estimator.parse("spo-chain:2:4:4:1");
        assertEquals(1, capped.maxSegments());
        assertEquals(4, capped.tieRollouts());
        assertEquals("spo-chain K=2 N=4 M=4 S=1", capped.name());
        assertEquals(
                "spo-chain K=2 N=4 S=3",
                CreditAudit.Estimator.parse("spo-chain:2:4:0:3").name());
        CreditAudit.Estimator uncertain = CreditAudit.Estimator.parse("spo-tree:4-4:20:0.9");
        assertEquals(0.9, uncertain.branchBelow());
        assertEquals("spo-tree 4-4 x20 <p0.9", uncertain.name());
        for (String bad : List.of(
                "spo-chain:2",
                "spo-chain:0:4",
                "vineppo",
                "grpo:3",
                "ppo",
                "spo-chain:a:4",
                "spo-tree:2-2",
                "spo-tree:2--2:10",
                "spo-tree:2-0:10",
                "spo-tree:2-2:10:0",
                "spo-tree:2-2:10:1.5",
                "spo-tree:2-2:10:x",
                "spo-chain:2:4:4:0",
                "spo-chain:2:4:-1:2",
                "spo-chain:2:4:4:1:1")) {
            IllegalArgumentException e =
                    assertThrows(IllegalArgumentException.class, () -> CreditAudit.Estimator.parse(bad), bad);
            assertTrue(e.getMessage().contains("spo-chain:K:N"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> config(0, 8));
        assertThrows(IllegalArgumentException.class, () -> config(4, 7));
    }

    @Test
    void anIndependentCopyOfTheReferenceTracksItAndGroupCreditCostsNoRollouts() {
        List<CreditAudit.Estimator> estimators = List.of(
                CreditAudit.Estimator.parse("grpo"),
                CreditAudit.Estimator.parse("spo-chain:1:32"),
                CreditAudit.Estimator.parse("spo-chain:2:4"),
                CreditAudit.Estimator.parse("spo-chain:2:4:0:1"));
        CreditAudit.Result r = CreditAudit.run(policy, task, config(12, 32), estimators);
        assertEquals(96, r.responses());
        assertTrue(r.meanReward() > 0.05 && r.meanReward() < 0.95, "the base solves some problems: " + r);
        assertTrue(r.decisionTokens() > 0 && r.decisionFraction() > 0 && r.decisionFraction() < 1, r.toString());
        assertTrue(r.clearTokens() > 0 && r.clearTokens() <= r.decisionTokens(), r.toString());
        assertTrue(r.referenceReliability() > 0.7, r.toString());
        CreditAudit.Row grpo = r.rows().get(0),
                copy = r.rows().get(1),
                coarse = r.rows().get(2);
        assertEquals(0, grpo.extraTokensPerResponse());
        assertTrue(
                copy.extraTokensPerResponse() > coarse.extraTokensPerResponse() && coarse.extraTokensPerResponse() > 0,
                r.toString());
        // One segment per response: a single estimated state, fewer rollouts than at every second cutpoint.
        CreditAudit.Row capped = r.rows().get(3);
        assertTrue(
                capped.extraTokensPerResponse() > 0
                        && capped.extraTokensPerResponse() < coarse.extraTokensPerResponse(),
                r.toString());
        // The same estimator as the reference with 32 fresh rollouts agrees with it about as well as its halves do.
        assertTrue(copy.correlation() > 0.7 && copy.correlation() > grpo.correlation(), r.toString());
        // Four rollouts often value both ends of a segment the same: no credit where 32 rarely tie.
        assertTrue(coarse.noCredit() > copy.noCredit(), r.toString());
        for (CreditAudit.Row row : r.rows()) {
            assertTrue(row.correlation() >= -1 && row.correlation() <= 1, row.toString());
            assertTrue(row.signAgreement() >= 0 && row.signAgreement() + row.noCredit() <= 1 + 1e-12, row.toString());
            assertTrue(row.noiseScale() > 0, row.toString());
            assertTrue(Math.abs(row.sameResponsesCosine()) <= 1 + 1e-9, row.toString());
        }
        // As gradients too, the fresh copy of the reference is closer to it on the same responses than group credit.
        assertTrue(r.referenceNoiseScale() > 0, r.toString());
        assertTrue(copy.sameResponsesCosine() > grpo.sameResponsesCosine(), r.toString());
        assertEquals(r, CreditAudit.run(policy, task, config(12, 32), estimators), "seeded: the same numbers again");
    }

    @Test
    void spoTreeIsMeasuredAsGradientsOfItsOwnTrees() {
        CreditAudit.Result r = CreditAudit.run(
                policy,
                task,
                config(6, 8),
                List.of(CreditAudit.Estimator.parse("grpo"), CreditAudit.Estimator.parse("spo-tree:2-2:6")));
        CreditAudit.Row grpo = r.rows().get(0), tree = r.rows().get(1);
        assertEquals("spo-tree 2-2 x6", tree.estimator());
        // Its episodes are its trees' edges, not the batch's responses: no token scores, no same-response cosine.
        assertTrue(Double.isNaN(tree.correlation()) && Double.isNaN(tree.sameResponsesCosine()), tree.toString());
        assertTrue(tree.noiseScale() > 0 && tree.tokensPerQuestion() > 0, tree.toString());
        // GRPO's group of 8 responses: its tokens per question are the responses' own.
        assertEquals(8 * r.meanResponseTokens(), grpo.tokensPerQuestion(), 1e-9);
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> CreditAudit.run(
                        policy, task, config(6, 8, false), List.of(CreditAudit.Estimator.parse("spo-tree:2-2:6"))));
        assertTrue(e.getMessage().contains("gradientNoise"), e.getMessage());
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"spo-tree:2-2:4", "spo-tree:2-2:4:0.9"})
    void everyTreeIsScoredAgainstItsOwnQuestion(String spec) {
        List<Integer> questions = List.of(7, 3, 11);
        List<int[]> prompts = new java.util.ArrayList<>();
        for (int q : questions) prompts.add(task.promptIds(task.train().get(q)));
        CreditAudit.TreeBatch batch;
        try (io.github.spo4j.kernels.kv.KvCache pool = policy.createKvCache(16, 4096)) {
            batch = CreditAudit.trees(
                    policy, pool, prompts, questions, task, config(3, 8), CreditAudit.Estimator.parse(spec), 5);
        }
        int leaves = 0;
        for (int i = 0; i < questions.size(); i++) {
            io.github.spo4j.spo.data.SamplingTree tree = batch.trees().get(i);
            assertEquals(questions.get(i), tree.questionId());
            for (int n = 0; n < tree.numNodes(); n++) {
                io.github.spo4j.spo.data.TreeNode node = tree.node(n);
                if (!tree.isLeaf(n) || !node.finishReason().finished()) continue;
                int[] query = tree.queryIds(n), segment = node.tokenIdsArray();
                int prompt = tree.promptIds().length;
                int[] response = java.util.Arrays.copyOfRange(query, prompt, query.length + segment.length);
                System.arraycopy(segment, 0, response, query.length - prompt, segment.length);
                double expected = task.reward(task.train().get(questions.get(i)), response, node.finishReason());
                assertEquals(expected, node.reward(), 1e-6, "tree " + i + " leaf " + n);
                leaves++;
            }
            GradientNoise.Episodes episodes = batch.episodes();
            for (int k = episodes.questionStarts()[i]; k < episodes.questionStarts()[i + 1]; k++)
                assertEquals(questions.get(i), episodes.episodes().get(k).questionId());
        }
        assertTrue(leaves > 0 && batch.generatedTokens() > 0, batch.toString());
    }

    @Test
    void withoutTheGradientNoiseItsColumnsAreNotANumber() {
        CreditAudit.Result r =
                CreditAudit.run(policy, task, config(4, 8, false), List.of(CreditAudit.Estimator.parse("grpo")));
        assertTrue(Double.isNaN(r.referenceNoiseScale()), r.toString());
        CreditAudit.Row grpo = r.rows().get(0);
        assertTrue(Double.isNaN(grpo.noiseScale()) && Double.isNaN(grpo.sameResponsesCosine()), grpo.toString());
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> CreditAudit.run(policy, task, config(2, 8), List.of(CreditAudit.Estimator.parse("grpo"))));
        assertTrue(e.getMessage().contains("questions"), e.getMessage());
    }

    @Test
    void moreQuestionsThanTheTaskHasIsAnError() {
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> CreditAudit.run(policy, task, config(5000, 8), List.of(CreditAudit.Estimator.parse("grpo"))));
        assertTrue(e.getMessage().contains("questions"), e.getMessage());
    }
}
