namespace Totoro.Kernel;

/// <summary>The root, /user and /system actors: they only parent and supervise.</summary>
internal sealed class GuardianActor : ReceiveActor
{
    public GuardianActor() => ReceiveAny(InvokeUnhandled);
}
