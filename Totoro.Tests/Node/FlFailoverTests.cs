using System.Collections.Immutable;
using Totoro.Actors.Fl;
using Totoro.Actors.Ring;
using Totoro.Kernel;
using Totoro.Ml.Aggregation;
using Totoro.Tests.Actors.Fl;

namespace Totoro.Tests.Node;

/// <summary>
/// Root fail-over on a deterministic world: the coordinator replicates its checkpoint to the next-closest members
/// after every round; when the root dies and the (ring-derived) topology drops it, the next-closest member resumes.
/// </summary>
public sealed class FlFailoverTests
{
    private const string App = "failover";

    private static RingMemberTopology Topology(IEnumerable<int> members) =>
        new(members.Select(i => new RingMember(NodeId.FromName($"node-{i}"), FlTestBed.Addresses(6)[i])), fanOut: 2);

    [TestCase(EvaluationMode.Inline)]
    [TestCase(EvaluationMode.Overlapped)]
    public void Killing_the_root_mid_run_resumes_at_the_next_closest_member_from_the_last_checkpoint_and_reaches_the_target(EvaluationMode evaluation)
    {
        var everyone = Topology(Enumerable.Range(0, 6));
        var nodes = FlTestBed.Addresses(6);
        var root = nodes.IndexOf(everyone.Root(App));
        var successor = everyone.Successors(App, 1)[0];
        // Overlapped, the dead root had the round after its last checkpoint in flight; the replica still holds the evaluated round's model.
        var bed = FlTestBed.Create(6, seed: 31, everyone, deviceFlops: _ => 1e5, settings: FlSettings.Default with { Evaluation = evaluation });
        var replicas = new List<AppReplica>();
        var startsFromSuccessor = new List<RoundStart>();
        var startsFromRoot = new List<long>();
        bed.Scenario.Transport.OnDelivered += delivery =>
        {
            switch (delivery.Envelope.Manifest)
            {
                case "fl.round-start.v2" when delivery.From == nodes[root]:
                    startsFromRoot.Add(((RoundStart)FlTestBed.Registry.Deserialize(delivery.Envelope.Manifest, delivery.Envelope.Payload.Span, bed.Scenario[nodes.IndexOf(delivery.To)])).Round);
                    break;
                case "fl.app-replica.v1" when delivery.To == successor:
                    replicas.Add((AppReplica)FlTestBed.Registry.Deserialize(delivery.Envelope.Manifest, delivery.Envelope.Payload.Span, bed.Scenario[nodes.IndexOf(successor)]));
                    break;
                case "fl.round-start.v2" when delivery.From == successor:
                    startsFromSuccessor.Add((RoundStart)FlTestBed.Registry.Deserialize(delivery.Envelope.Manifest, delivery.Envelope.Payload.Span, bed.Scenario[nodes.IndexOf(delivery.To)]));
                    break;
            }
        };
        var submitter = (root + 1) % 6;
        var handle = bed.Submit(submitter, FlTestBed.App(App).Rounds(60).ClientsPerRound(5).OverSelection(1).LearningRate(0.02).Target(0.9).Build());

        // Two checkpoints: by the third, this app's accuracy puts the target in sight, and an overlapped root waits for its evaluation.
        Assert.That(bed.Scenario.RunUntil(() => replicas.Count >= 2, TimeSpan.FromHours(1)), Is.True, "two checkpoints reach the successor");
        var checkpoint = replicas[^1];
        Assert.That(startsFromRoot.Max(), Is.EqualTo(evaluation == EvaluationMode.Overlapped ? checkpoint.Round + 1 : checkpoint.Round), "overlapped: the next round is out when the checkpoint is");
        bed.Scenario.Crash(root);
        var survivors = Topology(Enumerable.Range(0, 6).Where(i => i != root));
        foreach (var i in Enumerable.Range(0, 6).Where(i => i != root))
        {
            bed.Scenario[i].Resolve(new ActorPath(nodes[i], "/user/fl")).Tell(new FlTopologyChanged(survivors));
        }

        var result = bed.Run(handle);
        var reports = FlTestBed.Reports(handle);

        Assert.That(survivors.Root(App), Is.EqualTo(successor), "the next-closest member is the new root");
        Assert.That(result.Outcome, Is.EqualTo(AppOutcome.TargetReached), result.Error);
        Assert.That(reports.Select(r => r.Round), Is.EqualTo(Enumerable.Range(1, reports.Count).Select(i => (long)i)), "rounds continue, none repeated or lost");
        Assert.That(reports.Count, Is.GreaterThan(checkpoint.Round), "training went on after the crash");
        Assert.That(reports[(int)checkpoint.Round - 1].Accuracy, Is.EqualTo(checkpoint.LastAccuracy));
        var resumed = startsFromSuccessor.First(s => s.Coordinator == successor);
        Assert.That(resumed.Round, Is.EqualTo(checkpoint.Round + 1), "the first round of the new root follows the checkpoint");
        Assert.That(resumed.Model.Checksum, Is.EqualTo(ModelManifest.ChecksumOf(checkpoint.Model.Parameters.Span)), "it starts from the checkpointed model");
        Assert.That(resumed.Run, Is.GreaterThan(checkpoint.Run), "a new run, so the tree drops what the dead root started");
    }

    [Test]
    public void An_app_that_ended_is_not_resumed_when_its_old_root_fails_later()
    {
        var everyone = Topology(Enumerable.Range(0, 6));
        var nodes = FlTestBed.Addresses(6);
        var root = nodes.IndexOf(everyone.Root(App));
        var successor = nodes.IndexOf(everyone.Successors(App, 1)[0]);
        var bed = FlTestBed.Create(6, seed: 32, everyone, deviceFlops: _ => 1e5);
        var replicas = 0;
        bed.Scenario.Transport.OnDelivered += delivery => replicas += delivery.Envelope.Manifest == "fl.app-replica.v1" ? 1 : 0;
        var handle = bed.Submit((root + 1) % 6, FlTestBed.App(App).Rounds(4).ClientsPerRound(5).OverSelection(1).Build());
        Assert.That(bed.Run(handle).Outcome, Is.EqualTo(AppOutcome.BudgetExhausted));
        Assert.That(replicas, Is.GreaterThan(0), "checkpoints were replicated while it ran");

        bed.Scenario.Crash(root);
        var survivors = Topology(Enumerable.Range(0, 6).Where(i => i != root));
        foreach (var i in Enumerable.Range(0, 6).Where(i => i != root))
        {
            bed.Scenario[i].Resolve(new ActorPath(nodes[i], "/user/fl")).Tell(new FlTopologyChanged(survivors));
        }

        bed.Scenario.RunUntilIdle();
        var status = bed.Scenario.Await(bed.Scenario[successor].Resolve(new ActorPath(nodes[successor], "/user/fl"))
            .Ask<AppStatus>(new QueryApp(App), TimeSpan.FromSeconds(5), bed.Scenario[successor]));
        Assert.That(status.Running, Is.False, "the ended app's replicas were dropped");
        Assert.That(status.Ended, Is.Not.Null, "the successor, now the key's node, still knows how the app ended");
        Assert.That((status.Ended!.Outcome, status.Ended.Rounds, status.Root), Is.EqualTo((AppOutcome.BudgetExhausted, 4L, nodes[root].ToString())));
    }

    [Test]
    public void A_submission_between_nodes_that_disagree_on_the_root_is_refused_after_the_hop_limit()
    {
        var nodes = FlTestBed.Addresses(2);
        var rootIsOne = StaticTreeTopology.Empty.WithTree(App, [nodes[1], nodes[0]], [-1, 0]);
        var rootIsZero = StaticTreeTopology.Empty.WithTree(App, [nodes[0], nodes[1]], [-1, 0]);
        var bed = FlTestBed.Create(2, seed: 33, rootIsOne);
        var submits = 0;
        bed.Scenario.Transport.OnDelivered += delivery => submits += delivery.Envelope.Manifest == "fl.submit-app.v1" ? 1 : 0;
        bed.Scenario[1].Resolve(new ActorPath(nodes[1], "/user/fl")).Tell(new FlTopologyChanged(rootIsZero));
        bed.Scenario.RunUntilIdle();

        var result = bed.Run(bed.Submit(0, FlTestBed.App(App).Build()));

        Assert.That(result.Outcome, Is.EqualTo(AppOutcome.Failed));
        Assert.That(result.Error, Does.Contain("no stable root after 8 forwards"));
        Assert.That(submits, Is.EqualTo(FlSettings.Default.MaxSubmitHops), "forwarded exactly up to the limit");
    }

    [Test]
    public void A_member_that_joins_closer_to_the_key_does_not_take_an_app_from_a_live_root()
    {
        var book = ReplicaBook.Empty.Store(Replica(run: 5, round: 3, root: FlTestBed.Addresses(6)[0]));
        var withoutOldRoot = new RingMemberTopology([new RingMember(NodeId.FromName("x"), FlTestBed.Addresses(6)[1])], 2);
        var withOldRoot = new RingMemberTopology(
            [new RingMember(NodeId.FromName("x"), FlTestBed.Addresses(6)[1]), new RingMember(new NodeId(UInt128.MaxValue / 3), FlTestBed.Addresses(6)[0])], 2);

        Assert.That(book.TakeOvers(withoutOldRoot, FlTestBed.Addresses(6)[1]).Select(r => r.Round), Is.EqualTo(new[] { 3L }));
        Assert.That(book.TakeOvers(withOldRoot, withOldRoot.Root(App)), Is.Empty, "the old root is still a member");
        Assert.That(book.TakeOvers(withoutOldRoot, FlTestBed.Addresses(6)[2]), Is.Empty, "only the new root resumes");
    }

    [Test]
    public void The_replica_book_keeps_the_latest_checkpoint_and_forgets_an_app_that_ended()
    {
        var root = FlTestBed.Addresses(6)[0];
        var book = ReplicaBook.Empty.Store(Replica(5, 3, root)).Store(Replica(5, 2, root)).Store(Replica(4, 9, root));
        Assert.That(book.Replicas[App].Round, Is.EqualTo(3));
        Assert.That(book.Store(Replica(6, 1, root)).Replicas[App].Run, Is.EqualTo(6), "a newer run replaces an older one");
        Assert.That(book.Drop(App, 4).Replicas, Contains.Key(App), "dropping an older run keeps the newer replica");
        Assert.That(book.Drop(App, 5).Replicas, Is.Empty);
    }

    [Test]
    public void A_replica_round_trips_the_wire_with_its_optimizer_state()
    {
        var replica = Replica(7, 4, FlTestBed.Addresses(2)[1]) with
        {
            LastReport = new RoundReport(App, 4, 0.75, 0.5, 0.6, 3, [0, 1, 2], 0, 0, 100, 200, TimeSpan.FromSeconds(3), TimeSpan.Zero),
            Model = new GlobalModel(42, 4, new float[] { 0.5f, -2f, 3f }),
            Optimizer = new ServerOptimizerState("fedadam", new float[] { 1, 2, 3 }, new float[] { 4, 5, 6 }),
        };
        var (manifest, bytes) = FlTestBed.Registry.Serialize(replica);
        var system = ActorSystem.Create("totoro", new ActorSystemSettings { Serialization = FlTestBed.Registry });
        var read = (AppReplica)FlTestBed.Registry.Deserialize(manifest, bytes, system);

        Assert.That(manifest, Is.EqualTo("fl.app-replica.v1"));
        Assert.That((read.Spec, read.Run, read.Round, read.LastAccuracy, read.Root), Is.EqualTo((replica.Spec, replica.Run, replica.Round, replica.LastAccuracy, replica.Root)));
        Assert.That(read.Model.Parameters.ToArray(), Is.EqualTo(replica.Model.Parameters.ToArray()));
        Assert.That((read.Optimizer.Name, read.Optimizer.First.ToArray(), read.Optimizer.Second.ToArray()), Is.EqualTo(("fedadam", new float[] { 1, 2, 3 }, new float[] { 4, 5, 6 })));
        Assert.That(read.Client.Path, Is.EqualTo(replica.Client.Path));
        Assert.That(read.LastReport! with { Invited = [] }, Is.EqualTo(replica.LastReport! with { Invited = [] }));
        Assert.That(read.LastReport!.Invited, Is.EqualTo(replica.LastReport!.Invited));
        var mismatched = FlTestBed.Registry.Serialize(replica with { Model = new GlobalModel(42, 4, new float[] { 1f }) });
        Assert.Throws<MessageSerializationException>(() => FlTestBed.Registry.Deserialize(mismatched.Manifest, mismatched.Bytes, system), "optimizer state that does not fit the model is refused");
        var dropped = FlTestBed.Registry.Serialize(new DropReplica(App, 7));
        Assert.That(FlTestBed.Registry.Deserialize(dropped.Manifest, dropped.Bytes, system), Is.EqualTo(new DropReplica(App, 7)));
    }

    [Test]
    public void A_restored_server_optimizer_continues_exactly_where_its_snapshot_left_off()
    {
        var model = new float[] { 1, -1, 0.5f };
        var original = AdaptiveServerOptimizer.FedAdam(0.1);
        original.Step(model, [0.2f, -0.1f, 0.05f]);
        var restored = AdaptiveServerOptimizer.FedAdam(0.1);
        restored.Restore(original.Snapshot());
        var a = (float[])model.Clone();
        var b = (float[])model.Clone();

        original.Step(a, [0.1f, 0.1f, -0.3f]);
        restored.Step(b, [0.1f, 0.1f, -0.3f]);

        Assert.That(b, Is.EqualTo(a));
        Assert.Throws<ArgumentException>(() => new FedAvgM().Restore(original.Snapshot()));
    }

    private static AppReplica Replica(long run, long round, Address root)
    {
        var system = ActorSystem.Create("totoro", new ActorSystemSettings { Serialization = FlTestBed.Registry });
        var client = system.Resolve(new ActorPath(system.Address, "/user/fl-client-failover-1"));
        return new AppReplica(
            FlTestBed.App(App).Build(), run, round, new GlobalModel(42, round, new float[] { 0.5f, -2f }), new ServerOptimizerState("sgd", ReadOnlyMemory<float>.Empty, ReadOnlyMemory<float>.Empty),
            0.75, client, root, null);
    }
}
