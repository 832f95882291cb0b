using System.Globalization;
using Totoro.Actors.Ring;

namespace Totoro.Actors.Forest;

/// <summary>
/// An FL application's topic: its ring key, <c>NodeId.FromName("app:" + name)</c>. The root of the topic's tree is
/// the live node of the home zone closest to <see cref="Key"/>.
/// </summary>
internal readonly record struct TopicId(NodeId Key)
{
    public static TopicId For(string applicationName)
    {
        ArgumentNullException.ThrowIfNull(applicationName);
        return new TopicId(NodeId.FromName("app:" + applicationName));
    }

    /// <summary>
    /// The key a node of <paramref name="zone"/> subscribes toward: the topic key itself in the home zone, otherwise a
    /// zone-scoped key whose owner in that zone's ring is the head of the zone-local subtree.
    /// </summary>
    public NodeId KeyIn(int zone, int homeZone) =>
        zone == homeZone ? Key : NodeId.FromName("app-zone:" + Key + ":" + zone.ToString(CultureInfo.InvariantCulture));

    public override string ToString() => "topic:" + Key.ToShortString();
}
