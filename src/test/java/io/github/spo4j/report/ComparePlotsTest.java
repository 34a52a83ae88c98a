package io.github.spo4j.report;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.GraphicsEnvironment;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ComparePlotsTest {
    private static final byte[] PNG_MAGIC = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

    @TempDir
    Path dir;

    private static void assertPng(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        assertArrayEquals(PNG_MAGIC, Arrays.copyOf(bytes, PNG_MAGIC.length));
        BufferedImage image = ImageIO.read(file.toFile());
        assertNotNull(image, file + " is not readable by ImageIO");
        assertEquals(800, image.getWidth());
        assertEquals(500, image.getHeight());
        long distinctColours = Arrays.stream(image.getRGB(0, 0, 800, 500, null, 0, 800))
                .distinct()
                .count();
        assertTrue(distinctColours > 3, "the plot looks blank: " + distinctColours + " colours");
    }

    @Test
    void writesReadablePngsHeadless() throws IOException {
        List<EvalPoint> points = ReportTestData.twoAlgorithmsThreeSeeds();
        Path tokens = dir.resolve("accuracy_vs_tokens.png");
        Path time = dir.resolve("accuracy_vs_time.png");
        ComparePlots.accuracyVsTokens(tokens, points, "arithmetic: accuracy vs tokens");
        ComparePlots.accuracyVsTime(time, points, "arithmetic: accuracy vs time");

        assertEquals("true", System.getProperty("java.awt.headless"));
        assertTrue(GraphicsEnvironment.isHeadless());
        assertPng(tokens);
        assertPng(time);
        ComparePlots.accuracyVsTokens(tokens, points, "again");
        assertPng(tokens);
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(
                    List.of("accuracy_vs_time.png", "accuracy_vs_tokens.png"),
                    s.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList()));
        }
    }

    @Test
    void linesAverageXAndAccuracyPerEvaluationIndex() {
        List<ComparePlots.Line> lines =
                ComparePlots.lines(ReportTestData.twoAlgorithmsThreeSeeds(), p -> p.generatedTokens());
        assertEquals(2, lines.size());
        ComparePlots.Line tree = lines.get(1);
        assertEquals("spo-tree", tree.algorithm());
        assertArrayEquals(new double[] {0, 20_007, 40_007, 60_007}, tree.x(), 1e-9);
        assertArrayEquals(new double[] {31, 41, 51, 61}, tree.accuracy(), 1e-9);
        assertArrayEquals(new double[] {1, 1, 1, 1}, tree.std(), 1e-9);
    }

    @Test
    void seedsWithFewerEvaluationsDropOutOfLaterMeans() {
        List<EvalPoint> points = List.of(
                new EvalPoint("grpo", 1, 10, 100, 5, 0.5, Double.NaN, 0),
                new EvalPoint("grpo", 1, 0, 0, 0, 0.2, Double.NaN, Double.NaN),
                new EvalPoint("grpo", 2, 0, 0, 0, 0.4, Double.NaN, Double.NaN));
        ComparePlots.Line line =
                ComparePlots.lines(points, EvalPoint::wallSeconds).get(0);
        assertArrayEquals(new double[] {0, 5}, line.x(), 1e-9);
        assertArrayEquals(new double[] {30, 50}, line.accuracy(), 1e-9);
        assertArrayEquals(new double[] {Math.sqrt(200), 0}, line.std(), 1e-9);
    }

    @Test
    void episodesPlotLeavesOutPointsWithoutCountsAndNeedsOneWith() throws IOException {
        Path png = dir.resolve("accuracy_vs_episodes.png");
        List<EvalPoint> points = List.of(
                new EvalPoint("grpo", 1, 0, 0, 0, 0.3, Double.NaN, Double.NaN, 0, 0),
                new EvalPoint("grpo", 1, 10, 1000, 5, 0.5, Double.NaN, 0.4, 1280, 20),
                new EvalPoint("rloo", 1, 10, 1000, 5, 0.5, Double.NaN, 0.4));
        ComparePlots.accuracyVsEpisodes(png, points, "t");
        assertPng(png);
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> ComparePlots.accuracyVsEpisodes(dir.resolve("y.png"), points.subList(2, 3), "t"));
        assertTrue(e.getMessage().contains("no point records its training episodes"), e.getMessage());
    }

    @Test
    void rejectsEmptyPoints() {
        assertThrows(
                IllegalArgumentException.class,
                () -> ComparePlots.accuracyVsTime(dir.resolve("x.png"), List.of(), "t"));
    }
}
