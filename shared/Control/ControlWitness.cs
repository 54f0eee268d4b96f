using Disagg.Control.Messages;
using PolyType;

namespace Disagg.Control;

/// <summary>Source-generated shapes for every control message (NativeAOT: no reflection at run time).</summary>
[GenerateShapeFor<ControlMessage>]
internal sealed partial class ControlWitness;
