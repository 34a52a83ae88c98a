package io.github.spo4j.report;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import com.google.gson.stream.JsonWriter;
import io.github.spo4j.model.io.AtomicFiles;
import io.github.spo4j.model.io.JsonErrors;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The evaluation points of a comparison as jsonl (read back by {@code --resume}) and csv. Both writes replace the
 * whole file atomically through {@link AtomicFiles}: readers see the old file or the complete new one.
 *
 * <p>Jsonl: one object per line, UTF-8, with the fields of {@link EvalPoint} by their record names; NaN is written
 * as {@code null}. Csv: a header of the field names, then one row per point; NaN is an empty cell, and cells are
 * quoted as RFC 4180 requires (a comma, quote, CR or LF).
 */
public final class MetricsFiles {
    /** The field names, in record order: the csv header and the jsonl keys. */
    public static final List<String> FIELDS = List.of(
            "algorithm",
            "seed",
            "iteration",
            "generatedTokens",
            "wallSeconds",
            "greedyAccuracy",
            "sampledAccuracy",
            "trainReward",
            "episodes",
            "optimizerSteps");

    private MetricsFiles() {}

    /** Writes {@code points} to {@code file} as jsonl, one line per point in list order. */
    public static void writeJsonl(Path file, List<EvalPoint> points) throws IOException {
        checkArguments(file, points);
        StringBuilder out = new StringBuilder();
        for (EvalPoint p : points) out.append(jsonLine(p)).append('\n');
        AtomicFiles.write(file, out.toString().getBytes(StandardCharsets.UTF_8));
    }

    /** Writes {@code points} to {@code file} as csv with a header row, one row per point in list order. */
    public static void writeCsv(Path file, List<EvalPoint> points) throws IOException {
        checkArguments(file, points);
        StringBuilder out = new StringBuilder(String.join(",", FIELDS)).append("\r\n");
        for (EvalPoint p : points) {
            out.append(csvCell(p.algorithm()))
                    .append(',')
                    .append(p.seed())
                    .append(',')
                    .append(p.iteration())
                    .append(',')
                    .append(p.generatedTokens())
                    .append(',')
                    .append(csvNumber(p.wallSeconds()))
                    .append(',')
                    .append(csvNumber(p.greedyAccuracy()))
                    .append(',')
                    .append(csvNumber(p.sampledAccuracy()))
                    .append(',')
                    .append(csvNumber(p.trainReward()))
                    .append(',')
                    .append(csvCount(p.episodes()))
                    .append(',')
                    .append(csvCount(p.optimizerSteps()))
                    .append("\r\n");
        }
        AtomicFiles.write(file, out.toString().getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Reads a file written by {@link #writeJsonl}. Blank lines are skipped and unknown keys ignored;
     * {@code sampledAccuracy} and {@code trainReward} may be {@code null} (NaN), {@code episodes} and
     * {@code optimizerSteps} null or absent (files from before they were recorded), every other field is required.
     *
     * @throws MetricsFormatException naming the file and line for a line that is not a valid point
     */
    public static List<EvalPoint> readJsonl(Path file) throws IOException {
        if (file == null) throw new IllegalArgumentException("file must not be null");
        List<EvalPoint> points = new ArrayList<>();
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            int lineNo = 0;
            while ((line = r.readLine()) != null) {
                lineNo++;
                if (line.isBlank()) continue;
                points.add(parseLine(file, lineNo, line));
            }
        }
        return points;
    }

    private static void checkArguments(Path file, List<EvalPoint> points) {
        if (file == null) throw new IllegalArgumentException("file must not be null");
        if (points == null) throw new IllegalArgumentException("points must not be null");
        for (int i = 0; i < points.size(); i++) {
            if (points.get(i) == null) throw new IllegalArgumentException("points[" + i + "] must not be null");
        }
    }

    private static String jsonLine(EvalPoint p) {
        StringWriter s = new StringWriter();
        try (JsonWriter w = new JsonWriter(s)) {
            w.beginObject();
            w.name("algorithm").value(p.algorithm());
            w.name("seed").value(p.seed());
            w.name("iteration").value(p.iteration());
            w.name("generatedTokens").value(p.generatedTokens());
            w.name("wallSeconds").value(p.wallSeconds());
            w.name("greedyAccuracy").value(p.greedyAccuracy());
            jsonNumberOrNull(w.name("sampledAccuracy"), p.sampledAccuracy());
            jsonNumberOrNull(w.name("trainReward"), p.trainReward());
            jsonCountOrNull(w.name("episodes"), p.episodes());
            jsonCountOrNull(w.name("optimizerSteps"), p.optimizerSteps());
            w.endObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return s.toString();
    }

    private static void jsonNumberOrNull(JsonWriter w, double v) throws IOException {
        if (Double.isNaN(v)) w.nullValue();
        else w.value(v);
    }

    private static void jsonCountOrNull(JsonWriter w, long v) throws IOException {
        if (v == EvalPoint.UNRECORDED) w.nullValue();
        else w.value(v);
    }

    private static String csvCount(long v) {
        return v == EvalPoint.UNRECORDED ? "" : Long.toString(v);
    }

    private static String csvNumber(double v) {
        return Double.isNaN(v) ? "" : Double.toString(v);
    }

    private static String csvCell(String s) {
        if (s.indexOf(',') < 0 && s.indexOf('"') < 0 && s.indexOf('\r') < 0 && s.indexOf('\n') < 0) return s;
        return '"' + s.replace("\"", "\"\"") + '"';
    }

    private static EvalPoint parseLine(Path file, int lineNo, String line) throws MetricsFormatException {
        JsonObject o;
        try {
            JsonElement e = JsonParser.parseString(line);
            if (!e.isJsonObject()) throw new MetricsFormatException(file, lineNo, "not a JSON object");
            o = e.getAsJsonObject();
        } catch (JsonParseException e) {
            throw new MetricsFormatException(file, lineNo, "invalid JSON: " + JsonErrors.reason(e));
        }
        try {
            return new EvalPoint(
                    string(o, "algorithm", file, lineNo),
                    longField(o, "seed", file, lineNo),
                    intField(o, "iteration", file, lineNo),
                    longField(o, "generatedTokens", file, lineNo),
                    number(o, "wallSeconds", false, file, lineNo),
                    number(o, "greedyAccuracy", false, file, lineNo),
                    number(o, "sampledAccuracy", true, file, lineNo),
                    number(o, "trainReward", true, file, lineNo),
                    optionalCount(o, "episodes", file, lineNo),
                    optionalCount(o, "optimizerSteps", file, lineNo));
        } catch (IllegalArgumentException e) {
            throw new MetricsFormatException(file, lineNo, e.getMessage());
        }
    }

    private static String string(JsonObject o, String field, Path file, int line) throws MetricsFormatException {
        JsonElement e = o.get(field);
        if (e == null || !e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
            throw new MetricsFormatException(file, line, "field \"" + field + "\" is missing or not a string");
        }
        return e.getAsString();
    }

    private static JsonPrimitive numeric(JsonObject o, String field, Path file, int line)
            throws MetricsFormatException {
        JsonElement e = o.get(field);
        if (e == null || !e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber()) {
            throw new MetricsFormatException(file, line, "field \"" + field + "\" is missing or not a number");
        }
        return e.getAsJsonPrimitive();
    }

    private static long longField(JsonObject o, String field, Path file, int line) throws MetricsFormatException {
        BigDecimal v = new BigDecimal(numeric(o, field, file, line).getAsString());
        try {
            return v.longValueExact();
        } catch (ArithmeticException e) {
            throw new MetricsFormatException(file, line, "field \"" + field + "\" is not a 64-bit integer: " + v);
        }
    }

    /** A count that files written before it was recorded lack (or hold as null): {@link EvalPoint#UNRECORDED}. */
    private static long optionalCount(JsonObject o, String field, Path file, int line) throws MetricsFormatException {
        JsonElement e = o.get(field);
        if (e == null || e.isJsonNull()) return EvalPoint.UNRECORDED;
        return longField(o, field, file, line);
    }

    private static int intField(JsonObject o, String field, Path file, int line) throws MetricsFormatException {
        BigDecimal v = new BigDecimal(numeric(o, field, file, line).getAsString());
        try {
            return v.intValueExact();
        } catch (ArithmeticException e) {
            throw new MetricsFormatException(file, line, "field \"" + field + "\" is not a 32-bit integer: " + v);
        }
    }

    private static double number(JsonObject o, String field, boolean nullable, Path file, int line)
            throws MetricsFormatException {
        JsonElement e = o.get(field);
        if (nullable && e != null && e.isJsonNull()) return Double.NaN;
        return numeric(o, field, file, line).getAsDouble();
    }
}
