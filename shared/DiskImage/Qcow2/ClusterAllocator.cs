using Disagg.Interop;
using Microsoft.Win32.SafeHandles;

namespace Disagg.DiskImage.Qcow2;

/// <summary>
/// Hands out host clusters for new data and L2 tables, and takes them back on discard.
/// </summary>
/// <remarks>
/// Crash consistency (qcow2.txt: a cluster in use must have refcount &gt;= 1): a cluster's
/// refcount is raised and written before anything points at it, and a reference is removed
/// before its refcount drops. Clusters are reserved in batches: the batch's refcounts are
/// written and fdatasync'd once, then handed out one by one, so even a power cut after an
/// L2 entry reached the disk finds its cluster counted. A crash with reservations left over
/// leaks them (qemu-img check: "leaked clusters", harmless, repairable); Dispose returns them.
/// Callers hold the image's metadata lock.
/// </remarks>
internal sealed class ClusterAllocator
{
    // Reservations grow from 64 to 2048 clusters while a writer keeps allocating, so a sequential
    // fill pays one fdatasync per 2048 clusters (128 MiB at 64 KiB). A crash leaks at most one batch
    // of refcounts; clusters past the end of the file cost no disk space.
    private const int FirstBatch = 64;
    private const int MaxBatch = 2048;

    private readonly SafeFileHandle _file;
    private readonly string _path;
    private readonly Qcow2Geometry _geometry;
    private readonly RefcountTable _refcounts;
    private readonly Queue<long> _reserved = new(FirstBatch);
    private readonly Queue<long> _pending = new(FirstBatch);
    private int _batch = FirstBatch;
    private bool _prefetching;
    private long _searchFrom;

    public ClusterAllocator(SafeFileHandle file, string path, Qcow2Geometry geometry, RefcountTable refcounts)
    {
        _file = file;
        _path = path;
        _geometry = geometry;
        _refcounts = refcounts;
    }

    /// <summary>Host offset of a cluster whose refcount (1) is already durable; nothing references it yet.</summary>
    public long Allocate()
    {
        if (_reserved.Count == 0)
        {
            // No durable reservation left (a prefetch may be syncing; its clusters are not usable
            // yet): reserve and sync here, under the caller's lock.
            ReserveInto(_reserved);
            ImageFile.FlushToDisk(_file, _path);
        }

        return _geometry.ClusterOffset(_reserved.Dequeue());
    }

    /// <summary>
    /// Keeps the metadata lock free of fdatasync in steady state: when the durable reservations run
    /// low, the caller (holding the lock) writes the next batch's refcounts here, then syncs the
    /// file after releasing the lock and calls <see cref="CompletePrefetch"/>. Returns true if the
    /// caller must do that.
    /// </summary>
    public bool StartPrefetch()
    {
        if (_prefetching || _reserved.Count > _batch / 4)
        {
            return false;
        }

        ReserveInto(_pending);
        _prefetching = true;
        return true;
    }

    /// <summary>Under the lock again, after a successful fdatasync that began after <see cref="StartPrefetch"/>.</summary>
    public void CompletePrefetch()
    {
        while (_pending.TryDequeue(out var cluster))
        {
            _reserved.Enqueue(cluster);
        }

        _prefetching = false;
    }

    /// <summary>The sync failed: the written refcounts stay pending (returned on close, or made durable by a later sync).</summary>
    public void AbandonPrefetch() => _prefetching = false;

    /// <summary>Drops one reference to a cluster the caller has already unlinked; at zero the file space is released.</summary>
    public void Release(long hostOffset)
    {
        var cluster = _geometry.ClusterIndex(hostOffset);
        var count = _refcounts.Get(cluster);
        if (count == 0)
        {
            throw new DiskImageException(_path, DiskImageError.Corrupt, $"cluster at {hostOffset} is referenced but has refcount 0");
        }

        _refcounts.Set(cluster, (ushort)(count - 1));
        if (count == 1)
        {
            // Give the space back to the host; failure only costs space, never correctness.
            _ = Fallocate.PunchHoleKeepSize(_file, hostOffset, _geometry.ClusterSize);
            _searchFrom = Math.Min(_searchFrom, cluster);
        }
    }

    /// <summary>Returns unused reservations so a cleanly closed image has no leaks.</summary>
    public void ReturnReservations()
    {
        foreach (var queue in new[] { _reserved, _pending })
        {
            while (queue.TryDequeue(out var cluster))
            {
                _refcounts.Set(cluster, 0);
                _searchFrom = Math.Min(_searchFrom, cluster);
            }
        }
    }

    /// <summary>Finds free clusters and writes their refcounts (1) into <paramref name="into"/>; the caller syncs.</summary>
    private void ReserveInto(Queue<long> into)
    {
        var cluster = _searchFrom;
        var batch = into.Count + _batch;
        _batch = Math.Min(MaxBatch, _batch * 2);
        while (into.Count < batch)
        {
            if (cluster >= _refcounts.CoveredClusters)
            {
                // Refcounts of what we reserved so far are written; the table move syncs them too.
                _refcounts.Grow(Release);
                continue;
            }

            if (!_refcounts.IsCovered(cluster))
            {
                _refcounts.AddSelfDescribingBlock((int)(cluster / _geometry.RefcountBlockEntries));
            }

            // Runs of free clusters inside one refcount block become one refcount write.
            var blockEnd = (cluster / _geometry.RefcountBlockEntries + 1) * _geometry.RefcountBlockEntries;
            var runStart = -1L;
            while (cluster < blockEnd && into.Count < batch)
            {
                if (_refcounts.Get(cluster) == 0)
                {
                    if (runStart < 0)
                    {
                        runStart = cluster;
                    }

                    into.Enqueue(cluster);
                }
                else if (runStart >= 0)
                {
                    _refcounts.SetRun(runStart, (int)(cluster - runStart), 1);
                    runStart = -1;
                }

                cluster++;
            }

            if (runStart >= 0)
            {
                _refcounts.SetRun(runStart, (int)(cluster - runStart), 1);
            }
        }

        _searchFrom = cluster;
    }
}
