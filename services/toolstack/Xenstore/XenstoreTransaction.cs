using Disagg.Xenbus;

namespace Disagg.Toolstack.Xenstore;

/// <summary>
/// The toolstack's xenstore transactions: the retry rule is XenstoreClient.RunTransactionAsync's
/// (libxenstore's), the entries are the toolstack's.
/// </summary>
internal static class XenstoreTransaction
{
    /// <summary>Runs <paramref name="body"/> in a transaction until it commits; false when it never did.</summary>
    public static Task<bool> RunAsync(XenstoreClient xs, Func<uint, Task> body, CancellationToken cancel) =>
        xs.RunTransactionAsync(body, cancel);

    /// <summary>Writes each entry: a directory or a value, then its permissions when it has its own.</summary>
    public static async Task WriteAsync(XenstoreClient xs, uint tx, IEnumerable<XenstoreEntry> entries, CancellationToken cancel)
    {
        foreach (var (path, value, perms) in entries)
        {
            if (value is null)
            {
                await xs.MkdirAsync(tx, path, cancel).ConfigureAwait(false);
            }
            else
            {
                await xs.WriteAsync(tx, path, value, cancel).ConfigureAwait(false);
            }

            if (perms is not null)
            {
                await xs.SetPermsAsync(tx, path, perms, cancel).ConfigureAwait(false);
            }
        }
    }
}
