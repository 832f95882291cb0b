using System.Runtime.Intrinsics;
using Totoro.Ml.Kernels;

namespace Totoro.Tests.Ml.Kernels;

public sealed class GemmTests
{
    private static readonly int[][] Shapes =
    [
        [1, 1, 1], [3, 5, 7], [4, 32, 16], [6, 784, 25], [17, 33, 19], [5, 47, 300], [37, 65, 513], [64, 10, 200], [2, 100, 1], [6, 25, 1500], [5, 7, 2085],
    ];

    public static IEnumerable<TestCaseData> Cases()
    {
        foreach (var path in new[] { GemmPath.Scalar, GemmPath.Vector256, GemmPath.Vector512 })
        {
            foreach (var shape in Shapes)
            {
                foreach (var (ta, tb) in new[] { (false, false), (false, true), (true, false), (true, true) })
                {
                    foreach (var acc in new[] { false, true })
                    {
                        yield return new TestCaseData(path.ToString(), ta, tb, shape[0], shape[1], shape[2], acc);
                    }
                }
            }
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void Matches_a_double_precision_reference(string kernel, bool transA, bool transB, int m, int n, int k, bool accumulate)
    {
        var path = Enum.Parse<GemmPath>(kernel);
        Assume.That(path switch
        {
            GemmPath.Vector512 => Vector512.IsHardwareAccelerated,
            GemmPath.Vector256 => Vector256.IsHardwareAccelerated,
            _ => true,
        }, Is.True, "this machine lacks the SIMD width");

        // Leading dimensions larger than the logical width catch stride mistakes.
        var lda = (transA ? m : k) + 3;
        var ldb = (transB ? k : n) + 5;
        var ldc = n + 2;
        var a = TestData.Uniform((transA ? k : m) * lda, 1);
        var b = TestData.Uniform((transB ? n : k) * ldb, 2);
        var c = TestData.Uniform(m * ldc, 3);
        var expected = (float[])c.Clone();
        for (var i = 0; i < m; i++)
        {
            for (var j = 0; j < n; j++)
            {
                var sum = 0.0;
                for (var p = 0; p < k; p++)
                {
                    sum += (double)(transA ? a[p * lda + i] : a[i * lda + p]) * (transB ? b[j * ldb + p] : b[p * ldb + j]);
                }

                expected[i * ldc + j] = (float)(accumulate ? expected[i * ldc + j] + sum : sum);
            }
        }

        Gemm.Multiply(path, transA, transB, m, n, k, a, lda, b, ldb, c, ldc, accumulate);

        var tolerance = 1e-5f * (k + 1);
        Assert.That(c, Is.EqualTo(expected).Within(tolerance), "padding columns between rows must stay untouched too");
    }

    [Test]
    public void Rejects_a_span_too_short_for_the_shape()
    {
        var a = new float[5];
        var b = new float[6];
        var c = new float[6];
        Assert.That(() => Gemm.Multiply(false, false, 2, 3, 3, a, 3, b, 3, c, 3, false),
            Throws.ArgumentException.With.Message.Contains("too short"));
    }
}
