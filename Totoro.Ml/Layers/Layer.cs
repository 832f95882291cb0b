using Totoro.Ml.Kernels;
using Totoro.Ml.Tensors;

namespace Totoro.Ml.Layers;

/// <summary>
/// One step of a sequential model over a batch stored sample after sample (each sample CHW).
/// Parameters and their gradients are slices of the model's flat vectors, bound once at build time.
/// Backward accumulates into the gradient slice (the model zeroes it per step) and may overwrite
/// <c>outputGradient</c> in place, which is how fused activations avoid a buffer.
/// </summary>
internal abstract class Layer(TensorShape input, TensorShape output)
{
    private float[] _parameters = [];
    private float[] _gradients = [];
    private int _offset;

    public TensorShape InputShape { get; } = input;

    public TensorShape OutputShape { get; } = output;

    public virtual int ParameterCount => 0;

    /// <summary>Multiply-adds ×2 for one sample's forward pass.</summary>
    public abstract long ForwardFlops { get; }

    protected Span<float> Parameters => _parameters.AsSpan(_offset, ParameterCount);

    protected Span<float> Gradients => _gradients.AsSpan(_offset, ParameterCount);

    public virtual void Bind(float[] parameters, float[] gradients, int offset)
    {
        _parameters = parameters;
        _gradients = gradients;
        _offset = offset;
    }

    public virtual void Initialize(ref SplitMix64 random)
    {
    }

    public abstract void Forward(ReadOnlySpan<float> input, Span<float> output, int batch, bool training);

    public abstract void Backward(
        ReadOnlySpan<float> input, ReadOnlySpan<float> output, Span<float> outputGradient,
        Span<float> inputGradient, int batch, bool needInputGradient);

    /// <summary>Returns scratch memory to the pool; the next step rents it again.</summary>
    public virtual void ReleaseWorkspace()
    {
    }

    /// <summary>Uniform(−bound, bound) weights: He-uniform before a ReLU, LeCun-uniform (PyTorch's default bound) otherwise.</summary>
    protected static void InitializeUniform(ref SplitMix64 random, Span<float> weights, int fanIn, Activation activation)
    {
        var bound = activation == Activation.Relu ? MathF.Sqrt(6f / fanIn) : 1f / MathF.Sqrt(fanIn);
        for (var i = 0; i < weights.Length; i++)
        {
            weights[i] = (2f * random.NextSingle() - 1f) * bound;
        }
    }
}
