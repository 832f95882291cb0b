namespace Totoro.Kernel;

/// <summary>A watcher on one node asks the watchee's node to report the watchee's death (or stop reporting it).</summary>
internal sealed record RemoteWatch(string Watchee, string Watcher, bool Unwatch) : IRemoteSystemMessage;

/// <summary>The watchee's node reports that the watchee stopped; sent to the watcher's path.</summary>
internal sealed record RemoteDeathNotice(string Watchee) : IRemoteSystemMessage;

/// <summary>Kernel traffic between nodes' remoting layers, handled there rather than by actors.</summary>
internal interface IRemoteSystemMessage;
