package io.github.spo4j.kernels.engine;

import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.Pointer;

/**
 * Device copies of host inputs (and device outputs) for one CUDA call: stream-ordered allocations on the kernel
 * stream ({@link DeviceMemory#staging}), freed together after the call's work.
 */
public final class Staging implements AutoCloseable {
    private final List<DeviceMemory> owned = new ArrayList<>();

    DeviceMemory alloc(long bytes) {
        DeviceMemory d = DeviceMemory.staging(bytes);
        owned.add(d);
        return d;
    }

    public Pointer in(Pointer host, long bytes) {
        if (host == null) return null;
        DeviceMemory d = DeviceMemory.stagingCopyOf(host, bytes);
        owned.add(d);
        return d.pointer();
    }

    /** Frees every allocation, also after one fails to free (the first failure is thrown, the rest suppressed). */
    @Override
    public void close() {
        RuntimeException first = null;
        for (DeviceMemory d : owned) {
            try {
                d.close();
            } catch (RuntimeException e) {
                if (first == null) first = e;
                else first.addSuppressed(e);
            }
        }
        owned.clear();
        if (first != null) throw first;
    }
}
