using System.Collections.Immutable;
using System.Runtime.InteropServices;

namespace Totoro.Actors.Ring;

/// <summary>
/// The phi-accrual failure detectors of a node's leaf-set members: monitored ids and their detectors in two parallel
/// immutable arrays, in leaf-set member order. A heartbeat copies only the detectors (8 bytes per member); the ids are
/// copied only when membership changes. One array of (id, detector) pairs cost 24 bytes per member on every heartbeat.
/// </summary>
internal readonly struct LeafMonitors : IEquatable<LeafMonitors>
{
    private readonly ImmutableArray<NodeId> ids;
    private readonly ImmutableArray<PhiAccrualDetector> detectors;

    private LeafMonitors(ImmutableArray<NodeId> ids, ImmutableArray<PhiAccrualDetector> detectors)
    {
        this.ids = ids;
        this.detectors = detectors;
    }

    public static LeafMonitors None { get; } = new([], []);

    public int Count => ids.IsDefault ? 0 : ids.Length;

    public NodeId IdAt(int index) => ids[index];

    public PhiAccrualDetector DetectorAt(int index) => detectors[index];

    /// <summary>Builds monitors from <paramref name="count"/> ids and detectors (arrays owned by the new value from now on).</summary>
    public static LeafMonitors Create(NodeId[] ids, PhiAccrualDetector[] detectors, int count)
    {
        ArgumentNullException.ThrowIfNull(ids);
        ArgumentNullException.ThrowIfNull(detectors);
        return count == 0
            ? None
            : new LeafMonitors(
                ImmutableCollectionsMarshal.AsImmutableArray(count == ids.Length ? ids : ids[..count]),
                ImmutableCollectionsMarshal.AsImmutableArray(count == detectors.Length ? detectors : detectors[..count]));
    }

    public int IndexOf(NodeId id) => Count == 0 ? -1 : ids.AsSpan().IndexOf(id);

    /// <summary>These monitors with member <paramref name="index"/>'s detector replaced (the ids are shared).</summary>
    public LeafMonitors WithDetector(int index, PhiAccrualDetector detector) => new(ids, detectors.SetItem(index, detector));

    /// <summary>These monitors without <paramref name="id"/>'s, order kept; the same value when it is not monitored.</summary>
    public LeafMonitors Without(NodeId id)
    {
        var index = IndexOf(id);
        return index < 0 ? this : Count == 1 ? None : new(ids.RemoveAt(index), detectors.RemoveAt(index));
    }

    /// <summary>Heap bytes of the two arrays.</summary>
    public long ApproximateBytes()
    {
        const int arrayHeader = 24;
        return Count == 0 ? 0 : (2 * arrayHeader) + (Count * (long)(System.Runtime.CompilerServices.Unsafe.SizeOf<NodeId>() + System.Runtime.CompilerServices.Unsafe.SizeOf<PhiAccrualDetector>()));
    }

    /// <summary>Identity: the same arrays (the state's "did the monitors change" check).</summary>
    public bool Equals(LeafMonitors other) => ids == other.ids && detectors == other.detectors;

    public override bool Equals(object? obj) => obj is LeafMonitors other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(ids, detectors);

    public static bool operator ==(LeafMonitors left, LeafMonitors right) => left.Equals(right);

    public static bool operator !=(LeafMonitors left, LeafMonitors right) => !left.Equals(right);
}
