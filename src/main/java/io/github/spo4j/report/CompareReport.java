package io.github.spo4j.report;

import io.github.spo4j.model.io.AtomicFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** The markdown report of a comparison, written whole and atomically. */
public final class CompareReport {
    private CompareReport() {}

    /**
     * Writes a markdown report: {@code title} as the heading, {@code commandLine} in a code block, a settings table
     * (keys and values in the map's iteration order; omitted when empty), the final results per algorithm from
     * {@link Summary#finalResults} (algorithm | seeds | base | final greedy acc mean ± std | sampled acc | tokens |
     * wall time, episodes, optimizer steps), a per-seed table of each run's last evaluation (algorithm, seed, final
     * acc, tokens, time, episodes, steps) and an
     * image link to each of {@code pngFileNames}, which are used as given (relative to the report).
     */
    public static void writeMarkdown(
            Path file,
            String title,
            String commandLine,
            Map<String, String> settings,
            List<EvalPoint> points,
            List<String> pngFileNames)
            throws IOException {
        writeMarkdown(file, title, commandLine, settings, points, pngFileNames, List.of());
    }

    /** {@link #writeMarkdown(Path, String, String, Map, List, List)} with markdown {@code sections} after the tables. */
    public static void writeMarkdown(
            Path file,
            String title,
            String commandLine,
            Map<String, String> settings,
            List<EvalPoint> points,
            List<String> pngFileNames,
            List<String> sections)
            throws IOException {
        if (sections == null) throw new IllegalArgumentException("sections must not be null");
        if (file == null) throw new IllegalArgumentException("file must not be null");
        if (title == null || title.isBlank()) throw new IllegalArgumentException("title must not be null or blank");
        if (commandLine == null) throw new IllegalArgumentException("commandLine must not be null");
        if (settings == null) throw new IllegalArgumentException("settings must not be null");
        Summary.checkPoints(points);
        if (pngFileNames == null) throw new IllegalArgumentException("pngFileNames must not be null");
        for (int i = 0; i < pngFileNames.size(); i++) {
            String name = pngFileNames.get(i);
            if (name == null || name.isBlank()) {
                throw new IllegalArgumentException("pngFileNames[" + i + "] must not be null or blank");
            }
        }

        StringBuilder md = new StringBuilder();
        md.append("# ").append(title.strip().replace('\n', ' ')).append("\n\n");
        String fence = codeFence(commandLine);
        md.append(fence)
                .append('\n')
                .append(commandLine)
                .append('\n')
                .append(fence)
                .append("\n\n");

        if (!settings.isEmpty()) {
            md.append("## Settings\n\n| setting | value |\n| --- | --- |\n");
            for (Map.Entry<String, String> e : settings.entrySet()) {
                md.append("| ")
                        .append(cell(e.getKey()))
                        .append(" | ")
                        .append(cell(e.getValue()))
                        .append(" |\n");
            }
            md.append('\n');
        }

        md.append("## Final results\n\n");
        md.append("| algorithm | seeds | base | final greedy acc (mean ± std) | sampled acc | tokens | wall time |"
                + " episodes | steps |\n");
        md.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
        for (Summary.AlgorithmSummary s : Summary.finalResults(points)) row(md, Summary.cells(s));
        md.append('\n');

        md.append("## Per seed\n\n");
        md.append("| algorithm | seed | final acc | tokens | wall time | episodes | steps |\n");
        md.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n");
        for (Map<Long, List<EvalPoint>> runs : Summary.bySeed(points).values()) {
            for (List<EvalPoint> run : runs.values()) {
                EvalPoint p = Summary.last(run);
                row(md, new String[] {
                    p.algorithm(),
                    Long.toString(p.seed()),
                    Formats.percent(p.greedyAccuracy()),
                    Formats.count(p.generatedTokens()),
                    Formats.duration(p.wallSeconds()),
                    p.episodes() == EvalPoint.UNRECORDED ? "-" : Formats.count(p.episodes()),
                    p.optimizerSteps() == EvalPoint.UNRECORDED ? "-" : Formats.count(p.optimizerSteps())
                });
            }
        }

        for (String section : sections) md.append('\n').append(section.strip()).append('\n');

        if (!pngFileNames.isEmpty()) {
            md.append("\n## Plots\n\n");
            for (String name : pngFileNames) {
                md.append("![")
                        .append(altText(name))
                        .append("](")
                        .append(linkTarget(name))
                        .append(")\n\n");
            }
        }
        AtomicFiles.write(file, md.toString().stripTrailing().concat("\n").getBytes(StandardCharsets.UTF_8));
    }

    private static void row(StringBuilder md, String[] cells) {
        md.append('|');
        for (String c : cells) md.append(' ').append(cell(c)).append(" |");
        md.append('\n');
    }

    /** A table cell: pipes escaped, line breaks as spaces. */
    private static String cell(String s) {
        if (s == null) return "";
        return s.replace("\\", "\\\\")
                .replace("|", "\\|")
                .replace("\r\n", " ")
                .replace('\n', ' ')
                .replace('\r', ' ');
    }

    /** A backtick fence longer than any backtick run in {@code text}, and at least three. */
    private static String codeFence(String text) {
        int longest = 0;
        int run = 0;
        for (int i = 0; i < text.length(); i++) {
            run = text.charAt(i) == '`' ? run + 1 : 0;
            longest = Math.max(longest, run);
        }
        return "`".repeat(Math.max(3, longest + 1));
    }

    private static String altText(String name) {
        String base = Path.of(name).getFileName().toString();
        int dot = base.lastIndexOf('.');
        return (dot > 0 ? base.substring(0, dot) : base).replace("[", "\\[").replace("]", "\\]");
    }

    private static String linkTarget(String name) {
        return name.replace("%", "%25").replace(" ", "%20").replace("(", "%28").replace(")", "%29");
    }
}
