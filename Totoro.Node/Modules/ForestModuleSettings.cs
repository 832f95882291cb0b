using Totoro.Actors.Forest;
using Totoro.Kernel.Hocon;
using Totoro.Kernel.Settings;

namespace Totoro.Node.Modules;

/// <summary>
/// The forest module's settings (HOCON section <c>totoro.forest</c>, defaults in Totoro.Node's reference.conf).
/// <see cref="FromConfig"/> names the key path of every invalid value.
/// </summary>
/// <param name="Forest">The tree protocol's settings (cap, tick, timeouts, memory).</param>
/// <param name="AckTimeout">A tree message not acknowledged within this declares its peer dead.</param>
internal sealed record ForestModuleSettings(ForestSettings Forest, TimeSpan AckTimeout)
{
    public const string Section = "totoro.forest";

    public static ForestModuleSettings FromConfig(HoconConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var forest = new SettingsReader(config, Section);
        var settings = new ForestSettings(
            forest.Int("fan-out-cap", min: 2, max: 4096),
            forest.Duration("tick-interval", min: TimeSpan.FromMilliseconds(10)),
            forest.Duration("parent-timeout", min: TimeSpan.FromMilliseconds(10)),
            forest.Duration("subscribe-retry", min: TimeSpan.FromMilliseconds(10)),
            forest.Duration("level-slack", min: TimeSpan.FromMilliseconds(1)),
            forest.Int("recent-message-ids", min: 1, max: 1 << 20),
            forest.Int("round-memory", min: 1, max: 1 << 20),
            forest.Int("node-child-budget", min: 0, max: 1 << 20),
            forest.Duration("relay-bypass-after"));
        forest.Require(settings.ParentTimeout > settings.TickInterval, "parent-timeout", $"must exceed tick-interval ({settings.TickInterval})");
        var ackTimeout = forest.Duration("ack-timeout", min: TimeSpan.FromMilliseconds(1));
        return forest.Validated(new ForestModuleSettings(settings, ackTimeout));
    }
}
