package io.github.spo4j;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.spo4j.testutil.ExternalCommands;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
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
        assumeTrue(
                ExternalCommands.onPath("bash") != null && ExternalCommands.onPath("jlink") != null,
                "needs bash and jlink");
        Path bundle = Files.createTempDirectory("spo4j-gpu-java");
        try {
            String packed = ExternalCommands.run(
                    List.of("bash", script.toString()),
                    root,
                    Map.of("SPO4J_BUNDLE_DIR", bundle.resolve("b").toString()),
                    300);
            assertTrue(packed.contains("MiB to carry"), packed);
            Path java = bundle.resolve("b/jre/bin/java");
            assertTrue(Files.isExecutable(java), packed);
            String tests = ExternalCommands.run(
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
                    Map.of(),
                    300);
            assertTrue(tests.matches("(?s).*\\[\\s+[1-9]\\d* tests successful\\s+\\].*"), tests);
            assertTrue(tests.matches("(?s).*\\[\\s+0 tests failed\\s+\\].*"), tests);
        } finally {
            try (Stream<Path> files = Files.walk(bundle)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
