using Totoro.Actors.Fl;

namespace Totoro.Tests.Actors.Fl;

[TestFixture]
public sealed class AppSpecTests
{
    [Test]
    public void Builder_sets_every_field()
    {
        var spec = TotoroApp.Define("fmnist").Model("lenet5").Data("fashion-mnist").Partition(Partitioning.Dirichlet(0.5))
            .Rounds(50).ClientsPerRound(20).LocalEpochs(2).BatchSize(32).LearningRate(0.05).FedProx(0.01)
            .Strategy(Strategy.TrimmedMean(0.1).WithServerOptimizer(ServerOptimizerKind.FedAdam, 0.1, 0.9))
            .Target(0.85).RoundDeadline(TimeSpan.FromMinutes(2)).Seed(7).Build();

        Assert.That(spec.Name, Is.EqualTo("fmnist"));
        Assert.That(spec.Partitioning, Is.EqualTo(Partitioning.Dirichlet(0.5)));
        Assert.That((spec.Rounds, spec.ClientsPerRound, spec.LocalEpochs, spec.BatchSize), Is.EqualTo((50, 20, 2, 32)));
        Assert.That(spec.ProximalMu, Is.EqualTo(0.01));
        Assert.That(spec.Strategy.Rule, Is.EqualTo(RuleKind.TrimmedMean));
        Assert.That(spec.Strategy.ServerOptimizer, Is.EqualTo(ServerOptimizerKind.FedAdam));
        Assert.That(spec.TargetAccuracy, Is.EqualTo(0.85));
        Assert.That(spec.OverSelection, Is.EqualTo(1.3), "FedScale's default over-commitment");
        Assert.That(spec.InvitedPerRound, Is.EqualTo(26));
    }

    [Test]
    public void Validation_names_every_offending_field()
    {
        var error = Assert.Throws<AppSpecException>(() => TotoroApp.Define("Bad Name!").Data("d").Rounds(0).ClientsPerRound(0)
            .OverSelection(0.5).BatchSize(0).LearningRate(-1).Target(1.5).Partition(Partitioning.Dirichlet(0))
            .Strategy(Strategy.TrimmedMean(0.6)).Build())!;

        Assert.That(error.Errors.Select(e => e.Split(':')[0]), Is.EquivalentTo(new[]
        {
            "Name", "Partitioning", "Rounds", "ClientsPerRound", "OverSelection", "BatchSize", "LearningRate", "TargetAccuracy", "Strategy.RuleParameter",
        }));
    }

    [Test]
    public void Missing_dataset_is_reported()
    {
        var error = Assert.Throws<AppSpecException>(() => TotoroApp.Define("a").Build())!;
        Assert.That(error.Errors, Is.EqualTo(new[] { "Dataset: required" }));
    }
}
