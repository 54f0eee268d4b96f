using Disagg.Xenstored.Domains;

namespace Disagg.Xenstored.Core;

/// <summary>How the protocol reaches guests' connections without knowing what carries them (a ring page today).</summary>
public interface IDomainConnections
{
    /// <summary>XS_INTRODUCE, before anything is recorded: false (EINVAL) if the domain's page or port cannot be attached.</summary>
    bool TryPrepare(GuestDomain domain, out string reason);

    /// <summary>The connection of an introduced domain, made (and its ring attached when possible) if needed.</summary>
    XsConnection Attach(GuestDomain domain);

    XsConnection? Find(uint domainId);

    /// <summary>Stops serving a released domain and forgets its connection.</summary>
    void Detach(uint domainId);
}
