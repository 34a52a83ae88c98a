package io.github.spo4j.model.io;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Writes a file atomically: into a temporary file in the target's directory, forced to disk, then renamed
 * over the target with {@code ATOMIC_MOVE}. Readers see the old file or the complete new one, never a
 * partial one; on any failure the temporary file is deleted and the target is untouched.
 */
public final class AtomicFiles {
    private AtomicFiles() {}

    /**
     * A fault-injection seam: sees each file after its content is written to the temporary and before it is forced
     * to disk, and may throw as the file system would (a full disk). Every file spo4j writes passes here.
     */
    @FunctionalInterface
    public interface WriteFault {
        /**
         * @param target the file being written
         * @param bytes  the content's size
         */
        void check(Path target, long bytes) throws IOException;
    }

    private static volatile WriteFault fault;

    /**
     * Installs a {@link WriteFault} for every later write in this JVM, or removes it ({@code null}). For fault-injection
     * tests; nothing in spo4j installs one.
     */
    public static void injectFault(WriteFault writeFault) {
        fault = writeFault;
    }

    /** Writes the file's content through a channel positioned at 0. */
    @FunctionalInterface
    public interface ChannelWriter {
        void write(FileChannel channel) throws IOException;
    }

    /**
     * @param target the file to create or replace; its directory must exist
     * @param writer writes the whole content
     */
    public static void write(Path target, ChannelWriter writer) throws IOException {
        if (target == null) throw new IllegalArgumentException("target must not be null");
        if (writer == null) throw new IllegalArgumentException("writer must not be null");
        Path abs = target.toAbsolutePath();
        Path dir = abs.getParent();
        Path tmp = Files.createTempFile(dir, "." + abs.getFileName() + ".", ".tmp");
        boolean done = false;
        try {
            try (FileChannel ch =
                    FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                writer.write(ch);
                WriteFault f = fault;
                if (f != null) f.check(abs, ch.size());
                ch.force(true);
            }
            try {
                Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException(
                        "cannot replace " + abs + " atomically (the file system has no atomic rename)", e);
            }
            done = true;
        } finally {
            if (!done) Files.deleteIfExists(tmp);
        }
    }

    /**
     * Deletes the temporaries that writes into {@code dir} left behind when their process was killed mid-write (a
     * SIGKILL runs no cleanup): regular files named as {@link #write} names them, {@code .NAME.DIGITS.tmp}. Only the
     * directory's single writer may call this, since a live write's temporary has the same name.
     *
     * @return how many were deleted
     */
    public static int deleteOrphanedTemporaries(Path dir) throws IOException {
        if (dir == null) throw new IllegalArgumentException("dir must not be null");
        int deleted = 0;
        try (Stream<Path> files = Files.list(dir)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                if (TEMPORARY.matcher(p.getFileName().toString()).matches() && Files.isRegularFile(p)) {
                    Files.deleteIfExists(p);
                    deleted++;
                }
            }
        }
        return deleted;
    }

    /** {@link Files#createTempFile} puts an unsigned decimal long between the prefix and the suffix. */
    private static final Pattern TEMPORARY = Pattern.compile("\\..+\\.[0-9]+\\.tmp");

    /** Writes {@code bytes} atomically. */
    public static void write(Path target, byte[] bytes) throws IOException {
        if (bytes == null) throw new IllegalArgumentException("bytes must not be null");
        write(target, ch -> {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(bytes);
            while (b.hasRemaining()) ch.write(b);
        });
    }
}
