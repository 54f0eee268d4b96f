namespace Disagg.DiskImage;

/// <summary>On-disk formats blkback serves; the names match xl's disk spec <c>format=</c> values.</summary>
public enum DiskImageFormat
{
    Raw = 1,
    Qcow2 = 2,
}
