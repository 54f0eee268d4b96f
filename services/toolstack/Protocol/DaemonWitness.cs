using PolyType;

namespace Disagg.Toolstack.Protocol;

/// <summary>Source-generated shapes for every CLI<->daemon message (NativeAOT: no reflection at run time).</summary>
[GenerateShapeFor<DaemonMessage>]
internal sealed partial class DaemonWitness;
