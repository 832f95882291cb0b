namespace Totoro.Kernel;

/// <summary>Published on the event stream when the transport reports a peer node up.</summary>
public sealed record RemoteNodeUp(Address Node);

/// <summary>Published on the event stream when the transport reports a peer node down.</summary>
public sealed record RemoteNodeDown(Address Node);
