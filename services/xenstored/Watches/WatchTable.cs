using System.Text;
using Disagg.Abi.Io;
using Disagg.Xenstored.Core;
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
    private readonly List<Watch> _watches = [];
    private byte[] _scratch = new byte[256];

    public int Count => _watches.Count;

    public IEnumerable<Watch> All => _watches;

    public bool Contains(XsConnection owner, string path, string token)
    {
        foreach (var w in _watches)
        {
            if (w.Owner == owner && w.Path == path && w.Token == token)
            {
                return true;
            }
        }

        return false;
    }

    public void Add(Watch watch)
    {
        _watches.Add(watch);
        watch.Owner.WatchCount++;
    }

    public bool Remove(XsConnection owner, string path, string token)
    {
        for (var i = 0; i < _watches.Count; i++)
        {
            var w = _watches[i];
            if (w.Owner == owner && w.Path == path && w.Token == token)
            {
                _watches.RemoveAt(i);
                owner.WatchCount--;
                return true;
            }
        }

        return false;
    }

    public void RemoveAll(XsConnection owner)
    {
        _watches.RemoveAll(w => w.Owner == owner);
        owner.WatchCount = 0;
    }

    public void Fire(in WatchTrigger trigger)
    {
        foreach (var w in _watches)
        {
            string reported;
            if (XsPath.IsAtOrBelow(trigger.Path, w.Path))
            {
                reported = trigger.Path;
            }
            else if (trigger.Removal && XsPath.IsAtOrBelow(w.Path, trigger.Path))
            {
                reported = w.Path;
            }
            else
            {
                continue;
            }

            if ((w.Owner.Caller.AccessTo(trigger.Permissions) & XsAccess.Read) == 0)
            {
                continue;
            }

            SendEvent(w, w.Relative ? XsPath.Relativize(reported, w.Owner.Caller.DomainId) : reported);
        }
    }

    public void FireSpecial(string specialPath)
    {
        foreach (var w in _watches)
        {
            if (w.Path == specialPath && w.Owner.Caller.Privileged)
            {
                SendEvent(w, specialPath);
            }
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
