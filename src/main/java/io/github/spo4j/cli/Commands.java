package io.github.spo4j.cli;

import io.github.spo4j.train.distributed.DistributedException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
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
            err.println("error: " + describe(e));
            return IO_ERROR;
        } catch (DistributedException e) {
            err.println("error: " + e.getMessage());
            return IO_ERROR;
        } catch (OutOfMemoryError e) {
            err.println("error: out of Java heap (" + e.getMessage() + "); raise -Xmx or shrink the batch");
            return IO_ERROR;
        }
    }

    /**
     * An I/O error as one line. The JDK's file-system exceptions carry the path alone as their message
     * ({@code NoSuchFileException: /x}); say what happened to it.
     */
    static String describe(IOException e) {
        if (e instanceof NoSuchFileException f) return f.getFile() + " does not exist";
        if (e instanceof AccessDeniedException f) return f.getFile() + ": permission denied";
        if (e instanceof FileAlreadyExistsException f) return f.getFile() + " already exists";
        if (e instanceof NotDirectoryException f) return f.getFile() + " is not a directory";
        if (e instanceof DirectoryNotEmptyException f) return f.getFile() + " is a directory that is not empty";
        if (e instanceof FileSystemException f && f.getReason() != null) {
            return f.getFile() + (f.getOtherFile() != null ? " → " + f.getOtherFile() : "") + ": " + f.getReason();
        }
        String m = e.getMessage();
        return m == null || m.isBlank() ? e.getClass().getSimpleName() : m;
    }
}
