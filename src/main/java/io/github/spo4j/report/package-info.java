/**
 * The output side of {@code spo4j compare}: evaluation points of the runs ({@link io.github.spo4j.report.EvalPoint}),
 * their jsonl/csv files ({@link io.github.spo4j.report.MetricsFiles}), final results per algorithm
 * ({@link io.github.spo4j.report.Summary}), PNG plots ({@link io.github.spo4j.report.ComparePlots}), the markdown
 * report ({@link io.github.spo4j.report.CompareReport}) and progress display ({@link io.github.spo4j.report.Progress}).
 * Every file is written whole and atomically.
 */
package io.github.spo4j.report;
