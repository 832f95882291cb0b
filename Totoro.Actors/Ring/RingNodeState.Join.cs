using System.Collections.Immutable;

namespace Totoro.Actors.Ring;

/// <summary>Joining: the join route and its replies, retries, and the newcomer's announcements (Pastry join, Rowstron & Druschel 2001 §3.3).</summary>
internal sealed partial record RingNodeState
{
    /// <summary>
    /// Sends the current attempt's join and arms its retry timer. Attempt k waits <see cref="RingSettings.JoinRetryInterval"/>
    /// × 2^min(k, 4): a join that is only slow (its path's uplinks are queueing) gets the time to finish instead of
    /// being restarted into the same queues, which would discard its replies and add load.
    /// </summary>
    private ImmutableArray<RingEffect> JoinAttemptEffects()
    {
        var join = Join ?? throw new InvalidOperationException("Not joining.");
        return
        [
            new Send(join.Bootstrap, new RouteMessage(Self, Self.Id, new JoinPayload(Self, join.Attempt), 1)),
            new ScheduleTimer(JoinRetryTick.Instance, JoinRetryDelay(Settings, join.Attempt)),
        ];
    }

    /// <summary>The wait before attempt <paramref name="attempt"/> is retried (exponential backoff, capped at 16×).</summary>
    internal static TimeSpan JoinRetryDelay(RingSettings settings, int attempt) => settings.JoinRetryInterval * (1 << Math.Clamp(attempt, 0, 4));

    private RingNodeState OnJoinRoute(RouteMessage message, JoinPayload join, TimeSpan now, ImmutableArray<RingEffect>.Builder effects)
    {
        if (join.Joiner.Id == Self.Id)
        {
            effects.Add(new RouteAbandoned(message.Key, message.Payload, message.Hops, "joiner id is already in the ring"));
            return this;
        }

        // A joiner we still know is a new incarnation of a node that left or crashed: never route its join to it.
        var state = Forget(join.Joiner.Id, now, effects, declareFailed: false);
        var decision = state.Decide(message.Key, message.Converging);
        var isFinal = decision.IsDeliverHere || message.Hops >= Settings.MaxHops;
        // Pastry: the i-th node on the path shares i digits with the joiner and hands over row i. Each node sends the
        // rows after the previous hop's shared prefix up to its own, so every row arrives once, from the first node
        // that can give it; the bootstrap (hop 1) sends rows 0..its prefix. Replies stay small on constrained uplinks.
        var shared = Settings.Geometry.SharedPrefixLength(Self.Id, join.Joiner.Id);
        var firstRow = message.Hops <= 1 ? 0 : Settings.Geometry.SharedPrefixLength(message.Sender.Id, join.Joiner.Id) + 1;
        var handed = 1;
        for (var row = firstRow; row <= shared && row < state.Table.Depth; row++)
        {
            handed += state.Table.Row(row).Length;
        }

        var rows = new NodeHandle[handed];
        rows[0] = Self;
        handed = 1;
        for (var row = firstRow; row <= shared && row < state.Table.Depth; row++)
        {
            foreach (var entry in state.Table.Row(row))
            {
                rows[handed++] = NodeHandle.Of(entry);
            }
        }

        effects.Add(new Send(join.Joiner.Address, new JoinReply(
            Self,
            join.Attempt,
            message.Hops - 1,
            System.Runtime.InteropServices.ImmutableCollectionsMarshal.AsImmutableArray(rows),
            message.Hops == 1 ? Handles(state.Neighbors.Entries.ToArray()) : [],
            isFinal ? state.Leaves.ToView() : [],
            isFinal ? message.Hops : null)));
        if (!isFinal)
        {
            var next = state.Planner.Choose(message.Key, decision);
            effects.Add(new Send(next.Address, message with { Sender = Self, Hops = message.Hops + 1, Converging = ConvergingAfter(message.Converging, decision, next, message.Key) }));
        }

        return state;
    }

    private RingNodeState OnJoinReply(JoinReply reply, TimeSpan now, ImmutableArray<RingEffect>.Builder effects)
    {
        if (Phase != RingPhase.Joining || Join is not { } join || reply.Attempt != join.Attempt || reply.HopIndex is < 0 or >= 64)
        {
            return this;
        }

        var total = 1 + reply.Rows.Length + reply.Neighborhood.Length + reply.LeafSet.Length;
        var learned = total <= 256 ? stackalloc NodeHandle[total] : new NodeHandle[total];
        learned[0] = reply.Sender;
        reply.Rows.AsSpan().CopyTo(learned[1..]);
        reply.Neighborhood.AsSpan().CopyTo(learned[(1 + reply.Rows.Length)..]);
        reply.LeafSet.CopyTo(learned[(1 + reply.Rows.Length + reply.Neighborhood.Length)..]);
        var state = LearnAll(learned, now) with
        {
            Join = join with
            {
                ReceivedHops = join.ReceivedHops | (1UL << reply.HopIndex),
                PathLength = reply.PathLength ?? join.PathLength,
                Contacts = reply.HopIndex == 0 ? [reply.Sender, .. reply.Neighborhood] : join.Contacts,
            },
        };
        if (!state.Join!.IsComplete)
        {
            return state;
        }

        effects.Add(new CancelTimer(JoinRetryTick.Instance));
        state.AddAnnouncements(effects, now);

        effects.AddRange(MaintenanceTimers());
        effects.Add(new JoinCompleted(Self));
        return state with { Phase = RingPhase.Ready, Join = null };
    }

    private RingNodeState OnJoinRetryTick(ImmutableArray<RingEffect>.Builder effects)
    {
        if (Phase != RingPhase.Joining || Join is not { } join)
        {
            return this;
        }

        var state = this with { Join = join with { Attempt = join.Attempt + 1, ReceivedHops = 0, PathLength = null } };
        effects.AddRange(state.JoinAttemptEffects());
        return state;
    }

    /// <summary>
    /// Only a node that takes the announcer into its leaf set answers, with its leaf set (that is what makes
    /// concurrent joins converge); the others just learn the announcer. Routing-table RTTs are measured lazily
    /// (heartbeats, row repair), not with a round trip per announcement.
    /// </summary>
    private RingNodeState OnAnnounce(Announce announce, TimeSpan now, ImmutableArray<RingEffect>.Builder effects)
    {
        var state = HeardFrom(announce.Sender).LearnUnmeasured(announce.Sender, now);
        if (state.Leaves.Contains(announce.Sender.Id))
        {
            effects.Add(new Send(announce.Sender.Address, new AnnounceReply(Self, announce.SentAt, now, state.Leaves.ToView())));
        }

        return state;
    }

    /// <summary>
    /// Learns the replier's leaf set. A leaf it brings that this node did not know joined concurrently with it: neither
    /// was in the leaf set handed over at join, so this node announces itself to it (else only the periodic leaf-set
    /// exchange would introduce the two).
    /// </summary>
    private RingNodeState OnAnnounceReply(AnnounceReply reply, TimeSpan now, ImmutableArray<RingEffect>.Builder effects)
    {
        var measured = HeardFrom(reply.Sender).LearnMeasured(reply.Sender, now - reply.EchoSentAt, now);
        var state = measured.LearnAll(reply.LeafSet, now);
        if (!ReferenceEquals(state.Leaves, measured.Leaves))
        {
            foreach (var leaf in state.Leaves.Members())
            {
                if (!measured.Leaves.Contains(leaf.Id))
                {
                    effects.Add(new Send(leaf.Address, new Announce(Self, now)));
                }
            }
        }

        return state;
    }

    /// <summary>
    /// Whom a node that finished joining tells about itself: its leaf set and neighbourhood set, the bootstrap and the
    /// bootstrap's neighbourhood set (<see cref="JoinProgress.Contacts"/>), and the entries of its deepest
    /// <see cref="RingSettings.AnnounceRows"/> routing-table rows. The deep rows hold the nodes sharing the longest
    /// prefixes with it, whose own tables are sparse there and need the newcomer. The contacts have random prefixes, so
    /// the newcomer competes for a slot of their shallow rows: without that, shallow rows are only ever copied from
    /// join path to joiner, and the nodes that filled them while the ring was small stay on most join paths (at 10⁵,
    /// the first 64 nodes were the second hop of 63 % of all joins, and at 10⁶ their uplinks could not keep up).
    /// Announcing to every entry of every row (Pastry's "every node in its state") would cost one message per entry.
    /// </summary>
    private void AddAnnouncements(ImmutableArray<RingEffect>.Builder effects, TimeSpan now)
    {
        // A few dozen targets: a linear scan over the ids already announced to beats a hash set's allocations.
        var contacts = Join?.Contacts ?? [];
        var deepRows = 0;
        for (var row = Math.Max(0, Table.Depth - Settings.AnnounceRows); row < Table.Depth; row++)
        {
            deepRows += Table.Row(row).Length;
        }

        var bound = Leaves.Clockwise.Length + Leaves.CounterClockwise.Length + Neighbors.Entries.Length + contacts.Length + deepRows;
        var seen = bound <= 256 ? stackalloc NodeId[bound] : new NodeId[bound];
        var count = 0;
        var announce = new Announce(Self, now);
        void Add(PeerEntry entry, Span<NodeId> seen)
        {
            if (seen[..count].IndexOf(entry.Id) < 0)
            {
                seen[count++] = entry.Id;
                effects.Add(new Send(entry.Address, announce));
            }
        }

        foreach (var entry in Leaves.Clockwise)
        {
            Add(entry, seen);
        }

        foreach (var entry in Leaves.CounterClockwise)
        {
            Add(entry, seen);
        }

        foreach (var entry in Neighbors.Entries)
        {
            Add(entry, seen);
        }

        foreach (var handle in contacts)
        {
            Add(handle.Unmeasured(), seen);
        }

        for (var row = Math.Max(0, Table.Depth - Settings.AnnounceRows); row < Table.Depth; row++)
        {
            foreach (var entry in Table.Row(row))
            {
                Add(entry, seen);
            }
        }
    }
}
