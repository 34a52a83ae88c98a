package io.github.spo4j.model.io;

import com.google.gson.JsonParseException;

/** Gson's parse errors as one line. */
public final class JsonErrors {
    private JsonErrors() {}

    /**
     * The reason of a parse error with its line, column and JSON path ("Unterminated string at line 8 column 12 path
     * $.eos_token_id"), without the exception class gson prefixes and the troubleshooting link it appends on a new line.
     */
    public static String reason(RuntimeException e) {
        Throwable cause = e instanceof JsonParseException && e.getCause() != null ? e.getCause() : e;
        String m = cause.getMessage() != null ? cause.getMessage() : String.valueOf(e.getMessage());
        int see = m.indexOf("\nSee ");
        return (see >= 0 ? m.substring(0, see) : m).strip();
    }
}
