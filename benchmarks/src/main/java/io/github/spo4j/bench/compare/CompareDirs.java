package io.github.spo4j.bench.compare;

import io.github.spo4j.report.EvalPoint;
import io.github.spo4j.report.MetricsFiles;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/** The {@code LABEL=COMPARE_DIR} arguments of the reports over several compares. */
final class CompareDirs {
    private CompareDirs() {}

    /**
     * Each argument's compare ({@code metrics.jsonl} in its directory) under its label, in the arguments' order.
     *
     * @param label reads a label (and throws IllegalArgumentException for a bad one)
     * @param form  how an argument is written, for the error message
     */
    static <K> Map<K, List<EvalPoint>> read(List<String> args, Function<String, K> label, String form)
            throws IOException {
        Map<K, List<EvalPoint>> out = new LinkedHashMap<>();
        for (String arg : args) {
            String[] kv = arg.split("=", 2);
            if (kv.length != 2 || kv[0].isEmpty() || kv[1].isEmpty()) {
                throw new IllegalArgumentException("expected " + form + ", got " + arg);
            }
            K key = label.apply(kv[0]);
            if (out.put(key, MetricsFiles.readJsonl(Path.of(kv[1]).resolve("metrics.jsonl"))) != null) {
                throw new IllegalArgumentException(kv[0] + " is given twice");
            }
        }
        return out;
    }
}
