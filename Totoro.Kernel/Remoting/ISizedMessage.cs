namespace Totoro.Kernel;

/// <summary>A message that knows its wire size, for bandwidth modelling when the transport passes messages by reference.</summary>
public interface ISizedMessage
{
    int WireSize { get; }
}
