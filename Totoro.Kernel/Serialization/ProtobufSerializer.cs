using Google.Protobuf;

namespace Totoro.Kernel;

/// <summary>Maps a domain <c>sealed record</c> onto a generated protobuf wire message and back.</summary>
public sealed class ProtobufSerializer<TDomain, TWire> : IMessageSerializer
    where TDomain : notnull
    where TWire : IMessage<TWire>, new()
{
    private static readonly MessageParser<TWire> Parser = new(static () => new TWire());
    private readonly Func<TDomain, TWire> _toWire;
    private readonly Func<TWire, IActorRefResolver, TDomain> _fromWire;

    public ProtobufSerializer(string manifest, Func<TDomain, TWire> toWire, Func<TWire, IActorRefResolver, TDomain> fromWire)
    {
        ArgumentException.ThrowIfNullOrEmpty(manifest);
        ArgumentNullException.ThrowIfNull(toWire);
        ArgumentNullException.ThrowIfNull(fromWire);
        Manifest = manifest;
        _toWire = toWire;
        _fromWire = fromWire;
    }

    public string Manifest { get; }

    public Type MessageType => typeof(TDomain);

    public byte[] Serialize(object message) => _toWire((TDomain)message).ToByteArray();

    public object Deserialize(ReadOnlySpan<byte> bytes, IActorRefResolver resolver) => _fromWire(Parser.ParseFrom(bytes), resolver);
}
