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

    ArtifactManifest? ReadManifest(string exportName);

    /// <summary>Opens the artifact the manifest describes, for streaming.</summary>
    Stream OpenRead(string exportName, ArtifactManifest manifest, ArtifactKey? key = null);

    /// <summary>Removes the artifact and its manifest; no error when there is none.</summary>
    void Delete(string exportName);

    /// <summary>Removes what interrupted writes left behind (temp files, orphan uploads) for runs that
    /// are no longer active.</summary>
    int RemoveOrphans(Func<string, bool> isActiveRun);
}

public interface IArtifactWrite : IAsyncDisposable
{
    /// <summary>The stream the run writes the artifact's bytes to (after compression).</summary>
    Stream Content { get; }

    /// <summary>Publishes the written bytes and the manifest as the export's artifact, atomically.</summary>
    Task CommitAsync(ArtifactManifest manifest, CancellationToken cancellationToken);

    /// <summary>Discards everything written. Disposing without committing aborts too.</summary>
    Task AbortAsync();
}
