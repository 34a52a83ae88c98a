package io.github.spo4j.model;

import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.DeviceType;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * A region of libtorch autocast to bf16 on one device type, as {@code torch.autocast} opens one: the thread's
 * previous state comes back on close, and leaving the outermost region clears the cast cache, so weights that the
 * optimizer updates between forwards are cast afresh. {@link Precision#FP32} opens nothing.
 */
final class Autocast implements AutoCloseable {
    private static final Autocast NONE = new Autocast(null, false, null);

    private final DeviceType type;
    private final boolean wasEnabled;
    private final ScalarType previousDtype;

    private Autocast(DeviceType type, boolean wasEnabled, ScalarType previousDtype) {
        this.type = type;
        this.wasEnabled = wasEnabled;
        this.previousDtype = previousDtype;
    }

    static Autocast enter(Device device, Precision precision) {
        if (precision != Precision.BF16) return NONE;
        DeviceType type = device.isCuda() ? DeviceType.CUDA : DeviceType.CPU;
        Autocast region = new Autocast(type, torch.is_autocast_enabled(type), torch.get_autocast_dtype(type));
        torch.set_autocast_dtype(type, ScalarType.BFloat16);
        torch.set_autocast_enabled(type, true);
        torch.increment_nesting();
        return region;
    }

    @Override
    public void close() {
        if (type == null) return;
        if (torch.decrement_nesting() == 0) torch.clear_cache();
        torch.set_autocast_enabled(type, wasEnabled);
        torch.set_autocast_dtype(type, previousDtype);
    }
}
