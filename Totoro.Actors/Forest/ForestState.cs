using System.Collections.Immutable;
using Totoro.Actors.Ring;

namespace Totoro.Actors.Forest;

/// <summary>
/// One node's part in every topic's tree (Scribe over the ring), and the tree protocol: subscribe, multicast down,
/// fold up with deadlines, fan-out cap with push-down, repair. Immutable: every handler returns the new state and
/// the effects for the shell. Time is always a parameter.
/// </summary>
internal sealed partial record ForestState
{
    private ForestState(NodeHandle self, int zone, ForestSettings settings, FoldCombiners combiners)
    {
        Self = self;
        Zone = zone;
        Settings = settings;
        Combiners = combiners;
    }

    public NodeHandle Self { get; }

    public int Zone { get; }

    public ForestSettings Settings { get; }

    public FoldCombiners Combiners { get; }

    public ImmutableDictionary<TopicId, TreeTopology> Trees { get; private init; } = ImmutableDictionary<TopicId, TreeTopology>.Empty;

    /// <summary>Which child a full node pushes a newcomer down to (default: longest shared id prefix).</summary>
    public IPushDownChooser PushDownChooser { get; private init; } = PrefixPushDownChooser.Instance;

    public static ForestStep Create(NodeHandle self, int zone, ForestSettings settings, FoldCombiners combiners, IPushDownChooser? pushDown = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(combiners);
        var state = new ForestState(self, zone, settings.Validated(), combiners) { PushDownChooser = pushDown ?? PrefixPushDownChooser.Instance };
        return new(state, [new StartTimer(ForestTick.Instance, settings.TickInterval)]);
    }

    public TreeReport? Describe(TopicId topic) => Trees.GetValueOrDefault(topic)?.Describe();

    /// <summary>Routes a create toward the topic key in the home zone; the node it reaches becomes the root.</summary>
    public ForestStep CreateTopic(TopicId topic, int homeZone)
    {
        var request = new CreateTopicRequest(topic, homeZone);
        return new(this, [new RouteToKey(topic.Key, RingId.Zone(homeZone), request)]);
    }

    /// <summary>The local application subscribes: join the tree unless this node already belongs to it.</summary>
    public ForestStep Subscribe(TopicId topic, int homeZone, TimeSpan now)
    {
        var effects = ImmutableArray.CreateBuilder<ForestEffect>();
        var tree = Trees.GetValueOrDefault(topic) ?? new TreeTopology(topic, homeZone, Zone);
        tree = tree with { IsSubscriber = true };
        if (!tree.IsAttached && tree.SubscribeSentAt is null)
        {
            tree = SendSubscribe(tree, now, effects);
        }

        return Done(tree, effects);
    }

    /// <summary>The local application leaves: a node with no children and no subscription leaves its parent.</summary>
    public ForestStep Unsubscribe(TopicId topic)
    {
        var effects = ImmutableArray.CreateBuilder<ForestEffect>();
        return Trees.GetValueOrDefault(topic) is { } tree ? Done(tree with { IsSubscriber = false }, effects) : new(this, []);
    }

    /// <summary>At the root: the topic ends; every tree node drops it.</summary>
    public ForestStep DestroyTopic(TopicId topic)
    {
        if (Trees.GetValueOrDefault(topic) is not { IsHomeRoot: true } tree)
        {
            return new(this, []);
        }

        var effects = ImmutableArray.CreateBuilder<ForestEffect>();
        SendToChildren(tree, new DestroyTopic(topic), effects);
        return new(this with { Trees = Trees.Remove(topic) }, effects.ToImmutable());
    }

    /// <summary>At the root: multicast <paramref name="content"/> down the tree, optionally opening a fold round.</summary>
    public ForestStep Publish(TopicId topic, long messageId, MulticastContent content, FoldRequest? fold, TimeSpan now)
    {
        ArgumentNullException.ThrowIfNull(content);
        if (Trees.GetValueOrDefault(topic) is not { IsHomeRoot: true })
        {
            throw new InvalidOperationException($"Only the root of {topic} publishes.");
        }

        return Handle(new Multicast(topic, messageId, content, fold), now);
    }

    /// <summary>The local worker's part of round <paramref name="round"/>.</summary>
    public ForestStep Contribute(TopicId topic, long round, object value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var effects = ImmutableArray.CreateBuilder<ForestEffect>();
        if (Trees.GetValueOrDefault(topic) is not { } tree || !tree.Rounds.TryGetValue(round, out var open) || !open.AwaitsOwn || open.Closed)
        {
            effects.Add(new PartialDropped(topic, round, Self.Id, "no open round awaits this node's contribution"));
            return new(this, effects.ToImmutable());
        }

        var combiner = Combiners.Find(open.Kind)!;
        if (!combiner.TryCombine(open.Value, value, out var combined))
        {
            effects.Add(new PartialDropped(topic, round, Self.Id, "refused by the combiner"));
            return Done(WithRound(tree, open with { AwaitsOwn = false }), effects, round);
        }

        var updated = open with { Value = combined, AwaitsOwn = false, Contributors = Union(open.Contributors, [Self.Id]) };
        return Done(WithRound(tree, updated), effects, round);
    }

    /// <summary>The local worker sits this round out (not selected, or failed): do not wait for it.</summary>
    public ForestStep Abstain(TopicId topic, long round)
    {
        var effects = ImmutableArray.CreateBuilder<ForestEffect>();
        return Trees.GetValueOrDefault(topic) is { } tree && tree.Rounds.TryGetValue(round, out var open) && !open.Closed
            ? Done(WithRound(tree, open with { AwaitsOwn = false }), effects, round)
            : new(this, []);
    }

    /// <summary>
    /// The ring's forward upcall. A subscribe passing through a tree member is adopted here and absorbed; through
    /// a node outside the tree, the node adopts it, becomes a forwarder and continues the route as its own subscribe.
    /// A node at its cross-tree child budget does neither (an existing child's re-subscribe is still refreshed): the
    /// subscribe continues along the ring route.
    /// </summary>
    public (ForestStep Step, ForwardVerdict Verdict) OnForward(RouteContext context, TimeSpan now)
    {
        if (context.Payload is not SubscribeRequest request || request.Scope != Zone || request.Subscriber.Id == Self.Id)
        {
            return (new(this, []), ForwardVerdict.Continue);
        }

        var effects = ImmutableArray.CreateBuilder<ForestEffect>();
        var crossZone = request.SubscriberZone != Zone;
        if (Trees.GetValueOrDefault(request.Topic) is { } tree)
        {
            // A zone head is only grafted onto attached members: their paths hold home-zone nodes only, so no loop can close.
            if (tree.Path.Contains(request.Subscriber.Id) || (crossZone && !tree.IsAttached) ||
                (tree.IndexOfChild(request.Subscriber.Id) < 0 && AtChildBudget(request.Topic)))
            {
                return (new(this, []), ForwardVerdict.Continue);
            }

            return (Done(Adopt(tree, request, now, effects), effects), ForwardVerdict.Absorb);
        }

        if (crossZone || AtChildBudget(request.Topic))
        {
            return (new(this, []), ForwardVerdict.Continue);
        }

        var forwarder = Adopt(new TreeTopology(request.Topic, request.HomeZone, Zone), request, now, effects) with { SubscribeSentAt = now };
        var onward = request with { Subscriber = Self, SubscriberZone = Zone, SubtreeSize = forwarder.SubtreeSize };
        return (Done(forwarder, effects), ForwardVerdict.Replace(onward));
    }

    /// <summary>The ring delivered a routed forest message here: this node is the closest to the key in its ring.</summary>
    public ForestStep OnDeliver(RouteContext context, TimeSpan now)
    {
        var effects = ImmutableArray.CreateBuilder<ForestEffect>();
        switch (context.Payload)
        {
            case SubscribeRequest request when request.Scope == Zone:
            {
                var tree = BecomeScopeRoot(Trees.GetValueOrDefault(request.Topic) ?? new TreeTopology(request.Topic, request.HomeZone, Zone), now, effects);
                if (request.Subscriber.Id != Self.Id && !tree.Path.Contains(request.Subscriber.Id))
                {
                    tree = Adopt(tree, request, now, effects);
                }

                return Done(tree, effects);
            }

            case CreateTopicRequest create when create.HomeZone == Zone:
            {
                var tree = BecomeScopeRoot(Trees.GetValueOrDefault(create.Topic) ?? new TreeTopology(create.Topic, create.HomeZone, Zone), now, effects);
                return Done(tree with { IsCreated = true }, effects);
            }

            default:
                return new(this, []);
        }
    }

    /// <summary>
    /// A peer is dead (the ring's <c>PeerFailed</c>, from any of the node's rings, or a forest send that could not be delivered; matched by address): drop it as a child
    /// (open rounds stop waiting for it) and, where it was the parent, re-subscribe.
    /// </summary>
    public ForestStep OnPeerFailed(NodeAddress peer, TimeSpan now)
    {
        var effects = ImmutableArray.CreateBuilder<ForestEffect>();
        var state = this;
        foreach (var tree in Trees.Values)
        {
            var current = tree;
            foreach (var child in tree.Children.Where(child => child.Handle.Address == peer))
            {
                current = state.RemoveChild(current, child.Handle.Id, now, effects);
            }

            if (current.Parent?.Address == peer)
            {
                current = state.SendSubscribe(current, now, effects);
            }

            if (!ReferenceEquals(current, tree))
            {
                state = state.Store(current, effects);
            }
        }

        return new(state, effects.ToImmutable());
    }

    public ForestStep Handle(ForestMessage message, TimeSpan now)
    {
        ArgumentNullException.ThrowIfNull(message);
        var effects = ImmutableArray.CreateBuilder<ForestEffect>();
        if (message is ForestTick)
        {
            return OnTick(now, effects);
        }

        var tree = Trees.GetValueOrDefault(message.Topic);
        return message switch
        {
            SubscribeAccepted accepted => OnAccepted(tree, accepted, now, effects),
            PushDown push => tree is null || push.Request.Subscriber.Id == Self.Id || tree.Path.Contains(push.Request.Subscriber.Id)
                ? new(this, [])
                : Done(Adopt(tree, push.Request, now, effects, pushedDown: true), effects),
            Unsubscribe leaving => tree is null ? new(this, []) : Done(RemoveChild(tree, leaving.Child.Id, now, effects), effects),
            Bypass bypass => tree is null ? new(this, []) : OnBypass(tree, bypass, effects),
            TreeHeartbeat heartbeat => OnHeartbeat(tree, heartbeat, now, effects),
            Multicast multicast => tree is null ? new(this, []) : OnMulticast(tree, multicast, now, effects),
            FoldPartial partial => OnPartial(tree, partial, now, effects),
            DestroyTopic destroy => OnDestroy(tree, destroy, effects),
            FoldDeadline deadline => tree is not null && tree.Rounds.TryGetValue(deadline.Round, out var round) && !round.Closed
                ? Done(Finish(tree, round, byDeadline: true, effects), effects)
                : new(this, []),
            _ => throw new ArgumentException($"Not a forest message: {message.GetType().Name}", nameof(message)),
        };
    }

    private ForestStep OnTick(TimeSpan now, ImmutableArray<ForestEffect>.Builder effects)
    {
        var state = this;
        foreach (var tree in Trees.Values)
        {
            var current = tree;
            SendToChildren(current, new TreeHeartbeat(current.Topic, Self, current.Path.Add(Self.Id)), effects);
            if (current.Parent is { } parent && now - current.ParentHeardAt > Settings.ParentTimeout)
            {
                // Silent parent: tell it we go (it may only be slow) and find a new one.
                effects.Add(new SendToPeer(parent.Address, new Unsubscribe(current.Topic, Self)));
                current = SendSubscribe(current, now, effects);
            }
            else if (current.SubscribeSentAt is { } sent && now - sent >= Settings.SubscribeRetry)
            {
                current = SendSubscribe(current, now, effects);
            }
            else
            {
                current = OfferBypass(current, now, effects);
            }

            if (!ReferenceEquals(current, tree))
            {
                state = state with { Trees = state.Trees.SetItem(current.Topic, current) };
            }
        }

        effects.Add(new StartTimer(ForestTick.Instance, Settings.TickInterval));
        return new(state, effects.ToImmutable());
    }

    private ForestStep OnAccepted(TreeTopology? tree, SubscribeAccepted accepted, TimeSpan now, ImmutableArray<ForestEffect>.Builder effects)
    {
        // An ancestor that adopted this node in place of its parent (a relay bypass) is taken; the old parent is told.
        var fromAncestor = tree is not null && tree.Parent is { } parentNow && parentNow.Id != accepted.Parent.Id && tree.Path.Contains(accepted.Parent.Id);
        var refuse = tree is null || tree.IsHomeRoot || accepted.Path.Contains(Self.Id) ||
                     (tree.Parent is { } current && current.Id != accepted.Parent.Id && !fromAncestor);
        if (refuse)
        {
            effects.Add(new SendToPeer(accepted.Parent.Address, new Unsubscribe(accepted.Topic, Self)));
            return new(this, effects.ToImmutable());
        }

        if (fromAncestor)
        {
            effects.Add(new SendToPeer(tree!.Parent!.Value.Address, new Unsubscribe(accepted.Topic, Self)));
        }

        var attached = tree! with
        {
            Parent = accepted.Parent,
            ParentZone = accepted.ParentZone,
            ParentHeardAt = now,
            SubscribeSentAt = null,
        };
        if (tree.Parent is null)
        {
            effects.Add(new Attached(tree.Topic, accepted.Parent, accepted.Path.Length));
        }

        return Done(WithPath(attached, accepted.Path, effects), effects);
    }

    private ForestStep OnHeartbeat(TreeTopology? tree, TreeHeartbeat heartbeat, TimeSpan now, ImmutableArray<ForestEffect>.Builder effects)
    {
        if (tree is null || tree.Parent?.Id != heartbeat.Parent.Id)
        {
            // A node that still counts us as a child though we left it (or never joined): correct it.
            effects.Add(new SendToPeer(heartbeat.Parent.Address, new Unsubscribe(heartbeat.Topic, Self)));
            return new(this, effects.ToImmutable());
        }

        if (heartbeat.Path.Contains(Self.Id))
        {
            // Our own id above us: a loop closed through stale paths. Break it and join afresh.
            effects.Add(new SendToPeer(heartbeat.Parent.Address, new Unsubscribe(heartbeat.Topic, Self)));
            return Done(SendSubscribe(tree, now, effects), effects);
        }

        return Done(WithPath(tree with { ParentHeardAt = now }, heartbeat.Path, effects), effects);
    }

    private ForestStep OnMulticast(TreeTopology tree, Multicast multicast, TimeSpan now, ImmutableArray<ForestEffect>.Builder effects)
    {
        if (tree.RecentMessageIds.Contains(multicast.MessageId))
        {
            return Done(tree with { DuplicateMessages = tree.DuplicateMessages + 1 }, effects);
        }

        var recent = tree.RecentMessageIds.Add(multicast.MessageId);
        if (recent.Length > Settings.RecentMessageIds)
        {
            recent = recent.RemoveAt(0);
        }

        var current = tree with { RecentMessageIds = recent, ParentHeardAt = tree.Parent is null ? tree.ParentHeardAt : now };
        SendToChildren(current, multicast, effects);
        if (current.IsSubscriber)
        {
            effects.Add(new DeliverToApp(current.Topic, multicast.MessageId, multicast.Content, multicast.Fold));
        }

        if (multicast.Fold is { } fold && !current.Rounds.ContainsKey(fold.Round))
        {
            current = OpenRound(current, fold, now, effects);
            return Done(current, effects, fold.Round);
        }

        return Done(current, effects);
    }

    /// <summary>
    /// Opens (topic, round). The deadline is the root's budget less <see cref="ForestSettings.LevelSlack"/> per level
    /// of depth, measured from the publish's arrival here: a child always gives up before its parent does.
    /// </summary>
    private TreeTopology OpenRound(TreeTopology tree, FoldRequest fold, TimeSpan now, ImmutableArray<ForestEffect>.Builder effects)
    {
        if (Combiners.Find(fold.Kind) is not { } combiner)
        {
            effects.Add(new PartialDropped(tree.Topic, fold.Round, Self.Id, $"no combiner of kind {fold.Kind} on this node"));
            return tree;
        }

        var delay = fold.Budget - (Settings.LevelSlack * tree.Depth);
        effects.Add(new StartTimer(new FoldDeadline(tree.Topic, fold.Round), delay > TimeSpan.Zero ? delay : TimeSpan.Zero));
        var round = new FoldRound(
            fold.Round,
            fold.Kind,
            combiner.Identity,
            [],
            [.. tree.Children.Select(child => child.Handle.Id)],
            [],
            AwaitsOwn: tree.IsSubscriber,
            Closed: false) { OpenedAt = now };
        var rounds = tree.Rounds.SetItem(fold.Round, round);
        while (rounds.Count > Settings.RoundMemory)
        {
            rounds = rounds.Remove(rounds.Keys.First());
        }

        return tree with { Rounds = rounds };
    }

    private ForestStep OnPartial(TreeTopology? tree, FoldPartial partial, TimeSpan now, ImmutableArray<ForestEffect>.Builder effects)
    {
        string? reason = null;
        FoldRound? round = null;
        if (tree is null)
        {
            reason = "not in the tree";
        }
        else if (!tree.Rounds.TryGetValue(partial.Round, out round) || round.Closed)
        {
            reason = "late";
            tree = tree with { LatePartials = tree.LatePartials + 1 };
        }
        else if (tree.IndexOfChild(partial.Child.Id) < 0)
        {
            reason = "not a child";
        }
        else if (round.Reported.Contains(partial.Child.Id) || Overlaps(round.Contributors, partial.Contributors))
        {
            reason = "duplicate";
            tree = tree with { DuplicatePartials = tree.DuplicatePartials + 1 };
        }
        else if (partial.Kind != round.Kind || !Combiners.Find(round.Kind)!.TryCombine(round.Value, partial.Value, out var combined))
        {
            reason = "refused by the combiner";
        }
        else
        {
            var index = tree.IndexOfChild(partial.Child.Id);
            var children = tree.Children.SetItem(index, tree.Children[index] with { SubtreeSize = Math.Max(1, partial.SubtreeSize) });
            var updated = round with
            {
                Value = combined,
                Contributors = Union(round.Contributors, partial.Contributors),
                Reported = round.Reported.Add(partial.Child.Id),
            };
            if (PushDownChooser.Learns)
            {
                effects.Add(new ChildFoldReported(tree.Topic, partial.Child.Id, now - round.OpenedAt));
            }

            return Done(WithRound(tree with { Children = children }, updated), effects, partial.Round);
        }

        effects.Add(new PartialDropped(partial.Topic, partial.Round, partial.Child.Id, reason));
        return tree is null ? new(this, effects.ToImmutable()) : Done(tree, effects);
    }

    private ForestStep OnDestroy(TreeTopology? tree, DestroyTopic destroy, ImmutableArray<ForestEffect>.Builder effects)
    {
        if (tree is null)
        {
            return new(this, []);
        }

        SendToChildren(tree, destroy, effects);
        return new(this with { Trees = Trees.Remove(tree.Topic) }, effects.ToImmutable());
    }

    /// <summary>
    /// Adopts the subscriber, or, when full, pushes it down to the child <see cref="PushDownChooser"/> picks (by
    /// default the one sharing the longest id prefix with it, smallest subtree on a tie). The pushed-to child is below this node and the subscriber is not an ancestor
    /// of this node, so the subscriber is not an ancestor of the child either: push-down cannot close a loop.
    /// </summary>
    /// <remarks>
    /// A node a newcomer was pushed down to that is at its cross-tree child budget and already has children in this
    /// tree passes it further down the same way (Scribe's push-down to a child) instead of adopting it; a leaf of the
    /// tree always adopts, so the push-down ends. The loop argument above holds for every step.
    /// </remarks>
    private TreeTopology Adopt(TreeTopology tree, SubscribeRequest request, TimeSpan now, ImmutableArray<ForestEffect>.Builder effects, bool pushedDown = false)
    {
        var subscriber = request.Subscriber;
        var index = tree.IndexOfChild(subscriber.Id);
        var loaded = pushedDown && !tree.IsScopeRoot && !tree.Children.IsEmpty && AtChildBudget(tree.Topic);
        if (index < 0 && (tree.Children.Length >= Settings.FanOutCap || loaded))
        {
            return PushDownTo(tree.Children, tree, request, effects);
        }

        if (index < 0 && Counted(tree, request.SubscriberZone) && SecondaryRootChildren(tree) is { } counted)
        {
            return PushDownTo(counted, tree, request, effects);
        }

        var info = new ChildInfo(subscriber, request.SubscriberZone, Math.Max(1, request.SubtreeSize));
        effects.Add(new SendToPeer(subscriber.Address, new SubscribeAccepted(tree.Topic, Self, Zone, tree.Path.Add(Self.Id))));
        return index < 0
            ? tree with { Children = tree.Children.Add(info), ChildrenChangedAt = now }
            : tree with { Children = tree.Children.SetItem(index, info) };
    }

    private TreeTopology PushDownTo(ImmutableArray<ChildInfo> candidates, TreeTopology tree, SubscribeRequest request, ImmutableArray<ForestEffect>.Builder effects)
    {
        var target = PushDownChooser.Choose(Self, tree.Topic, request.Subscriber, candidates);
        effects.Add(new SendToPeer(target.Handle.Address, new PushDown(tree.Topic, request)));
        return tree;
    }

    private TreeTopology RemoveChild(TreeTopology tree, NodeId child, TimeSpan now, ImmutableArray<ForestEffect>.Builder effects)
    {
        var index = tree.IndexOfChild(child);
        if (index < 0)
        {
            return tree;
        }

        return StopAwaiting(tree with { Children = tree.Children.RemoveAt(index), ChildrenChangedAt = now }, child, effects);
    }

    /// <summary>Open rounds stop waiting for <paramref name="child"/> (gone, or replaced); one may now be complete.</summary>
    private TreeTopology StopAwaiting(TreeTopology tree, NodeId child, ImmutableArray<ForestEffect>.Builder effects)
    {
        var current = tree;
        foreach (var round in current.Rounds.Values.Where(r => !r.Closed && r.Expected.Contains(child) && !r.Reported.Contains(child)).ToList())
        {
            current = WithRound(current, round with { Expected = round.Expected.Remove(child) });
            current = Finish(current, current.Rounds[round.Round], byDeadline: false, effects);
        }

        return current;
    }

    private TreeTopology BecomeScopeRoot(TreeTopology tree, TimeSpan now, ImmutableArray<ForestEffect>.Builder effects)
    {
        if (tree.IsScopeRoot)
        {
            return tree;
        }

        var root = tree with { IsScopeRoot = true };
        effects.Add(new BecameRoot(tree.Topic, Zone, root.IsZoneHead));
        if (root.IsHomeRoot)
        {
            // The closest live node to the key is the root: leave whatever parent this node had.
            if (tree.Parent is { } parent)
            {
                effects.Add(new SendToPeer(parent.Address, new Unsubscribe(tree.Topic, Self)));
            }

            return WithPath(root with { Parent = null, SubscribeSentAt = null }, [], effects);
        }

        // A zone head hangs below the home tree; a parent inside its own zone no longer fits.
        if (root.Parent is { } zoneParent && root.ParentZone == Zone)
        {
            effects.Add(new SendToPeer(zoneParent.Address, new Unsubscribe(tree.Topic, Self)));
            return SendSubscribe(root, now, effects);
        }

        return root.Parent is null && root.SubscribeSentAt is null ? SendSubscribe(root, now, effects) : root;
    }

    /// <summary>(Re-)subscribes by routing toward the key again; the ancestor path is kept to refuse adopting an ancestor.</summary>
    private TreeTopology SendSubscribe(TreeTopology tree, TimeSpan now, ImmutableArray<ForestEffect>.Builder effects)
    {
        if (tree.IsHomeRoot)
        {
            return tree;
        }

        var scope = tree.SubscribeScope;
        var request = new SubscribeRequest(tree.Topic, tree.HomeZone, scope, Self, Zone, tree.SubtreeSize);
        effects.Add(new RouteToKey(request.Key, RingId.Zone(scope), request));
        return tree with { Parent = null, SubscribeSentAt = now };
    }

    /// <summary>Sets the ancestor path and, when it changed, tells the children at once.</summary>
    private TreeTopology WithPath(TreeTopology tree, ImmutableArray<NodeId> path, ImmutableArray<ForestEffect>.Builder effects)
    {
        if (tree.Path.SequenceEqual(path))
        {
            return tree;
        }

        var updated = tree with { Path = path };
        SendToChildren(updated, new TreeHeartbeat(tree.Topic, Self, path.Add(Self.Id)), effects);
        return updated;
    }

    /// <summary>Closes the round when complete (or at its deadline) and sends the fold up, or reports it at the root.</summary>
    private TreeTopology Finish(TreeTopology tree, FoldRound round, bool byDeadline, ImmutableArray<ForestEffect>.Builder effects)
    {
        if (round.Closed || (!byDeadline && !round.IsComplete))
        {
            return tree;
        }

        if (!byDeadline)
        {
            effects.Add(new StopTimer(new FoldDeadline(tree.Topic, round.Round)));
        }

        if (tree.IsHomeRoot)
        {
            effects.Add(new FoldCompleted(tree.Topic, round.Round, round.Value, round.Contributors, byDeadline && !round.IsComplete));
        }
        else if (tree.Parent is { } parent)
        {
            effects.Add(new SendToPeer(parent.Address, new FoldPartial(tree.Topic, round.Round, round.Kind, Self, round.Value, round.Contributors, tree.SubtreeSize)));
        }
        else
        {
            effects.Add(new PartialDropped(tree.Topic, round.Round, Self.Id, "no parent to send the fold to"));
        }

        // A closed round only has to recognise late partials: drop the folded value so no model stays pinned.
        var closed = round with { Closed = true, Value = Combiners.Find(round.Kind)!.Identity, Contributors = [], Expected = [], Reported = [] };
        return WithRound(tree, closed);
    }

    private static TreeTopology WithRound(TreeTopology tree, FoldRound round) => tree with { Rounds = tree.Rounds.SetItem(round.Round, round) };

    private static void SendToChildren(TreeTopology tree, ForestMessage message, ImmutableArray<ForestEffect>.Builder effects)
    {
        foreach (var child in tree.Children)
        {
            effects.Add(new SendToPeer(child.Handle.Address, message));
        }
    }

    /// <summary>Stores the tree; a member with nothing left to do (no children, no subscription, not the root) leaves.</summary>
    private ForestState Store(TreeTopology tree, ImmutableArray<ForestEffect>.Builder effects)
    {
        var idle = !tree.IsSubscriber && tree.Children.IsEmpty && !(tree.IsHomeRoot && tree.IsCreated);
        if (!idle)
        {
            return this with { Trees = Trees.SetItem(tree.Topic, tree) };
        }

        if (tree.Parent is { } parent)
        {
            effects.Add(new SendToPeer(parent.Address, new Unsubscribe(tree.Topic, Self)));
        }

        return this with { Trees = Trees.Remove(tree.Topic) };
    }

    private ForestStep Done(TreeTopology tree, ImmutableArray<ForestEffect>.Builder effects) => new(Store(tree, effects), effects.ToImmutable());

    /// <summary>Stores the tree after trying to finish <paramref name="round"/>.</summary>
    private ForestStep Done(TreeTopology tree, ImmutableArray<ForestEffect>.Builder effects, long round) =>
        Done(tree.Rounds.TryGetValue(round, out var open) ? Finish(tree, open, byDeadline: false, effects) : tree, effects);

    private static bool Overlaps(ImmutableArray<NodeId> left, ImmutableArray<NodeId> right)
    {
        int i = 0, j = 0;
        while (i < left.Length && j < right.Length)
        {
            var order = left[i].CompareTo(right[j]);
            if (order == 0)
            {
                return true;
            }

            if (order < 0)
            {
                i++;
            }
            else
            {
                j++;
            }
        }

        return false;
    }

    private static ImmutableArray<NodeId> Union(ImmutableArray<NodeId> left, ImmutableArray<NodeId> right)
    {
        var builder = ImmutableArray.CreateBuilder<NodeId>(left.Length + right.Length);
        builder.AddRange(left);
        builder.AddRange(right);
        builder.Sort();
        return builder.MoveToImmutable();
    }
}
