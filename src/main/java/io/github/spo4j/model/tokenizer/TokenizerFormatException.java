package io.github.spo4j.model.tokenizer;

import java.io.IOException;
import java.nio.file.Path;

/** A tokenizer file that cannot be read, or that asks for something this package does not implement. */
public final class TokenizerFormatException extends IOException {

    private static final long serialVersionUID = 1L;

    /**
     * @param file the file
     * @param field the JSON path of the offending field (e.g. {@code model.merges[12]}), or "" for the whole file
     * @param message what is wrong
     */
    public TokenizerFormatException(Path file, String field, String message) {
        super(file + (field.isEmpty() ? "" : ": " + field) + ": " + message);
    }

    TokenizerFormatException(Path file, String field, String message, Throwable cause) {
        this(file, field, message);
        initCause(cause);
    }
}
