package io.github.spo4j.train;

import io.github.spo4j.model.Policy;
import io.github.spo4j.model.TargetBatch;
import io.github.spo4j.model.Tensors;
import io.github.spo4j.model.TrainingForward;
import io.github.spo4j.spo.data.Trajectory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;

/**
 * How much of a policy-gradient step is signal, for each advantage estimator: the gradient noise scale of McCandlish
 * et al. (2018, "An Empirical Model of Large-Batch Training"), measured per question.
 *
 * <p>Question q's gradient is that of its group's decision tokens (p &lt; ρ, the tokens the probability mask trains),
 * each weighted by the estimator's advantage a_t centred over the batch's decision tokens (the trainer's whitening
 * centres them; the scale does not matter here):
 * <pre>
 *   g_q = Σ_{responses of q} Σ_{decision tokens t} (a_t − ā) ∇ log π(y_t)
 * </pre>
 * Over Q questions with S = Σ_q g_q, pairs of different questions estimate the expected gradient G without the noise
 * of either:
 * <pre>
 *   |G|²  ≈ (|S|² − Σ_q |g_q|²) / (Q (Q − 1))
 *   tr Σ  ≈ (Σ_q |g_q|² − |S|² / Q) / (Q − 1)        the variance of one question's gradient
 *   B     = tr Σ / |G|²                              the noise scale, in questions
 * </pre>
 * A step on b questions has an expected cosine of about sqrt(b / (b + B)) with G. Training on batches well above B is
 * limited by its number of steps, and an estimator with less noise cannot make it learn more per episode; well below
 * B it is limited by its episodes, each worth about 1 / B of a step. The same pairs give the alignment of an
 * estimator's expected gradient with the reference's, ⟨G_e, G_ref⟩ / (|G_e| |G_ref|) (1 for an unbiased estimator,
 * up to noise), and the cosine of the two summed gradients on these same responses says how much of the estimator's
 * step its credit noise alone turns away from the reference's.
 *
 * <p>Errors are jackknife standard errors over the questions. Each question's gradients are computed twice (once for
 * the sums, once for their products with the sums), so memory holds one parameter-sized vector of doubles per
 * estimator ({@link #bytesNeeded}).
 */
final class GradientNoise {
    /**
     * @param noiseScale      B in questions; +∞ when the pairs find no signal (|G|² ≤ 0)
     * @param noiseScaleError its jackknife standard error (NaN when a leave-one-out estimate is unbounded)
     * @param alignment       cos(G_e, G_ref) from pairs of different questions; NaN for the reference itself or when
     *                        either |G|² ≤ 0
     * @param alignmentError  its jackknife standard error
     * @param sameResponsesCosine cos(S_e, S_ref) on these same responses
     */
    record Stats(
            double noiseScale,
            double noiseScaleError,
            double alignment,
            double alignmentError,
            double sameResponsesCosine) {}

    /**
     * One estimator's episodes of the same Q questions and its advantages: question q's episodes are {@code
     * episodes[questionStarts[q] .. questionStarts[q + 1])}.
     *
     * @param questionStarts Q + 1 non-decreasing offsets from 0 to the number of episodes
     * @param advantages     per episode, per token
     */
    record Episodes(List<Trajectory> episodes, int[] questionStarts, float[][] advantages) {
        Episodes {
            if (episodes == null || questionStarts == null || advantages == null) {
                throw new IllegalArgumentException("episodes, questionStarts and advantages must not be null");
            }
            if (questionStarts.length < 1
                    || questionStarts[0] != 0
                    || questionStarts[questionStarts.length - 1] != episodes.size()) {
                throw new IllegalArgumentException("questionStarts must run from 0 to the " + episodes.size()
                        + " episodes, got " + Arrays.toString(questionStarts));
            }
            for (int q = 1; q < questionStarts.length; q++) {
                if (questionStarts[q] < questionStarts[q - 1])
                    throw new IllegalArgumentException("questionStarts must not decrease");
            }
            if (advantages.length != episodes.size()) {
                throw new IllegalArgumentException(
                        "advantages has " + advantages.length + " rows, expected " + episodes.size());
            }
        }

        int questions() {
            return questionStarts.length - 1;
        }

        /** Groups of {@code g} consecutive episodes of {@code batch}. */
        static Episodes groups(List<Trajectory> batch, int g, float[][] advantages) {
            if (g < 1 || batch.size() % g != 0) {
                throw new IllegalArgumentException(
                        "batch must hold whole groups of g = " + g + ", got " + batch.size());
            }
            int[] starts = new int[batch.size() / g + 1];
            for (int q = 0; q < starts.length; q++) starts[q] = q * g;
            return new Episodes(batch, starts, advantages);
        }
    }

    private GradientNoise() {}

    /**
     * {@link #measure(Policy, List, double, float)} of advantage sets on one batch of groups of {@code g} responses;
     * entry 0 of {@code advantages} is the reference.
     */
    static List<Stats> measure(
            Policy policy, List<Trajectory> batch, int g, List<float[][]> advantages, double rho, float temperature) {
        List<Episodes> sets = new ArrayList<>(advantages.size());
        for (float[][] a : advantages) sets.add(Episodes.groups(batch, g, a));
        return measure(policy, sets, rho, temperature);
    }

    /**
     * The statistics of each estimator's episodes of the same questions; entry 0 is the reference the others are
     * aligned with. The cosine on the same responses is NaN for a set whose episodes are not the reference's.
     *
     * @param rho the probability below which a token is a decision
     */
    static List<Stats> measure(Policy policy, List<Episodes> sets, double rho, float temperature) {
        if (sets == null || sets.isEmpty()) throw new IllegalArgumentException("sets must not be empty");
        int questions = sets.get(0).questions();
        for (Episodes set : sets) {
            if (set.questions() != questions) {
                throw new IllegalArgumentException(
                        "every set must have the reference's " + questions + " questions, got " + set.questions());
            }
        }
        if (questions < 3)
            throw new IllegalArgumentException("questions must be >= 3 for the jackknife, got " + questions);
        int estimators = sets.size();
        double[] means = new double[estimators];
        for (int e = 0; e < estimators; e++) means[e] = decisionMean(sets.get(e), rho);
        Threads.training(policy);

        // Pass 1: the sums S_e, Σ_q |g_q|² and Σ_q ⟨g_q, r_q⟩ (r the reference).
        double[][] sums = new double[estimators][];
        double[] squares = new double[estimators], withReference = new double[estimators];
        for (int q = 0; q < questions; q++) {
            float[] reference = gradient(policy, sets.get(0), q, means[0], rho, temperature);
            for (int e = 0; e < estimators; e++) {
                float[] x = e == 0 ? reference : gradient(policy, sets.get(e), q, means[e], rho, temperature);
                if (sums[e] == null) sums[e] = new double[x.length];
                add(sums[e], x);
                squares[e] += dot(x, x);
                withReference[e] += dot(x, reference);
            }
        }
        double[] sumSquares = new double[estimators], sumWithReference = new double[estimators];
        for (int e = 0; e < estimators; e++) {
            sumSquares[e] = dot(sums[e], sums[e]);
            sumWithReference[e] = dot(sums[e], sums[0]);
        }

        // Pass 2: each question's products with the sums, for its leave-one-out estimates.
        double[][] noiseOut = new double[estimators][questions], alignOut = new double[estimators][questions];
        for (int q = 0; q < questions; q++) {
            float[] reference = gradient(policy, sets.get(0), q, means[0], rho, temperature);
            double rr = dot(reference, reference), srr = dot(sums[0], reference);
            double refSumSquares = sumSquares[0] - 2 * srr + rr, refSquares = squares[0] - rr;
            for (int e = 0; e < estimators; e++) {
                float[] x = e == 0 ? reference : gradient(policy, sets.get(e), q, means[e], rho, temperature);
                double gg = dot(x, x), gr = dot(x, reference);
                double sumSq = sumSquares[e] - 2 * dot(sums[e], x) + gg;
                noiseOut[e][q] = noiseScale(sumSq, squares[e] - gg, questions - 1);
                double cross = sumWithReference[e] - dot(sums[e], reference) - dot(sums[0], x) + gr;
                alignOut[e][q] = alignment(
                        cross, withReference[e] - gr, sumSq, squares[e] - gg, refSumSquares, refSquares, questions - 1);
            }
        }

        List<Stats> out = new ArrayList<>(estimators);
        for (int e = 0; e < estimators; e++) {
            double align = e == 0
                    ? Double.NaN
                    : alignment(
                            sumWithReference[e],
                            withReference[e],
                            sumSquares[e],
                            squares[e],
                            sumSquares[0],
                            squares[0],
                            questions);
            double norms =
                    sets.get(e).episodes() == sets.get(0).episodes() ? Math.sqrt(sumSquares[e] * sumSquares[0]) : 0;
            out.add(new Stats(
                    noiseScale(sumSquares[e], squares[e], questions),
                    jackknifeError(noiseOut[e]),
                    align,
                    e == 0 ? Double.NaN : jackknifeError(alignOut[e]),
                    norms > 0 ? sumWithReference[e] / norms : Double.NaN));
        }
        return out;
    }

    /** The memory {@link #measure} holds for a policy of {@code parameters} and {@code estimators} advantage sets. */
    static long bytesNeeded(long parameters, int estimators) {
        return parameters * (8L * estimators + 8);
    }

    /** B = tr Σ / |G|² from |S|², Σ|g_q|² and Q; +∞ when the pairs find no signal. */
    static double noiseScale(double sumSquared, double squares, int questions) {
        double signal = (sumSquared - squares) / ((double) questions * (questions - 1));
        double variance = (squares - sumSquared / questions) / (questions - 1);
        return signal > 0 ? Math.max(0, variance) / signal : Double.POSITIVE_INFINITY;
    }

    /** cos(G_e, G_r) from the pairs of different questions; NaN when either side has no signal. */
    static double alignment(
            double sumCross,
            double sameCross,
            double sumSquared,
            double squares,
            double refSumSquared,
            double refSquares,
            int questions) {
        double pairs = (double) questions * (questions - 1);
        double signal = (sumSquared - squares) / pairs, refSignal = (refSumSquared - refSquares) / pairs;
        if (!(signal > 0 && refSignal > 0)) return Double.NaN;
        return (sumCross - sameCross) / pairs / Math.sqrt(signal * refSignal);
    }

    /** sqrt((n − 1)/n · Σ (θ_i − θ̄)²) over the leave-one-out estimates; NaN when one is not finite. */
    static double jackknifeError(double[] leaveOneOut) {
        int n = leaveOneOut.length;
        double mean = 0;
        for (double v : leaveOneOut) {
            if (!Double.isFinite(v)) return Double.NaN;
            mean += v / n;
        }
        double ss = 0;
        for (double v : leaveOneOut) ss += (v - mean) * (v - mean);
        return Math.sqrt((n - 1.0) / n * ss);
    }

    private static double decisionMean(Episodes set, double rho) {
        List<Trajectory> batch = set.episodes();
        float[][] advantages = set.advantages();
        double sum = 0;
        long n = 0;
        for (int k = 0; k < batch.size(); k++) {
            Trajectory t = batch.get(k);
            for (int i = 0; i < t.responseLength(); i++) {
                if (t.tokenProbability(i) < rho) {
                    sum += advantages[k][i];
                    n++;
                }
            }
        }
        return n == 0 ? 0 : sum / n;
    }

    /** Question q's g_q, flat over the parameters in their checkpoint order. */
    private static float[] gradient(Policy policy, Episodes set, int q, double mean, double rho, float temperature) {
        List<Trajectory> batch = set.episodes();
        float[][] advantages = set.advantages();
        int from = set.questionStarts()[q], to = set.questionStarts()[q + 1];
        TensorVector parameters = policy.parameterVector();
        try (PointerScope scope = new PointerScope()) {
            for (long i = 0; i < parameters.size(); i++) {
                Tensor grad = parameters.get(i).grad();
                if (grad.defined()) grad.zero_();
            }
            List<int[]> queries = new ArrayList<>(), targets = new ArrayList<>();
            List<Integer> rows = new ArrayList<>();
            for (int k = from; k < to; k++) {
                Trajectory t = batch.get(k);
                if (t.responseLength() == 0) continue;
                queries.add(t.promptIds());
                targets.add(t.responseIds());
                rows.add(k);
            }
            if (!rows.isEmpty()) {
                TargetBatch targetBatch =
                        TargetBatch.ofPairs(queries.toArray(new int[0][]), targets.toArray(new int[0][]));
                int[] offsets = targetBatch.seqOffsets();
                float[] gradLogp = new float[offsets[rows.size()]];
                for (int j = 0; j < rows.size(); j++) {
                    Trajectory t = batch.get(rows.get(j));
                    float[] a = advantages[rows.get(j)];
                    for (int i = 0; i < t.responseLength(); i++)
                        if (t.tokenProbability(i) < rho) gradLogp[offsets[j] + i] = (float) -(a[i] - mean);
                }
                try (TrainingForward f = policy.forward(targetBatch, temperature)) {
                    f.backward(gradLogp);
                }
            }
            long total = policy.parameterCount();
            if (total > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("the policy has " + total + " parameters, more than a gradient "
                        + "vector here holds (" + Integer.MAX_VALUE + ")");
            }
            float[] flat = new float[(int) total];
            int at = 0;
            for (long i = 0; i < parameters.size(); i++) {
                Tensor p = parameters.get(i);
                Tensor grad = p.grad();
                int n = (int) p.numel();
                if (grad.defined()) System.arraycopy(Tensors.toFloats(grad), 0, flat, at, n);
                at += n;
            }
            return flat;
        }
    }

    private static void add(double[] sum, float[] x) {
        for (int i = 0; i < x.length; i++) sum[i] += x[i];
    }

    private static double dot(float[] x, float[] y) {
        double s = 0;
        for (int i = 0; i < x.length; i++) s += (double) x[i] * y[i];
        return s;
    }

    private static double dot(double[] x, float[] y) {
        double s = 0;
        for (int i = 0; i < y.length; i++) s += x[i] * y[i];
        return s;
    }

    private static double dot(double[] x, double[] y) {
        double s = 0;
        for (int i = 0; i < x.length; i++) s += x[i] * y[i];
        return s;
    }
}
