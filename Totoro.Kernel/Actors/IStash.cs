namespace Totoro.Kernel;

/// <summary>Messages set aside by the actor, to be handled after a behaviour change.</summary>
public interface IStash
{
    /// <summary>Sets the current message (and its sender) aside.</summary>
    void Stash();

    /// <summary>Puts every stashed message back ahead of the mailbox, oldest first.</summary>
    void UnstashAll();

    int Count { get; }
}
