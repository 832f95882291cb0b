using Totoro.Actors.Fl;

namespace Totoro.Tests.Actors.Fl;

[TestFixture]
public sealed class SelectorStateTests
{
    [Test]
    public void Invites_the_over_selected_count_of_distinct_workers()
    {
        var selector = SelectorState.Create(100, cooldownRounds: 3);

        var invited = selector.Select(appSeed: 7, "app", round: 1, clientsPerRound: 20, overSelection: 1.3);

        Assert.That(invited, Has.Length.EqualTo(26));
        Assert.That(invited, Is.Unique.And.Ordered.And.All.InRange(0, 99));
    }

    [Test]
    public void Selection_is_a_function_of_seed_app_and_round()
    {
        var a = SelectorState.Create(100, 3);
        var b = SelectorState.Create(100, 3);

        Assert.That(a.Select(7, "app", 4, 10, 1.0), Is.EqualTo(b.Select(7, "app", 4, 10, 1.0)));
        Assert.That(a.Select(7, "app", 4, 10, 1.0), Is.Not.EqualTo(a.Select(7, "app", 5, 10, 1.0)));
        Assert.That(a.Select(7, "app", 4, 10, 1.0), Is.Not.EqualTo(a.Select(7, "other", 4, 10, 1.0)));
        Assert.That(a.Select(7, "app", 4, 10, 1.0), Is.Not.EqualTo(a.Select(8, "app", 4, 10, 1.0)));
    }

    [Test]
    public void Workers_that_missed_a_round_sit_out_the_cooldown_then_return()
    {
        var selector = SelectorState.Create(10, cooldownRounds: 2).MarkMissing([3, 4], round: 1);

        Assert.That(selector.Select(1, "app", 2, 10, 1.0), Is.EqualTo(new[] { 0, 1, 2, 5, 6, 7, 8, 9 }));
        Assert.That(selector.Select(1, "app", 3, 10, 1.0), Does.Not.Contain(3));
        Assert.That(selector.Select(1, "app", 4, 10, 1.0), Has.Length.EqualTo(10));
        Assert.That(selector.MarkDelivered([3]).IsAvailable(3, 2), Is.True);
    }

    [Test]
    public void Never_invites_more_than_are_available()
    {
        Assert.That(SelectorState.Create(4, 3).Select(1, "app", 1, 10, 1.3), Has.Length.EqualTo(4));
    }
}
