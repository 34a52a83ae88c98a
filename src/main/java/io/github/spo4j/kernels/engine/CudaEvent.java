package io.github.spo4j.kernels.engine;

import org.bytedeco.cuda.cudart.CUevent_st;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.Pointer;

/**
 * A CUDA event: a point in a stream's queue that other streams can wait for ({@link CudaStream#waitFor}) and the host
 * can wait on; two timing events measure the device time between them ({@link #millisSince}), which excludes the
 * host's launch overhead that a wall clock around a synchronised call includes.
 */
public final class CudaEvent implements AutoCloseable {
    private final boolean timing;
    private CUevent_st handle;

    private CudaEvent(CUevent_st handle, boolean timing) {
        this.handle = handle;
        this.timing = timing;
    }

    /** A new event; {@code timing} false makes a cheaper one that cannot measure time. */
    public static CudaEvent create(boolean timing) {
        CudaRuntime.requireAvailable();
        CUevent_st e = new CUevent_st();
        int flags = timing ? cudart.cudaEventDefault : cudart.cudaEventDisableTiming;
        CudaRuntime.check(cudart.cudaEventCreateWithFlags(e, flags), "cudaEventCreateWithFlags");
        return new CudaEvent(e, timing);
    }

    /** Records this event at the current end of {@code stream}'s queue (null: the legacy default stream). */
    public void record(Pointer stream) {
        CudaRuntime.check(cudart.cudaEventRecord(handle(), CudaRuntime.stream(stream)), "cudaEventRecord");
    }

    /** Records this event on the stream the kernels run on ({@link KernelCall#stream()}: libtorch's current one). */
    public void recordOnKernelStream() {
        record(TorchStreams.current());
    }

    /** Blocks until the work before the last record is done. */
    public void synchronize() {
        CudaRuntime.check(cudart.cudaEventSynchronize(handle()), "cudaEventSynchronize");
    }

    /** Milliseconds of device time from {@code start}'s last record to this event's, after both are reached. */
    public float millisSince(CudaEvent start) {
        if (!timing || !start.timing) throw new IllegalStateException("both events must be created with timing");
        synchronize();
        float[] ms = {0};
        CudaRuntime.check(cudart.cudaEventElapsedTime(ms, start.handle(), handle()), "cudaEventElapsedTime");
        return ms[0];
    }

    /** The event handle: the presets' {@code cudaEvent_t}. */
    public CUevent_st handle() {
        if (handle == null) throw new IllegalStateException("event is closed");
        return handle;
    }

    /** Destroys the event; idempotent. */
    @Override
    public void close() {
        if (handle == null) return;
        CUevent_st e = handle;
        handle = null;
        CudaRuntime.check(cudart.cudaEventDestroy(e), "cudaEventDestroy");
    }
}
