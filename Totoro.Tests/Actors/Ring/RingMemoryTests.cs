using System.Runtime.CompilerServices;
using Totoro.Actors.Ring;

namespace Totoro.Tests.Actors.Ring;

/// <summary>
/// Memory budget of ring state per node. Measured on a ring built through the join protocol (GC heap delta when
/// the states become unreachable), and projected for 10^6 nodes from a table filled from 10^6 random ids.
/// </summary>
public class RingMemoryTests
{
    private const int Nodes = 300;

    [Test]
    public void Ring_state_per_node_measured_after_joining_fits_the_budget()
    {
        var (retained, estimated) = MeasureRetainedBytes();
        var perNode = retained / (double)Nodes;
        TestContext.Out.WriteLine($"N={Nodes}: {perNode:F0} B/node retained on the GC heap; {estimated / (double)Nodes:F0} B/node by ApproximateBytes");
        Assert.That(perNode, Is.InRange(estimated / (double)Nodes * 0.75, estimated / (double)Nodes * 1.25), "the estimate used for the projection tracks the real heap");
        Assert.That(estimated / (double)Nodes, Is.LessThan(3 * 1024), "a 300-node ring keeps under 3 KiB of ring state per node");
    }

    [TestCase(3)]
    [TestCase(2)]
    [TestCase(1)]
    public void Projection_for_a_million_nodes(int candidatesPerSlot)
    {
        var random = new Random(11);
        var self = RingWorld.RandomId(random);
        var table = RoutingTable.Empty(self, IdGeometry.Default, candidatesPerSlot);
        var leaves = LeafSet.Empty(self, 16);
        var neighbors = NeighborhoodSet.Empty(RingSettings.Default.NeighborhoodSize);
        for (var i = 0; i < 1_000_000; i++)
        {
            var entry = new PeerEntry(RingWorld.RandomId(random), new NodeAddress(i), (uint)random.Next(1_000, 200_000));
            table = table.Insert(entry);
            leaves = leaves.Insert(entry);
            neighbors = neighbors.Insert(entry);
        }

        const int stateObject = 16 + 24 + (8 * 9) + 8;
        const int monitors = 24 + (16 * 24);
        var total = stateObject + monitors + table.ApproximateBytes() + leaves.ApproximateBytes() + neighbors.ApproximateBytes();
        TestContext.Out.WriteLine(
            $"10^6 nodes, {candidatesPerSlot} per slot: {table.Count} table entries in {table.Depth} rows = {table.ApproximateBytes()} B; total ≈ {total} B/node ≈ {total * 1e6 / (1 << 30):F2} GiB for 10^6 nodes");
        Assert.That(table.Count, Is.InRange(candidatesPerSlot * 15 * 4, (candidatesPerSlot * 15 * 5) + 16), "rows 0-3 full, row 4 partly filled");
        Assert.That(total, Is.LessThan(1024 + (table.Count * 24) + 1024), "no per-entry objects: ≈ 24 B per entry plus fixed overhead");
    }

    /// <summary>Heap bytes freed when the states become unreachable. A holder field, not a local, so JIT liveness cannot keep them.</summary>
    private static (long Retained, long Estimated) MeasureRetainedBytes()
    {
        var holder = new Holder();
        var (estimated, alive) = Fill(holder);
        var withStates = HeapAfterFullCollection();
        holder.States = null;
        var withoutStates = HeapAfterFullCollection();
        Assert.That(alive.IsAlive, Is.False, "the states were collected");
        return (withStates - withoutStates, estimated);
    }

    /// <summary>Touches the states only in here: unoptimized code keeps its temporaries alive until the method returns.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static (long Estimated, WeakReference Alive) Fill(Holder holder)
    {
        var states = BuildStates();
        holder.States = states;
        return (states.Sum(s => s.ApproximateBytes()), new WeakReference(states));
    }

    private static long HeapAfterFullCollection()
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        return GC.GetTotalMemory(forceFullCollection: false);
    }

    private sealed class Holder
    {
        public RingNodeState[]? States { get; set; }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static RingNodeState[] BuildStates()
    {
        var world = RingWorld.Create(Nodes, 99);
        world.BuildByJoining(Nodes, TimeSpan.FromMilliseconds(100));
        world.Pump.RunFor(TimeSpan.FromSeconds(10));
        return [.. Enumerable.Range(0, Nodes).Select(n => world[n]!)];
    }
}
