package io.github.spo4j.rollout;

import io.github.spo4j.kernels.kv.KvCache;
import io.github.spo4j.kernels.sampler.Sampler;
import io.github.spo4j.model.Device;
import io.github.spo4j.model.Policy;
import io.github.spo4j.tasks.FinishReason;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The decode loop the samplers share: a set of streams, each a pool sequence with a next-token distribution, is
 * stepped together (one batched {@link Policy#decode} per step) until every stream has stopped. The token of each
 * stream at absolute position p is drawn by the {@link Sampler} keyed (seed, stream id, p), so a stream's tokens do
 * not depend on which other streams share its batch.
 */
final class DecodeEngine {
    private final Policy policy;
    private final KvCache pool;
    private final Sampler sampler;
    private long decodedTokens;
    private long sampledTokens;

    DecodeEngine(Policy policy, KvCache pool) {
        this.policy = policy;
        this.pool = pool;
        sampler = Sampler.create(policy.device().backend());
    }

    /** One continuation being generated: pool sequence {@code seq} holds every token before {@code position}. */
    static final class Stream {
        final long streamId;
        final int maxTokens;
        /** Stop before a step whose most likely token has probability below this (after the first token); 0: never. */
        final double branchBelow;
        /**
         * Set when the stream stopped before an uncertain step: the next-token logits [1, V] of that step (retained;
         * the caller releases them), its last token already fed.
         */
        Tensor branchLogits;

        int seq;
        int position;
        int[] tokens = new int[16];
        float[] logprobs = new float[16];
        int count;
        FinishReason finish;

        Stream(int seq, long streamId, int position, int maxTokens) {
            this(seq, streamId, position, maxTokens, 0);
        }

        Stream(int seq, long streamId, int position, int maxTokens, double branchBelow) {
            this.seq = seq;
            this.streamId = streamId;
            this.position = position;
            this.maxTokens = maxTokens;
            this.branchBelow = branchBelow;
        }

        /** Whether the stream stopped before an uncertain step rather than after its last token. */
        boolean stoppedBeforeBranch() {
            return branchLogits != null;
        }

        void add(int token, float logprob) {
            if (count == tokens.length) {
                tokens = Arrays.copyOf(tokens, count * 2);
                logprobs = Arrays.copyOf(logprobs, count * 2);
            }
            tokens[count] = token;
            logprobs[count++] = logprob;
            position++;
        }

        int lastToken() {
            return tokens[count - 1];
        }

        Completion completion() {
            return new Completion(Arrays.copyOf(tokens, count), Arrays.copyOf(logprobs, count), finish);
        }
    }

    /**
     * Steps {@code streams} until each stops, leaving the last sampled token of each unfed (its sequence ends just
     * before it), except a stream with a {@link Stream#branchBelow} that stopped before an uncertain step: its
     * tokens are all fed and {@link Stream#branchLogits} holds the logits of the step it did not take.
     *
     * @param logits [S, V] float32: row i is the next-token logits of streams[i] (not released here)
     */
    void run(List<Stream> streams, Tensor logits, GenerationConfig gen) {
        List<Stream> active = new ArrayList<>(streams);
        for (Stream s : active) {
            if (s.maxTokens < 1) throw new IllegalStateException("a stream with no token budget");
        }
        int context = policy.config().maxPositionEmbeddings();
        int stopWindow = stopWindow(gen);
        Tensor current = logits;
        boolean owned = false;
        try (Device.Current onDevice = policy.device().enter()) {
            while (!active.isEmpty()) {
                int b = active.size();
                int[] tokens = new int[b];
                float[] lps = new float[b];
                Tensor next = null;
                List<Stream> continuing = new ArrayList<>(b);
                try (PointerScope scope = new PointerScope()) {
                    boolean[] branchHere = uncertainSteps(active, current, gen);
                    long[] ids = new long[b];
                    int[] positions = new int[b];
                    for (int i = 0; i < b; i++) {
                        ids[i] = active.get(i).streamId;
                        positions[i] = active.get(i).position;
                    }
                    // Per step, host to device: the stream ids and positions; device to host: the sampled tokens
                    // and their log-probs (no copy at all on the CPU).
                    Device device = policy.device();
                    Tensor idTensor = device.place(
                            torch.from_blob(new LongPointer(ids), new long[] {b}, new TensorOptions(ScalarType.Long)));
                    Tensor posTensor = device.place(torch.from_blob(
                            new IntPointer(positions), new long[] {b}, new TensorOptions(ScalarType.Int)));
                    Tensor tokTensor = torch.empty(new long[] {b}, device.options(ScalarType.Int), null);
                    Tensor lpTensor = torch.empty(new long[] {b}, device.options(ScalarType.Float), null);
                    sampler.sample(gen.sampling(), current, idTensor, posTensor, tokTensor, lpTensor);
                    new IntPointer(Device.toHost(tokTensor).data_ptr_int())
                            .capacity(b)
                            .get(tokens);
                    new FloatPointer(Device.toHost(lpTensor).data_ptr_float())
                            .capacity(b)
                            .get(lps);
                    for (int i = 0; i < b; i++) {
                        Stream s = active.get(i);
                        if (branchHere != null && branchHere[i]) {
                            // The draw for this row is discarded: draws are keyed by stream and position, so no
                            // other stream's tokens change.
                            s.branchLogits = current.narrow(0, i, 1).clone();
                            s.branchLogits.retainReference();
                            s.finish = FinishReason.LENGTH;
                            continue;
                        }
                        s.add(tokens[i], lps[i]);
                        sampledTokens++;
                        if (gen.isEos(tokens[i])) s.finish = FinishReason.EOS;
                        else if (stopped(s, gen, stopWindow)) s.finish = FinishReason.STOP;
                        else if (s.count >= s.maxTokens || s.position >= context) s.finish = FinishReason.LENGTH;
                        else continuing.add(s);
                    }
                    if (!continuing.isEmpty()) {
                        int[] seqs = new int[continuing.size()];
                        int[] feed = new int[continuing.size()];
                        for (int i = 0; i < seqs.length; i++) {
                            seqs[i] = continuing.get(i).seq;
                            feed[i] = continuing.get(i).lastToken();
                        }
                        next = policy.decode(pool, seqs, feed);
                        decodedTokens += seqs.length;
                        next.retainReference();
                    }
                }
                if (owned) current.releaseReference();
                current = next;
                owned = next != null;
                active = continuing;
            }
        } finally {
            if (owned && current != null) current.releaseReference();
        }
    }

    /**
     * Which of {@code active} stop before this step: those with a {@link Stream#branchBelow} that hold a token and
     * whose most likely next token has probability below it at the sampling temperature,
     * {@code log p_max = max(l) / T − logsumexp(l / T)}; null when no stream can (and for greedy decoding).
     */
    private static boolean[] uncertainSteps(List<Stream> active, Tensor logits, GenerationConfig gen) {
        float temperature = gen.sampling().temperature();
        if (gen.sampling().greedy() || !(temperature > 0)) return null;
        boolean any = false;
        for (Stream s : active) any |= s.branchBelow > 0 && s.count > 0;
        if (!any) return null;
        Tensor scaled = logits.div(new Scalar(temperature));
        Tensor logMax = Device.toHost(scaled.amax(new long[] {1}, false)
                .sub(scaled.logsumexp(new long[] {1}, false))
                .contiguous());
        float[] lp = new float[active.size()];
        new FloatPointer(logMax.data_ptr_float()).capacity(lp.length).get(lp);
        boolean[] out = new boolean[active.size()];
        for (int i = 0; i < out.length; i++) {
            Stream s = active.get(i);
            out[i] = s.branchBelow > 0 && s.count > 0 && Math.exp(lp[i]) < s.branchBelow;
        }
        return out;
    }

    /** Feeds each stream's pending last token and returns the next-token logits [S, V] (caller's scope). */
    Tensor feedLast(List<Stream> streams) {
        int[] seqs = new int[streams.size()];
        int[] feed = new int[streams.size()];
        for (int i = 0; i < seqs.length; i++) {
            seqs[i] = streams.get(i).seq;
            feed[i] = streams.get(i).lastToken();
        }
        decodedTokens += seqs.length;
        return policy.decode(pool, seqs, feed);
    }

    /** Each prefix holds a token and leaves room for one more in the model's context. */
    static void checkPrefixes(List<int[]> prefixes, int context, String name) {
        for (int p = 0; p < prefixes.size(); p++) {
            int[] x = prefixes.get(p);
            if (x == null || x.length == 0) throw new IllegalArgumentException(name + "[" + p + "] must hold a token");
            if (x.length >= context) {
                throw new IllegalArgumentException(name + "[" + p + "] has " + x.length
                        + " tokens: no room left in the model's context of " + context);
            }
        }
    }

    /** Tokens fed through {@link Policy#decode} so far (prefill not counted). */
    long decodedTokens() {
        return decodedTokens;
    }

    long sampledTokens() {
        return sampledTokens;
    }

    private static int stopWindow(GenerationConfig gen) {
        int longest = 0;
        for (String s : gen.stopStrings()) longest = Math.max(longest, s.length());
        // A token yields at least one character unless it holds part of a UTF-8 character (at most 3 in a row).
        return longest == 0 ? 0 : 4 * longest + 4;
    }

    private static boolean stopped(Stream s, GenerationConfig gen, int window) {
        if (window == 0) return false;
        int from = Math.max(0, s.count - window);
        String text = gen.tokenizer().decode(s.tokens, from, s.count);
        for (String stop : gen.stopStrings()) if (text.contains(stop)) return true;
        return false;
    }
}
