package io.github.spo4j.bench.compare;

import io.github.spo4j.report.EvalPoint;
import io.github.spo4j.report.MetricsFiles;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/** The {@code LABEL=COMPARE_DIR} arguments of the reports over several compares. */
final class CompareDirs {
    private CompareDirs() {}

    /**
     * Each argument's compare directories ({@code LABEL=DIR[,DIR...]}) under its label, in the arguments' order.
     *
     * @param label reads a label (and throws IllegalArgumentException for a bad one)
     * @param form  how an argument is written, for the error message
     */
    static <K> Map<K, List<Path>> dirs(List<String> args, Function<String, K> label, String form) {
        Map<K, List<Path>> out = new LinkedHashMap<>();
        for (String arg : args) {
            String[] kv = arg.split("=", 2);
            if (kv.length != 2 || kv[0].isEmpty() || kv[1].isEmpty()) {
                throw new IllegalArgumentException("expected " + form + ", got " + arg);
            }
            List<Path> dirs = new ArrayList<>();
            for (String dir : kv[1].split(",", -1)) {
                if (dir.isEmpty()) throw new IllegalArgumentException("expected " + form + ", got " + arg);
                dirs.add(Path.of(dir));
            }
            if (out.put(label.apply(kv[0]), dirs) != null) {
                throw new IllegalArgumentException(kv[0] + " is given twice");
            }
        }
        return out;
    }

    /** Each argument's one compare ({@code metrics.jsonl} in its directory) under its label, in the arguments' order. */
    static <K> Map<K, List<EvalPoint>> read(List<String> args, Function<String, K> label, String form)
            throws IOException {
        Map<K, List<EvalPoint>> out = new LinkedHashMap<>();
        for (var e : dirs(args, label, form).entrySet()) {
            if (e.getValue().size() != 1) {
                throw new IllegalArgumentException("expected " + form + " with one directory, got "
                        + e.getValue().size() + " for " + e.getKey());
            }
            out.put(e.getKey(), metrics(e.getValue().get(0)));
        }
        return out;
    }

    static List<EvalPoint> metrics(Path compareDir) throws IOException {
        return MetricsFiles.readJsonl(compareDir.resolve("metrics.jsonl"));
    }
}
