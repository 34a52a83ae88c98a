package io.github.spo4j.kernels.engine;

import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.Pointer;

/** Device copies of host inputs (and device outputs) for one CUDA call, freed together. */
public final class Staging implements AutoCloseable {
    private final List<DeviceMemory> owned = new ArrayList<>();

    DeviceMemory alloc(long bytes) {
        DeviceMemory d = DeviceMemory.allocate(bytes);
        owned.add(d);
        return d;
    }

    public Pointer in(Pointer host, long bytes) {
        if (host == null) return null;
        DeviceMemory d = DeviceMemory.copyOf(host, bytes);
        owned.add(d);
        return d.pointer();
    }

    @Override
    public void close() {
        for (DeviceMemory d : owned) d.close();
    }
}
