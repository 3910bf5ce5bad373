// Device.columnSum: out[j] <- alpha * sum_i m[i][j] + beta * out[j]. One work-item per column walks the
// rows in order (a wavefront reads one contiguous row segment at a time), with Kahan summation so large
// batches stay exact to fp32 rounding without fp64 on the device. The order depends on the shape only:
// deterministic.
__kernel void column_sum(__global const float* m, const int rows, const int cols,
                         const float alpha, const float beta, __global float* out)
{
    const int j = get_global_id(0);
    if (j >= cols) return;
    float sum = 0.0f, comp = 0.0f;
    for (int i = 0; i < rows; i++) {
        const float y = m[i * cols + j] - comp;
        const float t = sum + y;
        comp = (t - sum) - y;
        sum = t;
    }
    out[j] = beta == 0.0f ? alpha * sum : alpha * sum + beta * out[j];
}
