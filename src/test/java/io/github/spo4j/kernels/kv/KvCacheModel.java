package io.github.spo4j.kernels.kv;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The obvious model of a {@link KvCache}: every sequence a dense list of K and V rows per layer, copied on
 * fork. No blocks, no sharing: what each sequence must read back.
 */
final class KvCacheModel {
    private final int layers;
    private final int row;
    private final Map<Integer, Seq> seqs = new HashMap<>();

    private static final class Seq {
        final List<List<float[]>> k = new ArrayList<>(), v = new ArrayList<>();

        Seq(int layers) {
            for (int l = 0; l < layers; l++) {
                k.add(new ArrayList<>());
                v.add(new ArrayList<>());
            }
        }

        Seq copy() {
            Seq c = new Seq(k.size());
            for (int l = 0; l < k.size(); l++) {
                c.k.get(l).addAll(k.get(l)); // rows are never mutated, so sharing them is a copy
                c.v.get(l).addAll(v.get(l));
            }
            return c;
        }
    }

    KvCacheModel(int layers, int row) {
        this.layers = layers;
        this.row = row;
    }

    void add(int id) {
        seqs.put(id, new Seq(layers));
    }

    void fork(int parent, int[] children) {
        for (int c : children) seqs.put(c, seqs.get(parent).copy());
    }

    void release(int id) {
        seqs.remove(id);
    }

    /** Appends the rows of k, v ([n, row]) to id at layer. */
    void append(int id, int layer, float[] k, float[] v) {
        Seq s = seqs.get(id);
        for (int t = 0; t < k.length / row; t++) {
            float[] kr = new float[row], vr = new float[row];
            System.arraycopy(k, t * row, kr, 0, row);
            System.arraycopy(v, t * row, vr, 0, row);
            s.k.get(layer).add(kr);
            s.v.get(layer).add(vr);
        }
    }

    List<Integer> ids() {
        return new ArrayList<>(seqs.keySet());
    }

    int length(int id, int layer) {
        return seqs.get(id).k.get(layer).size();
    }

    int length(int id) {
        int m = 0;
        for (int l = 0; l < layers; l++) m = Math.max(m, length(id, l));
        return m;
    }

    /** Dense [length, row] K (kv = 0) or V (kv = 1) of id at layer. */
    float[] dense(int id, int layer, int kv) {
        List<float[]> rows = (kv == 0 ? seqs.get(id).k : seqs.get(id).v).get(layer);
        float[] out = new float[rows.size() * row];
        for (int t = 0; t < rows.size(); t++) System.arraycopy(rows.get(t), 0, out, t * row, row);
        return out;
    }

    /** Live sequences. */
    int size() {
        return seqs.size();
    }
}
