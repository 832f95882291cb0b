using Totoro.Kernel;

namespace Totoro.Tests.TestKit;

/// <summary>Wiring a scenario's actors to each other from the test thread; never crosses a node boundary.</summary>
public sealed record Peers(IActorRef[] Refs) : ILocalMessage;
