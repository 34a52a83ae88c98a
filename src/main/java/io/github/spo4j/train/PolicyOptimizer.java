package io.github.spo4j.train;

import io.github.spo4j.model.Device;
import io.github.spo4j.model.Policy;
import io.github.spo4j.model.io.AtomicFiles;
import io.github.spo4j.spo.AlgorithmConfig;
import io.github.spo4j.train.distributed.Collective;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.AdamW;
import org.bytedeco.pytorch.AdamWOptions;
import org.bytedeco.pytorch.ArchiveWriter;
import org.bytedeco.pytorch.DeviceOptional;
import org.bytedeco.pytorch.InputArchive;
import org.bytedeco.pytorch.OutputArchive;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * AdamW over a policy's parameters with SPO's schedule and clipping (SPO_SPEC §4): a linear warmup over the first
 * {@code warmupFraction} of training, then a linear decay to 0, both in terms of progress p ∈ [0, 1]:
 *
 * <pre>
 *   lr(p) = peak · p / w              for p &lt; w
 *         = peak · (1 − p) / (1 − w)  otherwise
 * </pre>
 *
 * A step averages the gradients accumulated over its micro-batches (DeepSpeed's gradient accumulation), clips their
 * global norm, and applies AdamW.
 */
final class PolicyOptimizer implements AutoCloseable {
    private final TensorVector parameters;
    private final AdamW adamW;
    private final AlgorithmConfig.Optimizer settings;
    private final Device device;

    PolicyOptimizer(Policy policy, AlgorithmConfig.Optimizer settings) {
        this.settings = settings;
        device = policy.device();
        parameters = policy.parameterVector();
        AdamWOptions options = new AdamWOptions(settings.learningRate());
        options.weight_decay().put(settings.weightDecay());
        adamW = new AdamW(parameters, options);
    }

    /** The learning rate at progress p. */
    static double learningRate(AlgorithmConfig.Optimizer o, double progress) {
        double p = Math.min(1, Math.max(0, progress));
        double w = o.warmupFraction();
        return p < w ? o.learningRate() * p / w : o.learningRate() * (1 - p) / (1 - w);
    }

    void zeroGrad() {
        adamW.zero_grad();
    }

    /** Gradients go into all-reduces in flat buckets of about this size (DDP's default). */
    static final long BUCKET_BYTES = 25L << 20;

    /**
     * Replaces every parameter's accumulated gradient by its sum over the ranks of {@code world}: the gradients are
     * packed into flat float32 buckets of about {@link #BUCKET_BYTES}, each summed in one all-reduce and unpacked. A
     * parameter without a gradient (a rank that ran no micro-batch of the step) adds zeros.
     *
     * @return bytes all-reduced
     */
    long allReduceGradients(Collective world) {
        long bytes = 0;
        try (PointerScope scope = new PointerScope()) {
            List<Tensor> bucket = new ArrayList<>();
            long bucketBytes = 0;
            for (long i = 0; i < parameters.size(); i++) {
                Tensor p = parameters.get(i);
                Tensor g = p.grad();
                if (!g.defined()) {
                    g = torch.zeros_like(p);
                    p.mutable_grad().put(g);
                }
                bucket.add(g);
                bucketBytes += 4 * g.numel();
                if (bucketBytes >= BUCKET_BYTES || i == parameters.size() - 1) {
                    bytes += allReduce(world, bucket);
                    bucket.clear();
                    bucketBytes = 0;
                }
            }
        }
        return bytes;
    }

    private static long allReduce(Collective world, List<Tensor> grads) {
        TensorVector flat = new TensorVector();
        for (Tensor g : grads) flat.push_back(g.reshape(-1).to(ScalarType.Float));
        // Gloo sums host memory: a device's bucket goes through one copy each way (none on the CPU).
        Tensor bucket = Device.toHost(torch.cat(flat, 0).contiguous());
        world.allReduceSum(bucket);
        long at = 0;
        for (Tensor g : grads) {
            g.copy_(bucket.narrow(0, at, g.numel()).view_as(g));
            at += g.numel();
        }
        return 4 * at;
    }

    /**
     * Averages the accumulated gradients over {@code microBatches}, clips, and steps at the learning rate of
     * {@code progress}.
     *
     * @return the gradient's global norm before clipping
     */
    double step(int microBatches, double progress) {
        double norm;
        try (PointerScope scope = new PointerScope()) {
            if (microBatches > 1) {
                Scalar scale = new Scalar(1.0 / microBatches);
                for (long i = 0; i < parameters.size(); i++) {
                    Tensor g = parameters.get(i).grad();
                    if (g.defined()) g.mul_(scale);
                }
            }
            norm = torch.clip_grad_norm_(parameters, settings.gradientClip());
            adamW.param_groups().get(0).options().set_lr(learningRate(settings, progress));
            adamW.step();
        }
        return norm;
    }

    /**
     * Writes the AdamW state atomically ({@link AtomicFiles}). libtorch serialises into memory through a writer
     * callback that cannot fail, and Java writes the file: an I/O failure (a full disk) is then an {@link IOException}
     * naming the file, where libtorch writing the file itself would throw from a destructor and abort the process.
     */
    void save(Path file) throws IOException {
        byte[] bytes;
        try (PointerScope scope = new PointerScope();
                MemoryWriter writer = new MemoryWriter()) {
            OutputArchive archive = new OutputArchive();
            adamW.save(archive);
            archive.save_to(writer);
            bytes = writer.buffer.toByteArray();
        } catch (RuntimeException e) {
            throw new IOException("could not serialise the optimizer state for " + file + ": " + e.getMessage(), e);
        }
        AtomicFiles.write(file, bytes);
    }

    /**
     * Reads the state {@link #save} wrote onto the policy's device (a state saved on another device loads); the file
     * is read by Java and handed to libtorch in memory.
     */
    void load(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        try (PointerScope scope = new PointerScope();
                BytePointer data = new BytePointer(bytes)) {
            InputArchive archive = new InputArchive();
            archive.load_from(data, bytes.length, new DeviceOptional(device.torchDevice()));
            adamW.load(archive);
        } catch (RuntimeException e) {
            throw new IOException("could not read the optimizer state from " + file + ": " + e.getMessage(), e);
        }
    }

    /** libtorch's {@code std::function<size_t(const void*, size_t)>} writer, collecting the bytes on the heap. */
    private static final class MemoryWriter extends ArchiveWriter {
        final ByteArrayOutputStream buffer = new ByteArrayOutputStream();

        @Override
        public long call(Pointer data, long size) {
            if (size > 0) {
                byte[] chunk = new byte[Math.toIntExact(size)];
                new BytePointer(data).capacity(size).get(chunk);
                buffer.write(chunk, 0, chunk.length);
            }
            return size;
        }
    }

    @Override
    public void close() {
        adamW.close();
    }
}
