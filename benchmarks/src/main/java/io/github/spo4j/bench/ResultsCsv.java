package io.github.spo4j.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A results table written as CSV with the columns {@code kernel,impl,shape,metric,median,unit,machine,date}:
 * one row per kernel, implementation, shape and metric (measured times and the figures derived from them).
 */
public final class ResultsCsv {
    /** The header line. */
    public static final String HEADER = "kernel,impl,shape,metric,median,unit,machine,date";

    /** One row; {@code median} is the median over JMH's measurement iterations, or a figure derived from medians. */
    public record Row(String kernel, String impl, String shape, String metric, double median, String unit) {}

    private final String machine;
    private final String date;
    private final List<Row> rows = new ArrayList<>();

    public ResultsCsv(String machine, String date) {
        this.machine = machine;
        this.date = date;
    }

    public void add(String kernel, String impl, String shape, String metric, double median, String unit) {
        rows.add(new Row(kernel, impl, shape, metric, median, unit));
    }

    public List<Row> rows() {
        return List.copyOf(rows);
    }

    /** The first row with these keys, or null. */
    public Row find(String kernel, String impl, String shape, String metric) {
        for (Row r : rows) {
            if (r.kernel.equals(kernel) && r.impl.equals(impl) && r.shape.equals(shape) && r.metric.equals(metric)) {
                return r;
            }
        }
        return null;
    }

    /** Writes the header and every row to {@code file}, creating its directory. */
    public void write(Path file) throws IOException {
        if (file.getParent() != null) Files.createDirectories(file.getParent());
        StringBuilder sb = new StringBuilder(HEADER).append('\n');
        for (Row r : rows) {
            sb.append(field(r.kernel))
                    .append(',')
                    .append(field(r.impl))
                    .append(',')
                    .append(field(r.shape))
                    .append(',')
                    .append(field(r.metric))
                    .append(',')
                    .append(number(r.median))
                    .append(',')
                    .append(field(r.unit))
                    .append(',')
                    .append(field(machine))
                    .append(',')
                    .append(field(date))
                    .append('\n');
        }
        Files.writeString(file, sb.toString(), StandardCharsets.UTF_8);
    }

    /** Four significant digits: the measurements are not more precise than that. */
    static String number(double x) {
        if (x == 0 || !Double.isFinite(x)) return String.valueOf(x);
        return new java.math.BigDecimal(x)
                .round(new java.math.MathContext(4))
                .stripTrailingZeros()
                .toPlainString();
    }

    private static String field(String s) {
        if (s.contains(",") || s.contains("\"") || s.contains("\n")) return '"' + s.replace("\"", "\"\"") + '"';
        return s;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        for (Row r : rows) {
            sb.append(String.format(
                    Locale.ROOT,
                    "%-19s %-13s %-15s %-27s %12s %s%n",
                    r.kernel,
                    r.impl,
                    r.shape,
                    r.metric,
                    number(r.median),
                    r.unit));
        }
        return sb.toString();
    }
}
