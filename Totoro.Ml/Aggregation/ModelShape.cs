namespace Totoro.Ml.Aggregation;

/// <summary>
/// What every update of one FL application must agree on: the architecture (a hash of the model's
/// layer layout chosen by the model owner) and the length of the flat parameter vector.
/// </summary>
public readonly record struct ModelShape(ulong ArchitectureId, int ElementCount);
