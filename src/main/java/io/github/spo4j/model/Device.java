package io.github.spo4j.model;

import io.github.spo4j.kernels.Backend;
import java.util.Locale;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.DeviceOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.cuda.CUDAGuard;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.DeviceType;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Where a policy, its reference, its optimizer state and its KV pool live: the CPU or one CUDA device, named as
 * libtorch names them ({@code cpu}, {@code cuda}, {@code cuda:N}).
 *
 * <p>Everything device-specific in the model, the samplers and the trainer goes through this class, so the CPU
 * runs the same code as a GPU: tensors are allocated with {@link #options}, host arrays cross with {@link #place}
 * and {@link #toHost} (no copy on the CPU), the kernels run on {@link #backend}, and {@link #enter} makes the
 * device current for the calling thread (a no-op on the CPU).
 *
 * <p>CUDA needs both halves: libtorch's CUDA build (the {@code -Pgpu} Maven profile swaps in the
 * {@code linux-x86_64-gpu} natives of the PyTorch presets) and spo4j's native library built with nvcc.
 * {@link #auto()} picks {@code cuda:0} only when both see a device; {@link #requireAvailable} says which half is
 * missing.
 */
public final class Device {
    /** The host: libtorch's CPU tensors and spo4j's C++ kernels. */
    public static final Device CPU = new Device(-1);

    private final int cudaIndex; // -1 for the CPU

    private Device(int cudaIndex) {
        this.cudaIndex = cudaIndex;
    }

    /**
     * CUDA device {@code index} (as libtorch and {@code CUDA_VISIBLE_DEVICES} number them).
     *
     * @param index in [0, 127]
     */
    public static Device cuda(int index) {
        if (index < 0 || index > Byte.MAX_VALUE) {
            throw new IllegalArgumentException("CUDA device index must be in [0, 127], got " + index);
        }
        return new Device(index);
    }

    /**
     * Parses {@code cpu}, {@code cuda} (device 0) or {@code cuda:N}, in any case; does not check that the device
     * exists ({@link #requireAvailable} does).
     *
     * @throws IllegalArgumentException naming the text when it is none of these
     */
    public static Device parse(String spec) {
        if (spec == null) throw new IllegalArgumentException("device must not be null");
        String s = spec.strip().toLowerCase(Locale.ROOT);
        if (s.equals("cpu")) return CPU;
        if (s.equals("cuda")) return cuda(0);
        if (s.startsWith("cuda:")) {
            String n = s.substring(5);
            if (!n.isEmpty() && n.length() <= 3 && n.chars().allMatch(Character::isDigit)) {
                int index = Integer.parseInt(n);
                if (index <= Byte.MAX_VALUE) return cuda(index);
            }
        }
        throw new IllegalArgumentException("device must be cpu, cuda or cuda:N (N in 0..127), got '" + spec + "'");
    }

    /** {@code cuda:0} when libtorch and spo4j's kernels both see a CUDA device, else {@link #CPU}. */
    public static Device auto() {
        return cudaDeviceCount() > 0 && Backend.CUDA.isAvailable() ? cuda(0) : CPU;
    }

    /** CUDA devices libtorch sees: 0 with the CPU build of the presets or without a driver. */
    public static int cudaDeviceCount() {
        return torch.cuda_is_available() ? torch.cuda_device_count() : 0;
    }

    /**
     * Checks that this device can run a policy here.
     *
     * @return this device
     * @throws IllegalArgumentException saying what is missing: libtorch's CUDA build, a GPU, this device index, or
     *     spo4j's CUDA kernels
     */
    public Device requireAvailable() {
        if (!isCuda()) return this;
        int count = cudaDeviceCount();
        if (count == 0) {
            throw new IllegalArgumentException("device " + this + " is unavailable: libtorch sees no CUDA device"
                    + " (the default build uses the CPU natives of the PyTorch presets: build with -Pgpu for CUDA,"
                    + " and check the driver with nvidia-smi)");
        }
        if (cudaIndex >= count) {
            throw new IllegalArgumentException("device " + this + " is unavailable: libtorch sees " + count
                    + " CUDA device" + (count == 1 ? "" : "s") + " (cuda:0" + (count > 1 ? "..cuda:" + (count - 1) : "")
                    + ")");
        }
        if (!Backend.CUDA.isAvailable()) {
            throw new IllegalArgumentException(
                    "device " + this + " is unavailable to spo4j's kernels: " + backendProblem());
        }
        return this;
    }

    private static String backendProblem() {
        try {
            Backend.CUDA.requireAvailable();
            return "unknown";
        } catch (IllegalStateException e) {
            return e.getMessage();
        }
    }

    public boolean isCuda() {
        return cudaIndex >= 0;
    }

    /** The CUDA device index; 0 for the CPU (as libtorch's current-device convention has it). */
    public int index() {
        return Math.max(cudaIndex, 0);
    }

    /** The kernels' backend on this device: {@link Backend#CUDA} or {@link Backend#CPU}. */
    public Backend backend() {
        return isCuda() ? Backend.CUDA : Backend.CPU;
    }

    /** libtorch's device object, in the caller's scope. */
    public org.bytedeco.pytorch.Device torchDevice() {
        return isCuda()
                ? new org.bytedeco.pytorch.Device(DeviceType.CUDA, (byte) cudaIndex)
                : new org.bytedeco.pytorch.Device(DeviceType.CPU);
    }

    /** Options for a new tensor of {@code dtype} on this device, in the caller's scope. */
    public TensorOptions options(ScalarType dtype) {
        TensorOptions o = new TensorOptions(dtype);
        return isCuda() ? o.device(new DeviceOptional(torchDevice())) : o;
    }

    /**
     * {@code t} on this device: the tensor itself when it is there (always, for host tensors on the CPU), else a
     * copy (caller's scope). The model's host-to-device copies are these.
     */
    public Tensor place(Tensor t) {
        return holds(t) ? t : t.to(torchDevice(), t.scalar_type());
    }

    /** A retained tensor moved here: itself when it is here, else a retained copy (and {@code retained} released). */
    Tensor adopt(Tensor retained) {
        if (holds(retained)) return retained;
        try (PointerScope scope = new PointerScope()) {
            Tensor t = place(retained);
            t.retainReference();
            return t;
        } finally {
            retained.releaseReference();
        }
    }

    /** {@code t} in host memory: itself when it is there, else a copy (caller's scope). */
    public static Tensor toHost(Tensor t) {
        return t.is_cpu() ? t : t.cpu();
    }

    /**
     * Makes this device current on the calling thread until the result is closed, as libtorch's
     * {@code CUDAGuard} does; spo4j's CUDA kernels run on the current device. A no-op on the CPU.
     */
    public Current enter() {
        if (!isCuda()) return () -> {};
        CUDAGuard guard = new CUDAGuard((byte) cudaIndex);
        return guard::close;
    }

    /** The scope of {@link #enter}: closing it restores the thread's previous device. */
    @FunctionalInterface
    public interface Current extends AutoCloseable {
        @Override
        void close();
    }

    /** Whether {@code t} lives on this device. */
    public boolean holds(Tensor t) {
        return isCuda() ? t.is_cuda() && t.device().index() == cudaIndex : t.is_cpu();
    }

    @Override
    public String toString() {
        return isCuda() ? "cuda:" + cudaIndex : "cpu";
    }

    /**
     * The name with, on CUDA, what the CUDA runtime says of the device: "cuda:0 (NVIDIA H200, 139.7 GiB, sm_90, 132
     * SMs)". Just the name where the runtime does not see it.
     */
    public String describe() {
        String cuda = isCuda() ? Backend.describeCudaDevice(cudaIndex) : null;
        return cuda == null ? toString() : this + " (" + cuda + ")";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Device d && d.cudaIndex == cudaIndex;
    }

    @Override
    public int hashCode() {
        return Integer.hashCode(cudaIndex);
    }
}
