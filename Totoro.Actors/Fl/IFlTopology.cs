using System.Collections.Immutable;
using Totoro.Kernel;

namespace Totoro.Actors.Fl;

/// <summary>
/// The seam between the FL roles and the overlay: where an app's root is, who its workers are, and, per tree node,
/// the parent and the children that lead to given workers. The roles never learn whether this is a Totoro tree or
/// a star to a central server. An implementation is an immutable snapshot, shared by the actors of a process.
/// Nodes are the kernel addresses of the systems that host <c>/user/fl</c>.
/// </summary>
public interface IFlTopology
{
    /// <summary>A short label for reports: "star", "static-tree", "forest".</summary>
    string Kind { get; }

    /// <summary>The node that hosts the app's coordinator (Totoro: the live node closest to hash(app)).</summary>
    Address Root(string app);

    /// <summary>The app's workers; a worker's index here is its contributor id, which also selects its data partition.</summary>
    ImmutableArray<Address> Workers(string app);

    /// <summary>Where <paramref name="node"/> sends its round result; null at the root.</summary>
    Address? Parent(string app, Address node);

    /// <summary>
    /// For the workers (indices) a round needs below <paramref name="node"/>, the child that leads to each, grouped
    /// by child. The node itself and workers outside its subtree are left out. RoundStart goes only to these children.
    /// </summary>
    ImmutableDictionary<Address, ImmutableArray<int>> RouteToChildren(string app, Address node, ImmutableArray<int> workers);
}
