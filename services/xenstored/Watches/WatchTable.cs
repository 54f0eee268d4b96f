using System.Text;
using Disagg.Abi.Io;
using Disagg.Xenstored.Core;
using Disagg.Xenstored.Permissions;
using Disagg.Xenstored.Store;

namespace Disagg.Xenstored.Watches;

/// <summary>
/// Every registered watch, and the firing rule: a change at P fires every watch at P or above it;
/// removing P also fires watches set below P (their node went with it), reporting their own path.
/// A watcher only hears about nodes it may read. The special paths fire on XS_INTRODUCE/XS_RELEASE,
/// for privileged watchers only (a guest has no business learning which domains exist).
/// </summary>
public sealed class WatchTable
{
    // Indexed by watched path: a change at P looks up P and each of its ancestors (depth lookups, not one
    // per watch); a removal also walks the sorted paths below P. The span lookup keeps firing allocation-free.
    private readonly Dictionary<string, List<Watch>> _byPath = new(StringComparer.Ordinal);
    private readonly SortedSet<string> _paths = new(StringComparer.Ordinal);
    private byte[] _scratch = new byte[256];

    public int Count { get; private set; }

    public IEnumerable<Watch> All => _paths.SelectMany(p => _byPath[p]);

    public bool Contains(XsConnection owner, string path, string token) =>
        _byPath.TryGetValue(path, out var list) && list.Exists(w => w.Owner == owner && w.Token == token);

    public void Add(Watch watch)
    {
        if (!_byPath.TryGetValue(watch.Path, out var list))
        {
            _byPath[watch.Path] = list = [];
            _paths.Add(watch.Path);
        }

        list.Add(watch);
        Count++;
        watch.Owner.WatchCount++;
    }

    public bool Remove(XsConnection owner, string path, string token)
    {
        if (!_byPath.TryGetValue(path, out var list))
        {
            return false;
        }

        var i = list.FindIndex(w => w.Owner == owner && w.Token == token);
        if (i < 0)
        {
            return false;
        }

        list.RemoveAt(i);
        Count--;
        owner.WatchCount--;
        DropIfEmpty(path, list);
        return true;
    }

    public void RemoveAll(XsConnection owner)
    {
        if (owner.WatchCount == 0)
        {
            return;
        }

        foreach (var path in _paths.ToArray())
        {
            var list = _byPath[path];
            Count -= list.RemoveAll(w => w.Owner == owner);
            DropIfEmpty(path, list);
        }

        owner.WatchCount = 0;
    }

    public void Fire(in WatchTrigger trigger)
    {
        var byPath = _byPath.GetAlternateLookup<ReadOnlySpan<char>>();
        ReadOnlySpan<char> at = trigger.Path;
        while (at.Length > 0)
        {
            if (byPath.TryGetValue(at, out var list))
            {
                foreach (var w in list)
                {
                    Deliver(w, trigger.Path, trigger);
                }
            }

            if (at.Length == 1)
            {
                break;
            }

            var slash = at.LastIndexOf('/');
            at = slash <= 0 ? "/" : at[..slash];
        }

        if (trigger.Removal)
        {
            // Watches below the removed node went with it: each reports its own path.
            var below = trigger.Path.Length == 1
                ? _paths.GetViewBetween("/\0", "/\uffff")
                : _paths.GetViewBetween(trigger.Path + "/", trigger.Path + "0");
            foreach (var path in below)
            {
                if (path != trigger.Path)
                {
                    foreach (var w in _byPath[path])
                    {
                        Deliver(w, w.Path, trigger);
                    }
                }
            }
        }
    }

    public void FireSpecial(string specialPath)
    {
        if (_byPath.TryGetValue(specialPath, out var list))
        {
            foreach (var w in list)
            {
                if (w.Owner.Caller.Privileged)
                {
                    SendEvent(w, specialPath);
                }
            }
        }
    }

    private void Deliver(Watch w, string reported, in WatchTrigger trigger)
    {
        if ((w.Owner.Caller.AccessTo(trigger.Permissions) & XsAccess.Read) == 0)
        {
            return;
        }

        SendEvent(w, w.Relative ? XsPath.Relativize(reported, w.Owner.Caller.DomainId) : reported);
    }

    private void DropIfEmpty(string path, List<Watch> list)
    {
        if (list.Count == 0)
        {
            _byPath.Remove(path);
            _paths.Remove(path);
        }
    }

    /// <summary>A new watch fires once at once, with the path as the client gave it (Xen clients wait for this).</summary>
    public void SendEvent(Watch watch, string reportedPath)
    {
        var length = reportedPath.Length + 1 + watch.Token.Length + 1;
        if (_scratch.Length < length)
        {
            _scratch = new byte[Math.Max(length, _scratch.Length * 2)];
        }

        var n = Encoding.ASCII.GetBytes(reportedPath, _scratch);
        _scratch[n++] = 0;
        n += Encoding.Latin1.GetBytes(watch.Token, _scratch.AsSpan(n));
        _scratch[n++] = 0;
        watch.Owner.Send(XsMessageType.WatchEvent, 0, 0, _scratch.AsSpan(0, n));
    }
}
