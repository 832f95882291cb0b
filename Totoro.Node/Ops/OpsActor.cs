using System.Security.Cryptography;
using System.Text;
using Totoro.Kernel;
using Totoro.Node.Hosting;

namespace Totoro.Node.Ops;

/// <summary>
/// Serves the ops shell at <c>/user/ops</c>: checks the admin token (when one is configured), validates the command
/// against its palette, runs the handler off the actor (piped back) and replies with a table or an error.
/// </summary>
internal sealed class OpsActor : ReceiveActor
{
    public const string Name = "ops";

    private readonly ITotoroNode node;
    private readonly byte[]? adminToken;

    public OpsActor(ITotoroNode node)
    {
        this.node = node;
        adminToken = node.Settings.AdminToken is { } token ? Encoding.UTF8.GetBytes(token.Value) : null;
        Receive<OpsRequest>(OnRequest);
        Receive<LeaveNow>(_ => (node as TotoroNode)?.StopHost());
    }

    private void OnRequest(OpsRequest request)
    {
        if (Sender is not { } client)
        {
            return;
        }
        if (adminToken is not null && !CryptographicOperations.FixedTimeEquals(adminToken, Encoding.UTF8.GetBytes(request.Token)))
        {
            client.Tell(new OpsReply("unauthorized: this node requires its admin token (--token or TOTORO_ADMIN_TOKEN)", ""), Self);
            return;
        }
        if (request.Palette.Length == 0)
        {
            client.Tell(new OpsReply("", OpsJson.Describe(node.Palettes.Palettes)), Self);
            return;
        }
        if (!node.Palettes.TryGet(request.Palette, out var palette))
        {
            var known = string.Join(", ", node.Palettes.Palettes.Select(p => p.Name));
            client.Tell(new OpsReply($"unknown palette '{request.Palette}'; this node has: {known}", ""), Self);
            return;
        }
        if (palette.Find(request.Command) is not { } command)
        {
            var known = string.Join(", ", palette.Commands.Select(c => c.Name));
            client.Tell(new OpsReply($"palette '{palette.Name}' has no command '{request.Command}'; it has: {known}", ""), Self);
            return;
        }
        if (command.Check(request.Args) is { } problem)
        {
            client.Tell(new OpsReply(problem, ""), Self);
            return;
        }
        RunAsync(command, request.Args).PipeTo(client, Self);
    }

    private async Task<OpsReply> RunAsync(PaletteCommand command, IReadOnlyList<string> args)
    {
        try
        {
            var table = await command.Handler(new PaletteInvocation(node, args, CancellationToken.None)).ConfigureAwait(false);
            return new OpsReply("", OpsJson.Write(table));
        }
        catch (OpsCommandException failure)
        {
            return new OpsReply(failure.Message, "");
        }
    }
}

/// <summary>Timer message: the delay after <c>node leave</c> has passed; stop the host now.</summary>
internal sealed record LeaveNow : ILocalMessage
{
    public static readonly LeaveNow Instance = new();
}

/// <summary>Thrown by a palette handler for bad input or an unanswerable question; the message goes to the operator.</summary>
public sealed class OpsCommandException : Exception
{
    public OpsCommandException()
    {
    }

    public OpsCommandException(string message)
        : base(message)
    {
    }

    public OpsCommandException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
