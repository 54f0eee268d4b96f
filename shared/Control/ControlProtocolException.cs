namespace Disagg.Control;

/// <summary>The peer sent something that is not the control protocol; the connection cannot go on.</summary>
public sealed class ControlProtocolException(string reason) : Exception(reason);
