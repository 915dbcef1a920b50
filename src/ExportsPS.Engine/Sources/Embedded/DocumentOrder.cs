namespace ExportsPS.Engine.Sources.Embedded;

/// <summary>Which documents of an import are built, numbered from 1 in input order. A document that meets a field
/// no document has mapped waits until every earlier one is built: then the first document with the field decides
/// its type and the mapping's field order is the documents' order, whichever indexing thread gets there first.
/// Documents are taken in input order and each thread builds one at a time, so the earliest unbuilt document never
/// waits and the wait always ends. New fields are rare after the first documents; known fields never wait.</summary>
internal sealed class DocumentOrder
{
    static readonly TimeSpan Recheck = TimeSpan.FromMilliseconds(50);

    readonly object _gate = new();
    readonly HashSet<long> _builtAhead = new();
    long _builtThrough;

    public void Built(long number)
    {
        lock (_gate)
        {
            if (number != _builtThrough + 1)
            {
                _builtAhead.Add(number);
                return;
            }
            _builtThrough = number;
            while (_builtAhead.Remove(_builtThrough + 1)) _builtThrough++;
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>Returns once every document before <paramref name="number"/> is built; an import that stops (a bad
    /// document on another thread, Ctrl+C) cancels the wait.</summary>
    public void WaitForEarlier(long number, CancellationToken cancellationToken)
    {
        lock (_gate)
            while (_builtThrough < number - 1)
            {
                cancellationToken.ThrowIfCancellationRequested();
                Monitor.Wait(_gate, Recheck);
            }
    }
}
