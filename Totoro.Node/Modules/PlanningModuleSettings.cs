using Totoro.Actors.Forest;
using Totoro.Actors.Planning;
using Totoro.Actors.Ring;
using Totoro.Kernel.Hocon;
using Totoro.Kernel.Settings;

namespace Totoro.Node.Modules;

/// <summary>
/// Path planning on a live node (HOCON section <c>totoro.planning</c>, defaults in Totoro.Node's reference.conf):
/// which planner chooses the ring's next hops and the forest's push-down child, and its tuning.
/// <see cref="FromConfig"/> names the key path of every invalid value.
/// </summary>
internal sealed record PlanningModuleSettings(PlannerKind Kind, PlanningSettings Planning)
{
    public const string Section = "totoro.planning";

    public static PlanningModuleSettings Default { get; } = new(PlannerKind.Static, PlanningSettings.Default);

    public static PlanningModuleSettings FromConfig(HoconConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var reader = new SettingsReader(config, Section);
        var kindText = reader.String("planner");
        var kind = PlannerKind.Static;
        try
        {
            kind = PathPlanners.Parse(kindText);
        }
        catch (ArgumentException)
        {
            reader.Require(false, "planner", $"'{kindText}' is not a planner: expected static, bandit or game");
        }

        var bandit = new BanditSettings(
            reader.Double("bandit.discount", min: 0, max: 1),
            reader.Double("bandit.exploration", min: 0),
            reader.Double("bandit.hysteresis", min: 0, max: 1));
        var game = new GameSettings(
            reader.Double("game.inertia", min: 0, max: 1),
            reader.Double("game.threshold", min: 0, max: 1),
            reader.Double("game.probe-rate", min: 0, max: 1))
        {
            InertiaDecay = reader.Double("game.inertia-decay", min: 0),
            ProbeDecay = reader.Double("game.probe-decay", min: 0),
            MinProbeRate = reader.Double("game.min-probe-rate", min: 0, max: 1),
            Exploration = reader.Double("game.exploration", min: 0),
            ProbeMemory = reader.Double("game.probe-memory", min: 0, max: 1),
            EstimateWeight = reader.Double("game.estimate-weight", min: 0, max: 1),
            SwitchMemory = reader.Double("game.switch-memory", min: 0, max: 1),
        };
        var planning = new PlanningSettings(bandit, game) { MaxDecisionPoints = reader.Int("max-decision-points", min: 1) };
        var settings = reader.Validated(new PlanningModuleSettings(kind, planning));
        try
        {
            _ = settings.Planning.Validated();
        }
        catch (ArgumentOutOfRangeException e)
        {
            // The records' own rules (open bounds, cross-field) name the full key path in their message.
            throw new SettingsException(e.Message.Split(" (Parameter", 2)[0]);
        }

        return settings;
    }

    /// <summary>
    /// A fresh planner for node <paramref name="self"/>; its random choices are seeded from the node id, so a node's
    /// exploration is reproducible and differs between nodes.
    /// </summary>
    public IPathPlanner CreatePlanner(NodeId self) => PathPlanners.Create(Kind, Planning, new Random(SeedOf(self)));

    /// <summary>The ring's next-hop planner: the lowest-RTT rule for <c>static</c>, else the configured planner via the adapter.</summary>
    public INextHopPlanner CreateHopPlanner(NodeId self) =>
        Kind == PlannerKind.Static ? LowestRttPlanner.Instance : new PathPlannerHopAdapter(self, CreatePlanner(self), Planning.MaxDecisionPoints);

    /// <summary>The forest's push-down choice: the prefix rule for <c>static</c>, else a separate planner instance (its own decision points).</summary>
    public IPushDownChooser CreatePushDownChooser(NodeId self) =>
        Kind == PlannerKind.Static ? PrefixPushDownChooser.Instance : new PlannerPushDownChooser(CreatePlanner(self));

    private static int SeedOf(NodeId id) => (int)(ulong)(id.Value ^ (id.Value >> 64));
}
