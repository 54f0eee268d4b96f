using System.Security.Cryptography;
using System.Text;

namespace Disagg.Toolstack.Migration;

/// <summary>
/// The secret two hosts share so that nobody else can push a guest into a host: `host up --listen` takes it
/// as --migration-token or --migration-key-file, `disagg migrate` as --token or --key-file. It never crosses
/// the wire: the target sends a fresh nonce, the source answers with HMAC-SHA256(key, nonce).
/// </summary>
internal static class MigrationKey
{
    /// <summary>Shorter secrets are refused: a guessable key lets anyone on the network start guests here.</summary>
    public const int MinBytes = 16;

    public static byte[] From(string? token, string? keyFile, string what)
    {
        string text;
        if (keyFile is not null)
        {
            try
            {
                text = File.ReadAllText(keyFile);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new Host.HostConfigException($"{what}: cannot read the key file {keyFile}: {e.Message}");
            }
        }
        else
        {
            text = token ?? throw new Host.HostConfigException($"{what}: a migration token or key file is required");
        }

        var key = Encoding.UTF8.GetBytes(text.Trim());
        return key.Length >= MinBytes ? key : throw new Host.HostConfigException($"{what}: the migration key has {key.Length} bytes, at least {MinBytes} are required");
    }

    public static byte[] Prove(byte[] key, byte[] nonce) => HMACSHA256.HashData(key, nonce);

    public static bool Check(byte[] key, byte[] nonce, byte[] proof) => CryptographicOperations.FixedTimeEquals(Prove(key, nonce), proof);
}
