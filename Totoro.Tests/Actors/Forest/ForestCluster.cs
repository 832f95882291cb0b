using System.Collections.Immutable;
using Totoro.Actors.Forest;
using Totoro.Actors.Ring;
using Totoro.Kernel;
using Totoro.Tests.Actors.Ring;

namespace Totoro.Tests.Actors.Forest;

/// <summary>
/// The forest's actor shell in-process: a <see cref="RingCluster"/> (one actor system per node on the kernel's
/// in-memory transport, links timed by the network model, every message serialized) with a <see cref="ForestActor"/>
/// beside each node's ring actor, and one <see cref="MemberActor"/> per subscription that records what reaches it and
/// contributes <see cref="VectorSum"/> parts to fold rounds.
/// </summary>
internal sealed class ForestCluster
{
    public const string ForestActorName = "forest";
    private readonly IActorRef?[] _forests;

    private ForestCluster(int nodes, int seed, ForestSettings settings)
    {
        Ring = RingCluster.Create(nodes, seed, ForestTestSerializers.Registry);
        Settings = settings;
        _forests = new IActorRef?[nodes];
        Ring.Scenario.Transport.OnDelivered = RecordForestMessage;
    }

    public RingCluster Ring { get; }

    public ForestSettings Settings { get; }

    /// <summary>The push-down chooser of each forest actor started (default: the prefix rule).</summary>
    public Func<NodeHandle, IPushDownChooser>? PushDownFor { get; init; }

    public ForestRecorder Recorder { get; } = new();

    /// <summary>Every forest envelope that crossed the transport: (from node, to node, message).</summary>
    public List<(int From, int To, ForestMessage Message)> Wire { get; } = [];

    public static ForestCluster Build(int nodes, int seed, ForestSettings? settings = null, int? start = null, Func<NodeHandle, IPushDownChooser>? pushDown = null)
    {
        var cluster = new ForestCluster(nodes, seed, settings ?? ForestSettings.Default) { PushDownFor = pushDown };
        cluster.Ring.BuildByJoining(start ?? nodes, TimeSpan.FromMilliseconds(100));
        for (var node = 0; node < (start ?? nodes); node++)
        {
            cluster.StartForest(node);
        }

        cluster.Ring.Scenario.Advance(TimeSpan.FromSeconds(10));
        return cluster;
    }

    /// <summary>Starts node <paramref name="node"/> (ring join through a live node, then its forest actor).</summary>
    public void Join(int node)
    {
        Ring.Start(node, Ring.Live.First());
        StartForest(node);
    }

    public IActorRef Forest(int node) => _forests[node] ?? throw new InvalidOperationException($"node {node} is down");

    public IEnumerable<int> Live => Ring.Live;

    public void Crash(int node)
    {
        Ring.Crash(node);
        _forests[node] = null;
    }

    public void Create(int node, TopicId topic) => Forest(node).Tell(new CreateForestTopic(topic, 0, Listener(node, topic)));

    public void Subscribe(int node, TopicId topic) => Forest(node).Tell(new JoinTopic(topic, 0, Listener(node, topic)));

    public void Publish(int root, TopicId topic, long id, long? round, TimeSpan budget) =>
        Forest(root).Tell(new PublishToTopic(topic, id, "model", new byte[] { 7, 7, 7 }, round is { } r ? new FoldRequest(r, VectorSum.Combiner.Kind, budget) : null));

    public void Advance(TimeSpan duration) => Ring.Scenario.Advance(duration);

    public ForestState StateOf(int node) =>
        Ring.Scenario.Await(Forest(node).Ask<ForestSnapshot>(GetTreeReport.Instance, TimeSpan.FromSeconds(5))).State;

    /// <summary>The live nodes that consider themselves the home root of <paramref name="topic"/>.</summary>
    public List<int> Roots(TopicId topic) => [.. Live.Where(node => StateOf(node).Trees.GetValueOrDefault(topic) is { IsHomeRoot: true })];

    /// <summary>Depth of every live tree member by parent pointers; throws on a loop or a parent that does not list the child.</summary>
    public Dictionary<int, int> WalkToRoot(TopicId topic)
    {
        var states = Live.ToDictionary(node => node, StateOf);
        var depths = new Dictionary<int, int>();
        foreach (var (node, state) in states.Where(pair => pair.Value.Trees.ContainsKey(topic)))
        {
            var seen = new HashSet<int> { node };
            var current = node;
            while (states[current].Trees[topic] is { IsHomeRoot: false } tree)
            {
                var parent = (tree.Parent ?? throw new InvalidOperationException($"node {current} is detached from {topic}: {tree.Describe()}, subscribe sent at {tree.SubscribeSentAt}, path [{string.Join(",", tree.Path.Select(id => Ring.Ids.IndexOf(id)))}], children [{string.Join(",", tree.Children.Select(c => c.Handle.Address.Value))}]")).Address.Value;
                if (!states.TryGetValue(parent, out var above) || !above.Trees.TryGetValue(topic, out var parentTree) || parentTree.IndexOfChild(Ring.Ids[current]) < 0)
                {
                    throw new InvalidOperationException($"node {current}: parent {parent} is down, not in {topic}, or does not list it");
                }

                if (!seen.Add(parent))
                {
                    throw new InvalidOperationException($"loop through node {parent} in {topic}");
                }

                current = parent;
            }

            depths[node] = seen.Count - 1;
        }

        return depths;
    }

    private void StartForest(int node)
    {
        var system = Ring.Scenario[node];
        var self = new NodeHandle(Ring.Ids[node], new NodeAddress(node));
        var links = new TransportForestLinks(system, RingAddressBook.Default with { ActorName = ForestActorName });
        var start = new ForestStart(self, 0, Settings, new FoldCombiners([VectorSum.Combiner]), Ring.ActorOf(node), links)
        {
            PushDown = PushDownFor?.Invoke(self) ?? PrefixPushDownChooser.Instance,
        };
        _forests[node] = system.ActorOf(ForestActor.Props(start), ForestActorName);
        _forests[node]!.Tell(new ObserveForest(system.ActorOf(Props.Create(() => new ReportObserver(Recorder, node)))));
        Ring.Scenario.RunUntilIdle();
    }

    private IActorRef Listener(int node, TopicId topic) =>
        Ring.Scenario[node].ActorOf(Props.Create(() => new MemberActor(Recorder, node, Ring.Ids[node], topic)));

    private void RecordForestMessage(Totoro.Kernel.TransportDelivery delivery)
    {
        var envelope = delivery.Envelope;
        if (!envelope.Manifest.StartsWith("forest.", StringComparison.Ordinal) || delivery.From.Host is not { } from || delivery.To.Host is not { } to)
        {
            return;
        }

        var message = ForestTestSerializers.Registry.Deserialize(envelope.Manifest, envelope.Payload.Span, NoActorRefs.Instance) switch
        {
            ForestEnvelope bare => bare.Message,
            AckedForestEnvelope acked => acked.Envelope.Message,
            _ => null,
        };
        if (message is null)
        {
            return;
        }

        Wire.Add((int.Parse(from["node-".Length..], System.Globalization.CultureInfo.InvariantCulture), int.Parse(to["node-".Length..], System.Globalization.CultureInfo.InvariantCulture), message));
    }
}

/// <summary>What the member actors saw; owned by the scenario's single thread.</summary>
internal sealed class ForestRecorder
{
    public List<(int Node, TopicId Topic, long MessageId, int BlobBytes)> Deliveries { get; } = [];

    public List<(int Node, ForestReport Report)> Reports { get; } = [];

    public IEnumerable<FoldCompleted> Folds(TopicId topic) => Reports.Select(r => r.Report).OfType<FoldCompleted>().Where(f => f.Topic == topic);
}

/// <summary>A member of one topic on one node: records what is delivered, and contributes to every fold round it is asked for.</summary>
internal sealed class MemberActor : ReceiveActor
{
    public MemberActor(ForestRecorder recorder, int node, NodeId id, TopicId topic)
    {
        Receive<ForestDelivery>(delivery =>
        {
            recorder.Deliveries.Add((node, delivery.Topic, delivery.MessageId, delivery.Blob.Length));
            if (delivery.Fold is { } fold && delivery.Topic == topic)
            {
                Sender!.Tell(new ContributeToRound(topic, fold.Round, VectorSum.For(id, topic, fold.Round)));
            }
        });
    }
}

/// <summary>Every report of one node's forest actor (it observes all topics), into the recorder.</summary>
internal sealed class ReportObserver : ReceiveActor
{
    public ReportObserver(ForestRecorder recorder, int node)
    {
        Receive<ForestNotification>(notification => recorder.Reports.Add((node, notification.Report)));
        Receive<ForestDelivery>(_ => { });
    }
}

/// <summary>Forest messages hold no actor refs; decoding them for inspection needs no resolver.</summary>
internal sealed class NoActorRefs : IActorRefResolver
{
    public static NoActorRefs Instance { get; } = new();

    public IActorRef Resolve(string path) => throw new InvalidOperationException("forest messages carry no actor refs");
}
