using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Security.Cryptography;
using System.Text;
using Google.Protobuf;
using Totoro.Transport.Tcp.Framing;
using Totoro.Transport.Tcp.Wire;

namespace Totoro.Transport.Tcp.Handshake;

/// <summary>What a completed handshake established about the other side.</summary>
internal sealed record RemoteHello(NodeAddress Address, string NodeId, long Incarnation, long BlobWindow);

/// <summary>
/// The first frames on every connection:
/// dialer → Hello; acceptor → Hello, Proof; dialer → Proof; acceptor → Verdict. Each proof is
/// HMAC-SHA256(cluster secret, role label ‖ dialer Hello bytes ‖ acceptor Hello bytes). Both hellos carry fresh
/// 32-byte nonces, so a proof is never valid twice, and the role label stops a proof being reflected back.
/// The dialer proves itself before checking the acceptor's proof so that a wrong secret is detected (and counted)
/// on both sides.
/// </summary>
internal static class HandshakeProtocol
{
    public const int NonceBytes = 32;
    public const int MaxHandshakeFrameBytes = 2048;
    private const int MaxNodeIdLength = 256;
    private const int MaxHostLength = 255;

    private static readonly byte[] DialerLabel = Encoding.ASCII.GetBytes("totoro-tcp/v1/dialer-proof");
    private static readonly byte[] AcceptorLabel = Encoding.ASCII.GetBytes("totoro-tcp/v1/acceptor-proof");

    public static Wire.Hello CreateHello(TcpTransportSettings settings, NodeAddress localAddress) => new()
    {
        ProtocolVersion = settings.ProtocolVersion,
        NodeId = settings.NodeId,
        Host = localAddress.Host,
        Port = (uint)localAddress.Port,
        Incarnation = settings.Incarnation,
        Nonce = ByteString.CopyFrom(RandomNumberGenerator.GetBytes(NonceBytes)),
        BlobWindow = (ulong)settings.BlobWindowBytes,
    };

    public static async Task<RemoteHello> DialAsync(IDuplexPipe pipe, TcpTransportSettings settings, NodeAddress localAddress, CancellationToken cancellation)
    {
        var ownHello = Write(pipe.Output, new Wire.Handshake { Hello = CreateHello(settings, localAddress) });
        await pipe.Output.FlushAsync(cancellation);

        var (message, remoteHelloBytes) = await ReadAsync(pipe.Input, cancellation);
        ThrowIfRefused(message);
        var remote = Validate(message, settings);

        Write(pipe.Output, new Wire.Handshake { Proof = new Proof { Mac = ByteString.CopyFrom(Mac(settings, DialerLabel, ownHello, remoteHelloBytes)) } });
        await pipe.Output.FlushAsync(cancellation);

        var (proof, _) = await ReadAsync(pipe.Input, cancellation);
        ThrowIfRefused(proof);
        Verify(proof, settings, AcceptorLabel, ownHello, remoteHelloBytes);

        var (verdict, _) = await ReadAsync(pipe.Input, cancellation);
        ThrowIfRefused(verdict);
        if (verdict.StepCase != Wire.Handshake.StepOneofCase.Verdict)
        {
            throw new ProtocolViolationException(CloseReason.HandshakeViolation, $"expected a verdict, got {verdict.StepCase}");
        }
        return remote;
    }

    /// <summary>Runs the acceptor's side up to and including the proof check; the caller then sends the verdict.</summary>
    public static async Task<RemoteHello> AcceptAsync(IDuplexPipe pipe, TcpTransportSettings settings, NodeAddress localAddress, CancellationToken cancellation)
    {
        var (message, remoteHelloBytes) = await ReadAsync(pipe.Input, cancellation);
        RemoteHello remote;
        try
        {
            remote = Validate(message, settings);
        }
        catch (ProtocolViolationException refusal) when (refusal.Reason == CloseReason.VersionMismatch)
        {
            await RefuseAsync(pipe.Output, refusal.Reason, refusal.Message, cancellation);
            throw;
        }

        var ownHello = Write(pipe.Output, new Wire.Handshake { Hello = CreateHello(settings, localAddress) });
        Write(pipe.Output, new Wire.Handshake { Proof = new Proof { Mac = ByteString.CopyFrom(Mac(settings, AcceptorLabel, remoteHelloBytes, ownHello)) } });
        await pipe.Output.FlushAsync(cancellation);

        var (proof, _) = await ReadAsync(pipe.Input, cancellation);
        try
        {
            Verify(proof, settings, DialerLabel, remoteHelloBytes, ownHello);
        }
        catch (ProtocolViolationException refusal) when (refusal.Reason == CloseReason.AuthenticationFailed)
        {
            await RefuseAsync(pipe.Output, refusal.Reason, "authentication failed", cancellation);
            throw;
        }
        return remote;
    }

    public static async Task AdmitAsync(PipeWriter output, CancellationToken cancellation)
    {
        Write(output, new Wire.Handshake { Verdict = new Verdict { Accepted = true } });
        await output.FlushAsync(cancellation);
    }

    public static async Task RefuseAsync(PipeWriter output, CloseReason reason, string detail, CancellationToken cancellation)
    {
        Write(output, new Wire.Handshake { Verdict = new Verdict { Accepted = false, Reason = (uint)reason, Detail = detail } });
        await output.FlushAsync(cancellation);
    }

    private static byte[] Mac(TcpTransportSettings settings, byte[] label, ReadOnlySpan<byte> dialerHello, ReadOnlySpan<byte> acceptorHello)
    {
        var transcript = new byte[label.Length + 8 + dialerHello.Length + acceptorHello.Length];
        label.CopyTo(transcript, 0);
        var at = label.Length;
        BinaryPrimitives.WriteInt32BigEndian(transcript.AsSpan(at), dialerHello.Length);
        dialerHello.CopyTo(transcript.AsSpan(at + 4));
        at += 4 + dialerHello.Length;
        BinaryPrimitives.WriteInt32BigEndian(transcript.AsSpan(at), acceptorHello.Length);
        acceptorHello.CopyTo(transcript.AsSpan(at + 4));
        return HMACSHA256.HashData(settings.ClusterSecret.Span, transcript);
    }

    private static void Verify(Wire.Handshake message, TcpTransportSettings settings, byte[] label, byte[] dialerHello, byte[] acceptorHello)
    {
        if (message.StepCase != Wire.Handshake.StepOneofCase.Proof)
        {
            throw new ProtocolViolationException(CloseReason.HandshakeViolation, $"expected a proof, got {message.StepCase}");
        }
        var expected = Mac(settings, label, dialerHello, acceptorHello);
        if (!CryptographicOperations.FixedTimeEquals(expected, message.Proof.Mac.Span))
        {
            throw new ProtocolViolationException(CloseReason.AuthenticationFailed, "the peer's proof does not match the cluster secret");
        }
    }

    private static void ThrowIfRefused(Wire.Handshake message)
    {
        if (message.StepCase == Wire.Handshake.StepOneofCase.Verdict && !message.Verdict.Accepted)
        {
            var reason = message.Verdict.Reason < (uint)CloseReasons.Count ? (CloseReason)message.Verdict.Reason : CloseReason.HandshakeViolation;
            throw new ProtocolViolationException(reason, $"refused by the peer: {message.Verdict.Detail}");
        }
    }

    private static RemoteHello Validate(Wire.Handshake message, TcpTransportSettings settings)
    {
        if (message.StepCase != Wire.Handshake.StepOneofCase.Hello)
        {
            throw new ProtocolViolationException(CloseReason.HandshakeViolation, $"expected a hello, got {message.StepCase}");
        }
        var hello = message.Hello;
        if (hello.ProtocolVersion != settings.ProtocolVersion)
        {
            throw new ProtocolViolationException(CloseReason.VersionMismatch,
                $"peer speaks protocol {hello.ProtocolVersion}, this node {settings.ProtocolVersion}");
        }
        if (hello.NodeId.Length is 0 or > MaxNodeIdLength || hello.Host.Length is 0 or > MaxHostLength
            || hello.Port is 0 or > 65535 || hello.Incarnation == 0 || hello.Nonce.Length != NonceBytes
            || hello.BlobWindow < 1024 || hello.BlobWindow > int.MaxValue)
        {
            throw new ProtocolViolationException(CloseReason.HandshakeViolation, "hello has missing or out-of-range fields");
        }
        return new RemoteHello(new NodeAddress(hello.Host, (int)hello.Port), hello.NodeId, hello.Incarnation, (long)hello.BlobWindow);
    }

    private static byte[] Write(PipeWriter output, Wire.Handshake message)
    {
        var bytes = message.ToByteArray();
        var span = output.GetSpan(FrameCodec.HeaderBytes + bytes.Length);
        FrameCodec.WriteHeader(span, bytes.Length, FrameType.Handshake, Lane.Control);
        bytes.CopyTo(span[FrameCodec.HeaderBytes..]);
        output.Advance(FrameCodec.HeaderBytes + bytes.Length);
        return bytes;
    }

    /// <summary>Reads one handshake frame; returns the message and its exact bytes for the transcript.</summary>
    private static async Task<(Wire.Handshake Message, byte[] Bytes)> ReadAsync(PipeReader input, CancellationToken cancellation)
    {
        while (true)
        {
            var result = await input.ReadAsync(cancellation);
            var buffer = result.Buffer;
            if (FrameCodec.TryReadFrame(ref buffer, MaxHandshakeFrameBytes, out var type, out _, out var payload))
            {
                var bytes = payload.ToArray();
                input.AdvanceTo(buffer.Start);
                if (type != FrameType.Handshake)
                {
                    throw new ProtocolViolationException(CloseReason.HandshakeViolation, $"{type} frame before the handshake completed");
                }
                try
                {
                    return (Wire.Handshake.Parser.ParseFrom(bytes), bytes);
                }
                catch (InvalidProtocolBufferException malformed)
                {
                    throw new ProtocolViolationException(CloseReason.MalformedFrame, $"handshake message does not parse: {malformed.Message}");
                }
            }
            input.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
            {
                throw new ProtocolViolationException(buffer.IsEmpty ? CloseReason.RemoteClosed : CloseReason.TruncatedFrame,
                    "connection closed during the handshake");
            }
        }
    }
}
