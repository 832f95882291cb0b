namespace Totoro.Kernel;

/// <summary>What a transport tells one local node.</summary>
public interface ITransportListener
{
    void OnReceive(TransportEnvelope envelope);

    /// <summary>A monitored peer (re)joined.</summary>
    void OnNodeUp(Address node);

    /// <summary>A monitored peer is gone (crashed or shut down); actors watching refs on it get <see cref="Terminated"/>.</summary>
    void OnNodeDown(Address node);

    /// <summary>Fault injection declared this local node crashed: stop everything.</summary>
    void OnLocalCrash();
}
