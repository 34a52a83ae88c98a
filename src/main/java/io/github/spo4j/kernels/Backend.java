package io.github.spo4j.kernels;

import io.github.spo4j.kernels.engine.CudaRuntime;
import io.github.spo4j.kernels.engine.NativeLibrary;
import java.util.Locale;

/**
 * Where a kernel runs. {@link #auto()} picks the fastest available one (CUDA, then CPU, then the
 * reference); {@code -Dspo4j.backend=reference|cpu|cuda} overrides it.
 */
public enum Backend {
    /** The pure-Java reference: the test oracle, and a slow path that needs no native code. */
    REFERENCE,
    /** The native C++ kernels on host memory (multi-threaded, deterministic). */
    CPU,
    /** The native CUDA kernels on device memory. */
    CUDA;

    /** System property that overrides {@link #auto()}. */
    public static final String PROPERTY = "spo4j.backend";

    /**
     * Whether this backend can run here: native library loaded, and for CUDA also a device seen by both the CUDA
     * kernels (libspo4j's runtime) and the Java side ({@link CudaRuntime}, which stages memory for them).
     */
    public boolean isAvailable() {
        return switch (this) {
            case REFERENCE -> true;
            case CPU -> NativeLibrary.loadError() == null;
            case CUDA ->
                NativeLibrary.loadError() == null && NativeLibrary.cudaDeviceCount() > 0 && CudaRuntime.available();
        };
    }

    /**
     * Throws {@link IllegalStateException} saying why this backend cannot run here.
     *
     * @return this backend
     */
    public Backend requireAvailable() {
        if (isAvailable()) return this;
        if (NativeLibrary.loadError() != null) {
            throw new IllegalStateException("backend " + this + " is unavailable: the native library failed to load ("
                    + NativeLibrary.loadError() + ")");
        }
        String why;
        if (!NativeLibrary.builtWithCuda()) {
            why = "spo4j was built without CUDA (nvcc was not found at build time; rebuild with nvcc on the PATH)";
        } else if (!CudaRuntime.available()) {
            why = CudaRuntime.unavailableReason();
            if (why.startsWith("the CUDA runtime did not load")) {
                why += " (install the CUDA 13.1 runtime, or add org.bytedeco:cuda-redist to the class path)";
            }
        } else {
            why = "the CUDA kernels' runtime sees no device";
        }
        throw new IllegalStateException("backend CUDA is unavailable: " + why);
    }

    /**
     * What the CUDA runtime says of CUDA device {@code index}, in one line ("NVIDIA H200, 139.7 GiB, sm_90, 132
     * SMs"), or null where it does not see that device.
     */
    public static String describeCudaDevice(int index) {
        return index >= 0 && index < CudaRuntime.deviceCount()
                ? CudaRuntime.device(index).toString()
                : null;
    }

    /** The fastest available backend, or the one named by {@code -Dspo4j.backend} (checked to be available). */
    public static Backend auto() {
        String forced = System.getProperty(PROPERTY);
        if (forced != null && !forced.isBlank()) return parse(forced).requireAvailable();
        if (CUDA.isAvailable()) return CUDA;
        if (CPU.isAvailable()) return CPU;
        return REFERENCE;
    }

    /** The fastest available backend that works on host (Java or off-heap) memory: CPU, else REFERENCE. */
    public static Backend autoHost() {
        String forced = System.getProperty(PROPERTY);
        if (forced != null && !forced.isBlank() && parse(forced) != CUDA)
            return parse(forced).requireAvailable();
        return CPU.isAvailable() ? CPU : REFERENCE;
    }

    /** Parses {@code reference}, {@code cpu} or {@code cuda} (any case). */
    public static Backend parse(String name) {
        try {
            return valueOf(name.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(PROPERTY + " must be one of reference, cpu, cuda; got '" + name + "'");
        }
    }
}
