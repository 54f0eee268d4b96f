namespace Disagg.DiskImage.Qcow2;

/// <summary>Drops one reference to the cluster at a host offset (how a moved refcount table gives its old clusters back).</summary>
internal delegate void ClusterAllocatorRelease(long hostOffset);
