package io.github.spo4j.rollout;

import io.github.spo4j.model.Device;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

final class RolloutTensors {
    private RolloutTensors() {}

    /** An int64 [n] copy of {@code data} on {@code device}, in the caller's scope. */
    static Tensor longs(long[] data, Device device) {
        LongPointer p = new LongPointer(data);
        Tensor t = torch.from_blob(p, new long[] {data.length}, new TensorOptions(ScalarType.Long))
                .clone();
        p.close();
        return device.place(t);
    }
}
