namespace Totoro.Kernel;

/// <summary>
/// Decides the fate of one envelope on a link: dropped, or delivered after a delay. The in-memory transport asks it
/// for every message; a geographic network model plugs in here. Draw randomness only from the given generator.
/// </summary>
public interface ILinkModel
{
    LinkDecision Decide(in LinkRequest request, Random random);
}

/// <summary>One envelope of <see cref="Bytes"/> bytes sent from → to at virtual time <see cref="Now"/>.</summary>
public readonly record struct LinkRequest(Address From, Address To, int Bytes, TimeSpan Now);

public readonly record struct LinkDecision(bool Dropped, TimeSpan Delay)
{
    public static LinkDecision Drop => new(true, TimeSpan.Zero);

    public static LinkDecision After(TimeSpan delay) => new(false, delay);
}
