package io.github.spo4j.report;

import java.io.Console;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.util.Locale;
import java.util.function.LongSupplier;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;

/**
 * Progress of one task on stderr, so stdout stays clean for tables. On an interactive terminal, while
 * {@link #setEnabled enabled}, this is a progress bar with rate and time left. Otherwise (disabled, e.g. by
 * {@code --quiet}, or no terminal, e.g. CI logs) it prints plain lines, {@code task: done/total unit (p%), rate,
 * ETA, extra}: at most one per 10% of the total or per 10 s, when the count or message changes, and a last one on
 * {@link #close} if anything changed since. Methods are thread-safe; after {@link #close} they do nothing.
 */
public final class Progress implements AutoCloseable {
    /** Minimum time between two time-triggered plain lines. */
    static final long LINE_INTERVAL_NANOS = 10_000_000_000L;

    private static volatile boolean enabled = true;

    /** Set to 1 by a launcher whose terminal is interactive, for the process that draws there. */
    public static final String TERMINAL = "SPO4J_TERMINAL";

    private final Display display;
    private long done;
    private boolean closed;

    private Progress(Display display) {
        this.display = display;
    }

    /** Turns the progress bar on or off for tasks started afterwards; off leaves only the plain lines. */
    public static void setEnabled(boolean on) {
        enabled = on;
    }

    /** Whether tasks started now may draw a progress bar. */
    public static boolean isEnabled() {
        return enabled;
    }

    /**
     * Starts showing a task.
     *
     * @param task  the task's name, e.g. {@code "grpo seed 1"}; not blank
     * @param total the count at completion, {@code >= 0}; 0 when unknown
     * @param unit  what is counted, e.g. {@code "it"} or {@code "tokens"}; not blank
     */
    public static Progress start(String task, long total, String unit) {
        return resume(task, total, unit, 0);
    }

    /**
     * Continues a task already {@code done} far (a resumed run): the count starts there, and the rate counts only
     * what this session does.
     */
    public static Progress resume(String task, long total, String unit, long done) {
        checkStart(task, total, unit);
        if (done < 0) throw new IllegalArgumentException("done must be >= 0, got " + done);
        Progress p = enabled && interactiveTerminal()
                ? new Progress(new Bar(task, total, unit, done))
                : new Progress(new Lines(task, total, unit, done, System.err, System::nanoTime));
        p.done = done;
        return p;
    }

    /** A task that is counted but not shown (a data-parallel rank other than 0, whose rank 0 shows the run). */
    public static Progress hidden(String task, long total, String unit, long done) {
        checkStart(task, total, unit);
        if (done < 0) throw new IllegalArgumentException("done must be >= 0, got " + done);
        Progress p = new Progress(new Display() {
            @Override
            public void update(long d) {}

            @Override
            public void extra(String message) {}

            @Override
            public void close() {}
        });
        p.done = done;
        return p;
    }

    /** A task shown as plain lines on {@code out}, timed by {@code nanoClock}. */
    static Progress plain(String task, long total, String unit, PrintStream out, LongSupplier nanoClock) {
        return plain(task, total, unit, 0, out, nanoClock);
    }

    /** {@link #plain} from {@code done}. */
    static Progress plain(String task, long total, String unit, long done, PrintStream out, LongSupplier nanoClock) {
        checkStart(task, total, unit);
        Progress p = new Progress(new Lines(task, total, unit, done, out, nanoClock));
        p.done = done;
        return p;
    }

    /** Adds {@code n >= 0} to the count. */
    public synchronized void step(long n) {
        if (n < 0) throw new IllegalArgumentException("n must be >= 0, got " + n);
        if (closed) return;
        done += n;
        display.update(done);
    }

    /** Sets the count to {@code n >= 0}. */
    public synchronized void stepTo(long n) {
        if (n < 0) throw new IllegalArgumentException("n must be >= 0, got " + n);
        if (closed) return;
        done = n;
        display.update(done);
    }

    /** Shows {@code message} after the numbers, e.g. {@code "acc 41.2%"}; null or empty clears it. */
    public synchronized void setExtra(String message) {
        if (closed) return;
        display.extra(message == null ? "" : message);
    }

    /** The current count. */
    public synchronized long done() {
        return done;
    }

    /** Finishes the display; later calls do nothing. */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        display.close();
    }

    private static void checkStart(String task, long total, String unit) {
        if (task == null || task.isBlank()) throw new IllegalArgumentException("task must not be null or blank");
        if (total < 0) throw new IllegalArgumentException("total must be >= 0, got " + total);
        if (unit == null || unit.isBlank()) throw new IllegalArgumentException("unit must not be null or blank");
    }

    /** A console that is a terminal; {@code Console.isTerminal()} (Java 22+) decides where it exists. */
    /**
     * Whether this process draws on an interactive terminal: its console is one, or it is a rank whose launcher's is
     * (the environment variable {@value #TERMINAL} is 1; the launcher relays the rank's output).
     */
    public static boolean interactiveTerminal() {
        if ("1".equals(System.getenv(TERMINAL))) return true;
        Console console = System.console();
        if (console == null) return false;
        try {
            Method isTerminal = Console.class.getMethod("isTerminal");
            return (Boolean) isTerminal.invoke(console);
        } catch (NoSuchMethodException e) {
            return true;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return false;
        }
    }

    private interface Display {
        void update(long done);

        void extra(String message);

        void close();
    }

    private static final class Bar implements Display {
        private final ProgressBar bar;

        Bar(String task, long total, String unit, long done) {
            bar = new ProgressBarBuilder()
                    .setTaskName(task)
                    .startsFrom(done, java.time.Duration.ZERO)
                    .setInitialMax(total == 0 ? -1 : total)
                    .setUnit(" " + unit, 1)
                    .showSpeed()
                    .build();
        }

        @Override
        public void update(long done) {
            bar.stepTo(done);
        }

        @Override
        public void extra(String message) {
            bar.setExtraMessage(message.isEmpty() ? "" : " " + message);
        }

        @Override
        public void close() {
            bar.close();
        }
    }

    private static final class Lines implements Display {
        private final String task;
        private final long total;
        private final String unit;
        private final PrintStream out;
        private final LongSupplier clock;
        private final long startNanos;
        private final long initial;
        private long lastLineNanos;
        private long lastTenth;
        private long done;
        private String extra = "";
        private boolean changed;

        Lines(String task, long total, String unit, long initial, PrintStream out, LongSupplier clock) {
            this.task = task;
            this.initial = initial;
            this.done = initial;
            this.lastTenth = total == 0 ? 0 : Math.min(10, initial * 10 / total);
            this.total = total;
            this.unit = unit;
            this.out = out;
            this.clock = clock;
            this.startNanos = clock.getAsLong();
            this.lastLineNanos = startNanos;
        }

        @Override
        public void update(long done) {
            if (done == this.done) return;
            this.done = done;
            changed = true;
            maybePrint();
        }

        @Override
        public void extra(String message) {
            if (message.equals(extra)) return;
            extra = message;
            changed = true;
            maybePrint();
        }

        @Override
        public void close() {
            if (changed) print(clock.getAsLong());
        }

        private long tenth() {
            return total == 0 ? 0 : Math.min(10, done * 10 / total);
        }

        private void maybePrint() {
            long now = clock.getAsLong();
            if (tenth() > lastTenth || now - lastLineNanos >= LINE_INTERVAL_NANOS) print(now);
        }

        private void print(long now) {
            double seconds = (now - startNanos) / 1e9;
            StringBuilder line = new StringBuilder(task).append(": ").append(done);
            if (total > 0) line.append('/').append(total);
            line.append(' ').append(unit);
            if (total > 0) line.append(String.format(Locale.ROOT, " (%d%%)", done * 100 / total));
            if (seconds > 0 && done > initial) {
                double rate = (done - initial) / seconds; // this session's work only
                line.append(", ").append(rate(rate)).append(' ').append(unit).append("/s");
                if (total > 0 && done < total) line.append(", ETA ").append(Formats.duration((total - done) / rate));
            }
            line.append(", ").append(Formats.duration(seconds)).append(" elapsed");
            if (!extra.isEmpty()) line.append(", ").append(extra);
            out.println(line);
            out.flush();
            lastLineNanos = now;
            lastTenth = tenth();
            changed = false;
        }

        private static String rate(double r) {
            if (r >= 1000) return Formats.count(r);
            return String.format(Locale.ROOT, r >= 100 ? "%.0f" : r >= 10 ? "%.1f" : "%.2f", r);
        }
    }
}
