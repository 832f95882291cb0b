using System.Globalization;

namespace Totoro.Kernel;

/// <summary>
/// The cell's children. Most cells have none and many (a node's guardians) have one, so <see cref="_children"/>
/// holds nothing, a single <see cref="ActorCell"/>, or a map once there are two. Guarded by a lock created with the
/// first child, because path lookups come from other threads.
/// </summary>
internal sealed partial class ActorCell
{
    private object? _children;
    private Lock? _childrenLock;

    private int ChildCount
    {
        get
        {
            if (_childrenLock is not { } gate)
            {
                return 0;
            }
            lock (gate)
            {
                return _children switch
                {
                    ActorCell => 1,
                    Dictionary<string, ActorCell> map => map.Count,
                    _ => 0,
                };
            }
        }
    }

    public IReadOnlyList<IActorRef> GetChildren() => SnapshotChildren();

    public IActorRef? Child(string name) => GetChild(name);

    internal ActorCell? GetChild(string name)
    {
        if (_childrenLock is not { } gate)
        {
            return null;
        }
        lock (gate)
        {
            return FindChild(name);
        }
    }

    internal ActorCell CreateChild(Props props, string? name)
    {
        ArgumentNullException.ThrowIfNull(props);
        if (Has(CellFlags.Terminating) || IsTerminated)
        {
            throw new InvalidOperationException($"{_path} is stopping and cannot create children");
        }
        ActorCell child;
        lock (ChildrenLock)
        {
            if (name is null)
            {
                name = "$" + (++Extras.AutoNameCounter).ToString(CultureInfo.InvariantCulture);
            }
            else
            {
                ValidateName(name);
            }
            if (FindChild(name) is not null)
            {
                throw new InvalidOperationException($"{_path} already has a child named '{name}'");
            }
            child = new ActorCell(_system, this, _path.Child(name), props, _system.ResolveDispatcher(props.Dispatcher));
            AddChild(name, child);
        }
        child.SendSystemMessage(new Create());
        return child;
    }

    /// <summary>Guardians are created synchronously, so the system is usable as soon as its constructor returns.</summary>
    internal void InitializeGuardian(ActorBase actor)
    {
        actor.Attach(this);
        _actor = actor;
        Set(CellFlags.Started);
    }

    internal ActorCell CreateGuardianChild(string name, ActorBase actor)
    {
        var child = new ActorCell(_system, this, _path.Child(name), _props, _dispatcher) { IsGuardian = true };
        child.InitializeGuardian(actor);
        lock (ChildrenLock)
        {
            AddChild(name, child);
        }
        return child;
    }

    private Lock ChildrenLock
    {
        get
        {
            if (_childrenLock is null)
            {
                Interlocked.CompareExchange(ref _childrenLock, new Lock(), null);
            }
            return _childrenLock;
        }
    }

    private static void ValidateName(string name)
    {
        if (name.Length == 0 || name[0] == '$' || name.AsSpan().IndexOfAny("/#?@ ") >= 0)
        {
            throw new ArgumentException($"'{name}' is not a valid actor name (non-empty, no leading '$', no '/', '#', '?', '@' or space)", nameof(name));
        }
    }

    private ActorCell? FindChild(string name) => _children switch
    {
        ActorCell single => single._path.Name == name ? single : null,
        Dictionary<string, ActorCell> map => map.GetValueOrDefault(name),
        _ => null,
    };

    private void AddChild(string name, ActorCell child)
    {
        switch (_children)
        {
            case null:
                _children = child;
                break;
            case ActorCell single:
                _children = new Dictionary<string, ActorCell>(StringComparer.Ordinal) { [single._path.Name] = single, [name] = child };
                break;
            case Dictionary<string, ActorCell> map:
                map.Add(name, child);
                break;
        }
    }

    private bool IsMyChild(ActorCell cell) => GetChild(cell._path.Name) == cell;

    private void RemoveChild(ActorCell cell)
    {
        if (_childrenLock is not { } gate)
        {
            return;
        }
        lock (gate)
        {
            var name = cell._path.Name;
            switch (_children)
            {
                case ActorCell single when ReferenceEquals(single, cell):
                    _children = null;
                    break;
                case Dictionary<string, ActorCell> map when map.TryGetValue(name, out var existing) && ReferenceEquals(existing, cell):
                    map.Remove(name);
                    break;
            }
        }
    }

    private ActorCell[] SnapshotChildren()
    {
        if (_childrenLock is not { } gate)
        {
            return [];
        }
        lock (gate)
        {
            return _children switch
            {
                ActorCell single => [single],
                Dictionary<string, ActorCell> map => [.. map.Values],
                _ => [],
            };
        }
    }
}
