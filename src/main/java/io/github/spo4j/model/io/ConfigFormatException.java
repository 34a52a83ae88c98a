package io.github.spo4j.model.io;

import java.io.IOException;
import java.nio.file.Path;

/** A model {@code config.json} that cannot be used: bad JSON, a missing or invalid field, an unknown model type. */
public final class ConfigFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    private final transient Path file;
    private final String field;

    /**
     * @param file   the config file, or null when the JSON came from a string
     * @param field  the JSON field concerned, or null
     * @param detail what is wrong
     */
    public ConfigFormatException(Path file, String field, String detail) {
        super((file == null ? "config.json text" : file.toString()) + (field == null ? "" : ": field '" + field + "'")
                + ": " + detail);
        this.file = file;
        this.field = field;
    }

    public ConfigFormatException(Path file, String field, String detail, Throwable cause) {
        this(file, field, detail);
        initCause(cause);
    }

    /** The config file, or null. */
    public Path file() {
        return file;
    }

    /** The field concerned, or null. */
    public String field() {
        return field;
    }
}
