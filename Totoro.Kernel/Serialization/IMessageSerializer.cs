namespace Totoro.Kernel;

/// <summary>Turns one message type into bytes and back under a stable manifest such as <c>"ring.join.v1"</c>.</summary>
public interface IMessageSerializer
{
    string Manifest { get; }

    Type MessageType { get; }

    byte[] Serialize(object message);

    object Deserialize(ReadOnlySpan<byte> bytes, IActorRefResolver resolver);
}
