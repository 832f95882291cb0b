using System.Collections.Immutable;
using Totoro.Actors.Fl;
using Totoro.Kernel;

namespace Totoro.Tests.Actors.Fl;

/// <summary>The round's model streams down the tree in chunks (cut-through), over the serializing in-memory transport.</summary>
[TestFixture]
public sealed class FlChunkedMulticastTests
{
    /// <summary>64-byte chunks: the 68-parameter logreg model of the test bed travels in five chunks.</summary>
    private static readonly FlSettings Chunked = FlSettings.Default with { ModelChunkBytes = 64 };

    [Test]
    public void Every_invited_worker_receives_each_chunk_once_and_assembles_the_root_model_bit_for_bit()
    {
        var nodes = FlTestBed.Addresses(7);
        var bed = FlTestBed.Create(7, seed: 21, StaticTreeTopology.Empty.WithBalancedTree("app", nodes, fanOut: 2), settings: Chunked);
        var checkpoints = Checkpoints(bed, node: 0);
        var trace = new DeliveryTrace(bed);
        var spec = FlTestBed.App("app").Rounds(3).ClientsPerRound(7).OverSelection(1).Build();

        bed.Run(bed.Submit(0, spec));
        var models = Enumerable.Range(0, 3).Select(_ => checkpoints.ExpectMsg<AppCheckpoint>().Model.Parameters.ToArray()).ToArray();

        foreach (var round in new[] { 1L, 2L, 3L })
        {
            var receivers = trace.Chunks.Where(c => c.Chunk.Round == round).Select(c => c.To).Distinct().ToArray();
            Assert.That(receivers, Has.Length.EqualTo(6), $"round {round}: every node but the root gets the model");
            foreach (var node in receivers)
            {
                var manifest = trace.Starts.Single(s => s.To == node && s.Start.Round == round).Start.Model;
                var chunks = trace.Chunks.Where(c => c.To == node && c.Chunk.Round == round).Select(c => c.Chunk).ToArray();
                Assert.That(chunks.Select(c => c.Index).Order(), Is.EqualTo(Enumerable.Range(0, manifest.ChunkCount)), $"{node} round {round}: each chunk exactly once");
                var assembled = chunks.OrderBy(c => c.Index).SelectMany(c => c.Values.ToArray()).ToArray();
                Assert.That(ModelManifest.ChecksumOf(assembled), Is.EqualTo(manifest.Checksum));
                if (round > 1)
                {
                    Assert.That(assembled, Is.EqualTo(models[round - 2]), $"{node} round {round}: the root's model after round {round - 1}, bit for bit");
                }
            }
        }

        Assert.That(trace.Starts[0].Start.Model.ChunkCount, Is.EqualTo(5));
    }

    [Test]
    public void A_forwarder_passes_the_first_chunk_on_before_the_last_one_reaches_it()
    {
        // 512-byte chunks: the 2.7 kB model in six, each with ~150 bytes of headers.
        var (streamed, whole) = (ChainTimes(FlSettings.Default with { ModelChunkBytes = 512 }), ChainTimes(FlSettings.Default));

        Assert.That(streamed.FirstOnward, Is.LessThan(streamed.LastIn), "cut-through: chunk 0 left the forwarder while it still waited for the last chunk");
        Assert.That(streamed.LastOnward, Is.LessThan(whole.LastOnward), "the model reaches the end of the chain sooner than store-and-forward");
        Assert.That(whole.FirstOnward, Is.GreaterThan(whole.LastIn), "control: one whole-model chunk is forwarded only after it fully arrived");
    }

    [Test]
    public void A_lost_chunk_leaves_its_worker_out_and_the_round_closes_at_its_deadline()
    {
        var nodes = FlTestBed.Addresses(6);
        // The third envelope from the server to node 3 is its second model chunk (RoundStart, chunk 0, chunk 1, …).
        var links = new DropNth(nodes[0], nodes[3], 3);
        var bed = FlTestBed.Create(6, seed: 22, new StarTopology(nodes[0], nodes.Skip(1)), links, settings: Chunked);
        var trace = new DeliveryTrace(bed);
        var spec = FlTestBed.App("app").Rounds(2).ClientsPerRound(5).OverSelection(1).Build();

        var handle = bed.Submit(0, spec);
        bed.Run(handle);
        var reports = FlTestBed.Reports(handle);

        Assert.That(links.Dropped, Is.EqualTo(1));
        Assert.That(trace.Chunks.Count(c => c.To == nodes[3] && c.Chunk.Round == 1), Is.EqualTo(4), "node 3 got four of the five chunks");
        Assert.That(reports.Select(r => r.Participants), Is.EqualTo(new[] { 4, reports[1].Invited.Length }));
        var factor = FlSettings.Default.LevelBudgetFactor;
        Assert.That(reports[0].VirtualTime, Is.GreaterThanOrEqualTo(spec.RoundDeadline * factor * factor), "round 1 waited for node 3 until its deadline");
        Assert.That(reports[1].Invited, Does.Not.Contain(2), "worker 2 (node 3) missed round 1 and sits out round 2");
    }

    [Test]
    public void Duplicate_and_stale_chunks_reaching_a_worker_are_dropped_and_counted_in_the_round_report()
    {
        var nodes = FlTestBed.Addresses(4);
        // Training takes seconds of virtual time on these devices, so round 1 is still open when the intruder speaks.
        var bed = FlTestBed.Create(4, seed: 26, new StarTopology(nodes[0], nodes.Skip(1)), deviceFlops: _ => 1e4, settings: Chunked);
        var trace = new DeliveryTrace(bed);
        var spec = FlTestBed.App("app").Rounds(2).ClientsPerRound(3).OverSelection(1).Build();
        var intruder = bed.Scenario.CreateProbe(1);
        var victimHost = bed.Scenario[1].Resolve(new ActorPath(nodes[2], "/user/fl"));

        var handle = bed.Submit(0, spec);
        bed.Scenario.Advance(TimeSpan.FromSeconds(1));
        var first = trace.Chunks.First(c => c.To == nodes[2]).Chunk;
        intruder.Send(victimHost, first);
        intruder.Send(victimHost, first with { Round = 0 });
        bed.Run(handle);
        var reports = FlTestBed.Reports(handle);

        Assert.That(reports.Select(r => (r.StaleDropped, r.DuplicatesDropped)), Is.EqualTo(new[] { (1, 1), (0, 0) }));
        Assert.That(reports.Select(r => r.Participants), Has.All.EqualTo(3), "the intruder's copies change nothing else");
    }

    [Test]
    public void Two_apps_streaming_through_the_same_nodes_never_mix_their_chunks()
    {
        var nodes = FlTestBed.Addresses(7);
        var topology = StaticTreeTopology.Empty.WithBalancedTree("a", nodes, fanOut: 2).WithBalancedTree("b", nodes, fanOut: 2);
        var a = FlTestBed.App("a").Rounds(3).ClientsPerRound(5).OverSelection(1).Seed(31).Build();
        var b = FlTestBed.App("b").Rounds(3).ClientsPerRound(5).OverSelection(1).Seed(32).Build();
        var bed = FlTestBed.Create(7, seed: 23, topology, settings: Chunked);
        var checkpoints = Checkpoints(bed, node: 0);
        var trace = new DeliveryTrace(bed);

        var handles = new[] { bed.Submit(0, a), bed.Submit(0, b) };
        foreach (var handle in handles)
        {
            bed.Run(handle);
        }

        var together = Enumerable.Range(0, 6).Select(_ => checkpoints.ExpectMsg<AppCheckpoint>()).ToArray()
            .Where(c => c.Round == 3).ToDictionary(c => c.App, c => c.Model.Parameters.ToArray());
        var alone = new[] { a, b }.ToDictionary(s => s.Name, s => RunAlone(topology, s));

        foreach (var group in trace.Chunks.GroupBy(c => (c.To, c.Chunk.App, c.Chunk.Round)))
        {
            var manifest = trace.Starts.Single(s => s.To == group.Key.To && s.Start.Spec.Name == group.Key.App && s.Start.Round == group.Key.Round).Start.Model;
            var assembled = group.OrderBy(c => c.Chunk.Index).SelectMany(c => c.Chunk.Values.ToArray()).ToArray();
            Assert.That(ModelManifest.ChecksumOf(assembled), Is.EqualTo(manifest.Checksum), $"{group.Key}: only the app's own chunks");
        }

        Assert.That(FlTestBed.Reports(handles[0]).Concat(FlTestBed.Reports(handles[1])).Select(r => (r.StaleDropped, r.DuplicatesDropped)), Has.All.EqualTo((0, 0)));
        Assert.That(together["a"], Is.Not.EqualTo(together["b"]));
        Assert.That(together["a"], Is.EqualTo(alone["a"]), "app a trains exactly as it does alone");
        Assert.That(together["b"], Is.EqualTo(alone["b"]), "app b trains exactly as it does alone");
    }

    private static float[] RunAlone(IFlTopology topology, AppSpec spec)
    {
        var bed = FlTestBed.Create(7, seed: 24, topology, settings: Chunked);
        var checkpoints = Checkpoints(bed, node: 0);
        bed.Run(bed.Submit(0, spec));
        var all = Enumerable.Range(0, 3).Select(_ => checkpoints.ExpectMsg<AppCheckpoint>()).ToArray();
        return all.Single(c => c.Round == 3).Model.Parameters.ToArray();
    }

    /// <summary>Root → forwarder → worker on 10 kB/s uplinks: when chunks reach the forwarder and leave it.</summary>
    private static (TimeSpan FirstOnward, TimeSpan LastIn, TimeSpan LastOnward) ChainTimes(FlSettings settings)
    {
        var nodes = FlTestBed.Addresses(3);
        var bed = FlTestBed.Create(3, seed: 25, StaticTreeTopology.Empty.WithTree("app", nodes, [-1, 0, 1]), new FifoUplinks(10_000), settings: settings);
        var trace = new DeliveryTrace(bed);
        // A 676-parameter MLP (2.7 kB): several chunks, or one whole-model chunk.
        bed.Run(bed.Submit(0, FlTestBed.App("app").Model("mlp:32").Rounds(1).ClientsPerRound(3).OverSelection(1).Build()));

        var into = trace.Chunks.Where(c => c.To == nodes[1]).ToArray();
        var onward = trace.Chunks.Where(c => c.To == nodes[2]).ToArray();
        Assert.That(onward.Select(c => c.Chunk.Index), Is.EqualTo(into.Select(c => c.Chunk.Index)));
        return (onward.Min(c => c.At), into.Max(c => c.At), onward.Max(c => c.At));
    }

    private static TestKit.TestProbe Checkpoints(FlTestBed bed, int node)
    {
        var probe = bed.Scenario.CreateProbe(node);
        bed.Scenario[node].EventStream.Subscribe<AppCheckpoint>(probe.Ref);
        return probe;
    }

    /// <summary>Every RoundStart and ModelChunk that crossed the (serializing) transport, decoded from its bytes.</summary>
    private sealed class DeliveryTrace
    {
        public DeliveryTrace(FlTestBed bed)
        {
            bed.Scenario.Transport.OnDelivered += delivery =>
            {
                var envelope = delivery.Envelope;
                if (envelope.Manifest is "fl.round-start.v2" or "fl.model-chunk.v1")
                {
                    var message = FlTestBed.Registry.Deserialize(envelope.Manifest, envelope.Payload.Span, bed.Scenario[0]);
                    if (message is ModelChunk chunk)
                    {
                        Chunks.Add((delivery.At, delivery.To, chunk));
                    }
                    else
                    {
                        Starts.Add((delivery.To, (RoundStart)message));
                    }
                }
            };
        }

        public List<(TimeSpan At, Address To, ModelChunk Chunk)> Chunks { get; } = [];

        public List<(Address To, RoundStart Start)> Starts { get; } = [];
    }

    /// <summary>One FIFO uplink per sender at <paramref name="bytesPerSecond"/>, plus 1 ms of latency.</summary>
    private sealed class FifoUplinks(double bytesPerSecond) : ILinkModel
    {
        private readonly Dictionary<Address, TimeSpan> _free = [];

        public LinkDecision Decide(in LinkRequest request, Random random)
        {
            var start = _free.TryGetValue(request.From, out var free) && free > request.Now ? free : request.Now;
            var done = start + TimeSpan.FromSeconds(request.Bytes / bytesPerSecond);
            _free[request.From] = done;
            return LinkDecision.After(done - request.Now + TimeSpan.FromMilliseconds(1));
        }
    }

    /// <summary>Loses the <paramref name="n"/>-th envelope from <paramref name="from"/> to <paramref name="to"/>.</summary>
    private sealed class DropNth(Address from, Address to, int n) : ILinkModel
    {
        private int _seen;

        public int Dropped { get; private set; }

        public LinkDecision Decide(in LinkRequest request, Random random)
        {
            if (request.From == from && request.To == to && ++_seen == n)
            {
                Dropped++;
                return LinkDecision.Drop;
            }

            return LinkDecision.After(TimeSpan.FromMilliseconds(1));
        }
    }
}
