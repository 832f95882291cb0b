namespace Totoro.Kernel;

/// <summary>The actor's constructor or <c>PreStart</c> threw; the default strategy stops such an actor.</summary>
public sealed class ActorInitializationException : Exception
{
    public ActorInitializationException()
    {
    }

    public ActorInitializationException(string message)
        : base(message)
    {
    }

    public ActorInitializationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
