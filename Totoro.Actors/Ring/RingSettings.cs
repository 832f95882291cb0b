namespace Totoro.Actors.Ring;

/// <summary>Overlay settings (HOCON section <c>totoro.ring</c>).</summary>
internal sealed record RingSettings(
    IdGeometry Geometry,
    int LeafSetSize,
    int CandidatesPerSlot,
    int NeighborhoodSize,
    TimeSpan HeartbeatInterval,
    TimeSpan LeafSetExchangeInterval,
    PhiAccrualSettings FailureDetector,
    TimeSpan JoinRetryInterval,
    TimeSpan TombstoneTtl,
    int MaxHops)
{
    /// <summary>How long the shell waits for a routed hop's acknowledgement before it reports the hop failed.</summary>
    public TimeSpan HopAckTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>A node that finished joining announces itself to the entries of this many of its deepest routing-table rows (plus its leaf and neighbourhood sets).</summary>
    public int AnnounceRows { get; init; } = 2;

    /// <summary>
    /// Period of routing-table maintenance (<see cref="TableMaintenanceTick"/>): each row with room is refreshed from
    /// one node that shares its prefix. <see cref="TimeSpan.Zero"/> turns it off.
    /// </summary>
    public TimeSpan TableMaintenanceInterval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Proximity refresh (Pastry's periodic row exchange with proximity replacement): each maintenance period also
    /// asks for one full row (rotating) and sends up to this many probes: to that row's unmeasured entries first, then
    /// to returned nodes that are not in the table; a measured node displaces a slot's unmeasured or farther
    /// candidate. 0 = only holes are filled.
    /// </summary>
    public int ProximityProbes { get; init; } = 8;

    /// <summary>
    /// The proximity refresh runs on every this-many-th maintenance period (the 5th, 10th, … after a node starts):
    /// it is a slow background convergence, and a node that just joined first has its holes filled. Default 5, i.e.
    /// every 5 min at the default 1-min period (FreePastry-like cadence); 1 = every period.
    /// </summary>
    public int ProximityRefreshEvery { get; init; } = 5;

    /// <summary>
    /// Extra candidates a slot keeps, beyond <see cref="CandidatesPerSlot"/>, in the sparse rows: those whose slot blocks
    /// are no wider than half the leaf set's span, so that each holds about L/2 nodes of the ring or fewer. There a slot's
    /// candidates are nearly its whole block, so one more costs little memory and lets the final approach hop straight
    /// to the key's closest node instead of through a block-mate that the proximity order kept. 0 = off.
    /// </summary>
    public int SparseExtraCandidates { get; init; } = 1;

    public static RingSettings Default { get; } = new(
        Geometry: IdGeometry.Default,
        LeafSetSize: 16,
        CandidatesPerSlot: 3,
        NeighborhoodSize: 8,
        HeartbeatInterval: TimeSpan.FromSeconds(1),
        LeafSetExchangeInterval: TimeSpan.FromSeconds(5),
        FailureDetector: PhiAccrualSettings.Default,
        JoinRetryInterval: TimeSpan.FromSeconds(10),
        TombstoneTtl: TimeSpan.FromMinutes(2),
        MaxHops: 63);

    /// <summary>Throws naming the offending key when a value is out of range.</summary>
    public RingSettings Validated()
    {
        if (LeafSetSize < 2 || LeafSetSize % 2 != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(LeafSetSize), LeafSetSize, "totoro.ring.leaf-set-size must be even and ≥ 2");
        }

        if (CandidatesPerSlot < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(CandidatesPerSlot), CandidatesPerSlot, "totoro.ring.candidates-per-slot must be ≥ 1");
        }

        if (NeighborhoodSize < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(NeighborhoodSize), NeighborhoodSize, "totoro.ring.neighborhood-size must be ≥ 0");
        }

        if (HeartbeatInterval <= TimeSpan.Zero || LeafSetExchangeInterval <= TimeSpan.Zero || JoinRetryInterval <= TimeSpan.Zero || TombstoneTtl <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(HeartbeatInterval), "totoro.ring intervals must be positive");
        }

        if (MaxHops is < 1 or > 63)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxHops), MaxHops, "totoro.ring.max-hops must be in 1..63");
        }

        if (AnnounceRows is < 0 or > 128)
        {
            throw new ArgumentOutOfRangeException(nameof(AnnounceRows), AnnounceRows, "totoro.ring.announce-rows must be in 0..128");
        }

        if (TableMaintenanceInterval < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(TableMaintenanceInterval), TableMaintenanceInterval, "totoro.ring.table-maintenance-interval must be ≥ 0 (0 = off)");
        }

        if (ProximityProbes is < 0 or > 1024)
        {
            throw new ArgumentOutOfRangeException(nameof(ProximityProbes), ProximityProbes, "totoro.ring.proximity-probes must be in 0..1024 (0 = off)");
        }

        if (ProximityRefreshEvery is < 1 or > 10_000)
        {
            throw new ArgumentOutOfRangeException(nameof(ProximityRefreshEvery), ProximityRefreshEvery, "totoro.ring.proximity-refresh-every must be in 1..10000 (maintenance periods)");
        }

        if (SparseExtraCandidates is < 0 or > 16)
        {
            throw new ArgumentOutOfRangeException(nameof(SparseExtraCandidates), SparseExtraCandidates, "totoro.ring.sparse-extra-candidates must be in 0..16 (0 = off)");
        }

        FailureDetector.Validate();
        return this;
    }
}
