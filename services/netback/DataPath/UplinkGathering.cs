using Disagg.Netback.Uplink;
using Disagg.Service;

namespace Disagg.Netback.DataPath;

/// <summary>
/// The TAP uplinks as sources of a batch: frames the host sent into a bridge are read straight into copy-buffer
/// pages (no grant copy), and their descriptors are among what the sleeping switch polls. Switching thread only.
/// </summary>
internal sealed class UplinkGathering(IBackendChannel channel)
{
    private readonly List<TapUplink> _uplinks = [];

    public void Add(TapUplink uplink) => _uplinks.Add(uplink);

    /// <summary>Reads waiting frames into the batch from slot <paramref name="frames"/> on, up to <paramref name="max"/>; returns the new count.</summary>
    public int Gather(FrameSlot[] slots, int frames, int max)
    {
        foreach (var uplink in _uplinks)
        {
            while (frames < max)
            {
                var size = uplink.Device.TryRead(channel.Buffer(frames, 1));
                if (size == 0)
                {
                    break;
                }

                ref var slot = ref slots[frames];
                slot.CopyStatus = 0;
                slot.Source = null;
                slot.Uplink = uplink;
                slot.RequestId = 0;
                slot.Flags = 0;
                slot.Size = size;
                slot.Page = frames;
                slot.CopyIndex = -1;
                slot.Announce = false;
                frames++;
            }
        }

        return frames;
    }

    /// <summary>Adds the uplinks' descriptors to <paramref name="fds"/> after its first <paramref name="n"/>; returns the new count.</summary>
    public int AddPollDescriptors(Span<int> fds, int n)
    {
        foreach (var u in _uplinks)
        {
            if (n < fds.Length)
            {
                fds[n++] = u.Device.Fd;
            }
        }

        return n;
    }
}
