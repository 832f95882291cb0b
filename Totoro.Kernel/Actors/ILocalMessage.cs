namespace Totoro.Kernel;

/// <summary>
/// Marks a message that never crosses a node boundary (kernel commands, test-kit plumbing), so the
/// serialize-every-message switch does not demand a serializer for it.
/// </summary>
public interface ILocalMessage;
