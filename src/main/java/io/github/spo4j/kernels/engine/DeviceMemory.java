package io.github.spo4j.kernels.engine;

import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.Pointer;

/**
 * CUDA device memory on the current device, through the JavaCPP CUDA presets ({@link CudaRuntime}). Copies run on
 * the stream the CUDA kernels run on ({@link KernelCall#stream()}: libtorch's current stream), so a copy, the kernel
 * that reads it and the copy of its result back are ordered without waiting for the whole device.
 *
 * <p>Two lifetimes. {@link #allocate} is for long-lived buffers (a KV pool): {@code cudaMalloc}, freed with
 * {@code cudaFree}; its copies take the kernel stream current at each call. {@link #staging} is for the copies of
 * one kernel call: {@code cudaMallocAsync} on the kernel stream, and every later copy and the
 * {@code cudaFreeAsync} on {@link #close} use that same stream, so freeing it does not synchronise the device (where
 * the device has no stream-ordered allocator it falls back to the first kind, as the native kernels' workspaces do).
 */
public final class DeviceMemory implements AutoCloseable {
    private final Pointer ptr;
    private final long bytes;
    private final CUstream_st stream; // a stream-ordered allocation's stream; null for cudaMalloc'd memory
    private final boolean streamOrdered;
    private boolean closed;

    private DeviceMemory(Pointer ptr, long bytes, CUstream_st stream, boolean streamOrdered) {
        this.ptr = ptr;
        this.bytes = bytes;
        this.stream = stream;
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
        Pointer p = new Pointer();
        int status = cudart.cudaMallocAsync(p, Math.max(bytes, 1), stream);
        if (status == cudart.cudaErrorNotSupported) {
            cudart.cudaGetLastError();
            return allocate(bytes);
        }
        CudaRuntime.check(status, "cudaMallocAsync(" + bytes + ")");
        return new DeviceMemory(p, bytes, stream, true);
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
            return d;
        } catch (RuntimeException | Error e) {
            closeAfter(d, e);
            throw e;
        }
    }

    /**
     * Copies {@code bytes} bytes of host memory to the start of this allocation, queued on its stream (see the class
     * comment); work queued later on that stream sees the copy. Pageable host memory (JavaCPP's allocations) is
     * read into the driver's staging buffer before this returns; page-locked memory is read when the stream gets
     * there, so it must stay valid until then.
     */
    public void copyFrom(Pointer host, long bytes) {
        requireRange(bytes);
        if (bytes == 0) return;
        CudaRuntime.check(
                cudart.cudaMemcpyAsync(ptr, host, bytes, cudart.cudaMemcpyHostToDevice, copyStream()),
                "cudaMemcpyAsync(host to device, " + bytes + ")");
    }

    /** Copies the whole allocation to host memory, after the work queued on its stream, and waits for it. */
    public void copyTo(Pointer host) {
        requireRange(bytes);
        copyToHost(host, ptr, bytes, copyStream());
    }

    /** Sets every byte to zero, after the work queued on its stream, and waits for it. */
    public void zero() {
        requireRange(bytes);
        CUstream_st s = copyStream();
        CudaRuntime.check(cudart.cudaMemsetAsync(ptr, 0, Math.max(bytes, 1), s), "cudaMemsetAsync(" + bytes + ")");
        CudaRuntime.check(cudart.cudaStreamSynchronize(s), "cudaStreamSynchronize");
    }

    /**
     * Copies {@code bytes} bytes of device memory at {@code device} to {@code host}, after the work queued on the
     * kernel stream, and waits for the copy.
     */
    public static void copyToHost(Pointer host, Pointer device, long bytes) {
        requireBytes(bytes);
        if (bytes == 0) return;
        CudaRuntime.requireAvailable();
        copyToHost(host, device, bytes, kernelStream());
    }

    private static void copyToHost(Pointer host, Pointer device, long bytes, CUstream_st stream) {
        if (bytes == 0) return;
        CudaRuntime.check(
                cudart.cudaMemcpyAsync(host, device, bytes, cudart.cudaMemcpyDeviceToHost, stream),
                "cudaMemcpyAsync(device to host, " + bytes + ")");
        CudaRuntime.check(cudart.cudaStreamSynchronize(stream), "cudaStreamSynchronize");
    }

    /** The device address; the memory may be reused once this is closed. */
    public Pointer pointer() {
        requireOpen();
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
            CudaRuntime.check(cudart.cudaFreeAsync(ptr, stream), "cudaFreeAsync");
        } else {
            CudaRuntime.check(cudart.cudaFree(ptr), "cudaFree");
        }
    }

    /** Closes {@code d} after {@code failure}, keeping a failure to close as suppressed by it. */
    static void closeAfter(AutoCloseable d, Throwable failure) {
        try {
            d.close();
        } catch (Exception | Error e) {
            failure.addSuppressed(e);
        }
    }

    private CUstream_st copyStream() {
        return streamOrdered ? stream : kernelStream();
    }

    private void requireOpen() {
        if (closed) throw new IllegalStateException("device memory is closed");
    }

    private void requireRange(long n) {
        requireOpen();
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
}
