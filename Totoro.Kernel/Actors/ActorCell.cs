using System.Runtime.CompilerServices;
using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Totoro.Kernel;

/// <summary>
/// One actor's runtime: its ref, mailbox, lifecycle and supervision state in a single object, so an idle actor
/// costs this object, its path and the actor instance. Rarely used state (watchers, timers, stash, children's
/// restart statistics) lives in a lazily allocated <see cref="CellExtras"/>.
/// </summary>
internal sealed partial class ActorCell : InternalActorRef, IActorContext, IThreadPoolWorkItem
{
    private const int StatusIdle = 0;
    private const int StatusScheduled = 1;

    private readonly ActorSystem _system;
    private readonly ActorCell? _parent;
    private readonly ActorPath _path;
    private readonly Props _props;
    private readonly Dispatcher _dispatcher;

    private ActorBase? _actor;
    private CellFlags _flags;
    private int _status;
    private SystemMessage? _systemHead;
    private ConcurrentQueue<Envelope>? _mailbox;
    private CellExtras? _extras;
    private TimerScheduler? _timers;
    private object? _currentMessage;
    private IActorRef? _currentSender;

    public ActorCell(ActorSystem system, ActorCell? parent, ActorPath path, Props props, Dispatcher dispatcher)
    {
        _system = system;
        _parent = parent;
        _path = path;
        _props = props;
        _dispatcher = dispatcher;
    }

    [Flags]
    private enum CellFlags
    {
        None = 0,
        Failed = 1,
        Terminating = 2,
        Terminated = 4,
        AwaitingAsync = 8,
        RecreatePending = 16,
        DrainScheduled = 32,
        Guardian = 64,
        Started = 128,
    }

    public override ActorPath Path => _path;

    internal override ActorSystem Owner => _system;

    public IActorRef Self => this;

    public IActorRef? Sender => _currentSender;

    public IActorRef? Parent => _parent;

    public ActorSystem System => _system;

    public Props Props => _props;

    public Random Random => _system.Random;

    public TimeProvider Time => _system.Time;

    /// <summary>The actor's logger; with the default null factory no per-actor state is allocated for it.</summary>
    public ILogger Log => ReferenceEquals(_system.LoggerFactory, NullLoggerFactory.Instance)
        ? NullLogger.Instance
        : Extras.Logger ??= _system.LoggerFactory.CreateLogger(_actor?.GetType().FullName ?? "Totoro.Kernel.Actor");

    internal Dispatcher Dispatcher => _dispatcher;

    internal bool IsTerminated => (Volatile.Read(ref Unsafe.As<CellFlags, int>(ref _flags)) & (int)CellFlags.Terminated) != 0;

    internal bool IsGuardian
    {
        get => Has(CellFlags.Guardian);
        init => _flags |= value ? CellFlags.Guardian : CellFlags.None;
    }

    /// <summary>A field of the cell rather than of <see cref="CellExtras"/>: most long-lived actors use timers, and the extras object is ~120 B.</summary>
    internal ITimerScheduler Timers => _timers ??= new TimerScheduler(this);

    internal IStash Stash => Extras.Stash ??= new StashBuffer(this);

    private CellExtras Extras => _extras ??= new CellExtras();

    /// <summary>The actor, when it prepares messages ahead (<see cref="IPrepareAhead"/>) and could take one now; else null.</summary>
    internal IPrepareAhead? PreparingActor => CanProcessUserMessages ? _actor as IPrepareAhead : null;

    /// <summary>The <see cref="DeterministicWorld"/> prepare batch that last chose this cell (one preparation per cell and batch; set with <see cref="Interlocked.Exchange(ref long, long)"/> by the preparing threads).</summary>
    internal long PrepareMark;

    private bool CanProcessUserMessages =>
        (_flags & (CellFlags.Failed | CellFlags.Terminating | CellFlags.Terminated | CellFlags.AwaitingAsync | CellFlags.RecreatePending)) == 0
        && _actor is not null;

    public override void Tell(object message, IActorRef? sender = null)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (IsTerminated)
        {
            _system.PublishDeadLetter(message, sender, this);
            return;
        }
        if (_system.SerializeAllMessages && message is not ILocalMessage)
        {
            message = _system.Serialization.RoundTrip(message, _system);
        }
        _dispatcher.Dispatch(this, new Envelope(message, sender));
    }

    /// <summary>
    /// Deterministic world: the checks of <see cref="Tell"/> for a tell that the world delivers in the same step
    /// (it has made sure the delivery would be the very next step). False if the message went to dead letters.
    /// </summary>
    internal bool AcceptTellNow(ref object message, IActorRef? sender, bool local)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (IsTerminated)
        {
            _system.PublishDeadLetter(message, sender, this);
            return false;
        }
        if (!local && _system.SerializeAllMessages && message is not ILocalMessage)
        {
            message = _system.Serialization.RoundTrip(message, _system);
        }
        return true;
    }

    /// <summary>Kernel-internal delivery (timers, probes) that skips the serialize-everything check.</summary>
    internal void TellLocal(object message, IActorRef? sender)
    {
        if (IsTerminated)
        {
            _system.PublishDeadLetter(message, sender, this);
            return;
        }
        _dispatcher.Dispatch(this, new Envelope(message, sender));
    }

    /// <summary>
    /// A single timer's world step (<paramref name="generation"/> is the step's sequence number): the firing to
    /// deliver while the timer is still pending, else null (it was cancelled or restarted).
    /// </summary>
    internal TimerScheduler.Fired? TimerFiring(object key, object message, long generation) =>
        _timers is { } timers && timers.IsCurrent(key, generation) ? new TimerScheduler.Fired(key, message, generation) { Owner = this } : null;

    public override void SendSystemMessage(SystemMessage message) => _dispatcher.SystemDispatch(this, message);

    public IActorRef ActorOf(Props props, string? name = null) => CreateChild(props, name);

    public void Stop(IActorRef actor)
    {
        ArgumentNullException.ThrowIfNull(actor);
        if (actor is InternalActorRef target)
        {
            target.SendSystemMessage(new Terminate());
        }
    }

    void IThreadPoolWorkItem.Execute() => RunMailbox();

    private bool Has(CellFlags flag) => (_flags & flag) != 0;

    private void Set(CellFlags flag) => _flags |= flag;

    private void Clear(CellFlags flag) => _flags &= ~flag;

    private void SetTerminatedFlag() =>
        Interlocked.Or(ref Unsafe.As<CellFlags, int>(ref _flags), (int)CellFlags.Terminated);
}
