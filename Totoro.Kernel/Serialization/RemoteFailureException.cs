namespace Totoro.Kernel;

/// <summary>A failure that happened on another node, carried as its type name and message.</summary>
public sealed class RemoteFailureException : Exception
{
    public RemoteFailureException()
    {
    }

    public RemoteFailureException(string message)
        : base(message)
    {
    }

    public RemoteFailureException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public RemoteFailureException(string remoteType, string message)
        : base($"{remoteType}: {message}") => RemoteType = remoteType;

    public string? RemoteType { get; }
}
