using System.Runtime.CompilerServices;
using Totoro.Ml.Kernels;
using Totoro.Ml.Tensors;

namespace Totoro.Ml.Layers;

/// <summary>
/// Group normalisation (Wu &amp; He) with a fused activation: per sample, channels are split into groups and
/// each group is normalised to zero mean and unit variance, then scaled and shifted per channel (γ, β).
/// Unlike batch norm it has no batch statistics, so it behaves the same for any batch size and under
/// federated training with non-IID clients. Keeps each (sample, group)'s mean and 1/σ for backward.
/// </summary>
internal sealed class GroupNorm : Layer
{
    private const float Epsilon = 1e-5f;
    private readonly int _channels;
    private readonly int _groups;
    private readonly int _plane;
    private readonly Activation _activation;
    private PooledBuffer _statistics;

    public GroupNorm(TensorShape input, int groups, Activation activation)
        : base(input, input)
    {
        if (groups < 1 || input.Channels % groups != 0)
        {
            throw new ArgumentException($"{input.Channels} channels cannot be split into {groups} equal groups", nameof(groups));
        }

        _channels = input.Channels;
        _groups = groups;
        _plane = input.Height * input.Width;
        _activation = activation;
    }

    public override int ParameterCount => 2 * _channels;

    public override long ForwardFlops => 8L * InputShape.Size;

    public override void Initialize(ref SplitMix64 random)
    {
        var p = Parameters;
        p[.._channels].Fill(1f);
        p[_channels..].Clear();
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Forward(ReadOnlySpan<float> input, Span<float> output, int batch, bool training)
    {
        var gamma = Parameters[.._channels];
        var beta = Parameters[_channels..];
        var stats = _statistics.Span(2 * batch * _groups);
        var size = InputShape.Size;
        var groupSize = size / _groups;
        var perGroup = _channels / _groups;
        for (var s = 0; s < batch; s++)
        {
            for (var g = 0; g < _groups; g++)
            {
                var x = input.Slice(s * size + g * groupSize, groupSize);
                var mean = 0.0;
                foreach (var v in x)
                {
                    mean += v;
                }

                mean /= groupSize;
                var variance = 0.0;
                foreach (var v in x)
                {
                    variance += (v - mean) * (v - mean);
                }

                var rstd = (float)(1.0 / Math.Sqrt(variance / groupSize + Epsilon));
                stats[2 * (s * _groups + g)] = (float)mean;
                stats[2 * (s * _groups + g) + 1] = rstd;
                var y = output.Slice(s * size + g * groupSize, groupSize);
                for (var c = 0; c < perGroup; c++)
                {
                    var channel = g * perGroup + c;
                    var scale = gamma[channel] * rstd;
                    var shift = beta[channel] - (float)mean * scale;
                    var xs = x.Slice(c * _plane, _plane);
                    var ys = y.Slice(c * _plane, _plane);
                    for (var i = 0; i < _plane; i++)
                    {
                        ys[i] = xs[i] * scale + shift;
                    }
                }
            }

            Activations.ForwardInPlace(_activation, output.Slice(s * size, size));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Backward(
        ReadOnlySpan<float> input, ReadOnlySpan<float> output, Span<float> outputGradient,
        Span<float> inputGradient, int batch, bool needInputGradient)
    {
        var gamma = Parameters[.._channels];
        var dGamma = Gradients[.._channels];
        var dBeta = Gradients[_channels..];
        var stats = _statistics.Span(2 * batch * _groups);
        var size = InputShape.Size;
        var groupSize = size / _groups;
        var perGroup = _channels / _groups;
        Activations.BackwardInPlace(_activation, output[..(batch * size)], outputGradient[..(batch * size)]);
        for (var s = 0; s < batch; s++)
        {
            for (var g = 0; g < _groups; g++)
            {
                var offset = s * size + g * groupSize;
                var x = input.Slice(offset, groupSize);
                var dz = outputGradient.Slice(offset, groupSize);
                var mean = stats[2 * (s * _groups + g)];
                var rstd = stats[2 * (s * _groups + g) + 1];

                // dx = rstd · (dx̂ − mean(dx̂) − x̂ · mean(dx̂ · x̂)), with dx̂ = γ · dz.
                double sumD = 0, sumDX = 0;
                for (var c = 0; c < perGroup; c++)
                {
                    var channel = g * perGroup + c;
                    double channelD = 0, channelDX = 0;
                    for (var i = c * _plane; i < (c + 1) * _plane; i++)
                    {
                        var xhat = (x[i] - mean) * rstd;
                        channelD += dz[i];
                        channelDX += dz[i] * xhat;
                    }

                    dBeta[channel] += (float)channelD;
                    dGamma[channel] += (float)channelDX;
                    sumD += gamma[channel] * channelD;
                    sumDX += gamma[channel] * channelDX;
                }

                if (!needInputGradient)
                {
                    continue;
                }

                var meanD = (float)(sumD / groupSize);
                var meanDX = (float)(sumDX / groupSize);
                var dx = inputGradient.Slice(offset, groupSize);
                for (var c = 0; c < perGroup; c++)
                {
                    var gc = gamma[g * perGroup + c];
                    for (var i = c * _plane; i < (c + 1) * _plane; i++)
                    {
                        var xhat = (x[i] - mean) * rstd;
                        dx[i] = rstd * (gc * dz[i] - meanD - xhat * meanDX);
                    }
                }
            }
        }
    }

    public override void ReleaseWorkspace() => _statistics.Release();
}
