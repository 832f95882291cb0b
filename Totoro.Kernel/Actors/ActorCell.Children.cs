using System.Globalization;

namespace Totoro.Kernel;

/// <summary>The cell's children. The map is created on the first child and locked, because lookups by path come from other threads.</summary>
internal sealed partial class ActorCell
{
    private int ChildCount
    {
        get
        {
            var children = _children;
            if (children is null)
            {
                return 0;
            }
            lock (children)
            {
                return children.Count;
            }
        }
    }

    public IReadOnlyList<IActorRef> GetChildren() => SnapshotChildren();

    public IActorRef? Child(string name) => GetChild(name);

    internal ActorCell? GetChild(string name)
    {
        var children = _children;
        if (children is null)
        {
            return null;
        }
        lock (children)
        {
            return children.GetValueOrDefault(name);
        }
    }

    internal ActorCell CreateChild(Props props, string? name)
    {
        ArgumentNullException.ThrowIfNull(props);
        if (Has(CellFlags.Terminating) || IsTerminated)
        {
            throw new InvalidOperationException($"{_path} is stopping and cannot create children");
        }
        var children = _children ?? CreateChildrenMap();
        ActorCell child;
        lock (children)
        {
            if (name is null)
            {
                name = "$" + (++Extras.AutoNameCounter).ToString(CultureInfo.InvariantCulture);
            }
            else
            {
                ValidateName(name);
            }
            if (children.ContainsKey(name))
            {
                throw new InvalidOperationException($"{_path} already has a child named '{name}'");
            }
            child = new ActorCell(_system, this, _path.Child(name), props, _system.ResolveDispatcher(props.Dispatcher));
            children.Add(name, child);
        }
        child.SendSystemMessage(new Create());
        return child;
    }

    private static void ValidateName(string name)
    {
        if (name.Length == 0 || name[0] == '$' || name.AsSpan().IndexOfAny("/#?@ ") >= 0)
        {
            throw new ArgumentException($"'{name}' is not a valid actor name (non-empty, no leading '$', no '/', '#', '?', '@' or space)", nameof(name));
        }
    }

    private Dictionary<string, ActorCell> CreateChildrenMap()
    {
        Interlocked.CompareExchange(ref _children, new Dictionary<string, ActorCell>(StringComparer.Ordinal), null);
        return _children;
    }

    private bool IsMyChild(ActorCell cell) => GetChild(cell._path.Name) == cell;

    private void RemoveChild(ActorCell cell)
    {
        var children = _children;
        if (children is null)
        {
            return;
        }
        lock (children)
        {
            var name = cell._path.Name;
            if (children.TryGetValue(name, out var existing) && ReferenceEquals(existing, cell))
            {
                children.Remove(name);
            }
        }
    }

    private ActorCell[] SnapshotChildren()
    {
        var children = _children;
        if (children is null)
        {
            return [];
        }
        lock (children)
        {
            return [.. children.Values];
        }
    }

    /// <summary>Guardians are created synchronously, so the system is usable as soon as its constructor returns.</summary>
    internal void InitializeGuardian(ActorBase actor)
    {
        actor.Attach(this);
        _actor = actor;
        Set(CellFlags.Started);
    }

    internal ActorCell CreateGuardianChild(string name, Props props)
    {
        var child = new ActorCell(_system, this, _path.Child(name), props, _dispatcher) { IsGuardian = true };
        child.InitializeGuardian(props.Factory());
        var children = _children ?? CreateChildrenMap();
        lock (children)
        {
            children.Add(name, child);
        }
        return child;
    }
}
