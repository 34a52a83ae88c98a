package io.github.spo4j.train;

import io.github.spo4j.model.io.AtomicFiles;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.temporal.ChronoUnit;

/**
 * The one-writer lock of a run directory: an exclusive OS file lock on {@value #FILE} in the directory, held from
 * {@link #acquire} to {@link #close}. A second holder, in another process or in this one, is refused at once with the
 * directory and the holder's pid, host, start time and command. The lock is the operating system's ({@code fcntl}
 * on Linux), so it dies with its process: a lock left by a killed run is free and the next run takes it over, deleting
 * the temporaries of atomic writes the killed run was in the middle of. The file stays in the directory after {@link #close} (deleting it would let two processes
 * lock two different files of the same name).
 */
public final class RunLock implements AutoCloseable {
    public static final String FILE = ".spo4j.lock";

    private final Path directory;
    private final FileChannel channel;
    private final FileLock lock;

    private RunLock(Path directory, FileChannel channel, FileLock lock) {
        this.directory = directory;
        this.channel = channel;
        this.lock = lock;
    }

    /** Thrown when another run holds the directory. */
    public static final class HeldException extends IOException {
        private final String holder;

        HeldException(Path directory, String holder) {
            super(directory + " is in use by another spo4j run (" + holder + "); wait for it to finish or use "
                    + "another directory");
            this.holder = holder;
        }

        /** The holder as it recorded itself: pid, host, start time, command. */
        public String holder() {
            return holder;
        }
    }

    /**
     * Locks {@code directory} (creating it) for this process.
     *
     * @param command what holds the lock, for the message a second run gets ("spo4j train")
     * @throws HeldException when another run holds it
     */
    public static RunLock acquire(Path directory, String command) throws IOException {
        if (directory == null) throw new IllegalArgumentException("directory must not be null");
        if (command == null) throw new IllegalArgumentException("command must not be null");
        if (Files.exists(directory) && !Files.isDirectory(directory)) {
            throw new IOException(directory + " is not a directory");
        }
        Files.createDirectories(directory);
        Path file = directory.resolve(FILE);
        FileChannel channel =
                FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null; // held by this JVM
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
        if (lock == null) {
            String holder = holder(channel);
            channel.close();
            throw new HeldException(directory, holder);
        }
        try {
            byte[] me = (ProcessHandle.current().pid() + " on " + host() + " since "
                            + Instant.now().truncatedTo(ChronoUnit.SECONDS) + " (" + command + ")")
                    .getBytes(StandardCharsets.UTF_8);
            channel.truncate(0);
            ByteBuffer b = ByteBuffer.wrap(me);
            while (b.hasRemaining()) channel.write(b, b.position());
            channel.force(false);
        } catch (IOException | RuntimeException e) {
            lock.release();
            channel.close();
            throw new IOException("cannot record the lock of " + directory + " in " + file + ": " + e.getMessage(), e);
        }
        try {
            AtomicFiles.deleteOrphanedTemporaries(directory);
        } catch (IOException | RuntimeException e) {
            lock.release();
            channel.close();
            throw new IOException(
                    "cannot delete the temporaries a killed run left in " + directory + ": " + e.getMessage(), e);
        }
        return new RunLock(directory, channel, lock);
    }

    public Path directory() {
        return directory;
    }

    private static String holder(FileChannel channel) {
        try {
            ByteBuffer b = ByteBuffer.allocate((int) Math.min(channel.size(), 4096));
            while (b.hasRemaining() && channel.read(b, b.position()) > 0) {}
            String s = new String(b.array(), 0, b.position(), StandardCharsets.UTF_8).strip();
            return s.isEmpty() ? "a process that has not recorded itself yet" : "pid " + s;
        } catch (IOException e) {
            return "holder unreadable: " + e.getMessage();
        }
    }

    private static String host() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "unknown host";
        }
    }

    @Override
    public void close() throws IOException {
        try {
            if (lock.isValid()) lock.release();
        } finally {
            channel.close();
        }
    }
}
