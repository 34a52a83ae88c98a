package io.github.spo4j.report;

import java.io.IOException;
import java.nio.file.Path;

/** A metrics file line that is not a valid {@link EvalPoint}; the message names the file and line. */
public final class MetricsFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    public MetricsFormatException(Path file, int line, String detail) {
        super(file + ":" + line + ": " + detail);
    }
}
