using Disagg.Xenstored.Domains;
using Disagg.Xenstored.Store;

namespace Disagg.Xenstored.Core;

/// <summary>
/// Everything that must survive a restart besides node contents: introduced domains, their
/// targets, and guests' watches. One request's records form one atomic journal record.
/// </summary>
public interface IDurableLog : IStoreJournal
{
    void DomainIntroduced(GuestDomain domain);

    void DomainReleased(uint domainId);

    void TargetSet(uint domainId, uint target);

    void WatchAdded(uint domainId, string path, string token, bool relative);

    void WatchRemoved(uint domainId, string path, string token);

    void WatchesReset(uint domainId);

    /// <summary>Closes the current request's record (nothing happens if it changed nothing).</summary>
    void EndRequest();
}
