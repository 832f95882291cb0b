namespace Totoro.Kernel;

/// <summary>Publish/subscribe by type within one actor system: a subscriber gets every event assignable to its channel type.</summary>
public sealed class EventStream
{
    private readonly Lock _lock = new();
    private Subscription[] _subscriptions = [];

    public void Subscribe<TEvent>(IActorRef subscriber) => Subscribe(subscriber, typeof(TEvent));

    public void Subscribe(IActorRef subscriber, Type channel)
    {
        ArgumentNullException.ThrowIfNull(subscriber);
        ArgumentNullException.ThrowIfNull(channel);
        lock (_lock)
        {
            if (!Array.Exists(_subscriptions, s => s.Channel == channel && s.Subscriber.Equals(subscriber)))
            {
                _subscriptions = [.. _subscriptions, new Subscription(channel, subscriber)];
            }
        }
    }

    /// <summary>Removes the subscriber from <paramref name="channel"/>, or from every channel if null.</summary>
    public void Unsubscribe(IActorRef subscriber, Type? channel = null)
    {
        ArgumentNullException.ThrowIfNull(subscriber);
        lock (_lock)
        {
            _subscriptions = Array.FindAll(_subscriptions, s => !(s.Subscriber.Equals(subscriber) && (channel is null || s.Channel == channel)));
        }
    }

    public void Publish(object @event)
    {
        ArgumentNullException.ThrowIfNull(@event);
        var subscriptions = Volatile.Read(ref _subscriptions);
        foreach (var subscription in subscriptions)
        {
            if (subscription.Channel.IsInstanceOfType(@event))
            {
                if (subscription.Subscriber is ActorCell cell)
                {
                    cell.TellLocal(@event, null);
                }
                else
                {
                    subscription.Subscriber.Tell(@event);
                }
            }
        }
    }

    private readonly record struct Subscription(Type Channel, IActorRef Subscriber);
}
