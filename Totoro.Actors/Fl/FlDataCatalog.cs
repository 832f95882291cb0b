using System.Collections.Immutable;
using Totoro.Ml.Data;

namespace Totoro.Actors.Fl;

/// <summary>A data set as a node sees it: the training pool it partitions and the held-out test set the root evaluates on.</summary>
public sealed record FlDataset(SampleStore Train, SampleStore Test);

/// <summary>
/// The data sets a node can serve, by the name an <see cref="AppSpec.Dataset"/> uses. Immutable; in a simulation
/// one catalog is shared by all nodes of the process, so every worker partitions the same pool.
/// </summary>
public sealed class FlDataCatalog
{
    private readonly ImmutableDictionary<string, FlDataset> _sets;

    private FlDataCatalog(ImmutableDictionary<string, FlDataset> sets) => _sets = sets;

    public static FlDataCatalog Empty { get; } = new(ImmutableDictionary<string, FlDataset>.Empty);

    public FlDataCatalog With(string name, SampleStore train, SampleStore test)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(test);
        if (train.Shape != test.Shape || train.Classes != test.Classes)
        {
            throw new ArgumentException($"data set '{name}': train and test differ in shape or classes", nameof(test));
        }

        return new FlDataCatalog(_sets.SetItem(name, new FlDataset(train, test)));
    }

    public bool TryGet(string name, out FlDataset dataset) => _sets.TryGetValue(name, out dataset!);
}
