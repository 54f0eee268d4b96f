namespace Disagg.Kernel.Cpu.Translate;

/// <summary>A memory operand [base + index * scale + displacement]; <see cref="HasIndex"/> false means [base + displacement].</summary>
internal readonly record struct X64Memory(X64Register Base, int Displacement, X64Register Index = X64Register.Rsp, byte Scale = 1, bool HasIndex = false)
{
    public static X64Memory At(X64Register @base, int displacement = 0) => new(@base, displacement);

    public static X64Memory Indexed(X64Register @base, X64Register index, byte scale, int displacement = 0) =>
        index == X64Register.Rsp ? throw new ArgumentException("rsp cannot be an index register", nameof(index))
        : scale is 1 or 2 or 4 or 8 ? new(@base, displacement, index, scale, true)
        : throw new ArgumentOutOfRangeException(nameof(scale));
}
