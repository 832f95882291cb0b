using Totoro.Ml.Kernels;
using Totoro.Ml.Layers;
using Totoro.Ml.Tensors;

namespace Totoro.Ml.Models;

/// <summary>
/// A sequential classifier trained with softmax cross-entropy. Parameters and gradients are two flat
/// vectors that the layers view; activations live in pooled buffers that are reused from step to step,
/// so a training step allocates nothing once the batch size has been seen.
/// Not thread-safe: one model instance belongs to one trainer at a time.
/// </summary>
public sealed class Model
{
    private readonly Layer[] _layers;
    private readonly float[] _parameters;
    private readonly float[] _gradients;
    private readonly PooledBuffer[] _outputs;
    private readonly int _maxLayerSize;
    private PooledBuffer _gradientA;
    private PooledBuffer _gradientB;

    internal Model(ModelSpec spec, int seed)
    {
        Spec = spec;
        var layers = new Layer[spec.Layers.Length];
        var shape = spec.Input;
        var seeds = new SplitMix64((ulong)seed);
        for (var i = 0; i < layers.Length; i++)
        {
            layers[i] = spec.Layers[i].Build(shape, seeds.NextUInt64());
            shape = layers[i].OutputShape;
        }

        if (layers.Length == 0 || shape.Height != 1 || shape.Width != 1 || shape.Channels < 2)
        {
            throw new ArgumentException($"model '{spec.Name}' must end in a vector of at least 2 class scores, not {shape}", nameof(spec));
        }

        _layers = layers;
        Classes = shape.Channels;
        var count = layers.Sum(l => l.ParameterCount);
        _parameters = new float[count];
        _gradients = new float[count];
        var offset = 0;
        var init = new SplitMix64(seeds.NextUInt64());
        foreach (var layer in layers)
        {
            layer.Bind(_parameters, _gradients, offset);
            layer.Initialize(ref init);
            offset += layer.ParameterCount;
        }

        _outputs = new PooledBuffer[layers.Length];
        _maxLayerSize = layers.Max(l => Math.Max(l.InputShape.Size, l.OutputShape.Size));
        Parameters = new ParameterVector(_parameters);
        FlopsPerSample = 3 * layers.Sum(l => l.ForwardFlops);
    }

    public ModelSpec Spec { get; }

    public string Name => Spec.Name;

    public string ArchitectureId => Spec.ArchitectureId;

    public TensorShape InputShape => Spec.Input;

    public int Classes { get; }

    /// <summary>Forward + backward estimate (backward ≈ 2× forward), for virtual compute time.</summary>
    public long FlopsPerSample { get; }

    public ParameterVector Parameters { get; }

    /// <summary>Gradient of the last <see cref="ComputeGradients"/> call, aligned with <see cref="Parameters"/>.</summary>
    public Span<float> Gradients => _gradients;

    /// <summary>Forward and backward over one batch; returns the mean loss and leaves the mean gradient in <see cref="Gradients"/>.</summary>
    public double ComputeGradients(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels)
    {
        var batch = CheckBatch(inputs, labels.Length);
        var logits = Forward(inputs, batch, training: true);
        var maxSize = _maxLayerSize * batch;
        var dy = _gradientA.Ensure(maxSize);
        var dx = _gradientB.Ensure(maxSize);
        var loss = SoftmaxCrossEntropy.Forward(logits, labels, Classes, dy.AsSpan(0, batch * Classes), 1f / batch) / batch;

        Array.Clear(_gradients);
        for (var i = _layers.Length - 1; i >= 0; i--)
        {
            var layer = _layers[i];
            ReadOnlySpan<float> x = i == 0 ? inputs : _outputs[i - 1].Span(batch * layer.InputShape.Size);
            var y = _outputs[i].Span(batch * layer.OutputShape.Size);
            layer.Backward(x, y, dy.AsSpan(0, batch * layer.OutputShape.Size), dx.AsSpan(0, batch * layer.InputShape.Size), batch, i > 0);
            (dy, dx) = (dx, dy);
        }

        return loss;
    }

    /// <summary>Evaluation-mode forward pass; the returned logits (batch × classes) are valid until the next call.</summary>
    public ReadOnlySpan<float> Predict(ReadOnlySpan<float> inputs, int batch)
    {
        CheckBatch(inputs, batch);
        return Forward(inputs, batch, training: false);
    }

    /// <summary>Returns activation and scratch memory to the shared pool (e.g. when a worker goes idle).</summary>
    public void ReleaseWorkspace()
    {
        for (var i = 0; i < _layers.Length; i++)
        {
            _outputs[i].Release();
            _layers[i].ReleaseWorkspace();
        }

        _gradientA.Release();
        _gradientB.Release();
    }

    private Span<float> Forward(ReadOnlySpan<float> inputs, int batch, bool training)
    {
        var x = inputs;
        for (var i = 0; i < _layers.Length; i++)
        {
            var y = _outputs[i].Span(batch * _layers[i].OutputShape.Size);
            _layers[i].Forward(x, y, batch, training);
            x = y;
        }

        return _outputs[^1].Span(batch * Classes);
    }

    private int CheckBatch(ReadOnlySpan<float> inputs, int batch)
    {
        if (batch <= 0 || inputs.Length != batch * InputShape.Size)
        {
            throw new ArgumentException($"expected {batch} samples of {InputShape} ({batch * InputShape.Size} floats), got {inputs.Length} floats", nameof(inputs));
        }

        return batch;
    }
}
