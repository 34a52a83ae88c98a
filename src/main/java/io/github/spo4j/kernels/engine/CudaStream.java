package io.github.spo4j.kernels.engine;

import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.global.cudart;

/**
 * A CUDA stream of the current device, created non-blocking (it does not wait for the legacy default stream), for
 * work that should overlap with or be ordered apart from libtorch's. The kernels take their stream from libtorch
 * ({@link KernelCall#stream()}); to run them on this one, make it libtorch's current stream
 * ({@code torch_cuda.getStreamFromExternal(stream.handle(), device)} and {@code setCurrentCUDAStream}).
 */
public final class CudaStream implements AutoCloseable {
    private CUstream_st handle;

    private CudaStream(CUstream_st handle) {
        this.handle = handle;
    }

    /** A new non-blocking stream on the current device. */
    public static CudaStream create() {
        CudaRuntime.requireAvailable();
        CUstream_st s = new CUstream_st();
        CudaRuntime.check(
                cudart.cudaStreamCreateWithFlags(s, cudart.cudaStreamNonBlocking), "cudaStreamCreateWithFlags");
        return new CudaStream(s);
    }

    /** The stream handle: the presets' {@code cudaStream_t}, which the C API's {@code void* stream} arguments take. */
    public CUstream_st handle() {
        return open();
    }

    /** Makes work queued on this stream from now on wait for {@code event}'s last recorded point. */
    public void waitFor(CudaEvent event) {
        CudaRuntime.check(cudart.cudaStreamWaitEvent(open(), event.handle(), 0), "cudaStreamWaitEvent");
    }

    /** Blocks until the work queued on this stream is done. */
    public void synchronize() {
        CudaRuntime.check(cudart.cudaStreamSynchronize(open()), "cudaStreamSynchronize");
    }

    /** Destroys the stream once its queued work is done (the runtime's rule); idempotent. */
    @Override
    public void close() {
        if (handle == null) return;
        CUstream_st s = handle;
        handle = null;
        CudaRuntime.check(cudart.cudaStreamDestroy(s), "cudaStreamDestroy");
    }

    private CUstream_st open() {
        if (handle == null) throw new IllegalStateException("stream is closed");
        return handle;
    }
}
