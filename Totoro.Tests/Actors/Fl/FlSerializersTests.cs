using System.Collections.Immutable;
using Totoro.Actors.Fl;
using Totoro.Kernel;
using Totoro.Ml.Aggregation;

namespace Totoro.Tests.Actors.Fl;

[TestFixture]
public sealed class FlSerializersTests
{
    private static readonly Address Node = new("totoro", "node-3", 2552);
    private static readonly AppSpec Spec = TotoroApp.Define("app").Data("blobs").Partition(Partitioning.LabelShards(2)).LocalSteps(5)
        .Strategy(Strategy.FedAvg(clipNorm: 2.5).WithServerOptimizer(ServerOptimizerKind.FedYogi, 0.01, 0.9)).Target(0.8).Seed(3).Build();

    private static readonly ActorSystem System = ActorSystem.Create("totoro", new ActorSystemSettings
    {
        World = new DeterministicWorld(1), Serialization = FlTestBed.Registry,
    });

    private static readonly GlobalModel Model = new(99, 3, new float[] { 0.5f, -1, 2, 3, 7 });

    private static readonly ModelManifest Manifest = ModelManifest.Of(Model, chunkLength: 2);

    private static IEnumerable<TestCaseData> Messages()
    {
        var shape = new ModelShape(99, 4);
        var update = new ClientUpdate(7, 99, new float[] { 1, -2, 3.5f, 0 }, 12, ImmutableSortedDictionary<string, double>.Empty.Add("loss_sum", 3.25));
        var accumulator = new UpdateAccumulator(shape, AggregationLimits.Default);
        accumulator.Accumulate(update);
        accumulator.Accumulate(update with { ContributorId = 9, Weight = 4 });
        var partial = accumulator.ToPartial();
        var floatPartial = new UpdateAccumulator(shape, AggregationLimits.Default with { FixedPoint = null });
        floatPartial.Accumulate(update);
        var counters = new RoundCounters(1, 2, 300, 400);

        yield return Case("fl.submit-app.v1", new SubmitApp(Spec, System.Resolve("totoro://totoro@node-1:2552/user/client")));
        yield return Case("fl.app-accepted.v1", new AppAccepted("app", Node));
        yield return Case("fl.app-rejected.v1", new AppRejected("app", "already running"));
        yield return Case("fl.cancel-app.v1", new CancelApp("app"));
        yield return Case("fl.round-start.v2", new RoundStart(Spec, 77, 4, Manifest, [1, 5, 8], TimeSpan.FromSeconds(9), Node));
        yield return Case("fl.model-chunk.v1", Manifest.Split("app", 77, 4, Model)[1]);
        yield return Case("fl.update-ready.v1", new UpdateReady("app", 77, 4, 5, Node));
        yield return Case("fl.admission.v1", new Admission("app", 77, 4, 5, true));
        yield return Case("fl.subtree-result.v1", new SubtreeResult("app", 77, 4, Node, partial, [], counters));
        yield return Case("fl.subtree-result.v1", new SubtreeResult("app", 77, 4, Node, null, [update], counters));
        yield return Case("fl.subtree-result.v1", new SubtreeResult("app", 77, 4, Node, floatPartial.ToPartial(), [], counters));
        yield return Case("fl.round-report.v1", new RoundReport("app", 4, 0.9, 0.3, 0.4, 5, [1, 2, 3], 1, 2, 100, 200, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(1)));
        yield return Case("fl.app-result.v1", new AppResult("app", AppOutcome.TargetReached, 4, 0.9, TimeSpan.FromMinutes(2), null));
        yield return Case("fl.app-result.v1", new AppResult("app", AppOutcome.Failed, 0, double.NaN, TimeSpan.Zero, "no data"));
        yield return Case("fl.submit-app.v1", new SubmitApp(Spec, System.Resolve("totoro://totoro@node-1:2552/user/client"), Hops: 3));
        yield return Case("fl.query-app.v1", new QueryApp("app"));
        yield return Case("fl.app-status.v1", AppStatus.NotRunning("app", Node.ToString()));
        yield return Case("fl.app-status.v1", new AppStatus("app", true, Node.ToString(), 77, 4, "collecting", 50, 0.85, 10, 13, 7, 30, "ring-tree", TimeSpan.FromSeconds(12),
            new RoundReport("app", 3, 0.8, 0.4, 0.5, 10, [1, 2], 0, 1, 10, 20, TimeSpan.FromSeconds(9), TimeSpan.Zero)));
        yield return Case("fl.drop-replica.v1", new DropReplica("app", 77));
        yield return Case("fl.drop-replica.v1", new DropReplica("app", 77, Ended("app")));
        yield return Case("fl.round-cancel.v1", new RoundCancel("app", 77, 5));
        yield return Case("fl.app-ended.v1", new AppEnded("app", 77));
        yield return Case("fl.submit-app.v1", new SubmitApp(Spec with { SeedName = "other-app" }, System.Resolve("totoro://totoro@node-1:2552/user/client")));
        yield return Case("fl.app-status.v1", new AppStatus("app", false, Node.ToString(), 77, 9, "done", 50, 0.85, 10, 0, 0, 30, "forest", TimeSpan.FromSeconds(40),
            new RoundReport("app", 9, 0.86, 0.4, 0.5, 10, [1, 2], 0, 1, 10, 20, TimeSpan.FromSeconds(39), TimeSpan.Zero),
            new AppResult("app", AppOutcome.TargetReached, 9, 0.86, TimeSpan.FromSeconds(40), null)));
    }

    [TestCaseSource(nameof(Messages))]
    public void Every_message_round_trips(string manifest, object message)
    {
        var (actualManifest, bytes) = FlTestBed.Registry.Serialize(message);
        var back = FlTestBed.Registry.Deserialize(actualManifest, bytes, System);
        var (_, again) = FlTestBed.Registry.Serialize(back);

        Assert.That(actualManifest, Is.EqualTo(manifest));
        Assert.That(back.GetType(), Is.EqualTo(message.GetType()));
        Assert.That(again, Is.EqualTo(bytes), "re-serializing the decoded message gives the same bytes");
    }

    [Test]
    public void Spec_manifest_and_chunks_survive_the_wire()
    {
        var start = new RoundStart(Spec, 77, 4, Manifest, [1, 5], TimeSpan.FromSeconds(9), Node);
        var back = (RoundStart)RoundTrip(start);
        var chunks = Manifest.Split("app", 77, 4, Model).Select(c => (ModelChunk)RoundTrip(c)).ToArray();
        var relay = ModelRelay.Open("app", 77, 4, back.Model, [], [], assemble: true);

        var assembled = relay.Take(chunks).Assembled;

        Assert.That(back.Spec, Is.EqualTo(Spec));
        Assert.That(back.Model, Is.EqualTo(Manifest));
        Assert.That((back.Run, back.Budget, back.Coordinator), Is.EqualTo((77L, start.Budget, Node)));
        Assert.That(back.Workers, Is.EqualTo(new[] { 1, 5 }));
        Assert.That(chunks.Select(c => c.Values.Length), Is.EqualTo(new[] { 2, 2, 1 }));
        Assert.That(assembled!.Parameters.ToArray(), Is.EqualTo(Model.Parameters.ToArray()), "chunks that crossed the wire assemble the exact model");
    }

    [Test]
    public void A_chunk_whose_values_were_altered_on_the_wire_is_refused()
    {
        var (manifest, bytes) = FlTestBed.Registry.Serialize(Manifest.Split("app", 77, 4, Model)[0]);
        var corrupted = bytes.ToArray();
        corrupted[^6] ^= 0x40;

        Assert.Throws<MessageSerializationException>(() => FlTestBed.Registry.Deserialize(manifest, corrupted, System));
    }

    [Test]
    public void A_chunk_with_a_negative_index_or_values_of_another_index_is_refused()
    {
        var (manifest, bytes) = FlTestBed.Registry.Serialize(Manifest.Split("app", 77, 4, Model)[1]);
        var negative = Totoro.Actors.Fl.Wire.ModelChunkWire.Parser.ParseFrom(bytes);
        negative.Index = -1;
        var moved = Totoro.Actors.Fl.Wire.ModelChunkWire.Parser.ParseFrom(bytes);
        moved.Index = 0;

        Assert.Throws<MessageSerializationException>(() => FlTestBed.Registry.Deserialize(manifest, Google.Protobuf.MessageExtensions.ToByteArray(negative), System));
        Assert.Throws<MessageSerializationException>(() => FlTestBed.Registry.Deserialize(manifest, Google.Protobuf.MessageExtensions.ToByteArray(moved), System));
    }

    private static AppStatus Ended(string app) => new(app, false, Node.ToString(), 77, 9, "done", 50, 0.85, 10, 0, 0, 30, "ring-tree", TimeSpan.FromSeconds(40), null,
        new AppResult(app, AppOutcome.BudgetExhausted, 9, 0.7, TimeSpan.FromSeconds(40), null));

    [Test]
    public void A_released_replica_whose_end_record_is_of_another_app_or_not_ended_is_refused()
    {
        foreach (var final in new[] { Ended("other"), Ended("app") with { Running = true }, Ended("app") with { Ended = null } })
        {
            var wire = new Totoro.Actors.Fl.Wire.DropReplicaWire { App = "app", Run = 77 };
            wire.Final = Totoro.Actors.Fl.Wire.AppStatusWire.Parser.ParseFrom(FlTestBed.Registry.Serialize(final).Bytes);
            Assert.That(
                () => FlTestBed.Registry.Deserialize("fl.drop-replica.v1", Google.Protobuf.MessageExtensions.ToByteArray(wire), System),
                Throws.InstanceOf<MessageSerializationException>().With.Message.Contains("not an ended app"),
                $"{final.App}, running {final.Running}");
        }
    }

    [Test]
    public void An_app_result_with_an_unknown_outcome_is_refused_by_name()
    {
        var (manifest, bytes) = FlTestBed.Registry.Serialize(new AppResult("app", AppOutcome.Cancelled, 4, 0.9, TimeSpan.FromMinutes(2), null));
        var unknown = Totoro.Actors.Fl.Wire.AppResultWire.Parser.ParseFrom(bytes);
        unknown.Outcome = 42;

        Assert.That(
            () => FlTestBed.Registry.Deserialize(manifest, Google.Protobuf.MessageExtensions.ToByteArray(unknown), System),
            Throws.InstanceOf<MessageSerializationException>().With.Message.Contains("outcome 42 of 'app' is not an app outcome"));
    }

    [Test]
    public void A_round_start_without_a_sane_manifest_is_refused()
    {
        var (manifest, bytes) = FlTestBed.Registry.Serialize(new RoundStart(Spec, 77, 4, Manifest, [1], TimeSpan.FromSeconds(9), Node));
        var missing = Totoro.Actors.Fl.Wire.RoundStartWire.Parser.ParseFrom(bytes);
        missing.Model = null;
        var zeroChunks = Totoro.Actors.Fl.Wire.RoundStartWire.Parser.ParseFrom(bytes);
        zeroChunks.Model.ChunkLength = 0;
        var negative = Totoro.Actors.Fl.Wire.RoundStartWire.Parser.ParseFrom(bytes);
        negative.Model.Length = -5;

        foreach (var wire in new[] { missing, zeroChunks, negative })
        {
            Assert.Throws<MessageSerializationException>(() => FlTestBed.Registry.Deserialize(manifest, Google.Protobuf.MessageExtensions.ToByteArray(wire), System));
        }
    }

    [Test]
    public void A_result_with_a_malformed_partial_is_refused()
    {
        var update = new ClientUpdate(1, 99, new float[] { 1, 2 }, 1);
        var accumulator = new UpdateAccumulator(new ModelShape(99, 2), AggregationLimits.Default);
        accumulator.Accumulate(update);
        var (manifest, bytes) = FlTestBed.Registry.Serialize(new SubtreeResult("app", 77, 1, Node, accumulator.ToPartial(), [], RoundCounters.Zero));
        var wire = Totoro.Actors.Fl.Wire.SubtreeResultWire.Parser.ParseFrom(bytes);
        wire.Folded.TotalWeight = -1;

        Assert.Throws<MessageSerializationException>(() => FlTestBed.Registry.Deserialize(manifest, Google.Protobuf.MessageExtensions.ToByteArray(wire), System));
    }

    [TestCase(1e-3f, 10)]
    [TestCase(-250f, 1)]
    [TestCase(0f, 3)]
    public void A_fixed_point_partial_crosses_the_wire_bit_exact_in_the_fewest_bytes(float scale, double weight)
    {
        var shape = new ModelShape(99, 300);
        var accumulator = new UpdateAccumulator(shape, AggregationLimits.Default);
        var random = new Random(3);
        for (ulong id = 1; id <= 5; id++)
        {
            var delta = Enumerable.Range(0, 300).Select(_ => (float)((random.NextDouble() - 0.5) * scale)).ToArray();
            Assert.That(accumulator.Accumulate(new ClientUpdate(id, 99, delta, weight)), Is.Null);
        }

        var partial = accumulator.ToPartial();
        var message = new SubtreeResult("app", 77, 1, Node, partial, [], RoundCounters.Zero);
        var (manifest, bytes) = FlTestBed.Registry.Serialize(message);
        var wire = Totoro.Actors.Fl.Wire.SubtreeResultWire.Parser.ParseFrom(bytes);
        var back = ((SubtreeResult)FlTestBed.Registry.Deserialize(manifest, bytes, System)).Folded!;

        Assert.That(back.FixedSums.ToArray(), Is.EqualTo(partial.FixedSums.ToArray()));
        Assert.That(back.Mean.ToArray(), Is.EqualTo(partial.Mean.ToArray()));
        Assert.That((back.FixedPoint, back.TotalWeight, back.Shape), Is.EqualTo((partial.FixedPoint, partial.TotalWeight, shape)));
        Assert.That(wire.Folded.FixedSums.Length, Is.EqualTo(partial.VectorWireBytes).And.LessThan(300 * 8));
        Assert.That(message.WireSize, Is.GreaterThanOrEqualTo(bytes.Length), "the sim charges at least the bytes sent");
    }

    [Test]
    public void A_fixed_point_partial_that_is_impossible_or_malformed_is_refused()
    {
        var accumulator = new UpdateAccumulator(new ModelShape(99, 2), AggregationLimits.Default);
        accumulator.Accumulate(new ClientUpdate(1, 99, new float[] { 1, 2 }, 1));
        var (manifest, bytes) = FlTestBed.Registry.Serialize(new SubtreeResult("app", 77, 1, Node, accumulator.ToPartial(), [], RoundCounters.Zero));
        Totoro.Actors.Fl.Wire.SubtreeResultWire Edited(Action<Totoro.Actors.Fl.Wire.PartialWire> edit)
        {
            var wire = Totoro.Actors.Fl.Wire.SubtreeResultWire.Parser.ParseFrom(bytes);
            edit(wire.Folded);
            return wire;
        }

        var forged = new[]
        {
            Edited(p => p.FixedBlock = 0),
            Edited(p => p.ElementCount = 3),
            Edited(p => p.ElementCount = -1),
            Edited(p => p.FixedSums = Google.Protobuf.ByteString.CopyFrom(p.FixedSums.Span[1..])),
            Edited(p => p.FixedSums = Google.Protobuf.ByteString.CopyFrom([65, .. p.FixedSums.Span[1..]])),
            Edited(p => p.FixedSums = Google.Protobuf.ByteString.CopyFrom([0, .. p.FixedSums.Span[1..]])),
            Edited(p => p.FractionBits = 60),
            // Well-formed bytes, impossible sums: 2^63 − 1 from one contributor.
            Edited(p => p.FixedSums = Google.Protobuf.ByteString.CopyFrom([64, .. BitConverter.GetBytes(long.MaxValue), .. new byte[8]])),
        };
        foreach (var wire in forged)
        {
            Assert.Throws<MessageSerializationException>(() => FlTestBed.Registry.Deserialize(manifest, Google.Protobuf.MessageExtensions.ToByteArray(wire), System));
        }
    }

    private static object RoundTrip(object message)
    {
        var (manifest, bytes) = FlTestBed.Registry.Serialize(message);
        return FlTestBed.Registry.Deserialize(manifest, bytes, System);
    }

    private static TestCaseData Case(string manifest, object message) => new TestCaseData(manifest, message).SetArgDisplayNames(manifest + " " + message.GetType().Name);
}
