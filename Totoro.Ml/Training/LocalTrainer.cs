using System.Numerics.Tensors;
using Totoro.Ml.Data;
using Totoro.Ml.Kernels;
using Totoro.Ml.Models;

namespace Totoro.Ml.Training;

/// <summary>What a worker's local training does.</summary>
public sealed record TrainingOptions
{
    /// <summary>Passes over the local data; ignored when <see cref="MaxSteps"/> is set.</summary>
    public int Epochs { get; init; } = 1;

    /// <summary>Step budget (ESync-style adaptive local work): stop after this many mini-batches, reshuffling per pass.</summary>
    public int? MaxSteps { get; init; }

    public int BatchSize { get; init; } = 32;

    public float LearningRate { get; init; } = 0.05f;

    public OptimizerSettings Optimizer { get; init; } = OptimizerSettings.Sgd();

    /// <summary>FedProx μ: adds μ/2·‖w − w₀‖² to the loss, w₀ being the weights at the start of the call.</summary>
    public float ProximalMu { get; init; }

    /// <summary>Seeds the mini-batch order.</summary>
    public int Seed { get; init; }
}

/// <param name="SamplesSeen">Samples processed (a sample seen in two epochs counts twice).</param>
/// <param name="MeanLoss">Mean training loss over all steps (cross-entropy only, without the proximal term).</param>
/// <param name="Completed">False when cancelled; the model then holds the weights after the last finished step.</param>
public sealed record TrainingResult(long SamplesSeen, int Steps, double MeanLoss, bool Completed);

/// <summary>
/// Mini-batch training of one model on one data set view, single-threaded and deterministic for a seed.
/// Keeps its batch buffers and optimizer between calls, so repeated rounds allocate nothing new
/// (the optimizer state is reset at the start of every call, as a fresh local round expects).
/// </summary>
public sealed class LocalTrainer
{
    private float[] _features = [];
    private int[] _labels = [];
    private int[] _order = [];
    private float[] _anchor = [];
    private IOptimizer? _optimizer;
    private OptimizerSettings? _optimizerSettings;
    private int _optimizerLength;

    public TrainingResult Train(Model model, Dataset data, TrainingOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(options);
        Validate(model, data, options);

        var batchSize = Math.Min(options.BatchSize, data.Count);
        var size = data.Shape.Size;
        Grow(ref _features, batchSize * size);
        Grow(ref _labels, batchSize);
        Grow(ref _order, data.Count);
        var optimizer = OptimizerFor(options.Optimizer, model.Parameters.Length);
        optimizer.Reset();
        var mu = options.ProximalMu;
        if (mu > 0f)
        {
            Grow(ref _anchor, model.Parameters.Length);
            model.Parameters.CopyTo(_anchor);
        }

        var maxSteps = options.MaxSteps ?? (long)options.Epochs * ((data.Count + batchSize - 1) / batchSize);
        var random = new SplitMix64((ulong)(uint)options.Seed);
        var order = _order.AsSpan(0, data.Count);
        var steps = 0;
        long seen = 0;
        var lossSum = 0.0;
        while (steps < maxSteps)
        {
            for (var i = 0; i < order.Length; i++)
            {
                order[i] = i;
            }

            random.Shuffle(order);
            for (var start = 0; start < order.Length && steps < maxSteps; start += batchSize)
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    return new TrainingResult(seen, steps, steps > 0 ? lossSum / steps : double.NaN, Completed: false);
                }

                var n = Math.Min(batchSize, order.Length - start);
                var features = _features.AsSpan(0, n * size);
                var labels = _labels.AsSpan(0, n);
                data.Gather(order.Slice(start, n), features, labels);
                lossSum += model.ComputeGradients(features, labels);
                var gradients = model.Gradients;
                if (mu > 0f)
                {
                    // ∇ μ/2·‖w − w₀‖² = μ(w − w₀)
                    var parameters = model.Parameters.Span;
                    TensorPrimitives.MultiplyAdd(parameters, mu, gradients, gradients);
                    TensorPrimitives.MultiplyAdd(_anchor.AsSpan(0, parameters.Length), -mu, gradients, gradients);
                }

                optimizer.Step(model.Parameters.Span, gradients, options.LearningRate);
                steps++;
                seen += n;
            }
        }

        return new TrainingResult(seen, steps, steps > 0 ? lossSum / steps : double.NaN, Completed: true);
    }

    private static void Validate(Model model, Dataset data, TrainingOptions options)
    {
        if (data.Shape != model.InputShape || data.Classes > model.Classes)
        {
            throw new ArgumentException($"data of {data.Shape} with {data.Classes} classes does not fit model '{model.Name}' ({model.InputShape}, {model.Classes} classes)", nameof(data));
        }

        if (data.Count == 0)
        {
            throw new ArgumentException("cannot train on an empty data set", nameof(data));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(options.BatchSize, 1, nameof(options));
        ArgumentOutOfRangeException.ThrowIfNegative(options.Epochs, nameof(options));
        ArgumentOutOfRangeException.ThrowIfNegative(options.MaxSteps ?? 0, nameof(options));
        ArgumentOutOfRangeException.ThrowIfNegative(options.ProximalMu, nameof(options));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.LearningRate, nameof(options));
    }

    private IOptimizer OptimizerFor(OptimizerSettings settings, int length)
    {
        if (_optimizer is null || _optimizerSettings != settings || _optimizerLength != length)
        {
            _optimizer = settings.Create(length);
            _optimizerSettings = settings;
            _optimizerLength = length;
        }

        return _optimizer;
    }

    private static void Grow<T>(ref T[] array, int length)
    {
        if (array.Length < length)
        {
            array = new T[length];
        }
    }
}
