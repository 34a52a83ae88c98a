package io.github.spo4j.kernels.engine;

import io.github.spo4j.kernels.Backend;
import java.lang.ref.Reference;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/** Checked tensors of one call, kept reachable until {@link #release()}. */
public final class TensorArgs {
    private final Backend backend;
    private final List<Tensor> keep = new ArrayList<>();

    public TensorArgs(Backend backend) {
        this.backend = backend;
    }

    public TensorArg in(Tensor t, String name, long numel, ScalarType... types) {
        return arg(t, name, numel, false, types);
    }

    public TensorArg out(Tensor t, String name, long numel, ScalarType... types) {
        return arg(t, name, numel, true, types);
    }

    private TensorArg arg(Tensor t, String name, long numel, boolean output, ScalarType... types) {
        if (t == null) return TensorArg.NONE;
        Checks.require(!t.is_sparse() && !t.is_sparse_csr() && !t.is_mkldnn(),
                name + " must be a dense strided tensor");
        ScalarType type = t.scalar_type().intern();
        boolean typeOk = false;
        StringBuilder expected = new StringBuilder();
        for (ScalarType s : types) {
            typeOk |= s == type;
            expected.append(expected.length() > 0 ? " or " : "").append(s);
        }
        Checks.require(typeOk, name + " must have dtype " + expected + ", got " + type);
        boolean cuda = t.is_cuda();
        Checks.require(cuda == (backend == Backend.CUDA),
                name + " is on " + (cuda ? "CUDA" : "the CPU") + " but the backend is " + backend
                        + (cuda ? " (use Backend.CUDA for CUDA tensors)" : " (CUDA needs CUDA tensors)"));
        if (numel >= 0) {
            Checks.require(t.numel() == numel, name + " has " + t.numel() + " elements, expected " + numel);
        } else {
            Checks.require(t.dim() == 1 && t.numel() >= 1, name + " must be 1-D with B+1 >= 1 elements");
        }
        if (!t.is_contiguous()) {
            Checks.require(!output, name + " is an output and must be contiguous");
            t = t.contiguous();
        }
        keep.add(t);
        return new TensorArg(t.data_ptr(), type);
    }

    public void release() {
        Reference.reachabilityFence(keep);
    }
}
