package io.github.spo4j.kernels.engine;

import io.github.spo4j.kernels.nativebind.Spo4jNative;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;

/**
 * A CUDA device allocation made through libspo4j (so callers need no CUDA runtime of their own); used to
 * stage Java arrays for the CUDA backend. Closing it frees the memory.
 */
public final class DeviceMemory implements AutoCloseable {
    private final Pointer ptr;
    private final long bytes;

    private DeviceMemory(Pointer ptr, long bytes) {
        this.ptr = ptr;
        this.bytes = bytes;
    }

    public static DeviceMemory allocate(long bytes) {
        try (PointerPointer<Pointer> out = new PointerPointer<>(1)) {
            NativeLibrary.check(Spo4jNative.spo4j_cuda_malloc(out, Math.max(bytes, 1)));
            return new DeviceMemory(out.get(0), bytes);
        }
    }

    /** A device copy of `host` (its bytes from position to limit or capacity), or null for null. */
    public static DeviceMemory copyOf(Pointer host, long bytes) {
        if (host == null) return null;
        DeviceMemory d = allocate(bytes);
        NativeLibrary.check(Spo4jNative.spo4j_cuda_memcpy(d.ptr, host, bytes, Spo4jNative.SPO4J_MEMCPY_HOST_TO_DEVICE));
        return d;
    }

    public void copyTo(Pointer host) {
        NativeLibrary.check(Spo4jNative.spo4j_cuda_memcpy(host, ptr, bytes, Spo4jNative.SPO4J_MEMCPY_DEVICE_TO_HOST));
    }

    public Pointer pointer() {
        return ptr;
    }

    @Override
    public void close() {
        Spo4jNative.spo4j_cuda_free(ptr);
    }
}
