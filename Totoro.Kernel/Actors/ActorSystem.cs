using Microsoft.Extensions.Logging;

namespace Totoro.Kernel;

/// <summary>
/// A node: a hierarchy of actors under <c>/user</c>, a clock, a random source, an event stream, dead letters and an
/// optional transport to other nodes. Cheap enough to host many per process on one <see cref="DeterministicWorld"/>.
/// </summary>
public sealed class ActorSystem : IAsyncDisposable, IActorRefResolver
{
    private readonly ActorCell _root;
    private readonly ActorCell _user;
    private readonly Dispatcher _defaultDispatcher;
    private readonly IReadOnlyDictionary<string, Dispatcher> _dispatchers;
    private static readonly Props GuardianProps = Props.Create<GuardianActor>();
    private TaskCompletionSource? _terminated;
    private int _rootTerminated;
    private readonly Remoting? _remoting;
    private readonly TempContainer _temp;
    private DeadLetterActorRef? _deadLetters;
    private EventStream? _eventStream;

    private ActorSystem(string name, ActorSystemSettings settings)
    {
        Name = name;
        Settings = settings;
        Address = new Address(name, settings.Host, settings.Port);
        World = settings.World;
        Time = World?.Time ?? settings.Time ?? TimeProvider.System;
        Random = World?.Random ?? Random.Shared;
        Scheduler = new KernelScheduler(Time);
        Serialization = settings.Serialization ?? SerializerRegistry.CreateWithKernelMessages();
        SerializeAllMessages = settings.SerializeAllMessages;
        LoggerFactory = settings.LoggerFactory;
        Logger = LoggerFactory.CreateLogger("Totoro.Kernel.ActorSystem");
        GuardianStrategy = settings.GuardianStrategy;
        _dispatchers = settings.Dispatchers;
        _defaultDispatcher = World?.Dispatcher ?? settings.DefaultDispatcher ?? SharedThreadPool.Instance;
        _temp = new TempContainer(this);

        var rootPath = new ActorPath(Address, "/");
        _root = new ActorCell(this, null, rootPath, GuardianProps, _defaultDispatcher) { IsGuardian = true };
        _root.InitializeGuardian(new GuardianActor());
        _user = _root.CreateGuardianChild("user", new GuardianActor());
        if (settings.Transport is { } transport)
        {
            _remoting = new Remoting(this, transport);
            transport.Bind(Address, _remoting);
        }
        KernelLog.SystemStarted(Logger, Address);
    }

    public string Name { get; }

    public Address Address { get; }

    public ActorSystemSettings Settings { get; }

    public DeterministicWorld? World { get; }

    /// <summary>The one clock; virtual under a world.</summary>
    public TimeProvider Time { get; }

    /// <summary>The one random source; the world's seeded generator under a world, <see cref="Random.Shared"/> otherwise.</summary>
    public Random Random { get; }

    public IScheduler Scheduler { get; }

    public SerializerRegistry Serialization { get; }

    public ILoggerFactory LoggerFactory { get; }

    public EventStream EventStream => _eventStream ??= new EventStream();

    public IActorRef DeadLetters => DeadLetterRef;

    public Task WhenTerminated => Termination.Task;

    internal ILogger Logger { get; }

    /// <summary>Created on first use: most of a large simulation's nodes are never awaited.</summary>
    private TaskCompletionSource Termination
    {
        get
        {
            if (_terminated is null)
            {
                Interlocked.CompareExchange(ref _terminated, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), null);
                if (Volatile.Read(ref _rootTerminated) == 1)
                {
                    _terminated.TrySetResult();
                }
            }
            return _terminated;
        }
    }

    internal bool SerializeAllMessages { get; }

    internal SupervisorStrategy GuardianStrategy { get; }

    internal KernelScheduler KernelScheduler => (KernelScheduler)Scheduler;

    internal DeadLetterActorRef DeadLetterRef => _deadLetters ??= new DeadLetterActorRef(this);

    internal TempContainer Temp => _temp;

    internal Remoting? Remoting => _remoting;

    public static ActorSystem Create(string name, ActorSystemSettings? settings = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return new ActorSystem(name, settings ?? new ActorSystemSettings());
    }

    /// <summary>Creates a top-level actor under <c>/user</c>.</summary>
    public IActorRef ActorOf(Props props, string? name = null) => _user.CreateChild(props, name);

    /// <summary>Paths of the live actors under <c>/user</c>, each parent before its children (diagnostics, the ops shell).</summary>
    public IReadOnlyList<ActorPath> UserActorPaths()
    {
        var paths = new List<ActorPath>();
        var pending = new Stack<IActorRef>(_user.GetChildren().OrderByDescending(c => c.Path.ToString(), StringComparer.Ordinal));
        while (pending.TryPop(out var actor))
        {
            paths.Add(actor.Path);
            if (actor is ActorCell cell)
            {
                foreach (var child in cell.GetChildren().OrderByDescending(c => c.Path.ToString(), StringComparer.Ordinal))
                {
                    pending.Push(child);
                }
            }
        }
        return paths;
    }

    public void Stop(IActorRef actor)
    {
        ArgumentNullException.ThrowIfNull(actor);
        if (actor is InternalActorRef target)
        {
            target.SendSystemMessage(new Terminate());
        }
    }

    /// <summary>Stops every actor (children before parents) and unbinds from the transport; completes when done.</summary>
    public Task Terminate()
    {
        _root.SendSystemMessage(new Terminate());
        return WhenTerminated;
    }

    public async ValueTask DisposeAsync()
    {
        if (World is null)
        {
            await Terminate().ConfigureAwait(false);
        }
        else
        {
            _ = Terminate();
            World.RunUntilIdle();
        }
    }

    /// <summary>Finds the ref for a path: a local actor, a remote ref through the transport, or dead letters.</summary>
    public IActorRef Resolve(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return Resolve(ActorPath.Parse(path));
    }

    public IActorRef Resolve(ActorPath path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (path.Address.Equals(Address))
        {
            return ResolveLocal(path.Elements) ?? (IActorRef)DeadLetterRef;
        }
        return _remoting is { } remoting ? new RemoteActorRef(path, remoting) : DeadLetterRef;
    }

    internal InternalActorRef? ResolveLocal(string elements)
    {
        if (elements.StartsWith("/temp/", StringComparison.Ordinal))
        {
            return _temp.Get(elements["/temp/".Length..]);
        }
        var cell = _root;
        foreach (var name in elements.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            cell = cell.GetChild(name);
            if (cell is null)
            {
                return null;
            }
        }
        return cell;
    }

    internal Dispatcher ResolveDispatcher(string? name)
    {
        if (name is null || World is not null)
        {
            return _defaultDispatcher;
        }
        return _dispatchers.TryGetValue(name, out var dispatcher)
            ? dispatcher
            : throw new InvalidOperationException($"No dispatcher named '{name}' is configured in ActorSystemSettings.Dispatchers");
    }

    internal void PublishDeadLetter(object message, IActorRef? sender, IActorRef recipient)
    {
        if (Logger.IsEnabled(LogLevel.Debug))
        {
            KernelLog.DeadLetter(Logger, message.GetType().Name, sender?.Path.ToString() ?? "nobody", recipient.Path.ToString());
        }
        if (message is not DeadLetter && _eventStream is { } stream)
        {
            stream.Publish(new DeadLetter(message, sender, recipient));
        }
    }

    internal void OnRootTerminated()
    {
        if (_remoting is { } remoting)
        {
            remoting.Unbind();
        }
        KernelLog.SystemTerminated(Logger, Address);
        Volatile.Write(ref _rootTerminated, 1);
        Termination.TrySetResult();
    }

    public override string ToString() => Address.ToString();

    /// <summary>The process-wide thread-pool dispatcher used when a system names no other.</summary>
    private static class SharedThreadPool
    {
        public static readonly ThreadPoolDispatcher Instance = new();
    }
}
