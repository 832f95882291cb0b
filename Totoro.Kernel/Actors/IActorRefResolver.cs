namespace Totoro.Kernel;

/// <summary>Turns a serialized path back into a ref (serializers of messages that carry refs need it).</summary>
public interface IActorRefResolver
{
    IActorRef Resolve(string path);
}
