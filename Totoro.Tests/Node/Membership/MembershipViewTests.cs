using Totoro.Node.Membership;
using Totoro.Transport.Tcp;

namespace Totoro.Tests.Node.Membership;

public sealed class MembershipViewTests
{
    private static readonly NodeAddress Self = new("127.0.0.1", 4101);
    private static readonly NodeAddress Seed = new("127.0.0.1", 4102);
    private static readonly NodeAddress Peer = new("127.0.0.1", 4103);
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Test]
    public void Seeds_start_joining_and_the_node_itself_is_left_out()
    {
        var view = MembershipView.Create(Self, [Self, Seed], T0);
        Assert.That(view.Members.Keys, Is.EqualTo(new[] { Seed }));
        Assert.That(view.Members[Seed].Status, Is.EqualTo(MemberStatus.Joining));
        Assert.That(view.ToContact, Is.EqualTo(new[] { Seed }));
    }

    [Test]
    public void A_seed_that_answers_is_up_keeps_its_seed_flag_and_is_no_longer_contacted()
    {
        var view = MembershipView.Create(Self, [Seed], T0).Answered(Seed, "n2", "z", T0.AddSeconds(1));
        Assert.That(view.Members[Seed], Is.EqualTo(new Member(Seed, "n2", "z", MemberStatus.Up, Seed: true, T0.AddSeconds(1))));
        Assert.That(view.ToContact, Is.Empty);
    }

    [Test]
    public void A_repeated_answer_keeps_the_up_since_time()
    {
        var view = MembershipView.Create(Self, [Seed], T0).Answered(Seed, "n2", "z", T0.AddSeconds(1));
        var again = view.Answered(Seed, "n2", "z", T0.AddSeconds(9));
        Assert.That(again.Members[Seed].Since, Is.EqualTo(T0.AddSeconds(1)));
    }

    [Test]
    public void Lost_marks_a_member_down_and_it_is_contacted_again()
    {
        var view = MembershipView.Create(Self, [Seed], T0).Answered(Seed, "n2", "z", T0).Lost(Seed, T0.AddSeconds(5));
        Assert.That(view.Members[Seed].Status, Is.EqualTo(MemberStatus.Down));
        Assert.That(view.Members[Seed].Since, Is.EqualTo(T0.AddSeconds(5)));
        Assert.That(view.ToContact, Is.EqualTo(new[] { Seed }));
    }

    [Test]
    public void Learned_adds_only_new_nodes_other_than_itself()
    {
        var view = MembershipView.Create(Self, [Seed], T0);
        var (learned, added) = view.Learned([Seed, Self, Peer, Peer], T0);
        Assert.That(added, Is.EqualTo(new[] { Peer }));
        Assert.That(learned.Members[Peer].Seed, Is.False);
        Assert.That(learned.Members.Count, Is.EqualTo(2));
    }

    [Test]
    public void Lost_of_an_unknown_node_changes_nothing()
    {
        var view = MembershipView.Create(Self, [Seed], T0);
        Assert.That(view.Lost(Peer, T0), Is.SameAs(view));
    }
}
