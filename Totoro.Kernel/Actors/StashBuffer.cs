namespace Totoro.Kernel;

/// <summary>The cell's stash; stashed messages survive a restart (they are unstashed) and go to dead letters on stop.</summary>
internal sealed class StashBuffer(ActorCell cell) : IStash
{
    private readonly List<Envelope> _stashed = [];

    public int Count => _stashed.Count;

    public void Stash() => _stashed.Add(cell.CurrentEnvelope);

    public void UnstashAll()
    {
        if (_stashed.Count == 0)
        {
            return;
        }
        var envelopes = _stashed.ToArray();
        _stashed.Clear();
        cell.Unstash(envelopes);
    }

    internal void DropAll()
    {
        foreach (var envelope in _stashed)
        {
            cell.System.PublishDeadLetter(envelope.Message, envelope.Sender, cell);
        }
        _stashed.Clear();
    }
}
