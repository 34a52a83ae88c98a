package io.github.spo4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.spo4j.model.Policy;
import io.github.spo4j.model.tokenizer.BpeTokenizerTest;
import io.github.spo4j.report.EvalPoint;
import io.github.spo4j.report.MetricsFiles;
import io.github.spo4j.train.TrainConfig;
import io.github.spo4j.train.Workspace;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code spo4j compare} end to end on a tiny budget: every output is written; bad input is one clear line. */
class CompareCommandTest {
    private static int run(StringWriter out, StringWriter err, String... args) {
        CommandLine cl = new CommandLine(new Spo4jCli());
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        return cl.execute(args);
    }

    @Test
    void tinyCompareWritesTheTableReportMetricsAndPlots(@TempDir Path dir) throws Exception {
        StringWriter out = new StringWriter(), err = new StringWriter();
        String[] args = {
            "compare",
            "--budget",
            "1500",
            "--seeds",
            "2",
            "--sft-steps",
            "20",
            "--sft-until",
            "0.99",
            "--sft-check-every",
            "25",
            "--train-size",
            "64",
            "--test-size",
            "6",
            "--quiet",
            "--out",
            dir.toString(),
            "--set",
            "eval-every=2",
            "--set",
            "spo-tree.branching=2-2",
            "--credit-questions",
            "1",
            "--credit-rollouts",
            "2",
            "--min-base-accuracy",
            "0", // 20 SFT steps: a base that is checked but almost never right
            "--warm-up-tokens",
            "0" // a run is one iteration here; theWarmUpChangesNothingButTheClock covers the warm-up
        };
        assertEquals(0, run(out, err, args), err.toString());
        for (String f : List.of(
                "report.md",
                "metrics.jsonl",
                "metrics.csv",
                "accuracy_vs_tokens.png",
                "accuracy_vs_time.png",
                "base/model.safetensors",
                "base/sft.json",
                "credit.json",
                "base-check.json",
                "accuracy_vs_episodes.png")) {
            assertTrue(Files.isRegularFile(dir.resolve(f)), f);
        }
        List<EvalPoint> points = MetricsFiles.readJsonl(dir.resolve("metrics.jsonl"));
        for (String a : List.of("grpo", "spo-chain", "spo-tree")) {
            for (long seed : new long[] {0, 1}) {
                List<EvalPoint> run = points.stream()
                        .filter(p -> p.algorithm().equals(a) && p.seed() == seed)
                        .toList();
                assertTrue(run.size() >= 2, a + " seed " + seed + ": " + run);
                assertEquals(0, run.get(0).iteration());
                assertTrue(run.get(run.size() - 1).generatedTokens() >= 1500, run.toString());
            }
        }
        assertTrue(out.toString().contains("spo-tree") && out.toString().contains("final acc"), out.toString());
        assertTrue(Files.readString(dir.resolve("report.md")).contains("accuracy_vs_tokens.png"));
        assertTrue(Files.readString(dir.resolve("report.md")).contains("spo4j compare --budget 1500 --seeds 2"));
        assertTrue(
                Files.readString(dir.resolve("report.md")).contains("## Greedy accuracy at each budget point\n\n"),
                "budget-point table in the report");
        for (String axis : List.of(
                "## Greedy accuracy at equal training wall time\n",
                "## Greedy accuracy at equal training episodes\n")) {
            assertTrue(Files.readString(dir.resolve("report.md")).contains(axis), axis + " in the report");
            assertTrue(out.toString().contains(axis), axis + " on stdout");
        }
        assertTrue(
                out.toString().contains("| algorithm | 25% (375) | 50% (750) | 75% (1.13k) | 100% (1.50k) |"),
                out.toString());
        assertFalse(Files.readString(dir.resolve("report.md")).contains("compare compare"));
        assertTrue(Files.readString(dir.resolve("report.md")).contains("Credit assignment on the base"));
        assertTrue(out.toString().contains("spo-chain K=1 N=8"), out.toString());
        assertTrue(out.toString().contains("spo-chain K=2 N=4 M=4"), "the tie-refined chain: " + out);
        // 20 steps end before the first check at 25: one check at the end, short of 99%.
        JsonObject sft = JsonParser.parseString(Files.readString(dir.resolve("base/sft.json")))
                .getAsJsonObject();
        assertEquals(20, sft.get("steps").getAsInt());
        assertFalse(sft.get("reached").getAsBoolean());
        assertEquals(1, sft.getAsJsonArray("checks").size());
        String sftLine = "until greedy pass@1 99% on 128 training questions (checked every 25 steps), at most 20 steps,"
                + " lr 0.003, slips 0.3 per line; took 20 steps (did not reach the target";
        assertTrue(Files.readString(dir.resolve("report.md")).contains(sftLine), "the report's SFT line");

        // --resume reuses the base and the finished runs: the same metrics come back.
        StringWriter err2 = new StringWriter();
        String[] again = java.util.Arrays.copyOf(args, args.length + 1);
        again[args.length] = "--resume";
        assertEquals(0, run(new StringWriter(), err2, again), err2.toString());
        assertTrue(err2.toString().contains("reusing the SFT base"), err2.toString());
        assertTrue(Files.readString(dir.resolve("report.md")).contains(sftLine), "a reused base's SFT line");
        assertEquals(
                points.size(),
                MetricsFiles.readJsonl(dir.resolve("metrics.jsonl")).size());
    }

    /** A compare of {@code algorithms} small enough for a test: a 20-step base, 1,200 tokens a run, no audit. */
    private static String[] tinyCompare(String algorithms, int seeds, Path out, String... more) {
        String[] args = {
            "compare",
            "--algorithms",
            algorithms,
            "--budget",
            "1200",
            "--seeds",
            Integer.toString(seeds),
            "--sft-steps",
            "20",
            "--sft-until",
            "0",
            "--train-size",
            "64",
            "--test-size",
            "6",
            "--quiet",
            "--credit-questions",
            "0",
            "--set",
            "eval-every=2",
            "--set",
            "spo-tree.branching=2-2",
            "--out",
            out.toString()
        };
        return concat(args, more);
    }

    /** Every evaluation a compare wrote to {@code out}, all but its wall clock. */
    private static List<String> everythingButTheClock(Path out) throws Exception {
        return MetricsFiles.readJsonl(out.resolve("metrics.jsonl")).stream()
                .map(p -> p.algorithm() + " " + p.seed() + " " + p.iteration() + " " + p.generatedTokens() + " "
                        + p.greedyAccuracy() + " " + p.trainReward() + " " + p.episodes() + " " + p.optimizerSteps())
                .toList();
    }

    /**
     * The untimed warm-up runs every algorithm from the base and leaves no trace: the same evaluations (everything but
     * the wall clock) as without it, and no warm-up directory.
     */
    @Test
    void theWarmUpChangesNothingButTheClock(@TempDir Path dir) throws Exception {
        List<List<String>> results = new java.util.ArrayList<>();
        for (String warmUp : List.of("0", "1k")) {
            Path out = dir.resolve("warm-up-" + warmUp);
            StringWriter err = new StringWriter();
            String[] args =
                    tinyCompare("grpo,spo-tree", 1, out, "--base-check-questions", "0", "--warm-up-tokens", warmUp);
            assertEquals(0, run(new StringWriter(), err, args), err.toString());
            assertEquals(
                    !warmUp.equals("0"),
                    err.toString().contains("compare: warm-up, 1000 untimed tokens of each algorithm"),
                    err.toString());
            assertFalse(Files.exists(out.resolve("runs/.warm-up")), "the warm-up runs are deleted");
            results.add(everythingButTheClock(out));
        }
        assertTrue(results.get(0).size() >= 4, results.get(0).toString());
        assertEquals(results.get(0), results.get(1));
    }

    /**
     * A Hugging Face model directory (config.json, safetensors, a byte-level BPE tokenizer.json and its
     * tokenizer_config.json): compare SFTs and trains it, and the base and every checkpoint carry the tokenizer, so
     * {@code eval} reads a checkpoint back.
     */
    @Test
    void aHuggingFaceModelDirectoryTrainsAndItsCheckpointsKeepTheTokenizer(@TempDir Path dir) throws Exception {
        Path model = dir.resolve("hf");
        try (Policy p = Policy.random(Workspace.builtInModel(268, 32, 1), 5)) {
            p.save(model);
        }
        Files.writeString(
                model.resolve("tokenizer.json"), BpeTokenizerTest.gpt2Json().toString());
        Files.writeString(model.resolve("tokenizer_config.json"), "{\"eos_token\": \"<|endoftext|>\"}");
        Path out = dir.resolve("out");
        StringWriter err = new StringWriter();
        assertEquals(
                0,
                run(
                        new StringWriter(),
                        err,
                        "compare",
                        "--model",
                        model.toString(),
                        "--algorithms",
                        "grpo",
                        "--budget",
                        "600",
                        "--seeds",
                        "1",
                        "--sft-steps",
                        "5",
                        "--train-size",
                        "32",
                        "--test-size",
                        "4",
                        "--credit-questions",
                        "0",
                        "--quiet",
                        "--out",
                        out.toString(),
                        "--set",
                        "max-new-tokens=16",
                        "--base-check-questions",
                        "0"),
                err.toString());
        Path checkpoint = out.resolve("runs/grpo-seed0/checkpoint");
        for (Path d : List.of(out.resolve("base"), checkpoint)) {
            assertArrayEquals(
                    Files.readAllBytes(model.resolve("tokenizer.json")),
                    Files.readAllBytes(d.resolve("tokenizer.json")),
                    d.toString());
            assertTrue(Files.isRegularFile(d.resolve("tokenizer_config.json")), d.toString());
        }
        StringWriter evalOut = new StringWriter();
        assertEquals(
                0,
                run(
                        evalOut,
                        err,
                        "eval",
                        "--model",
                        checkpoint.toString(),
                        "--test-size",
                        "4",
                        "--max-new-tokens",
                        "16"),
                err.toString());
        assertTrue(evalOut.toString().contains("greedy pass@1"), evalOut.toString());
    }

    @Test
    void aBaseThatIsAlmostNeverRightStopsTheCompareBeforeAnyRun(@TempDir Path dir) throws Exception {
        StringWriter err = new StringWriter();
        String[] args = {
            "compare",
            "--sft-steps",
            "3",
            "--sft-until",
            "0",
            "--algorithms",
            "grpo",
            "--budget",
            "600",
            "--seeds",
            "1",
            "--train-size",
            "32",
            "--test-size",
            "4",
            "--credit-questions",
            "0",
            "--base-check-questions",
            "8",
            "--quiet",
            "--out",
            dir.toString()
        };
        assertEquals(2, run(new StringWriter(), err, args), err.toString());
        assertTrue(
                err.toString().contains("error: the base is too weak for RL to learn from: on 8 training questions"),
                err.toString());
        assertTrue(err.toString().contains("more SFT (--sft-steps, now 3)"), err.toString());
        assertTrue(err.toString().contains("--min-base-accuracy 0"), err.toString());
        assertFalse(Files.exists(dir.resolve("runs")), "no RL run started");
        JsonObject check = JsonParser.parseString(Files.readString(dir.resolve("base-check.json")))
                .getAsJsonObject();
        assertEquals(8, check.get("questions").getAsInt());
        assertTrue(check.get("sampledAccuracy").getAsDouble() < 0.02, check.toString());
    }

    /**
     * A base whose SFT ran out of steps below {@code --sft-until} stops the compare before any run, also when the base
     * is reused; {@code --min-base-accuracy 0} runs from it anyway.
     */
    @Test
    void aBaseThatMissedItsSftTargetStopsTheCompareUnlessTold(@TempDir Path dir) throws Exception {
        String[] args = {
            "compare",
            "--sft-steps",
            "4",
            "--sft-until",
            "0.99",
            "--sft-check-every",
            "2",
            "--sft-seed",
            "3",
            "--algorithms",
            "grpo",
            "--budget",
            "300",
            "--seeds",
            "1",
            "--train-size",
            "32",
            "--test-size",
            "4",
            "--credit-questions",
            "0",
            "--base-check-questions",
            "4",
            "--warm-up-tokens",
            "0",
            "--quiet",
            "--out",
            dir.toString()
        };
        for (int attempt = 0; attempt < 2; attempt++) {
            StringWriter err = new StringWriter();
            assertEquals(2, run(new StringWriter(), err, args), err.toString());
            String message = err.toString();
            assertTrue(
                    message.contains("error: the SFT base missed --sft-until 0.99: 4 steps (did not reach"), message);
            assertTrue(message.contains("it is kept in " + dir.resolve("base")), message);
            assertTrue(message.contains("another --sft-seed (now 3) or more --sft-steps (now 4)"), message);
            assertTrue(message.contains("--min-base-accuracy 0"), message);
            assertEquals(attempt == 1, message.contains("reusing the SFT base"), message);
            assertFalse(Files.exists(dir.resolve("runs")), "no RL run started");
        }
        StringWriter err = new StringWriter();
        assertEquals(0, run(new StringWriter(), err, concat(args, "--min-base-accuracy", "0")), err.toString());
        assertTrue(Files.isRegularFile(dir.resolve("report.md")));
    }

    @Test
    void theResponseLimitGrowsToFitTheTasksSolutionsUnlessTheUserSetsIt() throws Exception {
        for (int decisions : new int[] {6, 12, 24}) {
            CompareCommand c = new CompareCommand();
            new CommandLine(c)
                    .parseArgs("--task", "chain", "--decisions", Integer.toString(decisions), "--train-size", "50");
            var task = c.taskOptions.task(null);
            var configs = c.fitResponseLength(List.of(c.configFor(TrainConfig.algorithmNamed("grpo"))), task);
            int solution = 6 * decisions + 6 + 1; // one token a character, and the end token
            int expected = Math.max(64, (int) Math.ceil(1.25 * solution));
            assertEquals(expected, configs.get(0).algorithm().sampling().maxNewTokens(), "decisions " + decisions);
            assertEquals(solution, task.longestSolution());
            assertEquals((int) Math.ceil(1.25 * solution), task.fittingResponseLimit());
        }
        // eval and credit fit the task's solutions unless told (a fixed 128 scored every 24-decision answer 0).
        EvalCommand eval = new EvalCommand();
        new CommandLine(eval).parseArgs("--model", "m");
        assertNull(eval.responseLimit.maxNewTokens);
        CreditCommand credit = new CreditCommand();
        new CommandLine(credit).parseArgs("--model", "m");
        assertNull(credit.responseLimit.maxNewTokens);
        CompareCommand c = new CompareCommand();
        new CommandLine(c)
                .parseArgs("--task", "chain", "--decisions", "12", "--train-size", "50", "--set", "max-new-tokens=70");
        var configs =
                c.fitResponseLength(List.of(c.configFor(TrainConfig.algorithmNamed("grpo"))), c.taskOptions.task(null));
        assertEquals(70, configs.get(0).algorithm().sampling().maxNewTokens(), "the user's limit is kept");
    }

    @Test
    void badKnobsAndOptionsAreOneLineErrors(@TempDir Path dir) {
        StringWriter err0 = new StringWriter();
        assertEquals(2, run(new StringWriter(), err0, "compare", "--out", dir.toString(), "--min-base-accuracy", "2"));
        assertTrue(err0.toString().contains("--min-base-accuracy must be in [0, 1]"), err0.toString());
        err0 = new StringWriter();
        assertEquals(
                2, run(new StringWriter(), err0, "compare", "--out", dir.toString(), "--base-check-questions", "-1"));
        assertTrue(err0.toString().contains("--base-check-questions must be >= 0"), err0.toString());
        err0 = new StringWriter();
        assertEquals(2, run(new StringWriter(), err0, "compare", "--out", dir.toString(), "--warm-up-tokens", "-1"));
        assertTrue(err0.toString().contains("--warm-up-tokens must be a token count"), err0.toString());
        StringWriter err = new StringWriter();
        assertEquals(2, run(new StringWriter(), err, "compare", "--out", dir.toString(), "--set", "lrr=1"));
        assertTrue(err.toString().contains("unknown knob \"lrr\""), err.toString());
        err = new StringWriter();
        assertEquals(2, run(new StringWriter(), err, "compare", "--out", dir.toString(), "--algorithms", "ppo"));
        assertTrue(err.toString().contains("algorithm must be one of"), err.toString());
        err = new StringWriter();
        assertEquals(2, run(new StringWriter(), err, "train", "--algorithm", "grpo", "--out", dir.toString()));
        assertTrue(err.toString().contains("--base is required"), err.toString());
        String out = dir.toString();
        assertRefused("--decisions must be in [1, 64], got 0", "--out", out, "--task", "chain", "--decisions", "0");
        assertRefused("--modulus must be in [3, 36], got 37", "--out", out, "--task", "chain", "--modulus", "37");
        assertRefused(
                "--ops must be a non-empty subset of \"+-*\", got +/", "--out", out, "--task", "chain", "--ops", "+/");
        assertRefused(
                "--validation: the validation split must hold 1 to 49",
                "--out",
                out,
                "--train-size",
                "50",
                "--validation",
                "50");
        assertRefused("--task", "--out", out, "--task", "chains");
        assertRefused("--sft-until must be in [0, 1], got 1.5", "--out", out, "--sft-until", "1.5");
        assertRefused("--sft-check-every must be >= 1, got 0", "--out", out, "--sft-check-every", "0");
        assertRefused("--runs-at-once must be >= 0, got -1", "--out", out, "--runs-at-once", "-1");
        StringWriter sftErr = new StringWriter();
        Path sftOut = dir.resolve("sft");
        assertEquals(2, run(new StringWriter(), sftErr, "sft", "--until", "2", "--out", sftOut.toString()));
        assertTrue(sftErr.toString().contains("--until must be in [0, 1], got 2.0"), sftErr.toString());
        assertFalse(Files.exists(sftOut), "refused before anything is written");
        StringWriter checkErr = new StringWriter();
        assertEquals(2, run(new StringWriter(), checkErr, "sft", "--check-every", "-3", "--out", sftOut.toString()));
        assertTrue(checkErr.toString().contains("--check-every must be >= 1, got -3"), checkErr.toString());
        assertFalse(Files.exists(sftOut), "refused before anything is written");
        for (String command : List.of("eval", "credit")) {
            StringWriter limitErr = new StringWriter();
            assertEquals(
                    2, run(new StringWriter(), limitErr, command, "--model", dir.toString(), "--max-new-tokens", "0"));
            assertTrue(limitErr.toString().contains("--max-new-tokens must be >= 1, got 0"), limitErr.toString());
        }
    }

    /**
     * Runs side by side give every run the same numbers as one at a time (all but the wall clock), and the same
     * weights.
     */
    @Test
    void runsSideBySideGiveTheSameResults(@TempDir Path dir) throws Exception {
        List<List<String>> results = new java.util.ArrayList<>();
        for (String atOnce : List.of("1", "3")) {
            Path out = dir.resolve("at-once-" + atOnce);
            StringWriter err = new StringWriter();
            String[] args = tinyCompare(
                    "grpo,spo-chain,spo-tree",
                    2,
                    out,
                    "--base-check-questions",
                    "0",
                    "--warm-up-tokens",
                    "0",
                    "--runs-at-once",
                    atOnce);
            assertEquals(0, run(new StringWriter(), err, args), err.toString());
            assertEquals(atOnce.equals("3"), err.toString().contains("compare: 3 runs at once"), err.toString());
            results.add(everythingButTheClock(out));
        }
        assertTrue(results.get(0).size() >= 12, results.get(0).toString());
        assertEquals(results.get(0), results.get(1));
        for (String run : List.of("grpo-seed1", "spo-chain-seed0", "spo-tree-seed1")) {
            Path weights = Path.of("runs", run, "checkpoint", "model.safetensors");
            assertEquals(
                    -1,
                    Files.mismatch(
                            dir.resolve("at-once-1").resolve(weights),
                            dir.resolve("at-once-3").resolve(weights)),
                    run);
        }
    }

    /**
     * An algorithm given its own budget with {@code --set} (here SPO-chain run to 2 iterations, its rollouts counted
     * but not capped) is named with it in the report, not under {@code --budget}, and the token axis is read at the
     * tokens every run reached.
     */
    @Test
    void anAlgorithmsOwnBudgetIsReportedAsItsOwn(@TempDir Path dir) throws Exception {
        StringWriter out = new StringWriter(), err = new StringWriter();
        String[] args = tinyCompare(
                "grpo,spo-chain",
                1,
                dir,
                "--base-check-questions",
                "0",
                "--warm-up-tokens",
                "0",
                "--set",
                "spo-chain.budget=0",
                "--set",
                "spo-chain.iterations=2");
        assertEquals(0, run(out, err, args), err.toString());
        String report = Files.readString(dir.resolve("report.md"));
        String budgets = "grpo 1200 generated tokens, spo-chain 2 iterations";
        assertTrue(report.contains("# spo4j compare: grpo vs spo-chain (1 seeds, " + budgets + ")"), report);
        assertTrue(report.contains("| budget | " + budgets + " per run |"), report);
        assertFalse(report.contains("1200 tokens each"), report);
        assertFalse(report.contains("at each budget point"), report);
        assertTrue(report.contains("## Greedy accuracy at equal generated tokens\n"), report);
        assertTrue(out.toString().contains("## Greedy accuracy at equal generated tokens\n"), out.toString());
        assertEquals("1m", CompareCommand.tokenCount(1_000_000));
        assertEquals("300k", CompareCommand.tokenCount(300_000));
        assertEquals("1500", CompareCommand.tokenCount(1_500));
    }

    /** {@code --sft-seed S} makes the base {@code sft --seed S} makes, bit for bit; another seed, another base. */
    @Test
    void theSftSeedPicksTheBase(@TempDir Path dir) throws Exception {
        String[] task = {"--train-size", "64", "--test-size", "6", "--quiet"};
        Path compare = compareBaseIsSfts(dir, task, "--sft-seed", "--seed", "1", "0");
        assertTrue(
                Files.readString(compare.resolve("report.md")).contains(", seed 1, slips 0.3 per line; took 10 steps"),
                "the report names the base's seed");
    }

    /**
     * {@code --sft-slips R} makes the base {@code sft --slips R} makes, bit for bit, names the rate in the report, and
     * keys the base by it; the slips change the weights.
     */
    @Test
    void theSftSlipsMakeAnotherBaseAndAreNamed(@TempDir Path dir) throws Exception {
        String[] task = {"--decisions", "3", "--train-size", "64", "--test-size", "6", "--quiet"};
        Path compare = compareBaseIsSfts(dir, task, "--sft-slips", "--slips", "0.3", "0");
        assertTrue(
                Files.readString(compare.resolve("report.md")).contains(", slips 0.3 per line; took 10 steps"),
                "the report names the slips");
        JsonObject key = JsonParser.parseString(Files.readString(compare.resolve("base/spo4j-sft.json")))
                .getAsJsonObject();
        assertEquals(0.3, key.get("sftSlips").getAsDouble());

        String out = dir.resolve("refused").toString();
        assertRefused("--sft-slips must be in [0, 1), got 1.0", "--out", out, "--sft-slips", "1");
        assertRefused("--sft-slips must be in [0, 1), got NaN", "--out", out, "--sft-slips", "NaN");
        assertRefused(
                "--sft-slips applies to the built-in chain task only (--task chain, no --train); got --task arithmetic",
                "--out",
                out,
                "--task",
                "arithmetic",
                "--sft-slips",
                "0.1");
        StringWriter sftErr = new StringWriter();
        assertEquals(2, run(new StringWriter(), sftErr, "sft", "--slips", "-0.1", "--out", out));
        assertTrue(sftErr.toString().contains("--slips must be in [0, 1), got -0.1"), sftErr.toString());
        assertFalse(Files.exists(Path.of(out)), "refused before anything is written");
    }

    /** A finer check interval checks at its multiples and the last step; the training itself is the same. */
    @Test
    void sftChecksEveryGivenStep(@TempDir Path dir) throws Exception {
        Path fine = dir.resolve("fine"), coarse = dir.resolve("coarse");
        String[] common = {"sft", "--task", "arithmetic", "--steps", "12", "--until", "0.99", "--quiet"};
        StringWriter err = new StringWriter();
        assertEquals(0, run(new StringWriter(), err, concat(common, "--check-every", "5", "--out", fine.toString())));
        assertEquals(
                0,
                run(new StringWriter(), err, concat(common, "--check-every", "25", "--out", coarse.toString())),
                err.toString());
        JsonObject sft = JsonParser.parseString(Files.readString(fine.resolve("sft.json")))
                .getAsJsonObject();
        List<Integer> steps = new java.util.ArrayList<>();
        sft.getAsJsonArray("checks")
                .forEach(c -> steps.add(c.getAsJsonObject().get("step").getAsInt()));
        assertEquals(List.of(5, 10, 12), steps);
        JsonObject once = JsonParser.parseString(Files.readString(coarse.resolve("sft.json")))
                .getAsJsonObject();
        assertEquals(1, once.getAsJsonArray("checks").size(), "25 steps apart: only the last step's check");
        assertEquals(
                -1,
                Files.mismatch(coarse.resolve("model.safetensors"), fine.resolve("model.safetensors")),
                "checks leave the weights as they are");
    }

    /**
     * Runs a one-run GRPO compare on {@code task} whose 10-step SFT base takes {@code compareOption value}, and {@code
     * sft} with {@code sftOption} at {@code value} and at {@code other}; checks that the compare's base is bit for bit
     * the one sft makes at {@code value} and not the one at {@code other}, and returns the compare's directory.
     */
    private static Path compareBaseIsSfts(
            Path dir, String[] task, String compareOption, String sftOption, String value, String other)
            throws Exception {
        Path out = dir.resolve("compare");
        String[] compare = concat(
                concat(new String[] {"compare", "--algorithms", "grpo", "--budget", "300", "--seeds", "1"}, task),
                "--sft-steps",
                "10",
                "--sft-until",
                "0",
                "--credit-questions",
                "0",
                "--base-check-questions",
                "0",
                "--warm-up-tokens",
                "0",
                compareOption,
                value,
                "--out",
                out.toString());
        StringWriter err = new StringWriter();
        assertEquals(0, run(new StringWriter(), err, compare), err.toString());
        for (String v : List.of(value, other)) {
            String[] sft = concat(
                    concat(new String[] {"sft", "--steps", "10", "--until", "0", sftOption, v}, task),
                    "--out",
                    dir.resolve("sft-" + v).toString());
            assertEquals(0, run(new StringWriter(), err, sft), err.toString());
        }
        Path base = out.resolve("base/model.safetensors");
        assertEquals(-1, Files.mismatch(base, dir.resolve("sft-" + value + "/model.safetensors")));
        assertNotEquals(-1, Files.mismatch(base, dir.resolve("sft-" + other + "/model.safetensors")));
        return out;
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** The README's main job: {@code compare} and {@code sft} with no options are the chain task's SFT-to-target. */
    @Test
    void theDefaultsAreTheChainTaskWithTwelveDecisionsAndAnSftTargetInTheBand() {
        CompareCommand compare = new CompareCommand();
        new CommandLine(compare).parseArgs();
        assertEquals(TaskOptions.BuiltInTask.chain, compare.taskOptions.builtInTask);
        assertEquals(12, compare.taskOptions.decisions);
        assertEquals(0.4, compare.sftUntil);
        assertEquals(3000, compare.sftSteps);
        assertEquals(5, compare.sftCheckEvery);
        assertEquals(List.of("grpo", "grpo-mask", "spo-chain", "spo-tree"), compare.algorithms);
        // The learning rates chosen on the slipped bases' validation split (docs/compare/lr-sweep-q30-d12), and on
        // the worked solutions' (docs/compare/lr-sweep-chain12).
        for (var e : java.util.Map.of(
                        "grpo", 2e-4, "grpo-mask", 2e-4, "spo-chain", 1e-4, "spo-tree", 2e-4, "rloo", 5e-5)
                .entrySet()) {
            TrainConfig c = compare.configFor(TrainConfig.algorithmNamed(e.getKey()));
            assertEquals(e.getValue(), Double.parseDouble(c.knobs().get("lr")), 0, e.getKey());
        }
        CompareCommand worked = new CompareCommand();
        new CommandLine(worked).parseArgs("--sft-slips", "0");
        for (String a : compare.algorithms) {
            assertEquals(
                    1e-4,
                    Double.parseDouble(worked.configFor(TrainConfig.algorithmNamed(a))
                            .knobs()
                            .get("lr")),
                    0,
                    a);
        }
        assertEquals(
                "4",
                compare.configFor(TrainConfig.algorithmNamed("spo-chain"))
                        .knobs()
                        .get("tie-rollouts"));
        // Every algorithm evaluates at 1/16 of the budget's tokens, unless the user sets a schedule.
        for (String a : compare.algorithms) {
            assertEquals(
                    "62500",
                    compare.configFor(TrainConfig.algorithmNamed(a)).knobs().get("eval-every-tokens"),
                    a);
        }
        CompareCommand byIterations = new CompareCommand();
        new CommandLine(byIterations).parseArgs("--set", "spo-tree.eval-every=5");
        TrainConfig tree = byIterations.configFor(TrainConfig.algorithmNamed("spo-tree"));
        assertEquals("0", tree.knobs().get("eval-every-tokens"));
        assertEquals("5", tree.knobs().get("eval-every"));
        assertEquals(
                "62500",
                byIterations
                        .configFor(TrainConfig.algorithmNamed("grpo"))
                        .knobs()
                        .get("eval-every-tokens"));
        CompareCommand overridden = new CompareCommand();
        new CommandLine(overridden).parseArgs("--set", "lr=3e-5");
        assertEquals(
                3e-5,
                Double.parseDouble(overridden
                        .configFor(TrainConfig.algorithmNamed("spo-chain"))
                        .knobs()
                        .get("lr")),
                0);
        SftCommand sft = new SftCommand();
        new CommandLine(sft).parseArgs("--out", "unused");
        assertEquals(TaskOptions.BuiltInTask.chain, sft.taskOptions.builtInTask);
        assertEquals(0.4, sft.until);
        assertEquals(3000, sft.steps);
        assertEquals(5, sft.checkEvery);
        assertEquals(12, sft.taskOptions.decisions);
        // The base is SFT'd on slipped chains, and SPO uses the settings chosen for such bases on a validation split.
        assertEquals(0.3, sft.slips());
        assertEquals(0.3, compare.sftSlips());
        assertEquals(
                "1",
                compare.configFor(TrainConfig.algorithmNamed("spo-chain"))
                        .knobs()
                        .get("max-segments"));
        TrainConfig slippedTree = compare.configFor(TrainConfig.algorithmNamed("spo-tree"));
        assertEquals("4-4", slippedTree.knobs().get("branching"));
        assertEquals("20", slippedTree.knobs().get("segment-tokens"));
        // On the worked solutions, and on other tasks, the general defaults.
        for (String[] args : List.of(new String[] {"--sft-slips", "0"}, new String[] {"--task", "arithmetic"})) {
            CompareCommand other = new CompareCommand();
            new CommandLine(other).parseArgs(args);
            assertEquals(0, other.sftSlips());
            assertEquals(
                    "0",
                    other.configFor(TrainConfig.algorithmNamed("spo-chain"))
                            .knobs()
                            .get("max-segments"));
            assertEquals(
                    "2-2-2",
                    other.configFor(TrainConfig.algorithmNamed("spo-tree"))
                            .knobs()
                            .get("branching"));
        }
        SftCommand arithmetic = new SftCommand();
        new CommandLine(arithmetic).parseArgs("--out", "unused", "--task", "arithmetic");
        assertEquals(0, arithmetic.slips());
    }

    /** {@code compare args} exits 2 with {@code message} on stderr. */
    private static void assertRefused(String message, String... args) {
        StringWriter err = new StringWriter();
        String[] command = new String[args.length + 1];
        command[0] = "compare";
        System.arraycopy(args, 0, command, 1, args.length);
        assertEquals(2, run(new StringWriter(), err, command));
        assertTrue(err.toString().contains(message), err.toString());
    }
}
