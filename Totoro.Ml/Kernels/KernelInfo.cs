namespace Totoro.Ml.Kernels;

/// <summary>What the kernels picked on this machine, for benchmark reports.</summary>
public static class KernelInfo
{
    /// <summary>Vector512, Vector256 or Scalar.</summary>
    public static string GemmPath => Gemm.Selected.ToString();
}
