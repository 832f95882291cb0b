using System.Collections.Immutable;
using Totoro.Ml.Aggregation;
using Totoro.Ml.Data;
using Totoro.Ml.Models;
using Totoro.Ml.Training;

namespace Totoro.Actors.Fl;

/// <summary>One worker's local training for one round, as a pure function of (spec, round, worker, global model, data).</summary>
internal static class LocalRound
{
    /// <summary>Trains <paramref name="model"/> from <paramref name="global"/>; the update is null when training diverged.</summary>
    public static (ClientUpdate? Update, double Flops) Train(Model model, AppSpec spec, long round, int worker, GlobalModel global, Dataset data)
    {
        var start = global.Parameters.Span;
        model.Parameters.Set(start);
        // A fresh trainer per round: local optimizer state (momentum, Adam moments) starts from zero, as in FedAvg.
        var result = new LocalTrainer().Train(model, data, new TrainingOptions
        {
            Epochs = spec.LocalEpochs,
            MaxSteps = spec.LocalSteps,
            BatchSize = spec.BatchSize,
            LearningRate = (float)spec.LearningRate,
            Optimizer = spec.Optimizer == LocalOptimizer.Adam ? OptimizerSettings.Adam() : OptimizerSettings.Sgd((float)spec.Momentum),
            ProximalMu = (float)spec.ProximalMu,
            Seed = FlSeeds.Derive(spec.Seed, spec.SeedingName, round, worker),
        });
        var delta = new float[start.Length];
        model.Parameters.DeltaFrom(start, delta);
        var flops = (double)model.FlopsPerSample * result.SamplesSeen;
        if (!double.IsFinite(result.MeanLoss) || !Array.TrueForAll(delta, float.IsFinite))
        {
            return (null, flops);
        }

        var metrics = ImmutableSortedDictionary<string, double>.Empty.Add("loss_sum", result.MeanLoss * data.Count);
        return (new ClientUpdate((ulong)worker, global.ArchitectureId, delta, data.Count, metrics), flops);
    }
}
