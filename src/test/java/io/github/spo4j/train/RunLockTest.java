package io.github.spo4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One holder per directory; the holder is named; a released lock is taken again. (Across processes: faults.) */
class RunLockTest {
    @Test
    void aSecondHolderIsRefusedNamingTheFirst(@TempDir Path dir) throws IOException {
        Path run = dir.resolve("run");
        try (RunLock first = RunLock.acquire(run, "spo4j train")) {
            assertEquals(run, first.directory());
            RunLock.HeldException e =
                    assertThrows(RunLock.HeldException.class, () -> RunLock.acquire(run, "spo4j compare"));
            String pid = Long.toString(ProcessHandle.current().pid());
            assertTrue(
                    e.holder()
                            .startsWith("pid " + pid + " on "
                                    + InetAddress.getLocalHost().getHostName() + " since "),
                    e.holder());
            assertTrue(e.holder().endsWith("(spo4j train)"), e.holder());
            assertTrue(e.getMessage().startsWith(run + " is in use by another spo4j run (pid " + pid), e.getMessage());
        }
        try (RunLock again = RunLock.acquire(run, "spo4j sft")) {
            assertTrue(Files.readString(run.resolve(RunLock.FILE)).endsWith("(spo4j sft)"));
        }
    }

    @Test
    void theNextHolderDeletesTheTemporariesOfAKilledWriteAndNothingElse(@TempDir Path dir) throws IOException {
        Path run = Files.createDirectories(dir.resolve("run"));
        // What AtomicFiles.write leaves when its process is killed between creating its temporary and renaming it.
        Path orphan = Files.createTempFile(run, ".iterations.jsonl.", ".tmp");
        Path orphanDirectory = Files.createDirectories(run.resolve(".kept.123.tmp"));
        var users = java.util.stream.Stream.of("notes.tmp", ".notes.tmp", ".notes.x1.tmp", "metrics.jsonl")
                .map(run::resolve)
                .toList();
        for (Path p : users) Files.writeString(p, "mine");
        try (RunLock lock = RunLock.acquire(run, "t")) {
            assertTrue(Files.notExists(orphan), orphan + " left");
            assertTrue(Files.isDirectory(orphanDirectory), "a directory is not a temporary of a write");
            for (Path p : users) assertEquals("mine", Files.readString(p), p.toString());
        }
    }

    @Test
    void aFileWhereTheDirectoryShouldBeIsAnError(@TempDir Path dir) throws IOException {
        Path file = Files.writeString(dir.resolve("f"), "x");
        IOException e = assertThrows(IOException.class, () -> RunLock.acquire(file, "t"));
        assertEquals(file + " is not a directory", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> RunLock.acquire(null, "t"));
    }
}
