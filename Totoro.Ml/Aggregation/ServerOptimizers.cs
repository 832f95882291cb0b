namespace Totoro.Ml.Aggregation;

/// <summary>
/// Applied once per round at the root to the aggregated delta Δ (mean of client model − global model),
/// moving the global model x. Reddi et al., "Adaptive Federated Optimization" (ICLR 2021), Algorithm 2.
/// Implementations keep per-coordinate state sized on the first step; one instance serves one model.
/// </summary>
public interface IServerOptimizer
{
    string Name { get; }

    /// <summary>x ← x + update(Δ), in place.</summary>
    void Step(Span<float> model, ReadOnlySpan<float> delta);

    /// <summary>A copy of the per-coordinate state, for a checkpoint of the root (empty before the first step).</summary>
    ServerOptimizerState Snapshot();

    /// <summary>
    /// Continues from a <see cref="Snapshot"/> of an optimizer of the same kind (a coordinator resuming from a
    /// checkpoint); throws <see cref="ArgumentException"/> when the state belongs to another kind.
    /// </summary>
    void Restore(ServerOptimizerState state);
}

/// <summary>
/// A server optimizer's per-coordinate state at a point in time: FedAvgM's velocity as <see cref="First"/>; the
/// adaptive optimizers' m as <see cref="First"/> and v as <see cref="Second"/>. Arrays are copies, owned by the snapshot.
/// </summary>
public sealed record ServerOptimizerState(string Name, ReadOnlyMemory<float> First, ReadOnlyMemory<float> Second);

/// <summary>x ← x + η·Δ. With η = 1 this is plain FedAvg: the global model becomes the weighted mean of the clients'.</summary>
public sealed class ServerSgd : IServerOptimizer
{
    private readonly float _learningRate;

    public ServerSgd(double learningRate = 1.0)
    {
        OptimizerChecks.Positive(learningRate, nameof(learningRate));
        _learningRate = (float)learningRate;
    }

    public string Name => "sgd";

    public ServerOptimizerState Snapshot() => new(Name, ReadOnlyMemory<float>.Empty, ReadOnlyMemory<float>.Empty);

    public void Restore(ServerOptimizerState state) => OptimizerChecks.SameKind(Name, state);

    public void Step(Span<float> model, ReadOnlySpan<float> delta)
    {
        OptimizerChecks.SameLength(model, delta);
        System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(delta, _learningRate, model, model);
    }
}

/// <summary>FedAvgM (Hsu et al. 2019): v ← β·v + Δ; x ← x + η·v.</summary>
public sealed class FedAvgM : IServerOptimizer
{
    private readonly double _learningRate;
    private readonly double _momentum;
    private float[]? _velocity;

    public FedAvgM(double learningRate = 1.0, double momentum = 0.9)
    {
        OptimizerChecks.Positive(learningRate, nameof(learningRate));
        OptimizerChecks.Fraction(momentum, nameof(momentum));
        _learningRate = learningRate;
        _momentum = momentum;
    }

    public string Name => "fedavgm";

    public ServerOptimizerState Snapshot() => new(Name, _velocity?.ToArray() ?? ReadOnlyMemory<float>.Empty, ReadOnlyMemory<float>.Empty);

    public void Restore(ServerOptimizerState state)
    {
        OptimizerChecks.SameKind(Name, state);
        _velocity = state.First.IsEmpty ? null : state.First.ToArray();
    }

    public void Step(Span<float> model, ReadOnlySpan<float> delta)
    {
        OptimizerChecks.SameLength(model, delta);
        var v = OptimizerChecks.State(ref _velocity, model.Length, 0f);
        for (int i = 0; i < model.Length; i++)
        {
            double velocity = (_momentum * v[i]) + delta[i];
            v[i] = (float)velocity;
            model[i] = (float)(model[i] + (_learningRate * velocity));
        }
    }
}

/// <summary>Which second-moment rule an <see cref="AdaptiveServerOptimizer"/> uses.</summary>
public enum AdaptiveKind
{
    Adagrad,
    Adam,
    Yogi,
}

/// <summary>
/// FedAdagrad, FedAdam and FedYogi (Reddi et al.): m ← β₁m + (1−β₁)Δ; then
/// Adagrad v ← v + Δ², Adam v ← β₂v + (1−β₂)Δ², Yogi v ← v − (1−β₂)Δ²·sign(v − Δ²);
/// x ← x + η·m / (√v + τ). As in the paper there is no bias correction, and v starts at τ²
/// (the paper's v₋₁ ≥ τ²; Flower starts at 0, so its first steps are larger).
/// </summary>
public sealed class AdaptiveServerOptimizer : IServerOptimizer
{
    private readonly AdaptiveKind _kind;
    private readonly double _learningRate;
    private readonly double _beta1;
    private readonly double _beta2;
    private readonly double _tau;
    private float[]? _m;
    private float[]? _v;

    private AdaptiveServerOptimizer(AdaptiveKind kind, double learningRate, double beta1, double beta2, double tau)
    {
        OptimizerChecks.Positive(learningRate, nameof(learningRate));
        OptimizerChecks.Fraction(beta1, nameof(beta1));
        OptimizerChecks.Fraction(beta2, nameof(beta2));
        OptimizerChecks.Positive(tau, nameof(tau));
        _kind = kind;
        _learningRate = learningRate;
        _beta1 = beta1;
        _beta2 = beta2;
        _tau = tau;
    }

    public string Name => _kind switch
    {
        AdaptiveKind.Adagrad => "fedadagrad",
        AdaptiveKind.Adam => "fedadam",
        _ => "fedyogi",
    };

    public ServerOptimizerState Snapshot() =>
        new(Name, _m?.ToArray() ?? ReadOnlyMemory<float>.Empty, _v?.ToArray() ?? ReadOnlyMemory<float>.Empty);

    public void Restore(ServerOptimizerState state)
    {
        OptimizerChecks.SameKind(Name, state);
        if (state.First.Length != state.Second.Length)
        {
            throw new ArgumentException($"{Name} state needs first and second moments of one length ({state.First.Length} ≠ {state.Second.Length})", nameof(state));
        }

        (_m, _v) = state.First.IsEmpty ? (null, null) : (state.First.ToArray(), state.Second.ToArray());
    }

    /// <summary>FedAdagrad; β₁ = 0 gives the paper's momentum-free variant (Flower's default).</summary>
    public static AdaptiveServerOptimizer FedAdagrad(double learningRate = 0.1, double beta1 = 0.0, double tau = 1e-9) =>
        new(AdaptiveKind.Adagrad, learningRate, beta1, 0.0, tau);

    public static AdaptiveServerOptimizer FedAdam(double learningRate = 0.1, double beta1 = 0.9, double beta2 = 0.99, double tau = 1e-9) =>
        new(AdaptiveKind.Adam, learningRate, beta1, beta2, tau);

    public static AdaptiveServerOptimizer FedYogi(double learningRate = 0.01, double beta1 = 0.9, double beta2 = 0.99, double tau = 1e-3) =>
        new(AdaptiveKind.Yogi, learningRate, beta1, beta2, tau);

    public void Step(Span<float> model, ReadOnlySpan<float> delta)
    {
        OptimizerChecks.SameLength(model, delta);
        var m = OptimizerChecks.State(ref _m, model.Length, 0f);
        var v = OptimizerChecks.State(ref _v, model.Length, (float)(_tau * _tau));
        for (int i = 0; i < model.Length; i++)
        {
            double d = delta[i];
            double d2 = d * d;
            double first = (_beta1 * m[i]) + ((1 - _beta1) * d);
            double second = v[i];
            second = _kind switch
            {
                AdaptiveKind.Adagrad => second + d2,
                AdaptiveKind.Adam => (_beta2 * second) + ((1 - _beta2) * d2),
                _ => second - ((1 - _beta2) * d2 * Math.Sign(second - d2)),
            };
            m[i] = (float)first;
            v[i] = (float)second;
            model[i] = (float)(model[i] + (_learningRate * first / (Math.Sqrt(second) + _tau)));
        }
    }
}

internal static class OptimizerChecks
{
    public static void SameKind(string name, ServerOptimizerState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.Name != name)
        {
            throw new ArgumentException($"a {state.Name} state cannot restore a {name} optimizer", nameof(state));
        }
    }

    public static void Positive(double value, string name)
    {
        if (!(double.IsFinite(value) && value > 0))
        {
            throw new ArgumentOutOfRangeException(name, value, "must be finite and > 0");
        }
    }

    public static void Fraction(double value, string name)
    {
        if (!(value >= 0 && value < 1))
        {
            throw new ArgumentOutOfRangeException(name, value, "must be in [0, 1)");
        }
    }

    public static void SameLength(Span<float> model, ReadOnlySpan<float> delta)
    {
        if (model.Length != delta.Length)
        {
            throw new ArgumentException($"delta has {delta.Length} elements, the model {model.Length}", nameof(delta));
        }
    }

    /// <summary>The optimizer's state vector, created on the first step; a later step on another length is a caller bug.</summary>
    public static float[] State(ref float[]? state, int length, float initial)
    {
        if (state is null)
        {
            state = new float[length];
            Array.Fill(state, initial);
        }
        else if (state.Length != length)
        {
            throw new ArgumentException($"optimizer state has {state.Length} elements, the model {length}", nameof(length));
        }

        return state;
    }
}
