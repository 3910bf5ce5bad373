package io.github.backprop4j.opencl;

import static org.jocl.CL.CL_MEM_READ_WRITE;
import static org.jocl.CL.clCreateBuffer;
import static org.jocl.CL.clReleaseMemObject;

import io.github.backprop4j.core.Loss;
import org.jocl.cl_context;
import org.jocl.cl_mem;

/**
 * loss.cl's launcher: loss_gradient writes each row's loss into a scratch buffer (grown once per larger
 * batch, never in the steady state), loss_gradient_sum adds the rows in a fixed order.
 */
final class LossKernels implements AutoCloseable {

    /** loss.cl's LOSS_SUM_GROUP. */
    private static final int SUM_GROUP = 256;

    private final cl_context context;
    private final OpenClProgram.Kernel gradient, sum;
    private cl_mem rowLoss;
    private int rowLossCapacity;

    LossKernels(OpenClProgram program, cl_context context) {
        this.context = context;
        gradient = program.kernel("loss_gradient");
        sum = program.kernel("loss_gradient_sum");
    }

    void lossGradient(Loss loss, cl_mem yHat, cl_mem y, cl_mem delta, cl_mem lossSum, int rows, int cols) {
        if (rows > rowLossCapacity) grow(rows);
        gradient.launch().mem(yHat).mem(y).mem(delta).i32(rows).i32(cols).i32(loss.ordinal()).f32(1f / rows)
                .mem(rowLoss).items(rows);
        sum.launch().mem(rowLoss).i32(rows).mem(lossSum).grid(new long[]{SUM_GROUP}, new long[]{SUM_GROUP});
    }

    private void grow(int rows) {
        int[] rc = new int[1];
        cl_mem larger = clCreateBuffer(context, CL_MEM_READ_WRITE, (long) rows * Float.BYTES, null, rc);
        OpenClProgram.check(rc[0], "clCreateBuffer(row loss, " + rows + " floats)");
        if (rowLoss != null) clReleaseMemObject(rowLoss); // deferred by OpenCL until queued kernels are done
        rowLoss = larger;
        rowLossCapacity = rows;
    }

    long scratchBytes() {
        return (long) rowLossCapacity * Float.BYTES;
    }

    @Override
    public void close() {
        if (rowLoss != null) clReleaseMemObject(rowLoss);
        rowLoss = null;
        rowLossCapacity = 0;
    }
}
