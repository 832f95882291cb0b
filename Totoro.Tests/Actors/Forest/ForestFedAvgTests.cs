using System.Diagnostics.CodeAnalysis;
using Totoro.Actors.Forest;
using Totoro.Ml.Aggregation;

namespace Totoro.Tests.Actors.Forest;

/// <summary>The real FedAvg partial aggregate folded over a forest equals flat FedAvg over the same updates.</summary>
public class ForestFedAvgTests
{
    private static readonly ModelShape Shape = new(ArchitectureId: 7, ElementCount: 64);

    [Test]
    public void Folding_partial_aggregates_up_the_tree_yields_flat_FedAvg_at_the_root()
    {
        const int nodes = 150;
        var world = new ForestWorld(nodes, 1, 31, combiners: [VectorSum.Combiner, new FedAvgCombiner(Shape)]);
        world.Build(TimeSpan.FromMilliseconds(100));
        var topic = TopicId.For("fedavg");
        var updates = Enumerable.Range(0, nodes).Select(Update).ToList();
        world.Contribution = (node, _, _) => Partial(updates[node]);
        ForestScenarioTests.SubscribeAll(world, topic, Enumerable.Range(0, nodes));

        world.Publish(world.RootOf(topic)!.Value, topic, 1, new FoldRequest(1, FedAvgCombiner.KindName, TimeSpan.FromSeconds(12)));
        world.RunFor(TimeSpan.FromSeconds(15));
        var result = world.Reports.Select(r => r.Report).OfType<FoldCompleted>().Single();
        var folded = (PartialAggregate)result.Value;

        var flat = new UpdateAccumulator(Shape, AggregationLimits.Default);
        foreach (var update in updates)
        {
            Assert.That(flat.Accumulate(update), Is.Null);
        }

        var expected = flat.ToPartial();
        Assert.That(result.Contributors, Has.Length.EqualTo(nodes));
        Assert.That(folded.Contributors, Is.EqualTo(expected.Contributors));
        Assert.That(folded.TotalWeight, Is.EqualTo(expected.TotalWeight).Within(1e-9));
        Assert.That(folded.Mean.ToArray(), Is.EqualTo(expected.Mean.ToArray()).Within(1e-6));
    }

    private static ClientUpdate Update(int node)
    {
        var random = new Random(1000 + node);
        var delta = Enumerable.Range(0, Shape.ElementCount).Select(_ => (float)((random.NextDouble() * 2) - 1)).ToArray();
        return new ClientUpdate((ulong)node, Shape.ArchitectureId, delta, weight: 1 + (node % 7) * 13);
    }

    private static PartialAggregate Partial(ClientUpdate update)
    {
        var accumulator = new UpdateAccumulator(Shape, AggregationLimits.Default);
        Assert.That(accumulator.Accumulate(update), Is.Null);
        return accumulator.ToPartial();
    }

    /// <summary>How the FL layer plugs its aggregate in: the monoid of <see cref="PartialAggregate"/> as a fold combiner.</summary>
    private sealed class FedAvgCombiner(ModelShape shape) : FoldCombiner<PartialAggregate>
    {
        public const string KindName = "fedavg";

        public override string Kind => KindName;

        public override PartialAggregate TypedIdentity { get; } = PartialAggregate.Empty(shape);

        public override bool TryCombine(PartialAggregate left, PartialAggregate right, [NotNullWhen(true)] out PartialAggregate? combined) =>
            left.TryCombine(right, out combined, out _);
    }
}
