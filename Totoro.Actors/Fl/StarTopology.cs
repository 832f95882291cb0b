using System.Collections.Immutable;
using Totoro.Kernel;

namespace Totoro.Actors.Fl;

/// <summary>
/// The central-server baseline (FedScale/OpenFL): one server node is the root of every app, every worker is its
/// direct child, so the server terminates every upload and pays for every fold and evaluation of every app.
/// </summary>
public sealed class StarTopology : IFlTopology
{
    private readonly ImmutableArray<Address> _workers;

    public StarTopology(Address server, IEnumerable<Address> workers)
    {
        ArgumentNullException.ThrowIfNull(server);
        ArgumentNullException.ThrowIfNull(workers);
        Server = server;
        _workers = [.. workers];
        if (_workers.Contains(server))
        {
            throw new ArgumentException("the server is not a worker in the baseline", nameof(workers));
        }
    }

    public Address Server { get; }

    public string Kind => "star";

    public Address Root(string app) => Server;

    public ImmutableArray<Address> Workers(string app) => _workers;

    public Address? Parent(string app, Address node) => node == Server ? null : Server;

    public ImmutableDictionary<Address, ImmutableArray<int>> RouteToChildren(string app, Address node, ImmutableArray<int> workers) =>
        node != Server
            ? ImmutableDictionary<Address, ImmutableArray<int>>.Empty
            : workers.ToImmutableDictionary(w => _workers[w], w => ImmutableArray.Create(w));
}
