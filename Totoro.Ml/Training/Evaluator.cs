using System.Collections.Immutable;
using Totoro.Ml.Data;
using Totoro.Ml.Kernels;
using Totoro.Ml.Models;

namespace Totoro.Ml.Training;

/// <param name="PerClassAccuracy">NaN for a class with no samples in the evaluated set.</param>
public sealed record EvaluationResult(int Samples, double Loss, double Accuracy, ImmutableArray<double> PerClassAccuracy);

/// <summary>Cross-entropy loss, accuracy and per-class accuracy of a model on a data set view.</summary>
public static class Evaluator
{
    public static EvaluationResult Evaluate(Model model, Dataset data, int batchSize = 256)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        if (data.Shape != model.InputShape || data.Classes > model.Classes)
        {
            throw new ArgumentException($"data of {data.Shape} does not fit model '{model.Name}' ({model.InputShape})", nameof(data));
        }

        var size = data.Shape.Size;
        var features = new float[Math.Min(batchSize, Math.Max(1, data.Count)) * size];
        var labels = new int[features.Length / size];
        var positions = new int[labels.Length];
        var correct = new int[model.Classes];
        var totals = new int[model.Classes];
        var loss = 0.0;
        for (var start = 0; start < data.Count; start += labels.Length)
        {
            var n = Math.Min(labels.Length, data.Count - start);
            for (var i = 0; i < n; i++)
            {
                positions[i] = start + i;
            }

            data.Gather(positions.AsSpan(0, n), features.AsSpan(0, n * size), labels.AsSpan(0, n));
            var logits = model.Predict(features.AsSpan(0, n * size), n);
            loss += SoftmaxCrossEntropy.Evaluate(logits, labels.AsSpan(0, n), model.Classes, correct, totals);
        }

        var perClass = ImmutableArray.CreateBuilder<double>(model.Classes);
        for (var c = 0; c < model.Classes; c++)
        {
            perClass.Add(totals[c] > 0 ? (double)correct[c] / totals[c] : double.NaN);
        }

        var samples = data.Count;
        return new EvaluationResult(
            samples,
            samples > 0 ? loss / samples : double.NaN,
            samples > 0 ? (double)correct.Sum() / samples : double.NaN,
            perClass.MoveToImmutable());
    }
}
