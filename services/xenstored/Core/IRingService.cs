namespace Disagg.Xenstored.Core;

/// <summary>A connection whose requests the loop pulls itself (a guest's ring) when kicked.</summary>
public interface IRingService
{
    void Service(XsRequestProcessor processor);
}
