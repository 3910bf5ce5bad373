package io.github.backprop4j.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.github.backprop4j.core.Activation;
import io.github.backprop4j.core.Backend;
import io.github.backprop4j.core.Loss;
import io.github.backprop4j.core.Matrix;
import io.github.backprop4j.core.Optimizer;
import io.github.backprop4j.core.Precision;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * Each device entry makes the device's context current on the calling thread, even when something
 * else (another library, another device) made its own current there since the last call. On the host
 * stand-in, where a call under the wrong context fails (host logic only, no GPU).
 */
class CudaContextTest {

    /** Operands for every op; made before the foreign context comes into play. */
    private record Operands(Matrix a, Matrix b, Matrix c, Matrix bias, Matrix row, Matrix one, Matrix order,
                            Optimizer.State adam) {
        static Operands on(Backend cuda) {
            Operands o = new Operands(cuda.allocate(4, 4), cuda.allocate(4, 4), cuda.allocate(4, 4),
                    cuda.allocate(1, 4), cuda.allocate(1, 4), cuda.allocate(1, 1), cuda.allocate(1, 4),
                    Optimizer.adam(0.01f).newState(cuda, 4, 4, true));
            cuda.upload(new float[]{3, 2, 1, 0}, o.order());
            return o;
        }
    }

    @Test
    void everyPublicOpSetsItsContextWhateverWasCurrentBefore() {
        HostStandInDriver driver = new HostStandInDriver(1L << 30);
        CudaDevice device = driver.openDevice(PinnedStaging.DEFAULT_CHUNK_BYTES);
        Backend cuda = Backend.of("cuda", Precision.FP32, device);
        Operands o = Operands.on(cuda);
        Runnable step = () -> cuda.gemm(false, false, 1f, o.a(), o.b(), 0f, o.c());
        Map<String, Consumer<Backend>> ops = new LinkedHashMap<>();
        ops.put("allocate", b -> b.allocate(2, 2).close());
        ops.put("upload", b -> b.upload(new float[16], o.a()));
        ops.put("download", b -> b.download(o.a(), new float[16]));
        ops.put("gemm", b -> b.gemm(false, true, 1f, o.a(), o.b(), 0f, o.c()));
        ops.put("activationForward", b -> b.activationForward(Activation.TANH, o.c(), o.bias(), o.b()));
        ops.put("activationBackward", b -> b.activationBackward(Activation.TANH, o.c(), o.b(), o.a()));
        ops.put("columnSum", b -> b.columnSum(o.a(), 1f, 0f, o.row()));
        ops.put("lossGradient", b -> b.lossGradient(Loss.MSE, o.a(), o.b(), o.c(), o.one()));
        ops.put("optimizerUpdate", b -> b.optimizerUpdate(o.adam(), o.a(), o.b()));
        ops.put("denseForward", b -> b.denseForward(Activation.RELU, o.a(), o.b(), o.bias(), o.c(), o.c()));
        ops.put("denseGradients", b -> b.denseGradients(o.a(), o.b(), o.c(), o.row()));
        ops.put("gatherRows", b -> b.gatherRows(o.a(), o.order(), 0, o.c()));
        ops.put("replay (eager)", b -> b.replay(step, step));
        ops.put("replay (captured)", b -> b.replay(step, step));
        ops.put("replay (launched)", b -> b.replay(step, step));
        ops.put("synchronize", Backend::synchronize);
        ops.put("driverMemoryInUse", b -> device.driverMemoryInUse());
        ops.put("Matrix.close", b -> b.allocate(1, 1).close());
        ops.put("close", Backend::close);
        for (Map.Entry<String, Consumer<Backend>> op : ops.entrySet()) {
            driver.makeForeignContextCurrent();
            op.getValue().accept(cuda);
            assertEquals(List.of(), driver.violations(), op.getKey() + " ran under another context");
        }
        assertEquals(List.of(), driver.leaks());
    }

    @Test
    void twoBackendsOnTwoDevicesTakeTurnsOnOneThread() {
        HostStandInDriver driver = new HostStandInDriver(1L << 30, 2);
        try (Backend first = Backend.of("cuda", Precision.FP32, new CudaDevice(driver, 0, Precision.FP32));
             Backend second = Backend.of("cuda", Precision.FP32, new CudaDevice(driver, 1, Precision.FP32))) {
            Matrix x = first.allocate(1, 3), y = second.allocate(1, 3);
            first.upload(new float[]{1, 2, 3}, x);
            second.upload(new float[]{4, 5, 6}, y);
            float[] back = new float[3];
            first.download(x, back);
            assertArrayEquals(new float[]{1, 2, 3}, back);
            second.download(y, back);
            assertArrayEquals(new float[]{4, 5, 6}, back);
        }
        assertEquals(List.of(), driver.violations());
        assertEquals(List.of(), driver.leaks());
    }
}
