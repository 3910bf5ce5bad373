package io.github.backprop4j.bench;

import io.github.backprop4j.core.Backend;
import io.github.backprop4j.core.Matrix;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * SGEMM C ← op(A)·op(B) (row-major, float32) on one backend, timed to completion
 * ({@link Backend#synchronize()} inside the measured call). Throughput: GFLOP/s = 2·m·k·n / t,
 * with t the reported average time per operation.
 *
 * <p>{@code size} is either n (square, n × n × n) or a shape {@code MxKxN} with an optional
 * {@code :TN} / {@code :NT} for a transposed A or B. The skinny shapes are the three GEMMs per layer of
 * a Fashion-MNIST step (784-256-128-10) at batch b: forward {@code bxKxN} (A = activations, B = W),
 * weight gradient {@code KxbxN:TN} (Aᵀ·δ) and input gradient {@code bxNxK:NT} (δ·Wᵀ); {@link #FASHION_SHAPES}
 * lists them for b = 128, 256 and 8192.
 *
 * <pre>
 * java -jar bench/target/benchmarks.jar GemmBenchmark -p backend=cpu -p size=1024 -p precision=fp32
 * java -jar bench/target/benchmarks.jar GemmBenchmark -p backend=cpu -p precision=fp32 -p size=128x784x256,784x128x256:TN
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {BenchmarkSupport.ADD_VECTOR, BenchmarkSupport.NATIVE_ACCESS})
public class GemmBenchmark {

    /** Backend name as known to {@code Backends}: cpu, opencl, cuda. */
    @Param("cpu")
    public String backend;

    @Param({"256", "1024", "2048", "4096"})
    public String size;

    /** The skinny shapes of a Fashion-MNIST step (784-256-128-10) at batches 128, 256 and 8192, in {@code size} syntax. */
    public static final String FASHION_SHAPES = String.join(",", fashionShapes());

    /** fp32 or tf32 (a backend that cannot do tf32 fails the run, it does not fall back). */
    @Param({"fp32", "tf32"})
    public String precision;

    private Backend device;
    private Matrix a;
    private Matrix b;
    private Matrix c;
    private Shape shape;

    /** m × k × n with the transposes: C (m × n) ← op(A) (m × k) · op(B) (k × n). */
    record Shape(int m, int k, int n, boolean transA, boolean transB) {
        static Shape parse(String text) {
            String[] parts = text.trim().split(":");
            String[] dims = parts[0].split("x");
            try {
                if (dims.length == 1) {
                    int n = Integer.parseInt(dims[0]);
                    return new Shape(n, n, n, false, false);
                }
                if (dims.length == 3 && (parts.length == 1 || parts.length == 2 && parts[1].matches("[NT][NT]"))) {
                    String t = parts.length == 1 ? "NN" : parts[1];
                    return new Shape(Integer.parseInt(dims[0]), Integer.parseInt(dims[1]), Integer.parseInt(dims[2]),
                            t.charAt(0) == 'T', t.charAt(1) == 'T');
                }
            } catch (NumberFormatException e) {
                // fall through to the message below
            }
            throw new IllegalArgumentException("GEMM size must be n or MxKxN[:TN|:NT|:TT], not '" + text + "'");
        }

        double flops() {
            return 2.0 * m * k * n;
        }
    }

    static java.util.List<String> fashionShapes() {
        int[] widths = {784, 256, 128, 10};
        java.util.List<String> shapes = new java.util.ArrayList<>();
        for (int batch : new int[] {128, 256, 8192}) {
            for (int l = 1; l < widths.length; l++) {
                int in = widths[l - 1], out = widths[l];
                shapes.add(batch + "x" + in + "x" + out);               // Z = A·W
                shapes.add(in + "x" + batch + "x" + out + ":TN");       // dW = Aᵀ·δ
                if (l > 1) shapes.add(batch + "x" + out + "x" + in + ":NT"); // δ_prev = δ·Wᵀ (none for layer 1)
            }
        }
        return shapes;
    }

    @Setup(Level.Trial)
    public void setUp() {
        shape = Shape.parse(size);
        device = BenchmarkSupport.open(backend, precision);
        a = shape.transA() ? device.allocate(shape.k(), shape.m()) : device.allocate(shape.m(), shape.k());
        b = shape.transB() ? device.allocate(shape.n(), shape.k()) : device.allocate(shape.k(), shape.n());
        c = device.allocate(shape.m(), shape.n());
        SplittableRandom rng = new SplittableRandom(42);
        device.upload(random(rng, shape.m() * shape.k()), a);
        device.upload(random(rng, shape.k() * shape.n()), b);
        device.synchronize();
        System.out.printf("%n# %s, %s, %s: %.6f GFLOP per op (GFLOP/s = that / seconds per op)%n# %s%n",
                device.name(), device.device(), size, shape.flops() / 1e9, device.runtimeVersion());
    }

    @Benchmark
    public void gemm() {
        device.gemm(shape.transA(), shape.transB(), 1f, a, b, 0f, c);
        device.synchronize();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (device != null) device.close(); // frees a, b and c too
        device = null;
    }

    /** FLOPs of one n × n × n multiplication: 2·n³. */
    public static double flops(int n) {
        return 2.0 * n * n * n;
    }

    /** count floats uniform in [-1, 1): the inputs of every GEMM benchmark, drawn A first, then B. */
    static float[] random(SplittableRandom rng, int count) {
        float[] v = new float[count];
        for (int i = 0; i < count; i++) v[i] = (float) (rng.nextDouble() * 2 - 1);
        return v;
    }
}
