package io.github.spo4j.kernels.engine;

import io.github.spo4j.kernels.Spo4jNativeException;
import io.github.spo4j.kernels.nativebind.Spo4jNative;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.cudart.cudaDeviceProp;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.SizeTPointer;

/**
 * The CUDA runtime seen from Java, through the JavaCPP Presets for CUDA ({@code org.bytedeco.cuda.global.cudart}):
 * the device count and properties, free memory, and the status-to-exception mapping that {@link DeviceMemory},
 * {@link CudaStream} and {@link CudaEvent} share.
 *
 * <p>The presets bind the CUDA 13 runtime ({@code libcudart.so.13}: a CUDA toolkit or runtime install, or the
 * {@code org.bytedeco:cuda-redist} jar) and the driver ({@code libcuda.so.1}). Where either is missing they do not
 * load; that is probed once, on first use, and reported here as CUDA being unavailable, with the reason. Nothing
 * else in spo4j touches {@code cudart} before {@link #available()} said yes, so the library and its CPU code load
 * and run on a machine with neither.
 */
public final class CudaRuntime {
    private CudaRuntime() {}

    /** What the one-time probe found: the devices, or why there are none. */
    private static final class Probe {
        static final int DEVICES;
        static final String PROBLEM; // null when DEVICES > 0

        static {
            int devices = 0;
            String problem;
            try {
                Loader.load(cudart.class);
                int[] count = {0};
                int status = cudart.cudaGetDeviceCount(count);
                if (status == cudart.cudaSuccess && count[0] > 0) {
                    devices = count[0];
                    problem = null;
                } else {
                    cudart.cudaGetLastError(); // the probe's error is not the next caller's
                    problem = status == cudart.cudaSuccess
                            ? "the CUDA runtime sees no device"
                            : "the CUDA runtime reports " + describe(status);
                }
            } catch (LinkageError | RuntimeException e) { // UnsatisfiedLinkError, or a JavaCPP loader error
                // JavaCPP throws its last fallback's error ("no jnicudart in java.library.path"); the first
                // attempt's, kept as the cause, names the missing library.
                Throwable root = e;
                while (root.getCause() != null && root.getCause() != root) root = root.getCause();
                problem = "the CUDA runtime did not load (the JavaCPP CUDA presets need libcudart.so.13 and the"
                        + " driver's libcuda.so.1: " + root.getMessage() + ")";
            }
            DEVICES = devices;
            PROBLEM = problem;
        }
    }

    /** Whether the CUDA runtime loaded and sees at least one device. */
    public static boolean available() {
        return Probe.DEVICES > 0;
    }

    /** CUDA devices the runtime sees: 0 where it did not load or found none. */
    public static int deviceCount() {
        return Probe.DEVICES;
    }

    /** Why CUDA is unavailable, in a phrase ("the CUDA runtime did not load (...)"), or null when it is available. */
    public static String unavailableReason() {
        return Probe.PROBLEM;
    }

    /** Throws {@link IllegalStateException} with {@link #unavailableReason()} unless CUDA is available. */
    public static void requireAvailable() {
        if (!available()) throw new IllegalStateException("CUDA is unavailable: " + unavailableReason());
    }

    /** The name, memory and compute capability of CUDA device {@code index}. */
    public static CudaDeviceInfo device(int index) {
        requireDevice(index);
        try (cudaDeviceProp p = new cudaDeviceProp()) {
            check(cudart.cudaGetDeviceProperties(p, index), "cudaGetDeviceProperties");
            return new CudaDeviceInfo(
                    index,
                    p.name().getString().trim(),
                    p.totalGlobalMem(),
                    p.multiProcessorCount(),
                    p.major(),
                    p.minor());
        }
    }

    /** The calling thread's current CUDA device (the one new allocations and launches go to). */
    public static int currentDevice() {
        requireAvailable();
        int[] device = {0};
        check(cudart.cudaGetDevice(device), "cudaGetDevice");
        return device[0];
    }

    /**
     * Free and total bytes of device {@code index}'s memory, as the driver reports them now. For a device other than
     * the current one this makes it current for the query (creating its context if the thread had none there).
     */
    public static long[] memoryInfo(int index) {
        requireDevice(index);
        int previous = currentDevice();
        try (SizeTPointer free = new SizeTPointer(1);
                SizeTPointer total = new SizeTPointer(1)) {
            if (index == previous) {
                check(cudart.cudaMemGetInfo(free, total), "cudaMemGetInfo");
            } else {
                check(cudart.cudaSetDevice(index), "cudaSetDevice");
                int status = cudart.cudaMemGetInfo(free, total);
                check(cudart.cudaSetDevice(previous), "cudaSetDevice"); // restored before a failed query throws
                check(status, "cudaMemGetInfo");
            }
            return new long[] {free.get(), total.get()};
        }
    }

    private static void requireDevice(int index) {
        requireAvailable();
        if (index < 0 || index >= deviceCount()) {
            throw new IllegalArgumentException(
                    "index must be in 0.." + (deviceCount() - 1) + " (CUDA devices seen), got " + index);
        }
    }

    /** The runtime's stream handle for a C API stream pointer (null: the legacy default stream). */
    static CUstream_st stream(Pointer stream) {
        return stream == null ? null : stream instanceof CUstream_st s ? s : new CUstream_st(stream);
    }

    /**
     * Throws for a CUDA status other than success: {@link OutOfMemoryError} for an allocation failure (as the
     * native kernels' own allocations do), else {@link Spo4jNativeException} with the runtime's name and message.
     */
    static void check(int status, String call) {
        if (status == cudart.cudaSuccess) return;
        // The presets share libcudart with libtorch's CUDA build: a handled error left as the thread's last one
        // would surface in libtorch's next launch check, against an unrelated op.
        cudart.cudaGetLastError();
        String message = call + ": " + describe(status);
        if (status == cudart.cudaErrorMemoryAllocation) throw new OutOfMemoryError(message);
        throw new Spo4jNativeException(Spo4jNative.SPO4J_ERR_CUDA, message);
    }

    private static String describe(int status) {
        return cudart.cudaGetErrorName(status).getString() + " ("
                + cudart.cudaGetErrorString(status).getString() + ")";
    }
}
