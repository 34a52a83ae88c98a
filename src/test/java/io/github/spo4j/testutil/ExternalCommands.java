package io.github.spo4j.testutil;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Tests that run a tool of the build (mvn, a script): found on the PATH, run to exit 0 within a time limit. */
public final class ExternalCommands {
    private ExternalCommands() {}

    /** The executable {@code name} on the PATH, or null. */
    public static String onPath(String name) {
        String path = System.getenv("PATH");
        if (path == null) return null;
        for (String dir : path.split(File.pathSeparator)) {
            Path f = Path.of(dir, name);
            if (Files.isExecutable(f)) return f.toString();
        }
        return null;
    }

    /**
     * Runs {@code cmd} in {@code dir} with {@code env} added to the environment; fails the test unless it exits 0
     * within {@code seconds}. Its output (stdout and stderr) goes through a file, so a chatty tool cannot block on
     * a full pipe.
     *
     * @return the output
     */
    public static String run(List<String> cmd, Path dir, Map<String, String> env, int seconds)
            throws IOException, InterruptedException {
        Path log = Files.createTempFile("spo4j-command", ".log");
        try {
            ProcessBuilder pb =
                    new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
            if (dir != null) pb.directory(dir.toFile());
            pb.environment().putAll(env);
            Process p = pb.start();
            if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError(String.join(" ", cmd) + " took over " + seconds + " s");
            }
            String out = Files.readString(log, StandardCharsets.UTF_8);
            assertEquals(0, p.exitValue(), out);
            return out;
        } finally {
            Files.deleteIfExists(log);
        }
    }
}
