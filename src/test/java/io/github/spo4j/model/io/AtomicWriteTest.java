package io.github.spo4j.model.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.AbstractTensor;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.DeviceOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A failed write leaves the old file (or no file) and no temporary file behind. */
@SuppressWarnings("try")
class AtomicWriteTest {
    @TempDir
    Path dir;

    private List<String> listing() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
        }
    }

    @Test
    void unwritableTensorMidFileKeepsTheOldFile() throws IOException {
        Path p = dir.resolve("ckpt.safetensors");
        SafeTensors.write(p, Map.of("a", new FloatTensor(new float[] {1, 2}, 2)), null, SafeTensorsDType.F32);
        byte[] before = Files.readAllBytes(p);
        try (PointerScope scope = new PointerScope()) {
            Tensor good = AbstractTensor.create(new float[] {3, 4, 5}, 3);
            // A meta tensor has a shape but no data: the header is written, then copying "z" fails.
            Tensor meta = torch.empty(
                    new long[] {4},
                    new TensorOptions(ScalarType.Float).device(new DeviceOptional(new Device("meta"))),
                    null);
            assertThrows(
                    RuntimeException.class,
                    () -> SafeTensors.writeTensors(p, Map.of("a", good, "z", meta), null, SafeTensorsDType.F32));
        }
        assertArrayEquals(before, Files.readAllBytes(p));
        assertEquals(List.of("ckpt.safetensors"), listing());
    }

    @Test
    void failedRenameLeavesNoTemporaryFile() throws IOException {
        Path target = Files.createDirectory(dir.resolve("taken.safetensors"));
        Files.writeString(target.resolve("keep"), "x");
        assertThrows(
                IOException.class,
                () -> SafeTensors.write(
                        target, Map.of("a", new FloatTensor(new float[] {1}, 1)), null, SafeTensorsDType.F32));
        assertEquals(List.of("taken.safetensors"), listing());
        assertTrue(Files.exists(target.resolve("keep")));
    }

    @Test
    void writerExceptionDeletesTheTemporaryFile() throws IOException {
        Path p = dir.resolve("x.bin");
        assertThrows(
                IOException.class,
                () -> AtomicFiles.write(p, ch -> {
                    ch.write(java.nio.ByteBuffer.wrap(new byte[] {1, 2, 3}));
                    throw new IOException("disk full");
                }));
        assertEquals(List.of(), listing());
        AtomicFiles.write(p, new byte[] {9});
        assertArrayEquals(new byte[] {9}, Files.readAllBytes(p));
        assertEquals(List.of("x.bin"), listing());
    }
}
