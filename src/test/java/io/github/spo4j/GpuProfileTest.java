package io.github.spo4j;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.spo4j.testutil.ExternalCommands;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The {@code gpu} Maven profile resolves: Maven's collect step builds its dependency graph from POMs alone (the
 * default build has fetched them; no jar is downloaded, the 460 MB natives least of all), and the profile adds
 * libtorch's CUDA build; the CUDA presets' natives (5 MB) are in both. Skipped where no {@code mvn} is on the PATH.
 */
class GpuProfileTest {
    private static final String TORCH = "org.bytedeco:pytorch:jar:";
    private static final String VERSION = ":2.10.0-1.5.13:compile";
    private static final String CUDA_PRESETS = "org.bytedeco:cuda:jar:linux-x86_64:13.1-9.19-1.5.13:compile";

    @Test
    void theGpuProfileAddsLibtorchsCudaBuild() throws Exception {
        String gpu = collect("-Pgpu");
        assertTrue(gpu.contains(TORCH + "linux-x86_64-gpu" + VERSION), gpu);
        assertTrue(gpu.contains(CUDA_PRESETS), gpu);
        String cpu = collect();
        assertTrue(cpu.contains(TORCH + "linux-x86_64" + VERSION), cpu);
        assertFalse(cpu.contains("linux-x86_64-gpu"), "the default build stays on the CPU natives");
        assertTrue(cpu.contains(CUDA_PRESETS), "the CUDA presets' natives are in the default build: " + cpu);
    }

    private static String collect(String... flags) throws IOException, InterruptedException {
        Path pom = Path.of(System.getProperty("basedir", ".")).resolve("pom.xml");
        assumeTrue(Files.isRegularFile(pom), "needs the project's pom.xml");
        String mvn = ExternalCommands.onPath("mvn");
        assumeTrue(mvn != null, "needs mvn on the PATH");
        List<String> cmd = new java.util.ArrayList<>(List.of(
                mvn,
                "-B",
                "-o",
                "-f",
                pom.toString(),
                "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:collect"));
        cmd.addAll(List.of(flags));
        return ExternalCommands.run(cmd, null, Map.of(), 300);
    }
}
