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
 * Square SGEMM C ← A·B (n × n, row-major, float32) on one backend, timed to completion
 * ({@link Backend#synchronize()} inside the measured call). Throughput: GFLOP/s = 2·n³ / t,
 * with t the reported average time per operation.
 *
 * <pre>
 * java -jar bench/target/benchmarks.jar GemmBenchmark -p backend=cpu -p size=1024 -p precision=fp32
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
    public int size;

    /** fp32 or tf32 (a backend that cannot do tf32 fails the run, it does not fall back). */
    @Param({"fp32", "tf32"})
    public String precision;

    private Backend device;
    private Matrix a;
    private Matrix b;
    private Matrix c;

    @Setup(Level.Trial)
    public void setUp() {
        device = BenchmarkSupport.open(backend, precision);
        a = device.allocate(size, size);
        b = device.allocate(size, size);
        c = device.allocate(size, size);
        SplittableRandom rng = new SplittableRandom(42);
        device.upload(random(rng, size * size), a);
        device.upload(random(rng, size * size), b);
        device.synchronize();
        System.out.printf("%n# %s, %s, n=%d: %.3f GFLOP per op (GFLOP/s = that / seconds per op)%n",
                device.name(), device.device(), size, flops(size) / 1e9);
    }

    @Benchmark
    public void gemm() {
        device.gemm(false, false, 1f, a, b, 0f, c);
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

    private static float[] random(SplittableRandom rng, int count) {
        float[] v = new float[count];
        for (int i = 0; i < count; i++) v[i] = (float) (rng.nextDouble() * 2 - 1);
        return v;
    }
}
