package io.github.spo4j.tasks;

import java.io.IOException;
import java.nio.file.Path;

/** A dataset file that does not have the expected form; the message names the file and line. */
public final class TaskFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    public TaskFormatException(Path file, int line, String detail) {
        super(file + ":" + line + ": " + detail);
    }

    /** Gson's parse error as one line: its reason and position, without the class prefix and the link it appends. */
    static String jsonReason(RuntimeException e) {
        Throwable cause = e.getCause() != null ? e.getCause() : e;
        String m = String.valueOf(cause.getMessage());
        int see = m.indexOf("\nSee ");
        return (see >= 0 ? m.substring(0, see) : m).strip();
    }
}
