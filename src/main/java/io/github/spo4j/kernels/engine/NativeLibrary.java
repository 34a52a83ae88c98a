package io.github.spo4j.kernels.engine;

import io.github.spo4j.kernels.Spo4jNativeException;
import io.github.spo4j.kernels.nativebind.Spo4jNative;

/** Loads libspo4j once and turns its status codes into Java exceptions. */
public final class NativeLibrary {
    private static final String LOAD_ERROR;
    private static final boolean BUILT_WITH_CUDA;

    static {
        String error = null;
        boolean cuda = false;
        try {
            cuda = Spo4jNative.spo4j_built_with_cuda() != 0;
        } catch (Throwable t) { // UnsatisfiedLinkError, or a JavaCPP loader error
            error = t.toString();
        }
        LOAD_ERROR = error;
        BUILT_WITH_CUDA = cuda;
    }

    private NativeLibrary() {}

    public static String loadError() {
        return LOAD_ERROR;
    }

    public static boolean builtWithCuda() {
        return BUILT_WITH_CUDA;
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
