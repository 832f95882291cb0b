using System.Collections.Concurrent;
using System.Globalization;

namespace Totoro.Kernel;

/// <summary>The <c>/temp</c> branch: short-lived refs such as Ask promises, addressable from remote nodes while they live.</summary>
internal sealed class TempContainer(ActorSystem system)
{
    private readonly ConcurrentDictionary<string, InternalActorRef> _refs = new(StringComparer.Ordinal);
    private long _counter;

    public ActorPath NextPath() =>
        new(system.Address, "/temp/$" + Interlocked.Increment(ref _counter).ToString(CultureInfo.InvariantCulture));

    public void Add(InternalActorRef actorRef) => _refs[actorRef.Path.Name] = actorRef;

    public void Remove(InternalActorRef actorRef) => _refs.TryRemove(actorRef.Path.Name, out _);

    public InternalActorRef? Get(string name) => _refs.GetValueOrDefault(name);
}
