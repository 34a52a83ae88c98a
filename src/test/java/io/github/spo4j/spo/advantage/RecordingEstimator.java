package io.github.spo4j.spo.advantage;

import io.github.spo4j.spo.data.StatePrefix;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/** A fake {@link ValueEstimator} that values states with a given function and records every call. */
final class RecordingEstimator implements ValueEstimator {
    final List<List<StatePrefix>> calls = new ArrayList<>();
    final List<Integer> rollouts = new ArrayList<>();
    private final List<ToDoubleFunction<StatePrefix>> valueByCall;

    RecordingEstimator(ToDoubleFunction<StatePrefix> value) {
        this(List.of(value));
    }

    /** Call c values its states with {@code valueByCall.get(c)} (the last one for later calls). */
    RecordingEstimator(List<ToDoubleFunction<StatePrefix>> valueByCall) {
        this.valueByCall = List.copyOf(valueByCall);
    }

    /** Values keyed by the number of response tokens in the state; unknown lengths fail the test. */
    static RecordingEstimator byPrefixLength(Map<Integer, Double> values) {
        return new RecordingEstimator(s -> {
            Double v = values.get(s.responsePrefixLength());
            if (v == null) throw new AssertionError("unexpected state " + s);
            return v;
        });
    }

    /** A deterministic value in [0, 1) derived from the state's content, different for (almost) every state. */
    static double hashValue(StatePrefix s) {
        long h = s.hashCode() * 0x9E3779B97F4A7C15L;
        return ((h >>> 11) & ((1L << 40) - 1)) / (double) (1L << 40);
    }

    @Override
    public double[] estimate(List<StatePrefix> states, int n) {
        ToDoubleFunction<StatePrefix> value = valueByCall.get(Math.min(calls.size(), valueByCall.size() - 1));
        calls.add(List.copyOf(states));
        rollouts.add(n);
        double[] out = new double[states.size()];
        for (int i = 0; i < out.length; i++) out[i] = value.applyAsDouble(states.get(i));
        return out;
    }

    List<StatePrefix> onlyCall() {
        if (calls.size() != 1) throw new AssertionError("expected one estimator call, got " + calls.size());
        return calls.get(0);
    }
}
