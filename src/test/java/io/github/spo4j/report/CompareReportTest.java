package io.github.spo4j.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CompareReportTest {
    @TempDir
    Path dir;

    @Test
    void markdownHasCommandSettingsTablesAndImages() throws IOException {
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("task", "arithmetic");
        settings.put("seeds", "3");
        settings.put("tree", "6|6|6");
        Path file = dir.resolve("report.md");
        CompareReport.writeMarkdown(
                file,
                "spo4j compare",
                "spo4j compare --seeds 3",
                settings,
                ReportTestData.twoAlgorithmsThreeSeeds(),
                List.of("accuracy_vs_tokens.png", "accuracy vs time.png"));
        String md = Files.readString(file, StandardCharsets.UTF_8);
        List<String> lines = md.lines().toList();

        assertEquals("# spo4j compare", lines.get(0));
        assertTrue(md.contains("```\nspo4j compare --seeds 3\n```\n"), md);
        assertTrue(
                md.contains("| setting | value |\n| --- | --- |\n| task | arithmetic |\n| seeds | 3 |\n"
                        + "| tree | 6\\|6\\|6 |\n"),
                md);
        assertTrue(md.contains("| grpo | 3 | 31.0% | 46.0% ± 1.0 | - | 30.0k | 1m 01s | - | - |\n"), md);
        assertTrue(md.contains("| spo-tree | 3 | 31.0% | 61.0% ± 1.0 | 60.0% | 60.0k | 1m 01s | - | - |\n"), md);
        assertTrue(md.contains("| algorithm | seed | final acc | tokens | wall time | episodes | steps |\n"), md);
        assertTrue(md.contains("| grpo | 11 | 45.0% | 30.0k | 1m 00s | - | - |\n"), md);
        assertTrue(md.contains("| spo-tree | 13 | 62.0% | 60.0k | 1m 02s | - | - |\n"), md);
        assertEquals(
                6,
                lines.stream()
                        .filter(l -> l.matches("\\| (grpo|spo-tree) \\| 1[123] \\|.*"))
                        .count(),
                md);
        assertTrue(md.contains("![accuracy_vs_tokens](accuracy_vs_tokens.png)\n"), md);
        assertTrue(md.contains("![accuracy vs time](accuracy%20vs%20time.png)\n"), md);
        assertTrue(md.indexOf("## Settings") < md.indexOf("## Final results"));
        assertTrue(md.indexOf("## Final results") < md.indexOf("## Per seed"));

        CompareReport.writeMarkdown(file, "again", "x", Map.of(), List.of(), List.of());
        String empty = Files.readString(file);
        assertTrue(empty.startsWith("# again\n"), empty);
        assertTrue(!empty.contains("## Settings") && !empty.contains("## Plots"), empty);
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(
                    List.of("report.md"), s.map(p -> p.getFileName().toString()).collect(Collectors.toList()));
        }
    }

    @Test
    void commandLineWithBackticksGetsALongerFence() throws IOException {
        Path file = dir.resolve("report.md");
        CompareReport.writeMarkdown(file, "t", "echo ```x```", Map.of(), List.of(), List.of());
        assertTrue(Files.readString(file).contains("````\necho ```x```\n````\n"));
    }
}
