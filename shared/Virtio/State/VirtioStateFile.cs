namespace Disagg.Virtio.State;

/// <summary>
/// A device's state record in a file that survives its process: written to a temporary name and renamed
/// over the old one, so a SIGKILL at any instant leaves either the old record or the new one, whole.
/// </summary>
/// <remarks>
/// No fsync: the threat is the device model's death, not the host's (the guest's RAM, which holds the
/// rings, does not survive the host either), and a completed write(2) outlives its process.
/// </remarks>
public static class VirtioStateFile
{
    public static void Write(string path, VirtioDeviceState state)
    {
        var temporary = path + ".tmp";
        File.WriteAllBytes(temporary, VirtioStateCodec.Encode(state));
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>The record at <paramref name="path"/>, or null when there is none (a first start).</summary>
    public static VirtioDeviceState? Read(string device, string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (FileNotFoundException)
        {
            return null;
        }

        return VirtioStateCodec.Decode(device, bytes);
    }
}
