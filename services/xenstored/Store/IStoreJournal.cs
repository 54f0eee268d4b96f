namespace Disagg.Xenstored.Store;

/// <summary>Receives every change made to the live tree, in order, so it can be made durable before the reply goes out.</summary>
public interface IStoreJournal
{
    void NodeWritten(string path, Node node);

    void SubtreeRemoved(string path);
}
