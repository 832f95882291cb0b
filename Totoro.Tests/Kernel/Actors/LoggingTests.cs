using Microsoft.Extensions.Logging;
using Totoro.Kernel;
using Totoro.Tests.TestKit;

namespace Totoro.Tests.Kernel.Actors;

internal static partial class ChattyLog
{
    [LoggerMessage(EventId = 9000, Level = LogLevel.Information, Message = "heard {Text}")]
    public static partial void Heard(ILogger logger, string text);
}

public sealed class LoggingTests
{
    private sealed record Entry(string Category, LogLevel Level, int EventId, string Message);

    private sealed class CapturingProvider : ILoggerProvider, ILoggerFactory
    {
        public List<Entry> Entries { get; } = [];

        public ILogger CreateLogger(string categoryName) => new CapturingLogger(categoryName, Entries);

        public void AddProvider(ILoggerProvider provider)
        {
        }

        public void Dispose()
        {
        }
    }

    private sealed class CapturingLogger(string category, List<Entry> entries) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            entries.Add(new Entry(category, logLevel, eventId.Id, formatter(state, exception)));
    }

    private sealed class Chatty : ReceiveActor
    {
        public Chatty()
        {
            Receive<string>(s => s == "fail", _ => throw new InvalidOperationException("boom"));
            Receive<string>(s => ChattyLog.Heard(Log, s));
        }
    }

    [Test]
    public void Actors_log_under_their_type_and_supervision_logs_structured_kernel_events()
    {
        using var logging = new CapturingProvider();
        var system = ActorSystem.Create("test", new ActorSystemSettings { World = new DeterministicWorld(1), LoggerFactory = logging });
        var chatty = system.ActorOf(Props.Create<Chatty>(), "chatty");
        chatty.Tell("hello");
        chatty.Tell("fail");
        system.World!.RunUntilIdle();
        Assert.That(logging.Entries, Has.Some.Matches<Entry>(e => e != null && e.Category.EndsWith("Chatty", StringComparison.Ordinal) && e.Message == "heard hello" && e.EventId == 9000));
        Assert.That(logging.Entries, Has.Some.Matches<Entry>(e =>
            e != null && e.EventId == 1000 && e.Level == LogLevel.Warning && e.Message.Contains("/user/chatty", StringComparison.Ordinal) && e.Message.Contains("Restart", StringComparison.Ordinal)));
    }
}
