// C <- alpha * op(A) * op(B) + beta * C, row-major, op(X) = X^T when transX != 0.
//
// Each work-group computes a TS x TS tile of C; each work-item a WPT x WPT block of it, strided by
// RTS = TS / WPT so that both the local-memory reads and the global stores are conflict-free and
// coalesced. K advances in slices of TSK staged through local memory. The tile sizes are build
// options chosen by the backend from the device's limits (OpenClBackend.gemmTiling).
#ifndef TS
#define TS 64
#endif
#ifndef WPT
#define WPT 4
#endif
#ifndef TSK
#define TSK 16
#endif
#define RTS (TS / WPT)

__kernel __attribute__((reqd_work_group_size(RTS, RTS, 1)))
void sgemm(const int M, const int N, const int K, const float alpha,
           __global const float* restrict A, const int lda, const int transA,
           __global const float* restrict B, const int ldb, const int transB,
           const float beta, __global float* restrict C)
{
    __local float As[TSK][TS + 1];   // As[k][m]; +1 column keeps transposed stores bank-spread
    __local float Bs[TSK][TS + 1];   // Bs[k][n]
    const int tx = get_local_id(0), ty = get_local_id(1);
    const int tid = ty * RTS + tx;
    const int col0 = get_group_id(0) * TS, row0 = get_group_id(1) * TS;

    float acc[WPT][WPT];
    for (int i = 0; i < WPT; i++)
        for (int j = 0; j < WPT; j++) acc[i][j] = 0.0f;

    for (int k0 = 0; k0 < K; k0 += TSK) {
        // Stage op(A)[row0.., k0..] and op(B)[k0.., col0..]; the index order follows each operand's
        // contiguous dimension so that neighbouring work-items read neighbouring addresses.
        for (int l = tid; l < TS * TSK; l += RTS * RTS) {
            int m, k;
            if (transA) { m = l % TS; k = l / TS; } else { k = l % TSK; m = l / TSK; }
            int gm = row0 + m, gk = k0 + k;
            As[k][m] = (gm < M && gk < K) ? (transA ? A[gk * lda + gm] : A[gm * lda + gk]) : 0.0f;
            int n;
            if (transB) { k = l % TSK; n = l / TSK; } else { n = l % TS; k = l / TS; }
            int gn = col0 + n;
            gk = k0 + k;
            Bs[k][n] = (gn < N && gk < K) ? (transB ? B[gn * ldb + gk] : B[gk * ldb + gn]) : 0.0f;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int k = 0; k < TSK; k++) {
            float a[WPT], b[WPT];
            for (int i = 0; i < WPT; i++) a[i] = As[k][ty + i * RTS];
            for (int j = 0; j < WPT; j++) b[j] = Bs[k][tx + j * RTS];
            for (int i = 0; i < WPT; i++)
                for (int j = 0; j < WPT; j++) acc[i][j] = fma(a[i], b[j], acc[i][j]);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }

    for (int i = 0; i < WPT; i++) {
        int r = row0 + ty + i * RTS;
        if (r >= M) continue;
        for (int j = 0; j < WPT; j++) {
            int c = col0 + tx + j * RTS;
            if (c >= N) continue;
            // beta == 0 overwrites, so stale NaNs in C never leak through 0 * NaN
            C[r * N + c] = beta == 0.0f ? alpha * acc[i][j] : alpha * acc[i][j] + beta * C[r * N + c];
        }
    }
}
