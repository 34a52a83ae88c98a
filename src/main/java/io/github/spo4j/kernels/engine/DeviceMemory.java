package io.github.spo4j.kernels.engine;

import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.Pointer;

/**
 * CUDA device memory on the current device, through the JavaCPP CUDA presets ({@link CudaRuntime}). Every copy runs
 * on the stream the CUDA kernels run on ({@link KernelCall#stream()}: libtorch's current stream), so a copy, the
 * kernel that reads it and the copy of its result back are ordered without waiting for the whole device.
 *
 * <p>Two lifetimes. {@link #allocate} is for long-lived buffers (a KV pool): {@code cudaMalloc}, freed with
 * {@code cudaFree}. {@link #staging} is for the copies of one kernel call: {@code cudaMallocAsync} on the kernel
 * stream and {@code cudaFreeAsync} on the same stream when closed, so freeing it does not synchronise the device
 * (devices without stream-ordered allocation fall back to the first kind).
 */
public final class DeviceMemory implements AutoCloseable {
    private final Pointer ptr;
    private final long bytes;
    private final CUstream_st freeOn; // stream of a stream-ordered allocation; null for cudaMalloc'd memory
    private final boolean streamOrdered;
    private boolean closed;

    private DeviceMemory(Pointer ptr, long bytes, CUstream_st freeOn, boolean streamOrdered) {
        this.ptr = ptr;
        this.bytes = bytes;
        this.freeOn = freeOn;
        this.streamOrdered = streamOrdered;
    }

    /** {@code bytes} of device memory (at least one byte) that live until {@link #close}. */
    public static DeviceMemory allocate(long bytes) {
        requireBytes(bytes);
        CudaRuntime.requireAvailable();
        Pointer p = new Pointer();
        CudaRuntime.check(cudart.cudaMalloc(p, Math.max(bytes, 1)), "cudaMalloc(" + bytes + ")");
        return new DeviceMemory(p, bytes, null, false);
    }

    /**
     * {@code bytes} of device memory ordered on the kernel stream: usable by work queued on that stream after this
     * call, and given back to the stream's pool, after that work, on {@link #close}.
     */
    public static DeviceMemory staging(long bytes) {
        requireBytes(bytes);
        CudaRuntime.requireAvailable();
        CUstream_st stream = kernelStream();
        if (StreamOrderedAllocation.SUPPORTED) {
            Pointer p = new Pointer();
            CudaRuntime.check(cudart.cudaMallocAsync(p, Math.max(bytes, 1), stream), "cudaMallocAsync(" + bytes + ")");
            return new DeviceMemory(p, bytes, stream, true);
        }
        return allocate(bytes);
    }

    /** A long-lived ({@link #allocate}) device copy of {@code bytes} bytes of host memory, or null for null. */
    public static DeviceMemory copyOf(Pointer host, long bytes) {
        return host == null ? null : filled(allocate(bytes), host, bytes);
    }

    /** A staging ({@link #staging}) device copy of {@code bytes} bytes of host memory, or null for null. */
    public static DeviceMemory stagingCopyOf(Pointer host, long bytes) {
        return host == null ? null : filled(staging(bytes), host, bytes);
    }

    private static DeviceMemory filled(DeviceMemory d, Pointer host, long bytes) {
        try {
            d.copyFrom(host, bytes);
        } catch (RuntimeException | Error e) {
            d.close();
            throw e;
        }
        return d;
    }

    /**
     * Copies {@code bytes} bytes of host memory to the start of this allocation, on the kernel stream. It returns
     * once the host bytes are read (pageable memory is staged by the driver), so the caller may free them; work
     * queued later on the stream sees the copy.
     */
    public void copyFrom(Pointer host, long bytes) {
        requireRange(bytes);
        if (bytes == 0) return;
        CudaRuntime.check(
                cudart.cudaMemcpyAsync(ptr, host, bytes, cudart.cudaMemcpyHostToDevice, kernelStream()),
                "cudaMemcpyAsync(host to device, " + bytes + ")");
    }

    /** Copies the whole allocation to host memory, after the work queued on the kernel stream, and waits for it. */
    public void copyTo(Pointer host) {
        copyToHost(host, ptr, bytes);
    }

    /** Sets every byte to zero, after the work queued on the kernel stream, and waits for it. */
    public void zero() {
        CUstream_st stream = kernelStream();
        CudaRuntime.check(cudart.cudaMemsetAsync(ptr, 0, bytes, stream), "cudaMemsetAsync(" + bytes + ")");
        CudaRuntime.check(cudart.cudaStreamSynchronize(stream), "cudaStreamSynchronize");
    }

    /**
     * Copies {@code bytes} bytes of device memory at {@code device} to {@code host}, after the work queued on the
     * kernel stream, and waits for the copy.
     */
    public static void copyToHost(Pointer host, Pointer device, long bytes) {
        requireBytes(bytes);
        if (bytes == 0) return;
        CudaRuntime.requireAvailable();
        CUstream_st stream = kernelStream();
        CudaRuntime.check(
                cudart.cudaMemcpyAsync(host, device, bytes, cudart.cudaMemcpyDeviceToHost, stream),
                "cudaMemcpyAsync(device to host, " + bytes + ")");
        CudaRuntime.check(cudart.cudaStreamSynchronize(stream), "cudaStreamSynchronize");
    }

    public Pointer pointer() {
        return ptr;
    }

    public long bytes() {
        return bytes;
    }

    /** Frees the memory; idempotent. A staging allocation is freed on its stream, after the work queued there. */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        if (streamOrdered) {
            CudaRuntime.check(cudart.cudaFreeAsync(ptr, freeOn), "cudaFreeAsync");
        } else {
            CudaRuntime.check(cudart.cudaFree(ptr), "cudaFree");
        }
    }

    private void requireRange(long n) {
        if (closed) throw new IllegalStateException("device memory is closed");
        if (n < 0 || n > bytes) {
            throw new IllegalArgumentException("bytes must be in 0.." + this.bytes + ", got " + n);
        }
    }

    private static void requireBytes(long bytes) {
        if (bytes < 0) throw new IllegalArgumentException("bytes must be >= 0, got " + bytes);
    }

    private static CUstream_st kernelStream() {
        return CudaRuntime.stream(TorchStreams.current());
    }

    /** Whether the current device has stream-ordered allocation (probed once; every GPU since 2016 does). */
    private static final class StreamOrderedAllocation {
        static final boolean SUPPORTED = probe();

        private static boolean probe() {
            int[] device = {0};
            int[] supported = {0};
            CudaRuntime.check(cudart.cudaGetDevice(device), "cudaGetDevice");
            CudaRuntime.check(
                    cudart.cudaDeviceGetAttribute(supported, cudart.cudaDevAttrMemoryPoolsSupported, device[0]),
                    "cudaDeviceGetAttribute(cudaDevAttrMemoryPoolsSupported)");
            return supported[0] != 0;
        }
    }
}
