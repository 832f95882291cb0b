using System.Collections.Immutable;
using Totoro.Actors.Fl;
using Totoro.Actors.Sim;
using Totoro.Kernel;
using Totoro.Ml.Aggregation;
using Totoro.Node.Cli;

namespace Totoro.Tests.Actors.Fl;

/// <summary>
/// The <c>sim fl</c> experiment's guarantees: both systems train the same apps on the same workers, partitions and
/// selections; the training cache only ever answers for the exact computation it stored; folds ignore arrival order.
/// </summary>
[TestFixture]
[Category("Simulation")]
public sealed class FlExperimentTests
{
    internal static FlExperimentConfig Tiny => new()
    {
        Nodes = 40,
        Zones = 2,
        AppCounts = [1, 2],
        FanOuts = [4],
        ServerBandwidths = [1],
        Model = "logreg",
        Dataset = "synthetic",
        Target = 0.8,
        Partitioning = Partitioning.Dirichlet(0.5),
        WorkersPerApp = 16,
        ClientsPerRound = 4,
        Rounds = 6,
        LearningRate = 0.1,
        Seed = 3,
    };

    [TestCase("shared")]
    [TestCase("disjoint")]
    public void Baseline_and_totoro_train_on_the_same_workers_partitions_and_selections(string assignment)
    {
        var config = Tiny with { Target = 1.0, Assignment = SimFlCommand.ParseAssignment(assignment) };
        var plan = FlExperimentPlan.Create(config);
        var (forest, _) = plan.GrowForest(4);
        var star = plan.BaselineTopology();
        foreach (var spec in plan.Specs)
        {
            // Same worker list in the same order: contributor i is the same node, so it takes the same partition.
            Assert.That(forest.Workers(spec.Name), Is.EqualTo(star.Workers(spec.Name)));
            Assert.That(star.Root(spec.Name), Is.Not.AnyOf(forest.Workers(spec.Name).ToArray()));
        }

        if (config.Assignment == FlAssignment.Disjoint)
        {
            var all = plan.Specs.SelectMany(s => forest.Workers(s.Name)).ToArray();
            Assert.That(all, Is.Unique);
        }

        var result = FlExperiment.Run(config, SimFlCommand.Synthetic, _ => { }, _ => { }, parallelism: 2);
        var runs = result.Runs.Where(r => r.Apps == 2).ToArray();
        Assert.That(runs.Select(r => r.System), Is.EquivalentTo(new[] { "baseline 1x, 2 apps", "totoro f=4, 2 apps" }));
        for (var app = 0; app < 2; app++)
        {
            // Target 1.0 is never reached: every round of the budget runs, so the selections can be compared whole.
            var invited = runs.Select(r => r.AppResults[app].Invited).ToArray();
            Assert.That(invited[0], Has.Count.EqualTo(config.Rounds * config.ClientsPerRound));
            Assert.That(invited[1], Is.EqualTo(invited[0]));
        }

        // The baseline family trains once, and reuses it at every server size; Totoro's family has its own cache.
        Assert.That(result.Cache.TrainHits, Is.GreaterThan(0));
    }

    [Test]
    public void A_replicated_workload_runs_app_00s_job_in_every_app_and_trains_it_once()
    {
        var config = Tiny with
        {
            Target = 1.0, AppCounts = [3], WorkersPerApp = 12, Assignment = FlAssignment.Disjoint, Workload = FlWorkload.Replicated,
        };
        var plan = FlExperimentPlan.Create(config);
        Assert.That(plan.Specs.Select(s => s.Name), Is.Unique, "own names, so own keys, roots and trees");
        Assert.That(plan.Specs.Select(s => (s.Seed, s.SeedingName)).Distinct(), Is.EqualTo(new[] { (config.Seed, "app-00") }));
        Assert.That((Tiny.Spec(1).Seed, Tiny.Spec(1).SeedingName), Is.EqualTo((Tiny.Seed + 1, "app-01")), "distinct: each app its own draws");

        var result = FlExperiment.Run(config, SimFlCommand.Synthetic, _ => { }, _ => { }, parallelism: 1);
        foreach (var run in result.Runs)
        {
            var invited = run.AppResults.Select(a => a.Invited).ToArray();
            Assert.That(invited[1], Is.EqualTo(invited[0]), run.System);
            Assert.That(invited[2], Is.EqualTo(invited[0]), run.System);
        }

        // Same job on other nodes: one app's rounds are trained, every other app's and system's are answered from the cache.
        Assert.That(result.Cache.TrainMisses, Is.EqualTo(config.Rounds * config.ClientsPerRound));
        Assert.That(result.Cache.TrainHits, Is.EqualTo(((3 * 2) - 1) * config.Rounds * config.ClientsPerRound));
    }

    [Test]
    public void With_the_exact_fold_totoro_and_the_server_train_bit_identical_models_every_round()
    {
        // Every round of the budget runs (target 1.0) with all 16 workers, so Totoro's tree folds in several levels.
        var config = Tiny with { Target = 1.0, AppCounts = [1], ClientsPerRound = 16, Rounds = 5 };
        var (server, totoro, cache) = Curves(config);

        Assert.That(totoro.Select(p => p.Round), Is.EqualTo(server.Select(p => p.Round)));
        Assert.That(totoro.Select(p => (p.Accuracy, p.Loss)), Is.EqualTo(server.Select(p => (p.Accuracy, p.Loss))), "same accuracy and same test loss to the last bit");

        // One family after another share the cache, so Totoro's identical rounds were all answered from it.
        Assert.That(cache.TrainMisses, Is.EqualTo(config.Rounds * config.ClientsPerRound));
        Assert.That(cache.TrainHits, Is.EqualTo(config.Rounds * config.ClientsPerRound));

        // The float fold (the old default) rounds the tree's partials differently from the flat server: the models part,
        // and Totoro's rounds after the first are computed anew.
        var (floatServer, floatTotoro, floatCache) = Curves(config with { Fold = null });
        Assert.That(floatTotoro.Select(p => p.Loss), Is.Not.EqualTo(floatServer.Select(p => p.Loss)));
        Assert.That(floatCache.TrainMisses, Is.GreaterThan(config.Rounds * config.ClientsPerRound));
    }

    [Test]
    public void The_fold_option_parses_fixed_point_with_optional_bits_and_float_and_names_a_bad_value()
    {
        Assert.That(SimFlCommand.ParseFold("fixed-point"), Is.EqualTo(FixedPointFormat.Default));
        Assert.That(SimFlCommand.ParseFold("fixed-point:28")!.FractionBits, Is.EqualTo(28));
        Assert.That(SimFlCommand.ParseFold("float"), Is.Null);
        Assert.That(() => SimFlCommand.ParseFold("exact"), Throws.TypeOf<FormatException>().With.Message.EqualTo("--fold: 'exact' is not fixed-point[:F] or float"));
        Assert.That(() => SimFlCommand.ParseFold("fixed-point:64"), Throws.TypeOf<FormatException>().With.Message.Contains("[8, 48]"));
        Assert.That(() => SimFlCommand.ParseFold("float:3"), Throws.TypeOf<FormatException>());
    }

    private static (IReadOnlyList<FlCurvePoint> Server, IReadOnlyList<FlCurvePoint> Totoro, TrainingCacheStats Cache) Curves(FlExperimentConfig config)
    {
        var result = FlExperiment.Run(config, SimFlCommand.Synthetic, _ => { }, _ => { }, parallelism: 1);
        var server = result.Runs.Single(r => r.FanOut is null).AppResults.Single().Curve;
        var totoro = result.Runs.Single(r => r.FanOut is not null).AppResults.Single().Curve;
        Assert.That(server, Has.Count.EqualTo(config.Rounds));
        return (server, totoro, result.Cache);
    }

    [Test]
    public void The_cache_never_answers_for_a_model_that_diverged_by_one_bit()
    {
        using var cache = new TrainingResultCache();
        var spec = Tiny.Spec(0);
        SimFlCommand.Synthetic.TryGet("synthetic", out var data);
        var part = data.Train.Subset([.. Enumerable.Range(0, 50)]);
        var parameters = Enumerable.Range(0, 68).Select(i => i * 0.01f).ToArray();
        var model = new GlobalModel(42, 0, parameters);
        var computed = 0;
        (ClientUpdate? Update, double Flops) Train()
        {
            computed++;
            return (new ClientUpdate(3, 42, Enumerable.Range(0, 68).Select(i => (float)(computed + i)).ToArray(), 50), 1000);
        }

        var first = cache.Train(spec, 1, 3, model, part, Train);
        var again = cache.Train(spec, 1, 3, new GlobalModel(42, 0, (float[])parameters.Clone()), part, Train);
        Assert.That(computed, Is.EqualTo(1));
        Assert.That(again.Update!.Delta.ToArray(), Is.EqualTo(first.Update!.Delta.ToArray()));
        Assert.That(again.Flops, Is.EqualTo(1000));

        var diverged = (float[])parameters.Clone();
        diverged[17] = BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(diverged[17]) ^ 1);
        var other = cache.Train(spec, 1, 3, new GlobalModel(42, 0, diverged), part, Train);
        Assert.That(computed, Is.EqualTo(2));
        Assert.That(other.Update!.Delta.ToArray(), Is.Not.EqualTo(first.Update.Delta.ToArray()));

        // Another round, worker, data split or spec is another computation too.
        cache.Train(spec, 2, 3, model, part, Train);
        cache.Train(spec, 1, 4, model, part, Train);
        cache.Train(spec, 1, 3, model, data.Train.Subset([.. Enumerable.Range(1, 50)]), Train);
        cache.Train(spec with { LearningRate = 0.2 }, 1, 3, model, part, Train);
        Assert.That(computed, Is.EqualTo(6));
        Assert.That(cache.Stats, Is.EqualTo(cache.Stats with { TrainHits = 1, TrainMisses = 6 }));
    }

    [Test]
    public void A_diverged_training_is_cached_as_diverged_and_evaluations_are_keyed_by_model()
    {
        using var cache = new TrainingResultCache();
        var spec = Tiny.Spec(0);
        SimFlCommand.Synthetic.TryGet("synthetic", out var data);
        var model = new GlobalModel(42, 0, new float[68]);
        Assert.That(cache.Train(spec, 1, 0, model, data.Train.All(), () => (null, 5)).Update, Is.Null);
        Assert.That(cache.Train(spec, 1, 0, model, data.Train.All(), () => throw new AssertionException("recomputed")).Update, Is.Null);

        var evaluations = 0;
        (double, double, double) Evaluate() => (++evaluations * 0.1, 1, 2);
        Assert.That(cache.Evaluate(spec, model, data.Test.All(), Evaluate).Accuracy, Is.EqualTo(0.1));
        Assert.That(cache.Evaluate(spec, model, data.Test.All(), Evaluate).Accuracy, Is.EqualTo(0.1));
        Assert.That(cache.Evaluate(spec, new GlobalModel(42, 0, new float[] { 1 }.Concat(new float[67]).ToArray()), data.Test.All(), Evaluate).Accuracy, Is.EqualTo(0.2));
    }

    [Test]
    public void A_subtree_fold_gives_the_same_bits_in_any_arrival_order()
    {
        var shape = new ModelShape(42, 1000);
        var children = Enumerable.Range(0, 6).Select(i => new Address("totoro", $"c{i}", 1)).ToArray();
        var parts = children.Select((_, i) => Partial(shape, (ulong)(3 * i), (ulong)((3 * i) + 1))).ToArray();
        float[] FoldIn(IEnumerable<int> order)
        {
            var round = SubtreeRound.Open(1, children, ownWorkerInvited: true, bytesDown: 0);
            (round, _) = round.OnOwn(1, Update(shape, 99));
            foreach (var i in order)
            {
                (round, _) = round.OnChild(1, children[i], parts[i], [], RoundCounters.Zero);
            }

            return round.Close().Fold(new FedAvgRule(AggregationLimits.Default), shape, AggregationLimits.Default)!.Mean.ToArray();
        }

        var reference = FoldIn([0, 1, 2, 3, 4, 5]);
        var random = new Random(5);
        for (var trial = 0; trial < 5; trial++)
        {
            Assert.That(FoldIn(Enumerable.Range(0, 6).OrderBy(_ => random.Next())), Is.EqualTo(reference));
        }
    }

    private static ClientUpdate Update(ModelShape shape, ulong id)
    {
        var random = new Random((int)id + 1);
        var delta = Enumerable.Range(0, shape.ElementCount).Select(_ => (float)((random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-4, 3)))).ToArray();
        return new ClientUpdate(id, shape.ArchitectureId, delta, 10 + id);
    }

    private static PartialAggregate Partial(ModelShape shape, params ulong[] ids)
    {
        var accumulator = new UpdateAccumulator(shape, AggregationLimits.Default);
        Assert.That(accumulator.AccumulateBatch([.. ids.Select(id => Update(shape, id))]), Is.Empty);
        return accumulator.ToPartial();
    }
}

/// <summary>The speedup table's arithmetic on hand-made runs.</summary>
[TestFixture]
public sealed class FlSpeedupTests
{
    [Test]
    public void Same_rounds_compares_the_rounds_each_app_needed_on_the_server()
    {
        // App a: 3 rounds on the server (30 s), Totoro took 5 rounds (2 s each) to cross the target.
        // App b: 4 rounds on the server (40 s), Totoro crossed after 2 rounds (6 s): extrapolated to 4 rounds, 12 s.
        var server = Run("baseline 1x, 2 apps", null, 1, App("a", 10, 3), App("b", 10, 4));
        var totoro = Run("totoro f=8, 2 apps", 8, null, App("a", 2, 5), App("b", 3, 2));

        var cell = FlExperiment.Speedups([server, totoro]).Single();

        Assert.That(cell.TotoroSeconds, Is.EqualTo(10));
        Assert.That(cell.BaselineSeconds, Is.EqualTo(40));
        Assert.That(cell.Speedup, Is.EqualTo(4));
        Assert.That(cell.TotoroSameRoundsSeconds, Is.EqualTo(12));
        Assert.That(cell.SameRoundsSpeedup, Is.EqualTo(40.0 / 12));
    }

    private static FlAppResult App(string name, double secondsPerRound, int rounds) => new(
        name, "r", "TargetReached", rounds, 0.9, secondsPerRound * rounds, 0, [],
        [.. Enumerable.Range(1, rounds).Select(r => new FlCurvePoint(r, r == rounds ? 0.9 : 0.5, secondsPerRound * r))]);

    private static FlRunResult Run(string system, int? fanOut, double? bandwidth, params FlAppResult[] apps) =>
        new(system, apps.Length, fanOut, bandwidth, apps.Max(a => a.TimeToTargetSeconds), apps.Average(a => a.TimeToTargetSeconds), null, 0, apps);
}
