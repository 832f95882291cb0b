using System.Collections;
using System.Collections.Immutable;
using System.Runtime.CompilerServices;

namespace Totoro.Actors.Ring;

/// <summary>
/// A leaf set as a message carries it: the distinct members, as handles, in <see cref="LeafSet.Members"/> order.
/// Taken from a <see cref="LeafSet"/> it shares that version's two side arrays (both immutable), so answering an
/// announcement no longer copies the leaf set; taken from handles (the wire, tests) it holds them. Receivers never see
/// the sender's RTTs: members are read as handles only.
/// </summary>
[CollectionBuilder(typeof(LeafSetView), nameof(Create))]
internal readonly struct LeafSetView : IReadOnlyCollection<NodeHandle>, IEquatable<LeafSetView>
{
    private readonly PeerEntry[]? clockwise;
    private readonly PeerEntry[]? counterClockwise;
    private readonly ImmutableArray<NodeHandle> handles;

    private LeafSetView(PeerEntry[]? clockwise, PeerEntry[]? counterClockwise, ImmutableArray<NodeHandle> handles, int length)
    {
        this.clockwise = clockwise;
        this.counterClockwise = counterClockwise;
        this.handles = handles;
        Length = length;
    }

    /// <summary>Distinct members (the size a message pays for).</summary>
    public int Length { get; }

    int IReadOnlyCollection<NodeHandle>.Count => Length;

    /// <summary>The members of one leaf-set version, sharing its arrays (a node on both sides of a small ring counts once).</summary>
    public static LeafSetView FromSides(PeerEntry[] clockwise, PeerEntry[] counterClockwise)
    {
        ArgumentNullException.ThrowIfNull(clockwise);
        ArgumentNullException.ThrowIfNull(counterClockwise);
        var length = clockwise.Length;
        foreach (var entry in counterClockwise)
        {
            length += clockwise.AsSpan().IndexOfId(entry.Id) < 0 ? 1 : 0;
        }

        return new LeafSetView(clockwise, counterClockwise, default, length);
    }

    /// <summary>Members given as distinct handles (decoded from the wire, or written by a test).</summary>
    public static LeafSetView Create(ReadOnlySpan<NodeHandle> members) => OfHandles([.. members]);

    public static LeafSetView OfHandles(ImmutableArray<NodeHandle> members) =>
        new(null, null, members.IsDefault ? [] : members, members.IsDefault ? 0 : members.Length);

    /// <summary>Writes the members to <paramref name="destination"/> (at least <see cref="Length"/> long); returns how many.</summary>
    public int CopyTo(Span<NodeHandle> destination)
    {
        if (clockwise is { } sideA && counterClockwise is { } sideB && Length == sideA.Length + sideB.Length)
        {
            // No node on both sides (every ring larger than the leaf set): the two sides as they are.
            for (var index = 0; index < sideA.Length; index++)
            {
                destination[index] = NodeHandle.Of(sideA[index]);
            }

            for (var index = 0; index < sideB.Length; index++)
            {
                destination[sideA.Length + index] = NodeHandle.Of(sideB[index]);
            }

            return Length;
        }

        var count = 0;
        foreach (var member in this)
        {
            destination[count++] = member;
        }

        return count;
    }

    public Enumerator GetEnumerator() => new(this);

    IEnumerator<NodeHandle> IEnumerable<NodeHandle>.GetEnumerator() => Members().GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => Members().GetEnumerator();

    /// <summary>Same members in the same order.</summary>
    public bool Equals(LeafSetView other) => Length == other.Length && Members().SequenceEqual(other.Members());

    public override bool Equals(object? obj) => obj is LeafSetView other && Equals(other);

    public override int GetHashCode() => Length;

    public static bool operator ==(LeafSetView left, LeafSetView right) => left.Equals(right);

    public static bool operator !=(LeafSetView left, LeafSetView right) => !left.Equals(right);

    private IEnumerable<NodeHandle> Members()
    {
        foreach (var member in this)
        {
            yield return member;
        }
    }

    /// <summary>Allocation-free enumeration: the clockwise side, then counter-clockwise members not on it (or the handles).</summary>
    public struct Enumerator
    {
        private readonly LeafSetView view;
        private int index;

        internal Enumerator(LeafSetView view)
        {
            this.view = view;
            index = -1;
        }

        public NodeHandle Current { get; private set; }

        public bool MoveNext()
        {
            if (view.clockwise is not { } clockwise)
            {
                var members = view.handles.IsDefault ? [] : view.handles;
                if (++index >= members.Length)
                {
                    return false;
                }

                Current = members[index];
                return true;
            }

            while (++index < clockwise.Length + view.counterClockwise!.Length)
            {
                if (index < clockwise.Length)
                {
                    Current = NodeHandle.Of(clockwise[index]);
                    return true;
                }

                var entry = view.counterClockwise[index - clockwise.Length];
                if (clockwise.AsSpan().IndexOfId(entry.Id) < 0)
                {
                    Current = NodeHandle.Of(entry);
                    return true;
                }
            }

            return false;
        }
    }
}
