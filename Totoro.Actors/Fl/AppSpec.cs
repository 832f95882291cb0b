using System.Collections.Immutable;
using System.Text.RegularExpressions;
using Totoro.Ml.Models;

namespace Totoro.Actors.Fl;

/// <summary>The local optimizer workers train with.</summary>
public enum LocalOptimizer
{
    Sgd,
    Adam,
}

/// <summary>
/// One federated-learning application, immutable: what to train, on which data, how rounds run and when to stop.
/// Build it with <see cref="TotoroApp.Define"/>; <see cref="Validate"/> lists every bad field by name.
/// </summary>
public sealed partial record AppSpec
{
    public required string Name { get; init; }

    /// <summary>A <c>ModelFactory</c> name: logreg, mlp, mlp:256-128, lenet5, cnn, resnet8.</summary>
    public string Model { get; init; } = "logreg";

    /// <summary>A data set name the nodes' <see cref="FlDataCatalog"/> knows.</summary>
    public string Dataset { get; init; } = "";

    public Partitioning Partitioning { get; init; } = Partitioning.Iid();

    /// <summary>The round budget: the app stops after this many rounds if the target was not reached.</summary>
    public int Rounds { get; init; } = 10;

    public int ClientsPerRound { get; init; } = 10;

    /// <summary>Select ⌈K·factor⌉ workers and keep the first K updates (FedScale's over-commitment, default 1.3).</summary>
    public double OverSelection { get; init; } = 1.3;

    public int LocalEpochs { get; init; } = 1;

    /// <summary>When set, local training stops after this many steps (within <see cref="LocalEpochs"/>).</summary>
    public int? LocalSteps { get; init; }

    public int BatchSize { get; init; } = 32;

    public double LearningRate { get; init; } = 0.05;

    public LocalOptimizer Optimizer { get; init; } = LocalOptimizer.Sgd;

    /// <summary>SGD momentum of the local optimizer.</summary>
    public double Momentum { get; init; }

    /// <summary>FedProx μ; 0 is FedAvg.</summary>
    public double ProximalMu { get; init; }

    public Strategy Strategy { get; init; } = Strategy.FedAvg();

    /// <summary>Stop when the global model reaches this test accuracy.</summary>
    public double? TargetAccuracy { get; init; }

    /// <summary>A round closes with whatever arrived by then.</summary>
    public TimeSpan RoundDeadline { get; init; } = TimeSpan.FromMinutes(10);

    public int Seed { get; init; }

    /// <summary>
    /// The name mixed with <see cref="Seed"/> into every random choice of a run: the data partition, each round's
    /// selection, the workers' batch order. Null: the app's own <see cref="Name"/>, so two apps with the same seed still
    /// choose independently. Set to another app's name (with that app's seed and settings), an app makes exactly that
    /// app's choices under its own name, key, root and tree: replicated workloads, placement comparisons.
    /// </summary>
    public string? SeedName { get; init; }

    /// <summary>The name the run's random choices derive from: <see cref="SeedName"/> or <see cref="Name"/>.</summary>
    public string SeedingName => SeedName ?? Name;

    /// <summary>⌈K × over-selection⌉: how many workers a round invites.</summary>
    public int InvitedPerRound => (int)Math.Ceiling(ClientsPerRound * OverSelection - 1e-9);

    /// <summary>
    /// True when a round never invites more than K (no over-selection): every invitee is admitted by construction,
    /// so workers hand their updates up without asking the root (WorkerActor) and the root counts them all admitted.
    /// </summary>
    public bool AdmissionImplied => InvitedPerRound <= ClientsPerRound;

    public ImmutableArray<string> Validate()
    {
        var errors = ImmutableArray.CreateBuilder<string>();
        void Check(bool ok, string field, string rule)
        {
            if (!ok)
            {
                errors.Add($"{field}: {rule}");
            }
        }

        Check(Name is not null && AppName().IsMatch(Name), nameof(Name), "1–64 characters of a–z, 0–9, '-', '_', '.', starting with a letter or digit");
        Check(SeedName is null || AppName().IsMatch(SeedName), nameof(SeedName), "an app name when set: 1–64 characters of a–z, 0–9, '-', '_', '.'");
        Check(!string.IsNullOrWhiteSpace(Model), nameof(Model), "required");
        if (!string.IsNullOrWhiteSpace(Model) && ModelFactory.NameError(Model) is { } unknown)
        {
            errors.Add($"{nameof(Model)}: {unknown}");
        }

        Check(!string.IsNullOrWhiteSpace(Dataset), nameof(Dataset), "required");
        Check(Partitioning is not null && Partitioning.Validate() is null, nameof(Partitioning), Partitioning?.Validate() ?? "required");
        Check(Rounds >= 1, nameof(Rounds), "must be ≥ 1");
        Check(ClientsPerRound >= 1, nameof(ClientsPerRound), "must be ≥ 1");
        Check(OverSelection >= 1 && OverSelection <= 10, nameof(OverSelection), "must be in [1, 10]");
        Check(LocalEpochs >= 1, nameof(LocalEpochs), "must be ≥ 1");
        Check(LocalSteps is null or >= 1, nameof(LocalSteps), "must be ≥ 1 when set");
        Check(BatchSize >= 1, nameof(BatchSize), "must be ≥ 1");
        Check(LearningRate > 0 && !double.IsInfinity(LearningRate), nameof(LearningRate), "must be positive and finite");
        Check(Momentum is >= 0 and < 1, nameof(Momentum), "must be in [0, 1)");
        Check(ProximalMu >= 0 && !double.IsInfinity(ProximalMu), nameof(ProximalMu), "must be ≥ 0 and finite");
        Check(TargetAccuracy is null or (> 0 and <= 1), nameof(TargetAccuracy), "must be in (0, 1] when set");
        Check(RoundDeadline > TimeSpan.Zero, nameof(RoundDeadline), "must be positive");
        if (Strategy is null)
        {
            errors.Add($"{nameof(Strategy)}: required");
        }
        else
        {
            errors.AddRange(Strategy.Validate());
        }

        return errors.ToImmutable();
    }

    /// <summary>Throws <see cref="AppSpecException"/> listing every invalid field.</summary>
    public AppSpec Validated()
    {
        var errors = Validate();
        return errors.IsEmpty ? this : throw new AppSpecException(errors);
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{0,63}$")]
    private static partial Regex AppName();
}

/// <summary>An app specification with invalid fields; <see cref="Errors"/> names each one.</summary>
public sealed class AppSpecException : ArgumentException
{
    public AppSpecException()
        : this([])
    {
    }

    public AppSpecException(string message)
        : base(message)
    {
        Errors = [message];
    }

    public AppSpecException(string message, Exception innerException)
        : base(message, innerException)
    {
        Errors = [message];
    }

    public AppSpecException(ImmutableArray<string> errors)
        : base("Invalid app: " + string.Join("; ", errors))
    {
        Errors = errors;
    }

    public ImmutableArray<string> Errors { get; }
}
