using System.Diagnostics.CodeAnalysis;
using Totoro.Actors.Forest;
using Totoro.Actors.Ring;
using Totoro.Kernel;

namespace Totoro.Actors.Sim;

/// <summary>
/// A simulated member's fold partial: the count and sum of member values (so the root's result can be checked
/// against the flat sum), sized on the wire as a model-sized update (<see cref="ISizedMessage"/>) so the network
/// model charges each upload what a real model delta would cost. The model's floats themselves are not simulated.
/// </summary>
internal sealed record SimPartial(long Count, double Sum, int Bytes) : ISizedMessage
{
    public int WireSize => Bytes;
}

/// <summary>Sums <see cref="SimPartial"/>s: associative and commutative, identity (0, 0).</summary>
internal sealed class SimPartialCombiner(int bytes) : FoldCombiner<SimPartial>
{
    public const string KindName = "sim-sum";

    public override string Kind => KindName;

    public override SimPartial TypedIdentity { get; } = new(0, 0, bytes);

    public override bool TryCombine(SimPartial left, SimPartial right, [NotNullWhen(true)] out SimPartial? combined)
    {
        combined = new SimPartial(left.Count + right.Count, left.Sum + right.Sum, bytes);
        return true;
    }
}

/// <summary>What the simulated members and roots saw, with virtual times. Owned by the world's single thread.</summary>
internal sealed class ForestSimRecorder
{
    /// <summary>Deliveries per (topic, message id, node).</summary>
    public Dictionary<(TopicId Topic, long MessageId, int Node), int> Deliveries { get; } = [];

    /// <summary>Latest delivery time per (topic, message id).</summary>
    public Dictionary<(TopicId Topic, long MessageId), TimeSpan> LastDelivery { get; } = [];

    public Dictionary<(TopicId Topic, long Round), (FoldCompleted Fold, TimeSpan At, int Node)> Folds { get; } = [];

    public long RootHandovers { get; set; }

    public long PartialsDropped { get; set; }

    /// <summary>A member's value for a topic: deterministic and distinct per (node id, topic).</summary>
    public static double ValueOf(NodeId node, TopicId topic) => (double)((node.Value ^ topic.Key.Value) % 1_000_003) / 1_000_003.0;
}

/// <summary>Every simulated member's subscriber: records deliveries and contributes its <see cref="SimPartial"/> to each fold round at once.</summary>
internal sealed class ForestSimMembers : ReceiveActor
{
    public ForestSimMembers(ForestSimRecorder recorder, int modelBytes)
    {
        Receive<ForestDelivery>(delivery =>
        {
            var node = delivery.At.Address.Value;
            var key = (delivery.Topic, delivery.MessageId, node);
            recorder.Deliveries[key] = recorder.Deliveries.GetValueOrDefault(key) + 1;
            recorder.LastDelivery[(delivery.Topic, delivery.MessageId)] = RingClock.Now(Context.Time);
            if (delivery.Fold is { } fold)
            {
                var partial = new SimPartial(1, ForestSimRecorder.ValueOf(delivery.At.Id, delivery.Topic), modelBytes);
                Sender!.Tell(new ContributeToRound(delivery.Topic, fold.Round, partial));
            }
        });
        Receive<ForestNotification>(_ => { });
    }
}

/// <summary>Observes every forest actor: fold results at roots, root hand-overs, dropped partials.</summary>
internal sealed class ForestSimObserver : ReceiveActor
{
    public ForestSimObserver(ForestSimRecorder recorder)
    {
        Receive<ForestNotification>(notification =>
        {
            switch (notification.Report)
            {
                case FoldCompleted fold:
                    recorder.Folds[(fold.Topic, fold.Round)] = (fold, RingClock.Now(Context.Time), notification.At.Address.Value);
                    break;
                case RootHandedOver:
                    recorder.RootHandovers++;
                    break;
                case PartialDropped:
                    recorder.PartialsDropped++;
                    break;
                default:
                    break;
            }
        });
        Receive<ForestDelivery>(_ => { });
    }
}
