using System.Reflection;

// Tests run under the JIT: reflection over the records is what this helper is for.
#pragma warning disable IL2067, IL2070, IL3050

namespace Disagg.TestSupport;

/// <summary>
/// Records built through their widest constructor with values of every kind, for codec tests that compare
/// a generated codec with a reference serializer.
/// </summary>
public static class RandomRecords
{
    // Seed 0: every value its default (0, false, "", empty, null where allowed); others random, seed 3 extremes.
    public static object Instance(Type type, Random random, int seed)
    {
        var ctor = type.GetConstructors().OrderByDescending(c => c.GetParameters().Length).First();
        var args = ctor.GetParameters().Select(p => Value(p.ParameterType, IsNullable(p), random, seed)).ToArray();
        return ctor.Invoke(args);
    }

    private static bool IsNullable(ParameterInfo p) =>
        new NullabilityInfoContext().Create(p).WriteState == NullabilityState.Nullable;

    private static object? Value(Type t, bool nullable, Random random, int seed)
    {
        var zero = seed == 0;
        var extreme = seed == 3;
        if (nullable && (zero || random.Next(3) == 0))
        {
            return null;
        }

        var u = Nullable.GetUnderlyingType(t);
        if (u is not null)
        {
            return Value(u, false, random, seed);
        }

        if (t.IsEnum)
        {
            var values = Enum.GetValues(t);
            return zero ? Activator.CreateInstance(t) : values.GetValue(random.Next(values.Length));
        }

        if (t == typeof(string))
        {
            return zero ? "" : extreme ? new string('\u00e9', 300) : "s" + random.Next();
        }

        if (t == typeof(byte[]))
        {
            var bytes = new byte[zero ? 0 : extreme ? 70_000 : random.Next(1, 40)];
            random.NextBytes(bytes);
            return bytes;
        }

        if (t == typeof(bool))
        {
            return !zero && random.Next(2) == 1;
        }

        if (t.IsPrimitive)
        {
            if (zero)
            {
                return Convert.ChangeType(0, t, System.Globalization.CultureInfo.InvariantCulture);
            }

            if (extreme)
            {
                var field = random.Next(2) == 0 ? "MinValue" : "MaxValue";
                return t.GetField(field)!.GetValue(null);
            }

            var raw = new byte[8];
            random.NextBytes(raw);
            var size = System.Runtime.InteropServices.Marshal.SizeOf(t);
            var shift = random.Next(size * 8);
            var v = BitConverter.ToUInt64(raw) >> shift; // small and large magnitudes, every msgpack int width
            return t == typeof(long) || t == typeof(int) || t == typeof(short)
                ? Convert.ChangeType(unchecked((long)v) * (random.Next(2) == 0 ? 1 : -1) % (t == typeof(long) ? long.MaxValue : t == typeof(int) ? int.MaxValue : short.MaxValue), t, System.Globalization.CultureInfo.InvariantCulture)
                : Convert.ChangeType(v % (t == typeof(ulong) ? ulong.MaxValue : t == typeof(uint) ? uint.MaxValue : ushort.MaxValue), t, System.Globalization.CultureInfo.InvariantCulture);
        }

        var count = zero ? 0 : random.Next(1, 4);
        if (t.IsGenericType && t.GetGenericTypeDefinition() == typeof(IReadOnlyDictionary<,>))
        {
            var map = new Dictionary<string, string>();
            for (var i = 0; i < count; i++)
            {
                map["k" + i + random.Next()] = (string)Value(typeof(string), false, random, seed)!;
            }

            return map;
        }

        var element = t.IsArray ? t.GetElementType()! : t.GetGenericArguments()[0];
        var array = Array.CreateInstance(element, count);
        for (var i = 0; i < count; i++)
        {
            array.SetValue(element.IsPrimitive || element == typeof(string) ? Value(element, false, random, seed) : Instance(element, random, seed), i);
        }

        return array;
    }
}
