namespace Disagg.DiskImage.Qcow2;

/// <summary>A run of guest bytes that reads the same way: from <see cref="HostOffset"/> on, as zeros, or from the backing file.</summary>
internal readonly record struct Qcow2Mapping(ClusterKind Kind, long HostOffset, int Length);
