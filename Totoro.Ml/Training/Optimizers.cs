using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Totoro.Ml.Training;

/// <summary>Updates a flat parameter vector from a flat gradient vector of the same length.</summary>
public interface IOptimizer
{
    void Step(Span<float> parameters, ReadOnlySpan<float> gradients, float learningRate);

    /// <summary>Forgets accumulated state (momentum, moments), e.g. at the start of a federated round.</summary>
    void Reset();
}

/// <summary>Which optimizer a trainer builds, with its hyper-parameters (learning rate is separate).</summary>
public sealed record OptimizerSettings
{
    public OptimizerKind Kind { get; init; } = OptimizerKind.Sgd;

    public float Momentum { get; init; }

    public bool Nesterov { get; init; }

    public float WeightDecay { get; init; }

    public float Beta1 { get; init; } = 0.9f;

    public float Beta2 { get; init; } = 0.999f;

    public float Epsilon { get; init; } = 1e-8f;

    public static OptimizerSettings Sgd(float momentum = 0f, bool nesterov = false, float weightDecay = 0f) =>
        new() { Kind = OptimizerKind.Sgd, Momentum = momentum, Nesterov = nesterov, WeightDecay = weightDecay };

    public static OptimizerSettings Adam(float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-8f, float weightDecay = 0f) =>
        new() { Kind = OptimizerKind.Adam, Beta1 = beta1, Beta2 = beta2, Epsilon = epsilon, WeightDecay = weightDecay };

    public IOptimizer Create(int parameterCount) => Kind switch
    {
        OptimizerKind.Sgd => new Sgd(parameterCount, Momentum, Nesterov, WeightDecay),
        OptimizerKind.Adam => new Adam(parameterCount, Beta1, Beta2, Epsilon, WeightDecay),
        _ => throw new ArgumentOutOfRangeException(nameof(Kind), Kind, "unknown optimizer"),
    };
}

public enum OptimizerKind
{
    Sgd,
    Adam,
}

/// <summary>
/// SGD with optional momentum, Nesterov momentum and L2 weight decay, in PyTorch's formulation:
/// g' = g + λw; v = μv + g'; step = g' + μv (Nesterov) or v; w −= lr·step.
/// </summary>
public sealed class Sgd : IOptimizer
{
    private readonly float[] _velocity;
    private readonly float _momentum;
    private readonly bool _nesterov;
    private readonly float _weightDecay;
    private bool _started;

    public Sgd(int parameterCount, float momentum = 0f, bool nesterov = false, float weightDecay = 0f)
    {
        if (nesterov && momentum <= 0f)
        {
            throw new ArgumentException("Nesterov momentum needs momentum > 0", nameof(nesterov));
        }

        _velocity = momentum > 0f ? new float[parameterCount] : [];
        _momentum = momentum;
        _nesterov = nesterov;
        _weightDecay = weightDecay;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Step(Span<float> parameters, ReadOnlySpan<float> gradients, float learningRate)
    {
        if (parameters.Length != gradients.Length || (_momentum > 0f && _velocity.Length != parameters.Length))
        {
            throw new ArgumentException("parameter, gradient and state lengths differ", nameof(gradients));
        }

        if (_momentum == 0f && _weightDecay == 0f)
        {
            TensorPrimitives.MultiplyAdd(gradients, -learningRate, parameters, parameters);
            return;
        }

        var first = !_started;
        _started = true;
        ref var w = ref MemoryMarshal.GetReference(parameters);
        ref var g = ref MemoryMarshal.GetReference(gradients);
        ref var v = ref MemoryMarshal.GetArrayDataReference(_velocity);
        var n = (nuint)parameters.Length;
        nuint i = 0;

        // One fused pass over the flat vectors; Vector512 where the hardware has it (the JIT lowers it otherwise).
        var lr = Vector512.Create(learningRate);
        var mu = Vector512.Create(_momentum);
        var wd = Vector512.Create(_weightDecay);
        for (; i + 16 <= n; i += 16)
        {
            var wi = Vector512.LoadUnsafe(ref w, i);
            var gi = Vector512.FusedMultiplyAdd(wd, wi, Vector512.LoadUnsafe(ref g, i));
            if (_momentum > 0f)
            {
                // PyTorch seeds the buffer with the first gradient rather than decaying from zero.
                var vi = first ? gi : Vector512.FusedMultiplyAdd(mu, Vector512.LoadUnsafe(ref v, i), gi);
                vi.StoreUnsafe(ref v, i);
                gi = _nesterov ? Vector512.FusedMultiplyAdd(mu, vi, gi) : vi;
            }

            Vector512.FusedMultiplyAdd(-lr, gi, wi).StoreUnsafe(ref w, i);
        }

        for (; i < n; i++)
        {
            var gi = Unsafe.Add(ref g, i) + _weightDecay * Unsafe.Add(ref w, i);
            if (_momentum > 0f)
            {
                var vi = first ? gi : _momentum * Unsafe.Add(ref v, i) + gi;
                Unsafe.Add(ref v, i) = vi;
                gi = _nesterov ? gi + _momentum * vi : vi;
            }

            Unsafe.Add(ref w, i) -= learningRate * gi;
        }
    }

    public void Reset()
    {
        Array.Clear(_velocity);
        _started = false;
    }
}

/// <summary>Adam (Kingma &amp; Ba) with bias correction and optional L2 weight decay added to the gradient.</summary>
public sealed class Adam : IOptimizer
{
    private readonly float[] _m;
    private readonly float[] _v;
    private readonly float _beta1;
    private readonly float _beta2;
    private readonly float _epsilon;
    private readonly float _weightDecay;
    private int _t;

    public Adam(int parameterCount, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-8f, float weightDecay = 0f)
    {
        _m = new float[parameterCount];
        _v = new float[parameterCount];
        _beta1 = beta1;
        _beta2 = beta2;
        _epsilon = epsilon;
        _weightDecay = weightDecay;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Step(Span<float> parameters, ReadOnlySpan<float> gradients, float learningRate)
    {
        if (parameters.Length != gradients.Length || parameters.Length != _m.Length)
        {
            throw new ArgumentException("parameter, gradient and state lengths differ", nameof(gradients));
        }

        _t++;
        var c1 = 1f / (1f - MathF.Pow(_beta1, _t));
        var c2 = 1f / (1f - MathF.Pow(_beta2, _t));
        ref var w = ref MemoryMarshal.GetReference(parameters);
        ref var g = ref MemoryMarshal.GetReference(gradients);
        ref var m = ref MemoryMarshal.GetArrayDataReference(_m);
        ref var v = ref MemoryMarshal.GetArrayDataReference(_v);
        var n = (nuint)parameters.Length;
        nuint i = 0;
        var b1 = Vector512.Create(_beta1);
        var b2 = Vector512.Create(_beta2);
        var wd = Vector512.Create(_weightDecay);
        var step = Vector512.Create(learningRate * c1);
        var vScale = Vector512.Create(c2);
        var eps = Vector512.Create(_epsilon);
        for (; i + 16 <= n; i += 16)
        {
            var wi = Vector512.LoadUnsafe(ref w, i);
            var gi = Vector512.FusedMultiplyAdd(wd, wi, Vector512.LoadUnsafe(ref g, i));
            var mi = Vector512.FusedMultiplyAdd(b1, Vector512.LoadUnsafe(ref m, i), (Vector512<float>.One - b1) * gi);
            var vi = Vector512.FusedMultiplyAdd(b2, Vector512.LoadUnsafe(ref v, i), (Vector512<float>.One - b2) * gi * gi);
            mi.StoreUnsafe(ref m, i);
            vi.StoreUnsafe(ref v, i);
            (wi - step * mi / (Vector512.Sqrt(vi * vScale) + eps)).StoreUnsafe(ref w, i);
        }

        for (; i < n; i++)
        {
            var gi = Unsafe.Add(ref g, i) + _weightDecay * Unsafe.Add(ref w, i);
            var mi = Unsafe.Add(ref m, i) = _beta1 * Unsafe.Add(ref m, i) + (1f - _beta1) * gi;
            var vi = Unsafe.Add(ref v, i) = _beta2 * Unsafe.Add(ref v, i) + (1f - _beta2) * gi * gi;
            Unsafe.Add(ref w, i) -= learningRate * c1 * mi / (MathF.Sqrt(vi * c2) + _epsilon);
        }
    }

    public void Reset()
    {
        Array.Clear(_m);
        Array.Clear(_v);
        _t = 0;
    }
}
