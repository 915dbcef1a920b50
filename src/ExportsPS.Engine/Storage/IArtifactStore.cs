namespace ExportsPS.Engine.Storage;

/// <summary>Where an export's file lands. The store is the only code that knows where bytes go: a run
/// writes through <see cref="IArtifactWrite"/> and nothing is visible until <see cref="IArtifactWrite.CommitAsync"/>,
/// which replaces the previous artifact atomically; until then the previous one stays readable.</summary>
public interface IArtifactStore
{
    string Kind { get; }

    /// <summary>A human-readable location of the export's artifact (a path, an s3:// URI).</summary>
    string Locate(string exportName, string fileName);

    /// <summary>Starts a write; with <paramref name="key"/> the artifact is encrypted with that customer key
    /// (stores that cannot encrypt refuse it).</summary>
    IArtifactWrite BeginWrite(string exportName, string fileName, string runId, ArtifactKey? key = null);

    /// <summary>Refuses an encrypted export whose key this store could not keep secret on its way to the storage.</summary>
    void CheckKeyTransport(string exportName) { }

    ArtifactManifest? ReadManifest(string exportName);

    /// <summary>Opens the artifact the manifest describes, for streaming.</summary>
    Stream OpenRead(string exportName, ArtifactManifest manifest, ArtifactKey? key = null);

    /// <summary>Removes everything the export has in the store (its removal); no error when there is none.</summary>
    void Delete(string exportName);

    /// <summary>Removes the file <paramref name="expired"/> describes if it is still the export's latest, and nothing
    /// else: its manifest stays as the record of that run (a later -Since LastRun run starts from its high-water
    /// mark; a download is refused as expired), and a run writing the next file or a partial file kept for -Resume
    /// is left alone. True when a file was removed.</summary>
    bool DeleteExpired(string exportName, ArtifactManifest expired);

    /// <summary>Removes what interrupted writes left behind (temp files, orphan uploads) for runs that
    /// are no longer active.</summary>
    int RemoveOrphans(Func<string, bool> isActiveRun);
}

public interface IArtifactWrite : IAsyncDisposable
{
    /// <summary>The stream the run writes the artifact's bytes to (after compression).</summary>
    Stream Content { get; }

    /// <summary>Publishes the written bytes and the manifest as the export's artifact, atomically. Returns the
    /// manifest as stored (the store may add its encryption, or the sha256 of a continued file whose start it
    /// could not read back: see <see cref="IResumableWrite.ReadKept"/>).</summary>
    Task<ArtifactManifest> CommitAsync(ArtifactManifest manifest, CancellationToken cancellationToken);

    /// <summary>Discards everything written. Disposing without committing aborts too.</summary>
    Task AbortAsync();

    /// <summary>The run was canceled: stop transfers in flight now (the write is then aborted or kept).</summary>
    void Cancel() { }

    /// <summary>Bytes the storage has acknowledged so far (S3: completed parts), for upload progress;
    /// -1 where writing is local and needs no progress of its own.</summary>
    long BytesStored => -1;
}

/// <summary>A store whose partial files can outlive their run, so an interrupted run is continued rather
/// than started over (Start-Export -Resume).</summary>
public interface IResumableStore
{
    /// <summary>Takes over the partial file run <paramref name="fromRunId"/> kept, cut to <paramref name="length"/>
    /// bytes, as run <paramref name="runId"/>'s write; new bytes are appended. Throws when the file is gone.
    /// <paramref name="state"/> is what <see cref="IResumableWrite.State"/> said at that cut.</summary>
    IResumableWrite ContinueWrite(string exportName, string fileName, string runId, string fromRunId, long length, string? state);

    /// <summary>Deletes a kept partial file or upload (a fresh run supersedes it); no error when there is none.</summary>
    void DiscardPartial(string exportName, string fileName, string runId);
}

public interface IResumableWrite : IArtifactWrite
{
    /// <summary>Bytes the write started with (a continued partial file); 0 for a new one.</summary>
    long KeptLength { get; }

    /// <summary>Reads the bytes the write started with (to carry on their hash); null where they cannot be
    /// read back (an unfinished S3 upload), and then <see cref="IArtifactWrite.CommitAsync"/> computes the
    /// sha256 of the whole file itself.</summary>
    Stream? ReadKept();

    /// <summary>Whether a cut could be made now: cheap, read from the run's thread before asking for one (S3: the
    /// part being collected has reached 5 MiB). <see cref="TryMakeDurable"/> decides.</summary>
    bool CanCut { get; }

    /// <summary>Makes everything written so far durable and returns the file's length; null when no cut can be
    /// made now (S3: parts other than the last must hold at least 5 MiB), so the caller tries again later.</summary>
    long? TryMakeDurable();

    /// <summary>What the store needs to continue from the last cut (S3: the upload id and its part count).</summary>
    string? State { get; }

    /// <summary>Instead of <see cref="IArtifactWrite.AbortAsync"/>: keeps the first <paramref name="length"/>
    /// bytes (the last durable cut) for a later resume and discards the rest.</summary>
    Task KeepAsync(long length);
}
