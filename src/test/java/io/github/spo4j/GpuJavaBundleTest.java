package io.github.spo4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The Java stage of {@code scripts/gpu-check.sh} keeps working between GPU sessions: {@code gpu-java-bundle.sh} packs
 * a jlinked runtime and the jars, within the device session's carry limit, and that runtime runs kernel tests from
 * target/classes and target/test-classes with no libtorch and no Maven class path. Skipped where jlink or bash is
 * missing, or outside the project tree.
 */
class GpuJavaBundleTest {
    @Test
    void theBundleRunsKernelTestsWithoutLibtorch() throws Exception {
        Path root = Path.of(System.getProperty("basedir", ".")).toAbsolutePath();
        Path script = root.resolve("scripts/gpu-java-bundle.sh");
        assumeTrue(Files.isRegularFile(script), "needs the project's scripts/");
        assumeTrue(Files.isDirectory(root.resolve("target/test-classes")), "needs the built test classes");
        assumeTrue(onPath("bash") && onPath("jlink"), "needs bash and jlink");
        Path bundle = Files.createTempDirectory("spo4j-gpu-java");
        try {
            String packed = run(List.of("bash", script.toString()), root, bundle.resolve("b"));
            assertTrue(packed.contains("MiB to carry"), packed);
            Path java = bundle.resolve("b/jre/bin/java");
            assertTrue(Files.isExecutable(java), packed);
            String tests = run(
                    List.of(
                            java.toString(),
                            "-Dorg.bytedeco.javacpp.cachedir=" + bundle.resolve("cache"),
                            "-cp",
                            root.resolve("target/classes") + ":" + root.resolve("target/test-classes") + ":"
                                    + bundle.resolve("b/lib") + "/*",
                            "org.junit.platform.console.ConsoleLauncher",
                            "execute",
                            "--disable-banner",
                            "--disable-ansi-colors",
                            "--details=summary",
                            "--fail-if-no-tests",
                            "--select-class=io.github.spo4j.kernels.engine.CudaRuntimeTest"),
                    root,
                    null);
            assertTrue(tests.matches("(?s).*\\[\\s+[1-9]\\d* tests successful\\s+\\].*"), tests);
            assertTrue(tests.matches("(?s).*\\[\\s+0 tests failed\\s+\\].*"), tests);
        } finally {
            try (Stream<Path> files = Files.walk(bundle)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    /** Runs {@code cmd} in {@code dir} (with SPO4J_BUNDLE_DIR set when given), expects exit 0, returns its output. */
    private static String run(List<String> cmd, Path dir, Path bundleDir) throws IOException, InterruptedException {
        Path log = Files.createTempFile("spo4j-gpu-java", ".log");
        try {
            ProcessBuilder pb = new ProcessBuilder(cmd)
                    .directory(dir.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile());
            if (bundleDir != null) pb.environment().put("SPO4J_BUNDLE_DIR", bundleDir.toString());
            Process p = pb.start();
            if (!p.waitFor(300, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError(cmd.get(0) + " took over 5 minutes");
            }
            String out = Files.readString(log, StandardCharsets.UTF_8);
            assertEquals(0, p.exitValue(), out);
            return out;
        } finally {
            Files.deleteIfExists(log);
        }
    }

    private static boolean onPath(String name) {
        String path = System.getenv("PATH");
        if (path == null) return false;
        for (String dir : path.split(java.io.File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, name))) return true;
        }
        return false;
    }
}
