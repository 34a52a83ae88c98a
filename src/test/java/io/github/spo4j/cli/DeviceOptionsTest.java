package io.github.spo4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.spo4j.model.Device;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code --device}: parsed and checked before any work, each error one line naming the option. */
class DeviceOptionsTest {
    @Test
    void theDefaultAndCpuResolveToTheCpuWithoutAGpu() {
        assumeTrue(Device.cudaDeviceCount() == 0, "this machine's libtorch sees a GPU");
        assertSame(Device.CPU, DeviceOptions.resolve(null, null));
        assertSame(Device.CPU, DeviceOptions.resolve(null, "1"));
        assertSame(Device.CPU, DeviceOptions.resolve("cpu", "3"));
    }

    @Test
    void badNamesAndMissingGpusNameTheOption() {
        IllegalArgumentException bad =
                assertThrows(IllegalArgumentException.class, () -> DeviceOptions.resolve("gpu:0", null));
        assertTrue(bad.getMessage().startsWith("--device must be cpu, cuda or cuda:N"), bad.getMessage());
        assumeTrue(Device.cudaDeviceCount() == 0, "this machine's libtorch sees a GPU");
        IllegalArgumentException none =
                assertThrows(IllegalArgumentException.class, () -> DeviceOptions.resolve("cuda:1", null));
        assertTrue(none.getMessage().startsWith("--device cuda:1 is unavailable"), none.getMessage());
    }

    @Test
    void aCommandAskedForCudaWithoutOneStopsWithOneLineBeforeTraining(@TempDir Path dir) {
        assumeTrue(Device.cudaDeviceCount() == 0, "this machine's libtorch sees a GPU");
        StringWriter out = new StringWriter(), err = new StringWriter();
        CommandLine cl = new CommandLine(new Spo4jCli());
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int status = cl.execute(
                "sft",
                "--task",
                "arithmetic",
                "--steps",
                "1",
                "--device",
                "cuda",
                "--out",
                dir.resolve("m").toString());
        assertEquals(Commands.BAD_INPUT, status, err.toString());
        assertTrue(err.toString().startsWith("error: --device cuda:0 is unavailable"), err.toString());
        assertTrue(err.toString().contains("-Pgpu"), err.toString());
    }
}
