package io.github.spo4j.kernels.engine;

import io.github.spo4j.kernels.Spo4jNativeException;
import io.github.spo4j.kernels.nativebind.Spo4jNative;
import org.bytedeco.javacpp.IntPointer;

/** Loads libspo4j once and turns its status codes into Java exceptions. */
public final class NativeLibrary {
    private static final String LOAD_ERROR;
    private static final boolean BUILT_WITH_CUDA;
    private static final int CUDA_DEVICES;

    static {
        String error = null;
        boolean cuda = false;
        int devices = 0;
        try {
            cuda = Spo4jNative.spo4j_built_with_cuda() != 0;
            try (IntPointer count = new IntPointer(1)) {
                Spo4jNative.spo4j_cuda_device_count(count);
                devices = count.get();
            }
        } catch (Throwable t) { // UnsatisfiedLinkError, or a JavaCPP loader error
            error = t.toString();
        }
        LOAD_ERROR = error;
        BUILT_WITH_CUDA = cuda;
        CUDA_DEVICES = devices;
    }

    private NativeLibrary() {}

    public static String loadError() {
        return LOAD_ERROR;
    }

    public static boolean builtWithCuda() {
        return BUILT_WITH_CUDA;
    }

    /**
     * CUDA devices libspo4j's own (statically linked) CUDA runtime sees: 0 without CUDA kernels or a driver. The
     * Java side's runtime ({@link CudaRuntime}) must see them too for the CUDA backend to run.
     */
    public static int cudaDeviceCount() {
        return CUDA_DEVICES;
    }

    /** Throws the exception that matches a non-OK status, with the library's message. */
    public static void check(int status) {
        if (status == Spo4jNative.SPO4J_OK) return;
        String message = Spo4jNative.spo4j_last_error().getString();
        switch (status) {
            case Spo4jNative.SPO4J_ERR_INVALID_ARGUMENT -> throw new IllegalArgumentException(message);
            case Spo4jNative.SPO4J_ERR_UNAVAILABLE -> throw new IllegalStateException(message);
            case Spo4jNative.SPO4J_ERR_OUT_OF_MEMORY -> throw new OutOfMemoryError(message);
            default -> throw new Spo4jNativeException(status, message);
        }
    }
}
