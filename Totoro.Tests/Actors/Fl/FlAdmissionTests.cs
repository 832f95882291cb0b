using Totoro.Actors.Fl;

namespace Totoro.Tests.Actors.Fl;

/// <summary>
/// Admission (over-selection keeps exactly K): workers ask the root only when a round may invite more than K; without
/// extras every invitee is admitted by construction and the round trip is skipped.
/// </summary>
[TestFixture]
public sealed class FlAdmissionTests
{
    [TestCase(5, 1.0, 0)]
    [TestCase(4, 1.25, 5)]
    public void Workers_ask_for_admission_only_when_the_round_invited_more_than_K(int k, double overSelection, int readiesPerRound)
    {
        var nodes = FlTestBed.Addresses(6);
        var bed = FlTestBed.Create(6, seed: 12, new StarTopology(nodes[0], nodes.Skip(1)), deviceFlops: _ => 1e4);
        var spec = FlTestBed.App("app").Rounds(3).ClientsPerRound(k).OverSelection(overSelection).Build();
        var (readies, admissions) = (0, 0);
        bed.Scenario.Transport.OnDelivered += delivery =>
        {
            readies += delivery.Envelope.Manifest == "fl.update-ready.v1" ? 1 : 0;
            admissions += delivery.Envelope.Manifest == "fl.admission.v1" ? 1 : 0;
        };

        var handle = bed.Submit(0, spec);
        var result = bed.Run(handle);
        bed.Scenario.RunUntilIdle();

        // Without extras every invitee is admitted by construction: no round trip to the root. With extras, every
        // invitee asks and is answered, and the root keeps exactly K.
        Assert.That(result.Outcome, Is.EqualTo(AppOutcome.BudgetExhausted));
        Assert.That(FlTestBed.Reports(handle).Select(r => r.Participants), Is.EqualTo(new[] { k, k, k }));
        Assert.That(readies, Is.EqualTo(3 * readiesPerRound));
        Assert.That(admissions, Is.EqualTo(3 * readiesPerRound));
    }
}
