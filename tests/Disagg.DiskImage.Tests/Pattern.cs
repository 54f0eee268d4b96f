namespace Disagg.DiskImage.Tests;

/// <summary>Deterministic, position-dependent data, so a misplaced sector never matches by accident.</summary>
public static class Pattern
{
    public static byte[] Bytes(int length, int seed)
    {
        var b = new byte[length];
        new Random(seed).NextBytes(b);
        return b;
    }

    public static byte[] Filled(int length, byte value)
    {
        var b = new byte[length];
        Array.Fill(b, value);
        return b;
    }
}
