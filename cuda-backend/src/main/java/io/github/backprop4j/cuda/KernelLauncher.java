package io.github.backprop4j.cuda;

import java.util.Arrays;
import java.util.List;

/**
 * Launches our kernels (kernels/src/main/cuda) on the device's stream. The typed launchers
 * ({@link ActivationKernels}, {@link LossKernels}, ...) are the only code that knows a kernel's
 * parameters; they build each launch here, argument by argument in the kernel's order, and pick its
 * grid. The driver receives the arguments as Long (pointers, 64-bit integers), Integer or Float.
 */
final class KernelLauncher {

    /** Threads per block of every launch but column_sum's. */
    static final int THREADS = 256;

    /** One .cu file (one fatbin module) and the entry points its launcher uses. */
    record Family(String file, List<String> entryPoints) {
    }

    private final CudaDriver driver;
    private final CudaDriver.Stream stream;
    private final int multiprocessors;

    KernelLauncher(CudaDriver driver, CudaDriver.Stream stream, int multiprocessors) {
        this.driver = driver;
        this.stream = stream;
        this.multiprocessors = multiprocessors;
    }

    Launch launch(String kernel) {
        return new Launch(kernel);
    }

    /** Blocks of a grid-stride launch over {@code items}: enough to fill the GPU, never more than the work needs. */
    int gridStrideBlocks(long items) {
        return (int) Math.max(1, Math.min((items + THREADS - 1) / THREADS, maxBlocks()));
    }

    /** Blocks of a one-warp-per-row launch (eight rows per block, strided over the grid). */
    int warpPerRowBlocks(int rows) {
        return (int) Math.max(1, Math.min((rows + THREADS / 32 - 1) / (THREADS / 32), maxBlocks()));
    }

    /** The most blocks any grid-stride or warp-per-row launch uses: 16 per multiprocessor. */
    int maxBlocks() {
        return multiprocessors * 16;
    }

    /** One launch's arguments, added in the kernel's parameter order. */
    final class Launch {
        private final String kernel;
        private Object[] args = new Object[12];
        private int count;

        private Launch(String kernel) {
            this.kernel = kernel;
        }

        /** A buffer's device address; null passes the null pointer (the kernel tests for it). */
        Launch ptr(CudaBuffer b) {
            return add(b == null ? 0L : b.address());
        }

        Launch i32(int v) {
            return add(v);
        }

        /** A {@code long long}. */
        Launch i64(long v) {
            return add(v);
        }

        Launch f32(float v) {
            return add(v);
        }

        private Launch add(Object v) {
            if (count == args.length) args = Arrays.copyOf(args, count * 2);
            args[count++] = v;
            return this;
        }

        /** Grid-stride over {@code items}. */
        void gridStride(long items) {
            grid(gridStrideBlocks(items), THREADS, 1);
        }

        /** One warp per row. */
        void warpPerRow(int rows) {
            grid(warpPerRowBlocks(rows), THREADS, 1);
        }

        void grid(int blocks, int blockX, int blockY) {
            CudaDevice.check(driver.launch(kernel, blocks, blockX, blockY, stream, Arrays.copyOf(args, count)),
                    "cuLaunchKernel(" + kernel + ")");
        }
    }
}
