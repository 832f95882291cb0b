using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Totoro.Transport.Tcp;

namespace Totoro.Node.Cli;

/// <summary>
/// <c>totoro bench transport</c>: this process sends to a second <c>totoro</c> process (started with the hidden
/// <c>--serve</c>) over loopback. It measures small messages per second, blob throughput, and a plain socket
/// copy of the same byte volume in the same run as the baseline; every figure is a median over repetitions.
/// </summary>
internal static class BenchTransportCommand
{
    private const string SecretVariable = "TOTORO_BENCH_SECRET";
    private const int SmallPayloadBytes = 64;
    private const int AckEvery = 10_000;
    private const int RawBufferBytes = 1024 * 1024;

    public static Command Create()
    {
        var messages = new Option<int>("--messages") { Description = "Small messages per repetition (multiple of 10000)", DefaultValueFactory = _ => 500_000 };
        var inFlight = new Option<int>("--in-flight") { Description = "Small messages sent but not yet acknowledged", DefaultValueFactory = _ => 60_000 };
        var reps = new Option<int>("--reps") { Description = "Repetitions per measurement (the median is reported)", DefaultValueFactory = _ => 5 };
        var blobBytes = new Option<long>("--blob-volume-mb") { Description = "Megabytes of blob payload per repetition", DefaultValueFactory = _ => 400 };
        var json = new Option<bool>("--json") { Description = "Print one JSON summary object" };
        var serve = new Option<bool>("--serve") { Hidden = true };
        var command = new Command("transport", "TCP transport between two processes on loopback: messages/s, blob GB/s, raw-socket baseline")
        {
            messages, inFlight, reps, blobBytes, json, serve,
        };
        command.SetAction(async (result, cancellation) =>
        {
            if (result.GetValue(serve))
            {
                return await ServeAsync(cancellation);
            }
            var options = new BenchOptions(result.GetValue(messages), result.GetValue(inFlight), result.GetValue(reps), result.GetValue(blobBytes) * 1_000_000);
            if (options.Messages <= 0 || options.Messages % AckEvery != 0 || options.InFlight < AckEvery || options.Reps <= 0 || options.BlobVolume <= 0)
            {
                await Console.Error.WriteLineAsync($"--messages must be a positive multiple of {AckEvery}, --in-flight at least {AckEvery}, --reps and --blob-volume-mb positive");
                return 2;
            }
            var summary = await RunAsync(options, result.GetValue(json) ? null : Console.Out, cancellation);
            if (result.GetValue(json))
            {
                JsonSummary.Write(Console.Out, summary);
            }
            return 0;
        });
        return command;
    }

    private sealed record BenchOptions(int Messages, int InFlight, int Reps, long BlobVolume);

    private static async Task<TransportBenchSummary> RunAsync(BenchOptions options, TextWriter? progress, CancellationToken cancellation)
    {
        var secret = RandomNumberGenerator.GetBytes(32);
        using var child = StartServer(secret);
        var ready = await child.StandardOutput.ReadLineAsync(cancellation) ?? throw new InvalidOperationException("bench server exited before it was ready");
        var ports = ready.Split(' ');
        var server = new NodeAddress("127.0.0.1", int.Parse(ports[1], CultureInfo.InvariantCulture));
        var rawPort = int.Parse(ports[2], CultureInfo.InvariantCulture);

        var acks = new AckCounter();
        await using var transport = new TcpTransport(Settings("bench-client", secret), acks);
        await transport.StartAsync(cancellation);
        var payload = new byte[SmallPayloadBytes];
        var small = new TransportEnvelope("/user/sink", "/user/bench", "bench.small", payload);

        // Warm-up: connection, JIT and tiered compilation before anything is timed.
        await SendSmallAsync(transport, server, small, options with { Messages = 2 * AckEvery }, acks, cancellation);
        await RawCopyAsync(rawPort, 64L * 1024 * 1024, cancellation);

        var smallRuns = new List<Run>();
        for (var rep = 0; rep < options.Reps; rep++)
        {
            var seconds = await SendSmallAsync(transport, server, small, options, acks, cancellation);
            var raw = await RawCopyAsync(rawPort, (long)options.Messages * SmallPayloadBytes, cancellation);
            smallRuns.Add(new Run(options.Messages / seconds, (long)options.Messages * SmallPayloadBytes / seconds / 1e9, (long)options.Messages * SmallPayloadBytes / raw / 1e9));
            progress?.WriteLine(string.Create(CultureInfo.InvariantCulture, $"small  rep {rep + 1}: {options.Messages / seconds,12:N0} msg/s   ({smallRuns[^1].OursGbPerSecond:F3} GB/s payload; raw socket {smallRuns[^1].RawGbPerSecond:F2} GB/s)"));
        }

        var blobs = new List<BlobResult>();
        foreach (var size in new[] { 4 * 1024 * 1024, 40 * 1024 * 1024 })
        {
            var blob = new byte[size];
            Random.Shared.NextBytes(blob);
            var envelope = new TransportEnvelope("/user/sink", "/user/bench", "bench.blob", blob);
            var count = (int)Math.Max(2, options.BlobVolume / size);
            await SendBlobsAsync(transport, server, envelope, 2, acks, cancellation);
            var runs = new List<Run>();
            for (var rep = 0; rep < options.Reps; rep++)
            {
                var seconds = await SendBlobsAsync(transport, server, envelope, count, acks, cancellation);
                var raw = await RawCopyAsync(rawPort, (long)count * size, cancellation);
                var volume = (double)count * size;
                runs.Add(new Run(count / seconds, volume / seconds / 1e9, volume / raw / 1e9));
                progress?.WriteLine(string.Create(CultureInfo.InvariantCulture, $"blob {size / (1024 * 1024),2} MiB rep {rep + 1}: {runs[^1].OursGbPerSecond:F2} GB/s   (raw socket {runs[^1].RawGbPerSecond:F2} GB/s)"));
            }
            blobs.Add(BlobResult.From(size, count, runs));
        }

        await transport.StopAsync();
        await child.StandardInput.DisposeAsync();
        await child.WaitForExitAsync(cancellation);
        var summary = new TransportBenchSummary(
            "bench transport",
            DateTimeOffset.UtcNow.ToString("u", CultureInfo.InvariantCulture),
            Environment.ProcessorCount,
            options.Reps,
            new SmallResult(SmallPayloadBytes, options.Messages, options.InFlight,
                Median(smallRuns.Select(r => r.PerSecond)), Median(smallRuns.Select(r => r.OursGbPerSecond)),
                Median(smallRuns.Select(r => r.RawGbPerSecond)), Median(smallRuns.Select(r => r.OursGbPerSecond / r.RawGbPerSecond)),
                [.. smallRuns.Select(r => Math.Round(r.PerSecond))]),
            blobs);
        if (progress is not null)
        {
            progress.WriteLine(string.Create(CultureInfo.InvariantCulture, $"median small: {summary.Small.MessagesPerSecond:N0} msg/s per peer pair"));
            foreach (var blob in blobs)
            {
                progress.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"median blob {blob.BlobBytes / (1024 * 1024)} MiB: {blob.GbPerSecond:F2} GB/s, raw {blob.RawGbPerSecond:F2} GB/s, ours/raw {blob.RatioToRaw:F2}"));
            }
        }
        return summary;
    }

    private static async Task<double> SendSmallAsync(TcpTransport transport, NodeAddress server, TransportEnvelope envelope,
        BenchOptions options, AckCounter acks, CancellationToken cancellation)
    {
        var target = acks.Small + options.Messages;
        var sent = acks.Small;
        var started = Stopwatch.GetTimestamp();
        while (sent < target)
        {
            // Take the wake-up before looking at the counter, so an acknowledgement in between is never missed.
            var acknowledged = acks.NextAsync();
            if (sent - acks.Small >= options.InFlight || transport.Send(server, envelope) != SendResult.Accepted)
            {
                await acknowledged.WaitAsync(cancellation);
                continue;
            }
            sent++;
        }
        await acks.UntilAsync(() => acks.Small >= target, cancellation);
        return Stopwatch.GetElapsedTime(started).TotalSeconds;
    }

    private static async Task<double> SendBlobsAsync(TcpTransport transport, NodeAddress server, TransportEnvelope blob, int count,
        AckCounter acks, CancellationToken cancellation)
    {
        var target = acks.Blobs + count;
        var started = Stopwatch.GetTimestamp();
        for (var i = 0; i < count; i++)
        {
            var acknowledged = acks.NextAsync();
            if (transport.Send(server, blob) != SendResult.Accepted)
            {
                await acknowledged.WaitAsync(cancellation);
                i--;
            }
        }
        await acks.UntilAsync(() => acks.Blobs >= target, cancellation);
        return Stopwatch.GetElapsedTime(started).TotalSeconds;
    }

    /// <summary>The baseline: the same byte volume through one plain socket, 1 MiB per send, one byte back at the end.</summary>
    private static async Task<double> RawCopyAsync(int port, long bytes, CancellationToken cancellation)
    {
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(IPAddress.Loopback, port, cancellation);
        var buffer = new byte[RawBufferBytes];
        var started = Stopwatch.GetTimestamp();
        BitConverter.TryWriteBytes(buffer, bytes);
        await socket.SendAsync(buffer.AsMemory(0, 8), cancellation);
        for (var left = bytes; left > 0;)
        {
            var size = (int)Math.Min(left, buffer.Length);
            left -= await socket.SendAsync(buffer.AsMemory(0, size), cancellation);
        }
        await socket.ReceiveAsync(buffer.AsMemory(0, 1), cancellation);
        return Stopwatch.GetElapsedTime(started).TotalSeconds;
    }

    private static Process StartServer(byte[] secret)
    {
        var path = Environment.ProcessPath ?? throw new InvalidOperationException("cannot locate the totoro executable");
        var start = new ProcessStartInfo(path)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        // Under `dotnet totoro.dll` the process is the dotnet host; the entry assembly must come first.
        if (Path.GetFileNameWithoutExtension(path) == "dotnet")
        {
            start.ArgumentList.Add(typeof(BenchTransportCommand).Assembly.Location);
        }
        foreach (var argument in new[] { "bench", "transport", "--serve" })
        {
            start.ArgumentList.Add(argument);
        }
        start.Environment[SecretVariable] = Convert.ToBase64String(secret);
        return Process.Start(start) ?? throw new InvalidOperationException("could not start the bench server");
    }

    /// <summary>The receiving process: a transport that acknowledges, and a raw socket sink; runs until stdin closes.</summary>
    private static async Task<int> ServeAsync(CancellationToken cancellation)
    {
        var secret = Convert.FromBase64String(Environment.GetEnvironmentVariable(SecretVariable)
            ?? throw new InvalidOperationException($"{SecretVariable} is not set"));
        var sink = new SinkHandler();
        await using var transport = new TcpTransport(Settings("bench-server", secret), sink);
        sink.Transport = transport;
        await transport.StartAsync(cancellation);
        using var raw = new Socket(SocketType.Stream, ProtocolType.Tcp);
        raw.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        raw.Listen();
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        var rawLoop = RawSinkAsync(raw, stopping.Token);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"READY {transport.LocalAddress.Port} {((IPEndPoint)raw.LocalEndPoint!).Port}"));
        await Console.In.ReadToEndAsync(cancellation);
        await stopping.CancelAsync();
        raw.Close();
        try
        {
            await rawLoop;
        }
        catch (Exception stopped) when (stopped is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // The listener was closed on purpose; the bench is over.
        }
        return 0;
    }

    private static async Task RawSinkAsync(Socket listener, CancellationToken cancellation)
    {
        var buffer = new byte[RawBufferBytes];
        while (!cancellation.IsCancellationRequested)
        {
            using var connection = await listener.AcceptAsync(cancellation);
            var header = 0;
            while (header < 8)
            {
                header += await connection.ReceiveAsync(buffer.AsMemory(header, 8 - header), cancellation);
            }
            var left = BitConverter.ToInt64(buffer, 0);
            while (left > 0)
            {
                var read = await connection.ReceiveAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, left)), cancellation);
                if (read == 0)
                {
                    break;
                }
                left -= read;
            }
            await connection.SendAsync(buffer.AsMemory(0, 1), cancellation);
        }
    }

    private static TcpTransportSettings Settings(string nodeId, byte[] secret) => new()
    {
        NodeId = nodeId,
        Incarnation = Environment.TickCount64 | 1,
        ClusterSecret = secret,
        SendQueueLength = 131_072,
        BlobWindowBytes = 8 * 1024 * 1024,
        SocketBufferBytes = 4 * 1024 * 1024,
    };

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    internal sealed record Run(double PerSecond, double OursGbPerSecond, double RawGbPerSecond);

    internal sealed record SmallResult(int PayloadBytes, int Messages, int InFlight, double MessagesPerSecond, double PayloadGbPerSecond,
        double RawGbPerSecond, double RatioToRaw, IReadOnlyList<double> Runs);

    internal sealed record BlobResult(int BlobBytes, int BlobsPerRep, double GbPerSecond, double RawGbPerSecond, double RatioToRaw, IReadOnlyList<double> RunsGbPerSecond)
    {
        public static BlobResult From(int size, int count, IReadOnlyList<Run> runs) => new(size, count,
            Median(runs.Select(r => r.OursGbPerSecond)), Median(runs.Select(r => r.RawGbPerSecond)),
            Median(runs.Select(r => r.OursGbPerSecond / r.RawGbPerSecond)), [.. runs.Select(r => Math.Round(r.OursGbPerSecond, 3))]);
    }

    internal sealed record TransportBenchSummary(string Command, string Date, int ProcessorCount, int Reps, SmallResult Small, IReadOnlyList<BlobResult> Blobs);

    /// <summary>Client side: counts the server's acknowledgements and wakes the sender on each.</summary>
    private sealed class AckCounter : ITcpTransportHandler
    {
        private readonly Lock gate = new();
        private TaskCompletionSource next = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private long small;
        private long blobs;

        public long Small => Interlocked.Read(ref small);

        public long Blobs => Interlocked.Read(ref blobs);

        public Task NextAsync()
        {
            lock (gate)
            {
                return next.Task;
            }
        }

        public async Task UntilAsync(Func<bool> done, CancellationToken cancellation)
        {
            while (true)
            {
                var acknowledged = NextAsync();
                if (done())
                {
                    return;
                }
                await acknowledged.WaitAsync(cancellation);
            }
        }

        public InboundResult OnEnvelope(in InboundEnvelope envelope)
        {
            var count = BitConverter.ToInt64(envelope.Envelope.Payload.Span);
            switch (envelope.Envelope.Manifest)
            {
                case "bench.ack.small":
                    Interlocked.Exchange(ref small, count);
                    break;
                case "bench.ack.blob":
                    Interlocked.Exchange(ref blobs, count);
                    break;
                default:
                    return InboundResult.UnknownManifest;
            }
            TaskCompletionSource woken;
            lock (gate)
            {
                woken = next;
                next = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
            woken.TrySetResult();
            return InboundResult.Accepted;
        }

        public void OnPeerConnected(PeerInfo peer)
        {
        }

        public void OnPeerDisconnected(PeerInfo peer, CloseReason reason)
        {
            if (reason != CloseReason.LocalShutdown)
            {
                Console.Error.WriteLine($"bench server disconnected: {reason}");
            }
        }

        public void OnInboundRefused(string remote, CloseReason reason)
        {
        }

        public void OnPeerUnreachable(NodeAddress address, int consecutiveFailures, CloseReason reason) =>
            Console.Error.WriteLine($"bench server unreachable: {reason}");
    }

    /// <summary>Server side: counts and acknowledges on the control lane.</summary>
    private sealed class SinkHandler : ITcpTransportHandler
    {
        private long small;
        private long blobs;

        public TcpTransport? Transport { get; set; }

        public InboundResult OnEnvelope(in InboundEnvelope envelope)
        {
            switch (envelope.Envelope.Manifest)
            {
                case "bench.small":
                    if (++small % AckEvery == 0)
                    {
                        Ack(envelope.From, "bench.ack.small", small);
                    }
                    return InboundResult.Accepted;
                case "bench.blob":
                    Ack(envelope.From, "bench.ack.blob", ++blobs);
                    return InboundResult.Accepted;
                default:
                    return InboundResult.UnknownManifest;
            }
        }

        private void Ack(NodeAddress to, string manifest, long count) =>
            Transport!.Send(to, new TransportEnvelope("/user/bench", "/user/sink", manifest, BitConverter.GetBytes(count)), Lane.Control);

        public void OnPeerConnected(PeerInfo peer)
        {
        }

        public void OnPeerDisconnected(PeerInfo peer, CloseReason reason)
        {
        }

        public void OnInboundRefused(string remote, CloseReason reason)
        {
        }

        public void OnPeerUnreachable(NodeAddress address, int consecutiveFailures, CloseReason reason)
        {
        }
    }
}
