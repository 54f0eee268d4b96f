namespace Disagg.Xenstored.Transport.Ring;

/// <summary>Where introduced domains' ring pages come from. Called on the loop thread.</summary>
public interface IGuestRingSource
{
    /// <summary>The mapped ring of <paramref name="domainId"/>, if it has been handed to us; the caller owns it.</summary>
    IGuestRing? TryTake(uint domainId);
}
