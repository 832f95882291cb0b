using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Totoro.Ml.Kernels;

/// <summary>Which SIMD width the GEMM micro-kernel uses.</summary>
internal enum GemmPath
{
    Scalar,
    Vector256,
    Vector512,
}

/// <summary>
/// Row-major single-precision GEMM: C = op(A)·op(B) (+ C when accumulating), op(X) = X or Xᵀ.
/// A register-blocked micro-kernel (4 rows × 2 vectors of C held in registers) walks K in blocks
/// small enough that the B panel stays in L1 while every row block of A streams past it.
/// Transposed A needs no copy (the kernel broadcasts single elements, so the stride is free);
/// transposed B is packed once per call because the kernel needs contiguous B rows.
/// </summary>
internal static class Gemm
{
    /// <summary>Picked once from the hardware; read-only afterwards.</summary>
    public static readonly GemmPath Selected =
        Vector512.IsHardwareAccelerated ? GemmPath.Vector512
        : Vector256.IsHardwareAccelerated ? GemmPath.Vector256
        : GemmPath.Scalar;

    private const int Mr = 4;

    // 256 rows of a 32-wide panel = 32 KiB: the panel stays in L1 while the row blocks of A pass.
    private const int Kc = 256;

    /// <summary>C[m,n] (+)= op(A)[m,k] · op(B)[k,n] with the kernel chosen for this machine.</summary>
    public static void Multiply(
        bool transA, bool transB, int m, int n, int k,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb,
        Span<float> c, int ldc, bool accumulate) =>
        Multiply(Selected, transA, transB, m, n, k, a, lda, b, ldb, c, ldc, accumulate);

    public static void Multiply(
        GemmPath path, bool transA, bool transB, int m, int n, int k,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb,
        Span<float> c, int ldc, bool accumulate)
    {
        Validate(transA, m, k, a.Length, lda, nameof(a));
        Validate(transB, k, n, b.Length, ldb, nameof(b));
        Validate(false, m, n, c.Length, ldc, nameof(c));
        if (m == 0 || n == 0)
        {
            return;
        }

        if (k == 0)
        {
            if (!accumulate)
            {
                for (var i = 0; i < m; i++)
                {
                    c.Slice(i * ldc, n).Clear();
                }
            }

            return;
        }

        switch (path)
        {
            case GemmPath.Vector512:
                Blocked(16, transA, transB, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
                break;
            case GemmPath.Vector256:
                Blocked(8, transA, transB, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
                break;
            default:
                Scalar(transA, transB, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
                break;
        }
    }

    private static void Validate(bool trans, int rows, int cols, int length, int ld, string name)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(cols);
        var (storedRows, storedCols) = trans ? (cols, rows) : (rows, cols);
        if (storedRows == 0 || storedCols == 0)
        {
            return;
        }

        if (ld < storedCols)
        {
            throw new ArgumentException($"leading dimension {ld} is smaller than the row length {storedCols}", name);
        }

        if ((long)(storedRows - 1) * ld + storedCols > length)
        {
            throw new ArgumentException($"span of {length} elements is too short for a {storedRows}x{storedCols} matrix with leading dimension {ld}", name);
        }
    }

    private static void Scalar(
        bool transA, bool transB, int m, int n, int k,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb,
        Span<float> c, int ldc, bool accumulate)
    {
        for (var i = 0; i < m; i++)
        {
            for (var j = 0; j < n; j++)
            {
                var sum = 0f;
                for (var p = 0; p < k; p++)
                {
                    var av = transA ? a[p * lda + i] : a[i * lda + p];
                    var bv = transB ? b[j * ldb + p] : b[p * ldb + j];
                    sum += av * bv;
                }

                c[i * ldc + j] = accumulate ? c[i * ldc + j] + sum : sum;
            }
        }
    }

    /// <param name="lanes">Floats per vector; a panel of B is two vectors wide.</param>
    private static unsafe void Blocked(
        int lanes, bool transA, bool transB, int m, int n, int k,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb,
        Span<float> c, int ldc, bool accumulate)
    {
        var nr = 2 * lanes;
        var panels = (n + nr - 1) / nr;
        var fullPanels = n / nr;
        var rsA = transA ? 1 : lda;
        var csA = transA ? lda : 1;

        // Packed layout: panel-major, each panel k rows of nr floats, zero-padded past n.
        // Untransposed B is read in place except for a ragged last panel.
        float[]? packed = null;
        var packedPanels = transB ? panels : panels - fullPanels;
        if (packedPanels > 0)
        {
            packed = ArrayPool<float>.Shared.Rent(packedPanels * k * nr);
            PackB(transB, n, k, b, ldb, nr, transB ? 0 : fullPanels, panels, packed);
        }

        var tile = stackalloc float[Mr * 32];
        try
        {
            fixed (float* pa = a, pb = b, pc = c, pp = packed)
            {
                for (var k0 = 0; k0 < k; k0 += Kc)
                {
                    var kc = Math.Min(Kc, k - k0);
                    var acc = accumulate || k0 > 0;
                    for (var jp = 0; jp < panels; jp++)
                    {
                        var j0 = jp * nr;
                        var width = Math.Min(nr, n - j0);
                        float* bPanel;
                        int bStride;
                        if (!transB && jp < fullPanels)
                        {
                            bPanel = pb + (long)k0 * ldb + j0;
                            bStride = ldb;
                        }
                        else
                        {
                            var slot = transB ? jp : jp - fullPanels;
                            bPanel = pp + ((long)slot * k + k0) * nr;
                            bStride = nr;
                        }

                        for (var i0 = 0; i0 < m; i0 += Mr)
                        {
                            var rows = Math.Min(Mr, m - i0);
                            var aBlock = pa + (long)i0 * rsA + (long)k0 * csA;
                            var cBlock = pc + (long)i0 * ldc + j0;
                            if (width == nr)
                            {
                                Tile(lanes, rows, kc, aBlock, rsA, csA, bPanel, bStride, cBlock, ldc, acc);
                            }
                            else
                            {
                                // Ragged right edge: run the full-width kernel on a scratch tile, copy the valid columns.
                                for (var r = 0; r < rows; r++)
                                {
                                    for (var j = 0; j < nr; j++)
                                    {
                                        tile[r * nr + j] = acc && j < width ? cBlock[(long)r * ldc + j] : 0f;
                                    }
                                }

                                Tile(lanes, rows, kc, aBlock, rsA, csA, bPanel, bStride, tile, nr, acc);
                                for (var r = 0; r < rows; r++)
                                {
                                    new ReadOnlySpan<float>(tile + r * nr, width).CopyTo(new Span<float>(cBlock + (long)r * ldc, width));
                                }
                            }
                        }
                    }
                }
            }
        }
        finally
        {
            if (packed is not null)
            {
                ArrayPool<float>.Shared.Return(packed);
            }
        }
    }

    private static void PackB(bool transB, int n, int k, ReadOnlySpan<float> b, int ldb, int nr, int firstPanel, int panels, float[] packed)
    {
        for (var jp = firstPanel; jp < panels; jp++)
        {
            var j0 = jp * nr;
            var width = Math.Min(nr, n - j0);
            var dst = packed.AsSpan((jp - firstPanel) * k * nr, k * nr);
            if (transB)
            {
                if (width < nr)
                {
                    dst.Clear();
                }

                // Read each stored row of Bᵀ contiguously; writes land nr apart in the panel.
                for (var j = 0; j < width; j++)
                {
                    var src = b.Slice((j0 + j) * ldb, k);
                    for (var p = 0; p < k; p++)
                    {
                        dst[p * nr + j] = src[p];
                    }
                }
            }
            else
            {
                for (var p = 0; p < k; p++)
                {
                    var row = dst.Slice(p * nr, nr);
                    b.Slice(p * ldb + j0, width).CopyTo(row);
                    row[width..].Clear();
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Tile(int lanes, int rows, int kc, float* a, int rsA, int csA, float* b, int ldb, float* c, int ldc, bool acc)
    {
        if (lanes == 16)
        {
            if (rows == Mr)
            {
                Kernel512x4(kc, a, rsA, csA, b, ldb, c, ldc, acc);
            }
            else
            {
                for (var r = 0; r < rows; r++)
                {
                    Kernel512x1(kc, a + (long)r * rsA, csA, b, ldb, c + (long)r * ldc, acc);
                }
            }
        }
        else if (rows == Mr)
        {
            Kernel256x4(kc, a, rsA, csA, b, ldb, c, ldc, acc);
        }
        else
        {
            for (var r = 0; r < rows; r++)
            {
                Kernel256x1(kc, a + (long)r * rsA, csA, b, ldb, c + (long)r * ldc, acc);
            }
        }
    }

    private static unsafe void Kernel512x4(int kc, float* a, int rsA, int csA, float* b, int ldb, float* c, int ldc, bool acc)
    {
        float* c0 = c, c1 = c + ldc, c2 = c + 2L * ldc, c3 = c + 3L * ldc;
        Vector512<float> c00, c01, c10, c11, c20, c21, c30, c31;
        if (acc)
        {
            c00 = Vector512.Load(c0); c01 = Vector512.Load(c0 + 16);
            c10 = Vector512.Load(c1); c11 = Vector512.Load(c1 + 16);
            c20 = Vector512.Load(c2); c21 = Vector512.Load(c2 + 16);
            c30 = Vector512.Load(c3); c31 = Vector512.Load(c3 + 16);
        }
        else
        {
            c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = Vector512<float>.Zero;
        }

        long r1 = rsA, r2 = 2L * rsA, r3 = 3L * rsA;
        for (var p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + 16);
            var a0 = Vector512.Create(a[0]);
            c00 = Vector512.FusedMultiplyAdd(a0, b0, c00);
            c01 = Vector512.FusedMultiplyAdd(a0, b1, c01);
            var a1 = Vector512.Create(a[r1]);
            c10 = Vector512.FusedMultiplyAdd(a1, b0, c10);
            c11 = Vector512.FusedMultiplyAdd(a1, b1, c11);
            var a2 = Vector512.Create(a[r2]);
            c20 = Vector512.FusedMultiplyAdd(a2, b0, c20);
            c21 = Vector512.FusedMultiplyAdd(a2, b1, c21);
            var a3 = Vector512.Create(a[r3]);
            c30 = Vector512.FusedMultiplyAdd(a3, b0, c30);
            c31 = Vector512.FusedMultiplyAdd(a3, b1, c31);
            a += csA;
            b += ldb;
        }

        c00.Store(c0); c01.Store(c0 + 16);
        c10.Store(c1); c11.Store(c1 + 16);
        c20.Store(c2); c21.Store(c2 + 16);
        c30.Store(c3); c31.Store(c3 + 16);
    }

    private static unsafe void Kernel512x1(int kc, float* a, int csA, float* b, int ldb, float* c, bool acc)
    {
        var c0 = acc ? Vector512.Load(c) : Vector512<float>.Zero;
        var c1 = acc ? Vector512.Load(c + 16) : Vector512<float>.Zero;
        for (var p = 0; p < kc; p++)
        {
            var av = Vector512.Create(*a);
            c0 = Vector512.FusedMultiplyAdd(av, Vector512.Load(b), c0);
            c1 = Vector512.FusedMultiplyAdd(av, Vector512.Load(b + 16), c1);
            a += csA;
            b += ldb;
        }

        c0.Store(c);
        c1.Store(c + 16);
    }

    private static unsafe void Kernel256x4(int kc, float* a, int rsA, int csA, float* b, int ldb, float* c, int ldc, bool acc)
    {
        float* c0 = c, c1 = c + ldc, c2 = c + 2L * ldc, c3 = c + 3L * ldc;
        Vector256<float> c00, c01, c10, c11, c20, c21, c30, c31;
        if (acc)
        {
            c00 = Vector256.Load(c0); c01 = Vector256.Load(c0 + 8);
            c10 = Vector256.Load(c1); c11 = Vector256.Load(c1 + 8);
            c20 = Vector256.Load(c2); c21 = Vector256.Load(c2 + 8);
            c30 = Vector256.Load(c3); c31 = Vector256.Load(c3 + 8);
        }
        else
        {
            c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = Vector256<float>.Zero;
        }

        long r1 = rsA, r2 = 2L * rsA, r3 = 3L * rsA;
        for (var p = 0; p < kc; p++)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 8);
            var a0 = Vector256.Create(a[0]);
            c00 = Vector256.FusedMultiplyAdd(a0, b0, c00);
            c01 = Vector256.FusedMultiplyAdd(a0, b1, c01);
            var a1 = Vector256.Create(a[r1]);
            c10 = Vector256.FusedMultiplyAdd(a1, b0, c10);
            c11 = Vector256.FusedMultiplyAdd(a1, b1, c11);
            var a2 = Vector256.Create(a[r2]);
            c20 = Vector256.FusedMultiplyAdd(a2, b0, c20);
            c21 = Vector256.FusedMultiplyAdd(a2, b1, c21);
            var a3 = Vector256.Create(a[r3]);
            c30 = Vector256.FusedMultiplyAdd(a3, b0, c30);
            c31 = Vector256.FusedMultiplyAdd(a3, b1, c31);
            a += csA;
            b += ldb;
        }

        c00.Store(c0); c01.Store(c0 + 8);
        c10.Store(c1); c11.Store(c1 + 8);
        c20.Store(c2); c21.Store(c2 + 8);
        c30.Store(c3); c31.Store(c3 + 8);
    }

    private static unsafe void Kernel256x1(int kc, float* a, int csA, float* b, int ldb, float* c, bool acc)
    {
        var c0 = acc ? Vector256.Load(c) : Vector256<float>.Zero;
        var c1 = acc ? Vector256.Load(c + 8) : Vector256<float>.Zero;
        for (var p = 0; p < kc; p++)
        {
            var av = Vector256.Create(*a);
            c0 = Vector256.FusedMultiplyAdd(av, Vector256.Load(b), c0);
            c1 = Vector256.FusedMultiplyAdd(av, Vector256.Load(b + 8), c1);
            a += csA;
            b += ldb;
        }

        c0.Store(c);
        c1.Store(c + 8);
    }
}
