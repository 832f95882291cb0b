using Totoro.Kernel;

namespace Totoro.Actors.Fl;

/// <summary>Where the FL roles live on a node: the host at <c>/user/fl</c>, one aggregator and one coordinator per app under it.</summary>
internal static class FlPaths
{
    public const string HostName = "fl";

    public static string Coordinator(string app) => "coord-" + app;

    public static string Aggregator(string app) => "agg-" + app;

    public const string Worker = "worker";

    public static IActorRef Host(ActorSystem system, Address node) => system.Resolve(new ActorPath(node, "/user/" + HostName));

    public static IActorRef CoordinatorOn(ActorSystem system, Address node, string app) =>
        system.Resolve(new ActorPath(node, $"/user/{HostName}/{Coordinator(app)}"));

    public static IActorRef AggregatorOn(ActorSystem system, Address node, string app) =>
        system.Resolve(new ActorPath(node, $"/user/{HostName}/{Aggregator(app)}"));

    public static IActorRef WorkerOn(ActorSystem system, Address node, string app) =>
        system.Resolve(new ActorPath(node, $"/user/{HostName}/{Aggregator(app)}/{Worker}"));
}
