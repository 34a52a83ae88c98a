package io.github.spo4j.train.distributed;

import java.util.List;
import org.bytedeco.pytorch.Tensor;

/** One rank: a sum over the ranks is the value itself. */
final class SingleProcess implements Collective {
    @Override
    public int rank() {
        return 0;
    }

    @Override
    public int worldSize() {
        return 1;
    }

    @Override
    public void allReduceSum(double[] values) {
        if (values == null) throw new IllegalArgumentException("values must not be null");
    }

    @Override
    public void allReduceSum(float[] values) {
        if (values == null) throw new IllegalArgumentException("values must not be null");
    }

    @Override
    public void allReduceSum(Tensor values) {
        GlooCollective.checkTensor(values);
    }

    @Override
    public byte[] broadcast(byte[] bytes) {
        if (bytes == null) throw new IllegalArgumentException("rank 0's bytes must not be null");
        return bytes.clone();
    }

    @Override
    public List<byte[]> allGather(byte[] bytes) {
        if (bytes == null) throw new IllegalArgumentException("bytes must not be null");
        return List.of(bytes.clone());
    }

    @Override
    public void barrier() {}

    @Override
    public void close() {}
}
