package io.github.spo4j.tasks;

import java.io.IOException;
import java.nio.file.Path;

/** A dataset file that does not have the expected form; the message names the file and line. */
public final class TaskFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    public TaskFormatException(Path file, int line, String detail) {
        super(file + ":" + line + ": " + detail);
    }
}
