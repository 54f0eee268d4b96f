using Disagg.Xenbus;

namespace Disagg.Toolstack.Xenstore;

/// <summary>
/// One xenstore transaction with libxenstore's retry rule: a commit that fails with EAGAIN (another
/// writer got in between) is run again from the start, a few times.
/// </summary>
internal static class XenstoreTransaction
{
    private const int Attempts = 5;

    /// <summary>Runs <paramref name="body"/> in a transaction until it commits; false when it never did.</summary>
    public static async Task<bool> RunAsync(XenstoreClient xs, Func<uint, Task> body, CancellationToken cancel)
    {
        for (var attempt = 0; attempt < Attempts; attempt++)
        {
            var tx = await xs.TransactionStartAsync(cancel).ConfigureAwait(false);
            try
            {
                await body(tx).ConfigureAwait(false);
            }
            catch
            {
                await xs.TransactionEndAsync(tx, commit: false, cancel).ConfigureAwait(false);
                throw;
            }

            if (await xs.TransactionEndAsync(tx, commit: true, cancel).ConfigureAwait(false))
            {
                return true;
            }
        }

        return false;
    }

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
