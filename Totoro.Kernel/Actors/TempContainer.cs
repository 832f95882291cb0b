using System.Collections.Concurrent;
using System.Globalization;

namespace Totoro.Kernel;

/// <summary>
/// The <c>/temp</c> branch: short-lived refs such as Ask promises, addressable from remote nodes while they live.
/// The map is created on first use: most of a simulation's many nodes never ask.
/// </summary>
internal sealed class TempContainer(ActorSystem system)
{
    private ConcurrentDictionary<string, InternalActorRef>? _refs;
    private long _counter;

    private ConcurrentDictionary<string, InternalActorRef> Refs
    {
        get
        {
            Interlocked.CompareExchange(ref _refs, new ConcurrentDictionary<string, InternalActorRef>(StringComparer.Ordinal), null);
            return _refs;
        }
    }

    public ActorPath NextPath() =>
        new(system.Address, "/temp/$" + Interlocked.Increment(ref _counter).ToString(CultureInfo.InvariantCulture));

    public void Add(InternalActorRef actorRef) => Refs[actorRef.Path.Name] = actorRef;

    public void Remove(InternalActorRef actorRef) => _refs?.TryRemove(actorRef.Path.Name, out _);

    public InternalActorRef? Get(string name) => _refs?.GetValueOrDefault(name);
}
