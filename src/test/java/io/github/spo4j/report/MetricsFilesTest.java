package io.github.spo4j.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MetricsFilesTest {
    @TempDir
    Path dir;

    private List<String> listing() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
        }
    }

    @Test
    void jsonlRoundTripKeepsEveryFieldAndNaN() throws IOException {
        List<EvalPoint> points = List.of(
                new EvalPoint("spo-tree", 7, 0, 0, 0.0, 0.25, Double.NaN, Double.NaN),
                new EvalPoint("spo-tree", 7, 40, 1_234_567_890_123L, 3601.125, 0.1 + 0.2, 0.4125, -0.0625),
                new EvalPoint("a \"quoted\", name", Long.MIN_VALUE, Integer.MAX_VALUE, 1, 1e-9, 1, 0, 1e-7, 0, 0),
                new EvalPoint("grpo", 3, 40, 128_000, 12.5, 0.5, Double.NaN, 0.25, 5120, 80));
        Path file = dir.resolve("metrics.jsonl");
        MetricsFiles.writeJsonl(file, points);
        assertEquals(points, MetricsFiles.readJsonl(file));

        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        assertEquals(4, lines.size());
        assertEquals(
                "{\"algorithm\":\"spo-tree\",\"seed\":7,\"iteration\":0,\"generatedTokens\":0,"
                        + "\"wallSeconds\":0.0,\"greedyAccuracy\":0.25,\"sampledAccuracy\":null,\"trainReward\":null,"
                        + "\"episodes\":null,\"optimizerSteps\":null}",
                lines.get(0));
        assertTrue(lines.get(3).endsWith(",\"episodes\":5120,\"optimizerSteps\":80}"), lines.get(3));
        assertEquals(List.of("metrics.jsonl"), listing());
    }

    @Test
    void emptyListWritesAnEmptyFile() throws IOException {
        Path file = dir.resolve("empty.jsonl");
        MetricsFiles.writeJsonl(file, List.of());
        assertEquals(0, Files.size(file));
        assertEquals(List.of(), MetricsFiles.readJsonl(file));
    }

    @Test
    void rewriteReplacesTheFileAndLeavesNoTemporaryFiles() throws IOException {
        List<EvalPoint> all = ReportTestData.twoAlgorithmsThreeSeeds();
        Path jsonl = dir.resolve("metrics.jsonl");
        Path csv = dir.resolve("metrics.csv");
        MetricsFiles.writeJsonl(jsonl, all);
        MetricsFiles.writeCsv(csv, all);
        MetricsFiles.writeJsonl(jsonl, all.subList(0, 2));
        MetricsFiles.writeCsv(csv, all.subList(0, 2));
        assertEquals(all.subList(0, 2), MetricsFiles.readJsonl(jsonl));
        assertEquals(3, Files.readAllLines(csv).size());
        assertEquals(List.of("metrics.csv", "metrics.jsonl"), listing());
    }

    @Test
    void csvHasHeaderQuotingAndEmptyNaN() throws IOException {
        List<EvalPoint> points = List.of(
                new EvalPoint("grpo", 1, 0, 0, 0, 0.25, Double.NaN, Double.NaN),
                new EvalPoint("spo,\"tree\"", 2, 5, 12345, 61.5, 0.5, 0.375, -0.125, 640, 10));
        Path file = dir.resolve("metrics.csv");
        MetricsFiles.writeCsv(file, points);
        assertEquals(
                "algorithm,seed,iteration,generatedTokens,wallSeconds,greedyAccuracy,sampledAccuracy,trainReward,"
                        + "episodes,optimizerSteps\r\n"
                        + "grpo,1,0,0,0.0,0.25,,,,\r\n"
                        + "\"spo,\"\"tree\"\"\",2,5,12345,61.5,0.5,0.375,-0.125,640,10\r\n",
                Files.readString(file, StandardCharsets.UTF_8));
    }

    @Test
    void badLineIsNamedByFileAndLine() throws IOException {
        Path file = dir.resolve("metrics.jsonl");
        MetricsFiles.writeJsonl(file, ReportTestData.twoAlgorithmsThreeSeeds().subList(0, 2));
        String good = Files.readString(file);

        Files.writeString(file, good + "\n{\"algorithm\":\"grpo\",\"seed\":1,\n");
        MetricsFormatException e = assertThrows(MetricsFormatException.class, () -> MetricsFiles.readJsonl(file));
        assertTrue(e.getMessage().startsWith(file + ":4: invalid JSON"), e.getMessage());

        Files.writeString(
                file,
                good + "{\"algorithm\":\"grpo\",\"seed\":1,\"iteration\":2,\"generatedTokens\":3,"
                        + "\"wallSeconds\":1,\"greedyAccuracy\":1.5,\"sampledAccuracy\":null,\"trainReward\":null}\n");
        e = assertThrows(MetricsFormatException.class, () -> MetricsFiles.readJsonl(file));
        assertTrue(e.getMessage().startsWith(file + ":3: greedyAccuracy must be in [0, 1]"), e.getMessage());

        Files.writeString(file, good.replaceFirst("\"iteration\":0", "\"iteration\":0.5"));
        e = assertThrows(MetricsFormatException.class, () -> MetricsFiles.readJsonl(file));
        assertTrue(e.getMessage().startsWith(file + ":1: field \"iteration\" is not a 32-bit integer"), e.getMessage());

        Files.writeString(file, good.replaceFirst(",\"wallSeconds\":[^,]*", ""));
        e = assertThrows(MetricsFormatException.class, () -> MetricsFiles.readJsonl(file));
        assertTrue(e.getMessage().startsWith(file + ":1: field \"wallSeconds\" is missing"), e.getMessage());

        Files.writeString(file, good + "[1, 2]\n");
        e = assertThrows(MetricsFormatException.class, () -> MetricsFiles.readJsonl(file));
        assertTrue(e.getMessage().startsWith(file + ":3: not a JSON object"), e.getMessage());
    }

    @Test
    void rejectsNullArguments() {
        Path file = dir.resolve("x.jsonl");
        assertThrows(IllegalArgumentException.class, () -> MetricsFiles.writeJsonl(null, List.of()));
        assertThrows(IllegalArgumentException.class, () -> MetricsFiles.writeCsv(file, null));
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> MetricsFiles.writeJsonl(
                        file, java.util.Arrays.asList(new EvalPoint("a", 1, 0, 0, 0, 0, 0, 0), null)));
        assertTrue(e.getMessage().contains("points[1]"), e.getMessage());
    }
}
