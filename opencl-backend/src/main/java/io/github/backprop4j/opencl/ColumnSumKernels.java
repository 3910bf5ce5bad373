package io.github.backprop4j.opencl;

import org.jocl.cl_mem;

/** column_sum.cl's launcher. */
final class ColumnSumKernels {

    private final OpenClProgram.Kernel columnSum;

    ColumnSumKernels(OpenClProgram program) {
        columnSum = program.kernel("column_sum");
    }

    void columnSum(cl_mem m, int rows, int cols, float alpha, float beta, cl_mem out) {
        columnSum.launch().mem(m).i32(rows).i32(cols).f32(alpha).f32(beta).mem(out).items(cols);
    }
}
