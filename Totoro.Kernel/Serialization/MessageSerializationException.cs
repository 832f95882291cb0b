namespace Totoro.Kernel;

/// <summary>A message has no serializer, or bytes from the wire do not parse under their manifest.</summary>
public sealed class MessageSerializationException : Exception
{
    public MessageSerializationException()
    {
    }

    public MessageSerializationException(string message)
        : base(message)
    {
    }

    public MessageSerializationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
