package io.github.spo4j.readme;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.github.spo4j.kernels.loss.PolicyLossStats;
import io.github.spo4j.model.ModelConfig;
import io.github.spo4j.model.ModelConfig.Architecture;
import io.github.spo4j.model.Policy;
import io.github.spo4j.model.io.SafeTensors;
import io.github.spo4j.model.io.SafeTensorsReader;
import io.github.spo4j.model.tokenizer.BpeTokenizerTest;
import io.github.spo4j.model.tokenizer.CharTokenizer;
import io.github.spo4j.rollout.Completion;
import io.github.spo4j.tasks.FinishReason;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every {@code ```java} block of README.md is real code: an HTML comment {@code <!-- snippet: PATH -->} on the line
 * before it names the compiled file it mirrors, and the block must equal that file's next region between
 * {@code // README begin} and {@code // README end} (indentation of the begin marker removed, lines ending in
 * {@code // README skip} left out). The snippet files compile with the tests (or with the examples project), so an
 * API change that breaks a README example breaks the build; the tests below run each one on small inputs.
 *
 * <p>After editing snippets (or reformatting them), {@code mvn test -Dtest=ReadmeSnippetsTest
 * -Dspo4j.readme.update=true} rewrites the README's blocks from them instead of failing.
 */
class ReadmeSnippetsTest {
    static final Path ROOT = Path.of(System.getProperty("basedir", "."));
    static final Pattern MARKER = Pattern.compile("<!-- snippet: (\\S+) -->");
    static final String BEGIN = "// README begin", END = "// README end", SKIP = "// README skip";
    static final String UPDATE = "spo4j.readme.update";

    record Block(int line, String file, List<String> text) {}

    static List<Block> javaBlocks(List<String> readme) {
        List<Block> blocks = new ArrayList<>();
        for (int i = 0; i < readme.size(); i++) {
            String fence = readme.get(i).strip();
            if (!fence.startsWith("```")) continue;
            int end = i + 1;
            while (end < readme.size() && !readme.get(end).strip().equals("```")) end++;
            if (fence.equals("```java")) {
                int prev = i - 1;
                while (prev >= 0 && readme.get(prev).isBlank()) prev--;
                Matcher m = MARKER.matcher(prev >= 0 ? readme.get(prev).strip() : "");
                if (!m.matches()) {
                    fail("README.md line " + (i + 1) + ": a ```java block needs <!-- snippet: PATH --> on the line"
                            + " before it, naming the compiled file it mirrors");
                }
                blocks.add(new Block(i + 1, m.group(1), readme.subList(i + 1, end)));
            }
            i = end;
        }
        return blocks;
    }

    /** The README regions of a snippet file, in order. */
    static List<List<String>> regions(Path file) throws IOException {
        List<List<String>> regions = new ArrayList<>();
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        for (int i = 0; i < lines.size(); i++) {
            if (!lines.get(i).strip().equals(BEGIN)) continue;
            int indent = lines.get(i).indexOf(BEGIN);
            List<String> region = new ArrayList<>();
            int j = i + 1;
            for (; j < lines.size() && !lines.get(j).strip().equals(END); j++) {
                String line = lines.get(j).stripTrailing();
                if (line.endsWith(SKIP)) continue;
                if (!line.isEmpty()
                        && (line.length() < indent || !line.substring(0, indent).isBlank())) {
                    fail(file + " line " + (j + 1) + " is indented less than its " + BEGIN + " marker");
                }
                region.add(line.isEmpty() ? "" : line.substring(indent));
            }
            if (j == lines.size()) fail(file + " line " + (i + 1) + ": " + BEGIN + " without " + END);
            regions.add(region);
            i = j;
        }
        return regions;
    }

    @Test
    void everyJavaBlockEqualsTheCompiledSnippetItNames() throws IOException {
        List<String> readme = Files.readAllLines(ROOT.resolve("README.md"), StandardCharsets.UTF_8);
        List<Block> blocks = javaBlocks(readme);
        List<String> updated = new ArrayList<>();
        int copied = 0;
        assertTrue(blocks.size() >= 10, "README.md has only " + blocks.size() + " java blocks");
        Map<String, List<List<String>>> regions = new LinkedHashMap<>();
        Map<String, Integer> used = new HashMap<>();
        for (Block b : blocks) {
            Path file = ROOT.resolve(b.file());
            if (!Files.isRegularFile(file)) {
                fail("README.md line " + b.line() + " names " + b.file() + ", which does not exist");
            }
            List<List<String>> r = regions.computeIfAbsent(b.file(), f -> {
                try {
                    return regions(file);
                } catch (IOException e) {
                    throw new AssertionError(e);
                }
            });
            int k = used.merge(b.file(), 1, Integer::sum) - 1;
            if (k >= r.size()) {
                fail("README.md line " + b.line() + ": " + b.file() + " has only " + r.size() + " regions");
            }
            List<String> expected = r.get(k),
                    actual = b.text().stream().map(String::stripTrailing).toList();
            if (Boolean.getBoolean(UPDATE)) {
                updated.addAll(readme.subList(copied, b.line()));
                updated.addAll(expected);
                copied = b.line() + b.text().size();
                continue;
            }
            for (int i = 0; i < Math.max(expected.size(), actual.size()); i++) {
                String e = i < expected.size() ? expected.get(i) : "<end of region>";
                String a = i < actual.size() ? actual.get(i) : "<end of block>";
                if (!e.equals(a)) {
                    fail("README.md line " + (b.line() + 1 + i) + " differs from region " + (k + 1) + " of " + b.file()
                            + " (edit both):\n  README:  " + a + "\n  snippet: " + e);
                }
            }
        }
        if (Boolean.getBoolean(UPDATE)) {
            updated.addAll(readme.subList(copied, readme.size()));
            Files.write(ROOT.resolve("README.md"), updated, StandardCharsets.UTF_8);
        }
        for (Map.Entry<String, List<List<String>>> e : regions.entrySet()) {
            assertEquals(e.getValue().size(), used.get(e.getKey()), e.getKey() + ": regions not shown in README.md");
        }
        try (Stream<Path> files = Files.list(ROOT.resolve("src/test/java/io/github/spo4j/readme"))) {
            for (Path f : files.filter(p -> p.getFileName().toString().endsWith("Snippet.java"))
                    .toList()) {
                String name = ROOT.relativize(f).toString().replace('\\', '/');
                assertTrue(regions.containsKey(name), name + " is not shown in README.md");
            }
        }
    }

    @Test
    void theCiScriptRunsTheReadmeTestCommand() throws IOException {
        List<String> ci = Files.readAllLines(ROOT.resolve(".ci/run"), StandardCharsets.UTF_8);
        String command = ci.stream()
                .filter(l -> l.startsWith("mvn "))
                .reduce((a, b) -> b)
                .orElseThrow(() -> new AssertionError(".ci/run runs no mvn command"));
        String readme = Files.readString(ROOT.resolve("README.md"), StandardCharsets.UTF_8);
        assertTrue(
                readme.contains("```bash\n" + command + "\n```"),
                "README.md's test command differs from .ci/run's: " + command);
    }

    // ---- each snippet, run on small inputs --------------------------------------------------------------------

    static ModelConfig tinyConfig() {
        return ModelConfig.tiny(Architecture.LLAMA, 24, 1, 2);
    }

    @Test
    void policyLossArrays() {
        float[] grad = PolicyLossSnippet.arrays(
                new int[] {0, 3, 5},
                new float[] {-0.5f, -1.2f, -0.1f, -2f, -0.7f},
                new float[] {-0.6f, -1.0f, -0.3f, -1.9f, -0.9f},
                new float[] {-0.55f, -1.1f, -0.2f, -2f, -0.8f},
                new float[] {1f, 1f, -1f, 0.5f, -0.5f},
                new boolean[] {true, true, true, true, false});
        assertEquals(5, grad.length);
        assertEquals(0f, grad[4], "an invalid token has no gradient");
        assertTrue(grad[0] != 0f && grad[3] != 0f);
    }

    @Test
    void policyLossTensorsAndTokenLogprobsBackwardReachTheParameters() {
        int[][] sequences = {{1, 5, 9, 3}, {1, 7, 7, 2}}, next = {{5, 9, 3, 4}, {7, 7, 2, 6}};
        float[] old = {-3.1f, -3.3f, -3.0f, -3.2f, -3.1f, -3.4f, -3.0f, -2.9f};
        float[] adv = {1f, 1f, 1f, 1f, -1f, -1f, -1f, -1f};
        try (Policy p = Policy.random(tinyConfig(), 3)) {
            assertTrue(PolicyLossSnippet.tensors(p, sequences, next, new int[] {0, 4, 8}, old, old, adv) > 0);
        }
        try (Policy p = Policy.random(tinyConfig(), 4)) {
            assertTrue(PolicyLossSnippet.tokenLogprobsBackward(p, sequences, next) > 0);
        }
    }

    @Test
    void spoCore() {
        SpoCoreSnippet.Result r = SpoCoreSnippet.run(5);
        assertEquals(8, r.tokenAdvantages().length);
        assertEquals(4, r.tree().edges().size(), "every edge of the tree has A != 0");
        assertEquals(1024, r.batch().size());
    }

    @Test
    void distributedOnOneProcessReturnsTheGradients() {
        assertArrayEquals(
                new float[] {1.5f, -2f},
                DistributedSnippet.run(java.util.Map.of(), new byte[] {7}, new float[] {1.5f, -2f}));
    }

    @Test
    void treeBackupGivesTheCommentedAdvantage() {
        assertEquals(0.25f, TreeBackupSnippet.run());
    }

    @Test
    void kvCacheForkCopiesTheSharedTailOncePerWriterButTheLast() {
        assertArrayEquals(new long[] {6, 5, 6, 1}, KvCacheSnippet.run(2, 2, 4, 64, 5));
    }

    @Test
    void prefixAttention() {
        float[] out = PrefixAttentionSnippet.run(4, 2, 8, 100);
        assertEquals(4 * 4 * 8, out.length);
        for (float x : out) assertTrue(Float.isFinite(x));
    }

    @Test
    void sampler() {
        float[] logits = new float[3 * 11];
        for (int i = 0; i < logits.length; i++) logits[i] = (i * 7 % 11) / 3f;
        float[] r = SamplerSnippet.run(logits, 11, new long[] {0, 1, 2}, new int[] {4, 4, 4}, 2);
        assertTrue(r[0] >= 0 && r[0] < 11 && r[1] <= 0, "token " + r[0] + ", log-prob " + r[1]);
    }

    @Test
    void safeTensorsReadsAModelDirectoryAndWritesAFile(@TempDir Path dir) throws IOException {
        try (Policy p = Policy.random(tinyConfig(), 6)) {
            p.save(dir.resolve("model"));
        }
        assertEquals(tinyConfig(), SafeTensorsSnippet.run(dir.resolve("model"), dir));
        try (SafeTensorsReader r = SafeTensors.open(dir.resolve("ckpt.safetensors"))) {
            assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, r.readFloats("w"));
        }
    }

    @Test
    void tokenizers(@TempDir Path dir) throws IOException {
        Path json = dir.resolve("tokenizer.json");
        Files.writeString(json, BpeTokenizerTest.gpt2Json().toString(), StandardCharsets.UTF_8);
        TokenizerSnippet.Result r = TokenizerSnippet.run(json);
        assertEquals(
                "What is 12 * 7?",
                new String(toBytes(r.ids()), StandardCharsets.UTF_8),
                "byte-level ids without merges are the bytes");
        assertEquals(CharTokenizer.EOS, r.chars().eosIds()[0]);
    }

    private static byte[] toBytes(int[] ids) {
        byte[] b = new byte[ids.length];
        for (int i = 0; i < ids.length; i++) b[i] = (byte) ids[i];
        return b;
    }

    @Test
    void policyLoadsSavesAndTrains(@TempDir Path dir) throws IOException {
        try (Policy p = Policy.random(tinyConfig(), 7)) {
            p.save(dir.resolve("model"));
        }
        int[][] queries = {{1, 4, 5}, {1, 6}}, responses = {{7, 8, 2}, {9, 2}};
        int n = 5;
        float[] old = {-3f, -3.2f, -3.1f, -3.3f, -3f};
        PolicyLossStats st = PolicySnippet.train(
                dir.resolve("model"),
                dir.resolve("ckpt"),
                queries,
                responses,
                old,
                old,
                new float[] {1f, 1f, 1f, -1f, -1f},
                null);
        assertEquals(n, st.keptTokens());
        assertTrue(Double.isFinite(st.loss()));
        assertTrue(Files.isRegularFile(dir.resolve("ckpt/model.safetensors")));
        assertTrue(Files.isRegularFile(dir.resolve("ckpt/config.json")));
    }

    @Test
    void policyArrayEntries() {
        try (Policy p = Policy.random(tinyConfig(), 8)) {
            float[][][] r = PolicySnippet.arrays(p);
            int v = tinyConfig().vocabSize();
            assertEquals(3 * v, r[0][0].length);
            assertEquals(2 * v, r[0][1].length);
            assertEquals(2, r[1].length);
            assertEquals(v, r[1][1].length);
        }
    }

    @Test
    void rollouts() {
        CharTokenizer tokenizer = CharTokenizer.arithmetic();
        ModelConfig c =
                ModelConfig.tiny(Architecture.LLAMA, tokenizer.vocabSize(), CharTokenizer.BOS, CharTokenizer.EOS);
        try (Policy p = Policy.random(c, 9)) {
            RolloutSnippet.Result r = RolloutSnippet.run(
                    p,
                    tokenizer,
                    List.of(tokenizer.encode("1+2=")),
                    3,
                    0,
                    (q, ids, finish) -> finish == FinishReason.EOS ? 1 : 0);
            assertEquals(1, r.groups().size());
            assertEquals(8, r.groups().get(0).size());
            for (Completion x : r.groups().get(0)) assertTrue(x.tokens().length > 0);
            assertEquals(1, r.trees().size());
            assertEquals(r.trees().get(0).numNodes(), r.tree().numNodes());
        }
    }
}
