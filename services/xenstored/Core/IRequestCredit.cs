namespace Disagg.Xenstored.Core;

/// <summary>A transport that limits how many of its requests wait in the loop's queue, told when one is done.</summary>
public interface IRequestCredit
{
    void RequestDone();
}
