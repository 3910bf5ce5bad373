package io.github.backprop4j.cuda;

import io.github.backprop4j.core.LearningRateSchedule;
import io.github.backprop4j.core.spi.DropoutMath;
import io.github.backprop4j.core.spi.Erfc;
import java.lang.foreign.MemorySegment;
import java.util.Map;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * Our CUDA kernels (kernels/src/main/cuda) written again in Java for the {@link HostStandInDriver},
 * so that the conformance suites can run CudaDevice's host code on a machine without a GPU. They
 * follow the .cu files' arithmetic in float, but they are a stand-in: what they prove is that the
 * backend launches the right kernel with the right arguments in the right order, not that the .cu
 * kernels are right (that takes the GPU run in docs/gpu-verification.md).
 *
 * <p>Each launch's arguments are checked against the kernel's C signature ({@link #SIGNATURES},
 * itself checked against the .cu sources by {@code StandInKernelsTest}): a pointer or a
 * {@code long long} must be passed as a Long, an int as an Integer, a float as a Float, or the
 * launch is a violation, since the GPU would read a different size than was passed.
 */
final class StandInKernels {

    /** Kernel → parameter kinds: P pointer, L long long, i int, f float. */
    static final Map<String, String> SIGNATURES = Map.ofEntries(
            Map.entry("activation_forward", "PPPiii"),
            Map.entry("activation_forward_softmax", "PPPii"),
            Map.entry("activation_backward", "PPPLi"),
            Map.entry("loss_gradient", "PPPiiifP"),
            Map.entry("loss_gradient_sum", "PiP"),
            Map.entry("column_sum", "PiiffP"),
            Map.entry("optimizer_update_sgd", "PPLffPPfiiifif"),
            Map.entry("optimizer_update_momentum", "PPPLfffiPPfiiifif"),
            Map.entry("optimizer_update_adam", "PPPPLffffffPPfiiifif"),
            Map.entry("optimizer_update_step", "P"),
            Map.entry("gather_rows", "PiPiiiP"),
            Map.entry("dropout_forward", "PPPLLiPLf"),
            Map.entry("dropout_backward", "PPL"),
            Map.entry("sum_of_squares", "PLP"),
            Map.entry("sum_of_squares_total", "PiiP"));

    // op_codes.h
    private static final int ACT_RELU = 1, ACT_LEAKY_RELU = 2, ACT_SIGMOID = 3, ACT_TANH = 4, ACT_GELU = 5,
            ACT_GELU_TANH = 6;
    private static final int LOSS_MSE = 0, LOSS_BCE = 1;
    private static final float LEAKY_SLOPE = 0.01f, GELU_C = 0.7978845608028654f, GELU_K = 0.044715f, LOG_EPS = 1e-7f,
            SQRT_HALF = 0.70710678118654752f, INV_SQRT_2PI = 0.39894228040143268f;

    private StandInKernels() {
    }

    /** Why {@code args} cannot be kernel {@code name}'s arguments, or null when they match its signature. */
    static String mismatch(String name, Object[] args) {
        String signature = SIGNATURES.get(name);
        if (signature == null) return "no kernel named " + name;
        if (signature.length() != args.length)
            return name + " takes " + signature.length() + " arguments, got " + args.length;
        for (int i = 0; i < args.length; i++) {
            Class<?> expected = switch (signature.charAt(i)) {
                case 'P', 'L' -> Long.class;
                case 'i' -> Integer.class;
                default -> Float.class;
            };
            if (!expected.isInstance(args[i]))
                return name + " argument " + i + " must be a " + expected.getSimpleName() + ", got "
                        + (args[i] == null ? "null" : args[i].getClass().getSimpleName());
        }
        return null;
    }

    /**
     * Runs kernel {@code name} on a grid of {@code blocks} blocks of {@code threads} (arguments already
     * checked by {@link #mismatch}); a stray pointer throws.
     */
    static void run(String name, int blocks, int threads, Object[] args, HostStandInDriver driver) {
        new Launch(name, blocks, threads, args, driver).run();
    }

    /** One launch's grid and arguments, read in order. */
    private static final class Launch {
        final String name;
        final int blocks, threads;
        final Object[] args;
        final HostStandInDriver driver;
        int next;

        Launch(String name, int blocks, int threads, Object[] args, HostStandInDriver driver) {
            this.name = name;
            this.blocks = blocks;
            this.threads = threads;
            this.args = args;
            this.driver = driver;
        }

        long pointer() {
            return (Long) args[next++];
        }

        int i() {
            return (Integer) args[next++];
        }

        long l() {
            return (Long) args[next++];
        }

        float f() {
            return (Float) args[next++];
        }

        /** floats at a device address, or null for the null pointer; a stray one throws (a violation). */
        MemorySegment floats(long address, long count) {
            if (address == 0) return null;
            MemorySegment m = driver.deviceFloats(address, count, "kernel " + name);
            if (m == null) throw new IllegalStateException("kernel " + name + ": pointer outside device memory");
            return m;
        }

        void run() {
            switch (name) {
                case "activation_forward" -> activationForward();
                case "activation_forward_softmax" -> activationForwardSoftmax();
                case "activation_backward" -> activationBackward();
                case "loss_gradient" -> lossGradient();
                case "loss_gradient_sum" -> lossGradientSum();
                case "column_sum" -> columnSum();
                case "optimizer_update_sgd" -> optimizerUpdateSgd();
                case "optimizer_update_momentum" -> optimizerUpdateMomentum();
                case "optimizer_update_adam" -> optimizerUpdateAdam();
                case "optimizer_update_step" -> {
                    MemorySegment t = floats(pointer(), 1);
                    t.set(JAVA_INT, 0, t.get(JAVA_INT, 0) + 1);
                }
                case "gather_rows" -> gatherRows();
                case "dropout_forward" -> dropoutForward();
                case "dropout_backward" -> dropoutBackward();
                case "sum_of_squares" -> sumOfSquares();
                case "sum_of_squares_total" -> sumOfSquaresTotal();
                default -> throw new IllegalStateException("no kernel named " + name);
            }
        }

        private void activationForward() {
            long zp = pointer(), bp = pointer(), op = pointer();
            int rows = i(), cols = i(), f = i();
            long n = (long) rows * cols;
            MemorySegment z = floats(zp, n), bias = floats(bp, cols), out = floats(op, n);
            for (long i = 0; i < n; i++) {
                float v = z.getAtIndex(JAVA_FLOAT, i);
                if (bias != null) {
                    v += bias.getAtIndex(JAVA_FLOAT, i % cols);
                    z.setAtIndex(JAVA_FLOAT, i, v);
                }
                out.setAtIndex(JAVA_FLOAT, i, apply(f, v));
            }
        }

        private static float apply(int f, float z) {
            return switch (f) {
                case ACT_RELU -> z > 0f || Float.isNaN(z) ? z : 0f;
                case ACT_LEAKY_RELU -> z > 0f || Float.isNaN(z) ? z : LEAKY_SLOPE * z;
                case ACT_SIGMOID -> 1f / (1f + (float) Math.exp(-z));
                case ACT_TANH -> (float) Math.tanh(z);
                case ACT_GELU -> 0.5f * z * Erfc.erfc(-z * SQRT_HALF);
                case ACT_GELU_TANH -> 0.5f * z * (1f + (float) Math.tanh(GELU_C * (z + GELU_K * z * z * z)));
                default -> z;
            };
        }

        private void activationForwardSoftmax() {
            long zp = pointer(), bp = pointer(), op = pointer();
            int rows = i(), cols = i();
            long n = (long) rows * cols;
            MemorySegment z = floats(zp, n), bias = floats(bp, cols), out = floats(op, n);
            for (long r = 0; r < rows; r++) {
                long base = r * cols;
                float max = Float.NEGATIVE_INFINITY;
                for (int j = 0; j < cols; j++) {
                    float v = z.getAtIndex(JAVA_FLOAT, base + j);
                    if (bias != null) {
                        v += bias.getAtIndex(JAVA_FLOAT, j);
                        z.setAtIndex(JAVA_FLOAT, base + j, v);
                    }
                    if (v > max) max = v; // fmaxf: a NaN operand is dropped
                }
                float sum = 0f;
                for (int j = 0; j < cols; j++) {
                    float e = (float) Math.exp(z.getAtIndex(JAVA_FLOAT, base + j) - max);
                    out.setAtIndex(JAVA_FLOAT, base + j, e);
                    sum += e;
                }
                float inv = 1f / sum;
                for (int j = 0; j < cols; j++) out.setAtIndex(JAVA_FLOAT, base + j, out.getAtIndex(JAVA_FLOAT, base + j) * inv);
            }
        }

        private void activationBackward() {
            long zp = pointer(), op = pointer(), dp = pointer();
            long n = l();
            int f = i();
            MemorySegment z = floats(zp, n), out = floats(op, n), delta = floats(dp, n);
            for (long i = 0; i < n; i++) {
                float o = out.getAtIndex(JAVA_FLOAT, i);
                float d = switch (f) {
                    case ACT_RELU -> o > 0f ? 1f : 0f;
                    case ACT_LEAKY_RELU -> o > 0f ? 1f : LEAKY_SLOPE;
                    case ACT_SIGMOID -> o * (1f - o);
                    case ACT_TANH -> 1f - o * o;
                    case ACT_GELU -> {
                        float x = z.getAtIndex(JAVA_FLOAT, i);
                        yield 0.5f * Erfc.erfc(-x * SQRT_HALF) + x * INV_SQRT_2PI * (float) Math.exp(-0.5f * x * x);
                    }
                    case ACT_GELU_TANH -> {
                        float x = z.getAtIndex(JAVA_FLOAT, i);
                        float t = (float) Math.tanh(GELU_C * (x + GELU_K * x * x * x));
                        yield 0.5f * (1f + t) + 0.5f * x * (1f - t * t) * GELU_C * (1f + 3f * GELU_K * x * x);
                    }
                    default -> 1f;
                };
                delta.setAtIndex(JAVA_FLOAT, i, delta.getAtIndex(JAVA_FLOAT, i) * d);
            }
        }

        /** One warp per row, rows strided over the grid: block b's share of the loss goes to block_loss[b]. */
        private void lossGradient() {
            long yp = pointer(), tp = pointer(), dp = pointer();
            int rows = i(), cols = i(), loss = i();
            float invN = f();
            long bp = pointer();
            long n = (long) rows * cols;
            MemorySegment yHat = floats(yp, n), y = floats(tp, n), delta = floats(dp, n), blockLoss = floats(bp, blocks);
            int warpsPerBlock = threads / 32;
            float[] share = new float[blocks];
            for (int r = 0; r < rows; r++) {
                for (int j = 0; j < cols; j++) {
                    long i = (long) r * cols + j;
                    float p = yHat.getAtIndex(JAVA_FLOAT, i), t = y.getAtIndex(JAVA_FLOAT, i);
                    delta.setAtIndex(JAVA_FLOAT, i, (p - t) * invN);
                    share[(r / warpsPerBlock) % blocks] += term(loss, p, t);
                }
            }
            for (int b = 0; b < blocks; b++) blockLoss.setAtIndex(JAVA_FLOAT, b, share[b]);
        }

        private static float term(int loss, float p, float t) {
            if (loss == LOSS_MSE) return 0.5f * (p - t) * (p - t);
            float q = Float.isNaN(p) ? p : Math.min(Math.max(p, LOG_EPS), 1f - LOG_EPS);
            if (loss == LOSS_BCE) return -(t * (float) Math.log(q) + (1f - t) * (float) Math.log(1f - q));
            return t != 0f || Float.isNaN(p) ? -t * (float) Math.log(q) : 0f;
        }

        private void lossGradientSum() {
            long bp = pointer();
            int parts = i();
            long sp = pointer();
            MemorySegment blockLoss = floats(bp, parts), sum = floats(sp, 1);
            float total = 0f;
            for (int b = 0; b < parts; b++) total += blockLoss.getAtIndex(JAVA_FLOAT, b);
            sum.setAtIndex(JAVA_FLOAT, 0, sum.getAtIndex(JAVA_FLOAT, 0) + total);
        }

        private void columnSum() {
            long mp = pointer();
            int rows = i(), cols = i();
            float alpha = f(), beta = f();
            long op = pointer();
            MemorySegment m = floats(mp, (long) rows * cols), out = floats(op, cols);
            for (int j = 0; j < cols; j++) {
                float total = 0f;
                for (long r = 0; r < rows; r++) total += m.getAtIndex(JAVA_FLOAT, r * cols + j);
                float v = beta == 0f ? alpha * total : alpha * total + beta * out.getAtIndex(JAVA_FLOAT, j);
                out.setAtIndex(JAVA_FLOAT, j, v);
            }
        }

        /** This update's count t (the step buffer's + 1), its scheduled rate, and clipping's factor. */
        private record UpdateTail(int t, float lr, float clip) {
        }

        /** The arguments every update kernel ends with: the step count, clipping and the schedule. */
        private UpdateTail updateTail(float base) {
            int t = floats(pointer(), 1).get(JAVA_INT, 0) + 1;
            float clip = clipFactor();
            LearningRateSchedule schedule = new LearningRateSchedule(LearningRateSchedule.Kind.values()[i()], i(), i(), f(),
                    i(), f());
            return new UpdateTail(t, schedule.learningRate(base, t), clip);
        }

        /** optimizer.cu's clip_factor: 1 without a sum of squares. */
        private float clipFactor() {
            long sp = pointer();
            float maxNorm = f();
            if (sp == 0) return 1f;
            float norm = (float) Math.sqrt(floats(sp, 1).getAtIndex(JAVA_FLOAT, 0));
            if (Float.isNaN(norm) || Float.isInfinite(norm)) return Float.NaN;
            return norm > maxNorm ? maxNorm / norm : 1f;
        }

        private void optimizerUpdateSgd() {
            long wp = pointer(), gp = pointer();
            long n = l();
            float base = f(), l2 = f();
            UpdateTail tail = updateTail(base);
            float lr = tail.lr(), clip = tail.clip();
            MemorySegment w = floats(wp, n), g = floats(gp, n);
            for (long i = 0; i < n; i++) {
                float wi = w.getAtIndex(JAVA_FLOAT, i);
                w.setAtIndex(JAVA_FLOAT, i, wi - lr * (g.getAtIndex(JAVA_FLOAT, i) * clip + l2 * wi));
            }
        }

        private void optimizerUpdateMomentum() {
            long wp = pointer(), gp = pointer(), vp = pointer();
            long n = l();
            float base = f(), mu = f(), l2 = f();
            int nesterov = i();
            UpdateTail tail = updateTail(base);
            float lr = tail.lr(), clip = tail.clip();
            MemorySegment w = floats(wp, n), g = floats(gp, n), v = floats(vp, n);
            for (long i = 0; i < n; i++) {
                float wi = w.getAtIndex(JAVA_FLOAT, i);
                float gi = g.getAtIndex(JAVA_FLOAT, i) * clip + l2 * wi;
                float vi = mu * v.getAtIndex(JAVA_FLOAT, i) + gi;
                v.setAtIndex(JAVA_FLOAT, i, vi);
                w.setAtIndex(JAVA_FLOAT, i, wi - lr * (nesterov != 0 ? gi + mu * vi : vi));
            }
        }

        /** The step buffer holds t as an int; this update uses t + 1 (optimizer_update_step stores it). */
        private void optimizerUpdateAdam() {
            long wp = pointer(), gp = pointer(), mp = pointer(), vp = pointer();
            long n = l();
            float base = f(), beta1 = f(), beta2 = f(), eps = f(), l2 = f(), weightDecay = f();
            UpdateTail tail = updateTail(base);
            int t = tail.t();
            float lr = tail.lr(), clip = tail.clip(), decay = 1f - lr * weightDecay;
            MemorySegment w = floats(wp, n), g = floats(gp, n), m = floats(mp, n), v = floats(vp, n);
            float c1 = -1f / (float) Math.expm1(t * (float) Math.log(beta1));
            float c2 = -1f / (float) Math.expm1(t * (float) Math.log(beta2));
            for (long i = 0; i < n; i++) {
                float wi = w.getAtIndex(JAVA_FLOAT, i);
                float gi = g.getAtIndex(JAVA_FLOAT, i) * clip + l2 * wi;
                float mi = beta1 * m.getAtIndex(JAVA_FLOAT, i) + (1f - beta1) * gi;
                float vi = beta2 * v.getAtIndex(JAVA_FLOAT, i) + (1f - beta2) * gi * gi;
                m.setAtIndex(JAVA_FLOAT, i, mi);
                v.setAtIndex(JAVA_FLOAT, i, vi);
                w.setAtIndex(JAVA_FLOAT, i, wi * decay - lr * (mi * c1) / ((float) Math.sqrt(vi * c2) + eps));
            }
        }

        /** One Philox block of four elements per thread, as dropout.cu; the step count read from the device. */
        private void dropoutForward() {
            long ip = pointer(), op = pointer(), mp = pointer();
            long n = l(), seed = l();
            int layer = i();
            int t = floats(pointer(), 1).get(JAVA_INT, 0);
            long threshold = l();
            float scale = f();
            MemorySegment in = floats(ip, n), out = floats(op, n), mask = floats(mp, n);
            int[] draws = new int[4];
            for (long block = 0; block < (n + 3) / 4; block++) {
                DropoutMath.draws(seed, t, layer, (int) block, draws);
                for (int lane = 0; lane < 4 && 4 * block + lane < n; lane++) {
                    long i = 4 * block + lane;
                    float m = DropoutMath.maskValue(draws[lane], threshold, scale);
                    mask.setAtIndex(JAVA_FLOAT, i, m);
                    out.setAtIndex(JAVA_FLOAT, i, in.getAtIndex(JAVA_FLOAT, i) * m);
                }
            }
        }

        private void dropoutBackward() {
            long dp = pointer(), mp = pointer();
            long n = l();
            MemorySegment delta = floats(dp, n), mask = floats(mp, n);
            for (long i = 0; i < n; i++)
                delta.setAtIndex(JAVA_FLOAT, i, delta.getAtIndex(JAVA_FLOAT, i) * mask.getAtIndex(JAVA_FLOAT, i));
        }

        /** Thread (b, x) Kahan-sums the squares of elements b·T + x, then + blocks·T, ...; block b adds its threads. */
        private void sumOfSquares() {
            long mp = pointer();
            long n = l();
            MemorySegment m = floats(mp, n), partial = floats(pointer(), blocks);
            for (int b = 0; b < blocks; b++) {
                float block = 0f;
                for (int x = 0; x < threads; x++) {
                    float sum = 0f, comp = 0f;
                    for (long i = (long) b * threads + x; i < n; i += (long) blocks * threads) {
                        float v = m.getAtIndex(JAVA_FLOAT, i), y = v * v - comp, t = sum + y;
                        comp = (t - sum) - y;
                        sum = t;
                    }
                    block += sum;
                }
                partial.setAtIndex(JAVA_FLOAT, b, block);
            }
        }

        private void sumOfSquaresTotal() {
            long pp = pointer();
            int parts = i(), accumulate = i();
            MemorySegment partial = floats(pp, parts), out = floats(pointer(), 1);
            float total = 0f;
            for (int b = 0; b < parts; b++) total += partial.getAtIndex(JAVA_FLOAT, b);
            out.setAtIndex(JAVA_FLOAT, 0, accumulate != 0 ? out.getAtIndex(JAVA_FLOAT, 0) + total : total);
        }

        private void gatherRows() {
            long sp = pointer();
            int srcRows = i();
            long op = pointer();
            int offset = i(), rows = i(), cols = i();
            long dp = pointer();
            MemorySegment src = floats(sp, (long) srcRows * cols), order = floats(op, (long) offset + rows),
                    dst = floats(dp, (long) rows * cols);
            for (long i = 0; i < (long) rows * cols; i++) {
                int r = (int) (i / cols), c = (int) (i % cols);
                float from = order.getAtIndex(JAVA_FLOAT, offset + r);
                dst.setAtIndex(JAVA_FLOAT, i, from >= 0f && from < srcRows
                        ? src.getAtIndex(JAVA_FLOAT, (long) from * cols + c) : Float.NaN);
            }
        }
    }
}
