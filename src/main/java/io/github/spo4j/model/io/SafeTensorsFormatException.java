package io.github.spo4j.model.io;

import java.io.IOException;
import java.nio.file.Path;

/** A safetensors file (or sharded directory) that breaks the format; the message names the file and tensor. */
public final class SafeTensorsFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    private final transient Path file;
    private final String tensor;

    /**
     * @param file   the offending file (or the index / directory)
     * @param tensor the tensor concerned, or null when the problem is not one tensor's
     * @param detail what is wrong, with the byte offset or field where one applies
     */
    public SafeTensorsFormatException(Path file, String tensor, String detail) {
        super(file + (tensor == null ? "" : ": tensor '" + tensor + "'") + ": " + detail);
        this.file = file;
        this.tensor = tensor;
    }

    public SafeTensorsFormatException(Path file, String tensor, String detail, Throwable cause) {
        this(file, tensor, detail);
        initCause(cause);
    }

    public Path file() {
        return file;
    }

    /** The tensor concerned, or null. */
    public String tensor() {
        return tensor;
    }
}
