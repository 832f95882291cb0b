namespace Totoro.Actors.Fl;

/// <summary>
/// Fluent definition of a federated app:
/// <c>TotoroApp.Define("fmnist").Model("lenet5").Data("fashion-mnist").Partition(Partitioning.Dirichlet(0.5))
/// .Rounds(50).ClientsPerRound(20).Target(0.85).Seed(7).Build()</c>.
/// </summary>
public sealed class TotoroApp
{
    private AppSpec _spec;

    private TotoroApp(string name) => _spec = new AppSpec { Name = name };

    public static TotoroApp Define(string name) => new(name);

    public TotoroApp Model(string model) => With(_spec with { Model = model });

    public TotoroApp Data(string dataset) => With(_spec with { Dataset = dataset });

    public TotoroApp Partition(Partitioning partitioning) => With(_spec with { Partitioning = partitioning });

    public TotoroApp Rounds(int rounds) => With(_spec with { Rounds = rounds });

    public TotoroApp ClientsPerRound(int clients) => With(_spec with { ClientsPerRound = clients });

    public TotoroApp OverSelection(double factor) => With(_spec with { OverSelection = factor });

    public TotoroApp LocalEpochs(int epochs) => With(_spec with { LocalEpochs = epochs });

    public TotoroApp LocalSteps(int steps) => With(_spec with { LocalSteps = steps });

    public TotoroApp BatchSize(int batchSize) => With(_spec with { BatchSize = batchSize });

    public TotoroApp LearningRate(double learningRate) => With(_spec with { LearningRate = learningRate });

    public TotoroApp Optimizer(LocalOptimizer optimizer, double momentum = 0) => With(_spec with { Optimizer = optimizer, Momentum = momentum });

    public TotoroApp FedProx(double mu) => With(_spec with { ProximalMu = mu });

    public TotoroApp Strategy(Strategy strategy) => With(_spec with { Strategy = strategy });

    public TotoroApp Target(double accuracy) => With(_spec with { TargetAccuracy = accuracy });

    public TotoroApp RoundDeadline(TimeSpan deadline) => With(_spec with { RoundDeadline = deadline });

    public TotoroApp Seed(int seed) => With(_spec with { Seed = seed });

    /// <summary>Make <paramref name="app"/>'s random choices (see <see cref="AppSpec.SeedName"/>).</summary>
    public TotoroApp SeedName(string app) => With(_spec with { SeedName = app });

    /// <summary>The validated spec; throws <see cref="AppSpecException"/> naming every bad field.</summary>
    public AppSpec Build() => _spec.Validated();

    private TotoroApp With(AppSpec spec)
    {
        _spec = spec;
        return this;
    }
}
