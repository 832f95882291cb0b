using System.Collections.Concurrent;
using Google.Protobuf;

namespace Totoro.Kernel;

/// <summary>
/// Manifest → serializer. Create one per process with <see cref="CreateWithKernelMessages"/>, register the domain
/// protocols, and pass it to every system (<see cref="ActorSystemSettings.Serialization"/>); a system given none gets
/// a private registry of the kernel's messages only. Lookups are by exact runtime type.
/// </summary>
public sealed class SerializerRegistry
{
    private readonly ConcurrentDictionary<Type, IMessageSerializer> _byType = new();
    private readonly ConcurrentDictionary<string, IMessageSerializer> _byManifest = new(StringComparer.Ordinal);

    public static SerializerRegistry CreateWithKernelMessages()
    {
        var registry = new SerializerRegistry();
        KernelSerializers.RegisterAll(registry);
        return registry;
    }

    public SerializerRegistry Register(IMessageSerializer serializer)
    {
        ArgumentNullException.ThrowIfNull(serializer);
        if (!_byManifest.TryAdd(serializer.Manifest, serializer) && _byManifest[serializer.Manifest].MessageType != serializer.MessageType)
        {
            throw new InvalidOperationException($"Manifest '{serializer.Manifest}' is already registered for {_byManifest[serializer.Manifest].MessageType}");
        }
        _byType[serializer.MessageType] = serializer;
        return this;
    }

    public SerializerRegistry Register<TDomain, TWire>(string manifest, Func<TDomain, TWire> toWire, Func<TWire, TDomain> fromWire)
        where TDomain : notnull
        where TWire : IMessage<TWire>, new()
    {
        ArgumentNullException.ThrowIfNull(fromWire);
        return Register(new ProtobufSerializer<TDomain, TWire>(manifest, toWire, (wire, _) => fromWire(wire)));
    }

    /// <summary>Registers a message that carries actor refs: the reader gets a resolver for paths.</summary>
    public SerializerRegistry Register<TDomain, TWire>(string manifest, Func<TDomain, TWire> toWire, Func<TWire, IActorRefResolver, TDomain> fromWire)
        where TDomain : notnull
        where TWire : IMessage<TWire>, new() =>
        Register(new ProtobufSerializer<TDomain, TWire>(manifest, toWire, fromWire));

    public bool TryGet(Type messageType, out IMessageSerializer serializer) => _byType.TryGetValue(messageType, out serializer!);

    /// <summary>Whether a serializer reads <paramref name="manifest"/> (transports count inbound manifests nobody reads).</summary>
    public bool HasManifest(string manifest) => _byManifest.ContainsKey(manifest);

    public (string Manifest, byte[] Bytes) Serialize(object message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (!_byType.TryGetValue(message.GetType(), out var serializer))
        {
            throw new MessageSerializationException($"No serializer is registered for {message.GetType().FullName}");
        }
        return (serializer.Manifest, serializer.Serialize(message));
    }

    public object Deserialize(string manifest, ReadOnlySpan<byte> bytes, IActorRefResolver resolver)
    {
        if (!_byManifest.TryGetValue(manifest, out var serializer))
        {
            throw new MessageSerializationException($"No serializer is registered for manifest '{manifest}'");
        }
        try
        {
            return serializer.Deserialize(bytes, resolver);
        }
        catch (InvalidProtocolBufferException exception)
        {
            throw new MessageSerializationException($"Bytes under manifest '{manifest}' do not parse", exception);
        }
    }

    /// <summary>Serializes and deserializes a local message (the serialize-everything test switch).</summary>
    internal object RoundTrip(object message, IActorRefResolver resolver)
    {
        var (manifest, bytes) = Serialize(message);
        return Deserialize(manifest, bytes, resolver);
    }
}
