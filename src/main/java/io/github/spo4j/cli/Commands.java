package io.github.spo4j.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.util.concurrent.Callable;

/** Turns the errors a user can cause into one line on stderr and an exit status, instead of a stack trace. */
final class Commands {
    private Commands() {}

    /** Exit status of a usage or input error (picocli's usage-error code). */
    static final int BAD_INPUT = 2;
    /** Exit status of an I/O error (unreadable file, corrupt checkpoint). */
    static final int IO_ERROR = 1;

    static int run(PrintWriter err, Callable<Integer> body) throws Exception {
        try {
            return body.call();
        } catch (IllegalArgumentException e) {
            err.println("error: " + e.getMessage());
            return BAD_INPUT;
        } catch (IOException e) {
            err.println("error: " + e.getMessage());
            return IO_ERROR;
        }
    }
}
