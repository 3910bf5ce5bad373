package io.github.backprop4j.opencl;

import java.util.List;
import org.jocl.cl_mem;

/** column_sum.cl's launcher. */
final class ColumnSumKernels {

    static final String SOURCE = "column_sum.cl";
    static final List<String> ENTRY_POINTS = List.of("column_sum");

    private final OpenClProgram program;
    private final OpenClProgram.Kernel columnSum;

    ColumnSumKernels(OpenClProgram program) {
        this.program = program;
        columnSum = program.kernel("column_sum");
    }

    void columnSum(cl_mem m, int rows, int cols, float alpha, float beta, cl_mem out) {
        program.launch(columnSum).mem(m).i32(rows).i32(cols).f32(alpha).f32(beta).mem(out).items(cols);
    }
}
