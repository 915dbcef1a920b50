using System.Text.RegularExpressions;
using ExportsPS.Engine.Exports;

namespace ExportsPS.Engine.Storage;

/// <summary>Artifacts in the data folder: <c>exports/&lt;name&gt;/&lt;file&gt;</c> plus
/// <c>&lt;file&gt;.manifest.json</c>. A run writes a hidden temp file in the same folder and renames it
/// over the previous artifact, which is atomic on one file system, so readers see the old file or the
/// new one, never a mix.</summary>
public sealed partial class LocalArtifactStore : IArtifactStore, IResumableStore
{
    const string ManifestSuffix = ".manifest.json";
    const string TempPrefix = ".tmp-";
    readonly string _root;

    public LocalArtifactStore(string root) => _root = Path.GetFullPath(root);

    public string Kind => StorageNames.Local;

    public string Locate(string exportName, string fileName) => Path.Combine(FolderOf(exportName), fileName);

    [GeneratedRegex(@"^\.tmp-(?<run>[0-9a-f]{32})-")]
    private static partial Regex TempFilePattern();

    /// <summary>The export's folder, proven to be inside the storage root whatever the name says.</summary>
    string FolderOf(string exportName)
    {
        ExportNames.Validate(exportName);
        var folder = Path.GetFullPath(Path.Combine(_root, exportName));
        var rootWithSeparator = _root.EndsWith(Path.DirectorySeparatorChar) ? _root : _root + Path.DirectorySeparatorChar;
        if (!folder.StartsWith(rootWithSeparator, StringComparison.Ordinal))
            throw new ExportException(ExportErrorCode.InvalidName,
                $"Export name '{exportName}' would write outside the storage root.", exportName);
        return folder;
    }

    public IArtifactWrite BeginWrite(string exportName, string fileName, string runId, ArtifactKey? key = null)
    {
        var folder = FolderOf(exportName);
        try
        {
            Directory.CreateDirectory(folder);
            var temp = Path.Combine(folder, $"{TempPrefix}{runId}-{fileName}");
            var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
            return new LocalWrite(folder, fileName, temp, stream, key, 0);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ExportException(ExportErrorCode.StorageFailed,
                $"Cannot write the export's file in '{folder}': {ex.Message}. Check that the data folder is writable and has free space.",
                folder, ex);
        }
    }

    public IResumableWrite ContinueWrite(string exportName, string fileName, string runId, string fromRunId, long length, string? state)
    {
        var folder = FolderOf(exportName);
        var kept = Path.Combine(folder, $"{TempPrefix}{fromRunId}-{fileName}");
        var temp = Path.Combine(folder, $"{TempPrefix}{runId}-{fileName}");
        if (!File.Exists(kept))
            throw new ExportException(ExportErrorCode.ResumeNotPossible,
                $"The partial file '{kept}' that run {fromRunId} kept is gone, so there is nothing to continue. Run the export again without -Resume.", kept);
        if (new FileInfo(kept).Length < length)
            throw new ExportException(ExportErrorCode.ResumeNotPossible,
                $"The partial file '{kept}' holds {new FileInfo(kept).Length:N0} bytes, fewer than the {length:N0} its checkpoint recorded; it was changed outside ExportsPS. " +
                "Run the export again without -Resume.", kept);
        try { File.Move(kept, temp); }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ExportException(ex is FileNotFoundException ? ExportErrorCode.ResumeNotPossible : ExportErrorCode.StorageFailed,
                $"The partial file '{kept}' cannot be taken over: {ex.Message}", kept, ex);
        }
        try
        {
            var stream = new FileStream(temp, FileMode.Open, FileAccess.ReadWrite, FileShare.Read, 1 << 16);
            stream.SetLength(length);
            stream.Seek(0, SeekOrigin.End);
            return new LocalWrite(folder, fileName, temp, stream, null, length);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Hand the file back, so the checkpoint that names the earlier run still finds it.
            try { File.Move(temp, kept); } catch (Exception back) when (back is IOException or UnauthorizedAccessException) { }
            throw new ExportException(ExportErrorCode.StorageFailed, $"The partial file '{temp}' cannot be reopened: {ex.Message}", temp, ex);
        }
    }

    public void DiscardPartial(string exportName, string fileName, string runId) =>
        TryDelete(Path.Combine(FolderOf(exportName), $"{TempPrefix}{runId}-{fileName}"));

    static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    public ArtifactManifest? ReadManifest(string exportName)
    {
        var folder = FolderOf(exportName);
        if (!Directory.Exists(folder)) return null;
        var manifestPath = Directory.EnumerateFiles(folder, "*" + ManifestSuffix)
            .Where(p => !Path.GetFileName(p).StartsWith(TempPrefix, StringComparison.Ordinal))
            .OrderByDescending(File.GetLastWriteTimeUtc)
            .FirstOrDefault();
        if (manifestPath is null) return null;
        try
        {
            // Shared for delete: on Windows a commit's rename over the manifest fails while a reader holds it without.
            using var file = new FileStream(manifestPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var content = new MemoryStream();
            file.CopyTo(content);
            return ArtifactManifest.FromJson(content.GetBuffer().AsSpan(0, (int)content.Length), exportName);
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or IOException)
        {
            throw new ExportException(ExportErrorCode.ArtifactCorrupt,
                $"The manifest '{manifestPath}' cannot be read ({ex.Message}). Re-run the export with Start-Export.",
                manifestPath, ex);
        }
    }

    public Stream OpenRead(string exportName, ArtifactManifest manifest, ArtifactKey? key = null)
    {
        var path = Locate(exportName, manifest.FileName);
        ArtifactKey.Check(key, manifest.KeyFingerprint, exportName);
        try
        {
            var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 16);
            return manifest.Encryption == ChunkedAesGcm.Name ? new ChunkedAesGcm.DecryptingStream(file, key!, exportName) : file;
        }
        catch (FileNotFoundException ex)
        {
            throw new ExportException(ExportErrorCode.ArtifactMissing,
                $"The file of export '{exportName}' is missing at '{path}'. Re-run the export with Start-Export.", path, ex);
        }
    }

    public void Delete(string exportName)
    {
        var folder = FolderOf(exportName);
        if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
    }

    public bool DeleteExpired(string exportName, ArtifactManifest expired)
    {
        var path = Locate(exportName, expired.FileName);
        if (ReadManifest(exportName)?.RunId != expired.RunId || !File.Exists(path)) return false;
        // A file newer than its manifest is a run's commit halfway (file moved in, manifest next): not the expired one.
        if (File.GetLastWriteTimeUtc(path) > File.GetLastWriteTimeUtc(path + ManifestSuffix)) return false;
        File.Delete(path);
        return true;
    }

    public int RemoveOrphans(Func<string, bool> isActiveRun)
    {
        if (!Directory.Exists(_root)) return 0;
        var removed = 0;
        // Manifest temps first: a data temp deleted before its manifest temp is looked at would make a run that died
        // before its file's rename look like one that died after it, and its manifest would be published over the old file.
        var temps = Directory.EnumerateFiles(_root, TempPrefix + "*", SearchOption.AllDirectories)
            .OrderBy(file => file.EndsWith(ManifestSuffix, StringComparison.Ordinal) ? 0 : 1).ToList();
        foreach (var file in temps)
        {
            var match = TempFilePattern().Match(Path.GetFileName(file));
            if (!match.Success || isActiveRun(match.Groups["run"].Value)) continue;
            if (file.EndsWith(ManifestSuffix, StringComparison.Ordinal) && TryFinishCommit(file)) continue;
            try { File.Delete(file); removed++; }
            catch (IOException) { /* still open by a live writer on another host: next sweep */ }
        }
        return removed;
    }

    /// <summary>A process killed between a commit's two renames leaves the new file in place beside the old
    /// manifest, with the new manifest still in its temp file. The artifact's temp file being gone proves its
    /// rename happened; the sha256 (of unencrypted files) proves the file is the one the manifest describes.
    /// Then the commit is finished by renaming the manifest, so the export serves the new file again.</summary>
    static bool TryFinishCommit(string manifestTemp)
    {
        try
        {
            var folder = Path.GetDirectoryName(manifestTemp)!;
            var manifest = ArtifactManifest.FromJson(File.ReadAllBytes(manifestTemp), Path.GetFileName(folder));
            var artifactTemp = manifestTemp[..^ManifestSuffix.Length];
            var finalPath = Path.Combine(folder, manifest.FileName);
            if (File.Exists(artifactTemp) || !File.Exists(finalPath)) return false;
            if (manifest.Encryption is null)
            {
                using var file = File.OpenRead(finalPath);
                var sha = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(file)).ToLowerInvariant();
                if (sha != manifest.Sha256) return false;
            }
            File.Move(manifestTemp, finalPath + ManifestSuffix, overwrite: true);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Text.Json.JsonException) { return false; }
    }

    sealed class LocalWrite : IResumableWrite
    {
        readonly string _folder;
        readonly string _fileName;
        readonly string _tempPath;
        readonly FileStream _stream;
        readonly ChunkedAesGcm.EncryptingStream? _encrypting;
        readonly ArtifactKey? _key;
        readonly EarlyWriteback _writeback;
        bool _finished;
        bool _published; // the file is in place; its manifest may not be yet

        public LocalWrite(string folder, string fileName, string tempPath, FileStream stream, ArtifactKey? key, long keptLength)
        {
            KeptLength = keptLength;
            _folder = folder;
            _fileName = fileName;
            _tempPath = tempPath;
            _stream = stream;
            _writeback = new EarlyWriteback(stream.SafeFileHandle);
            _key = key;
            if (key is not null) _encrypting = new ChunkedAesGcm.EncryptingStream(stream, key);
        }

        public Stream Content => (Stream?)_encrypting ?? _stream;

        public long KeptLength { get; }

        public string? State => null;

        public Stream? ReadKept() =>
            new FileStream(_tempPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 16) is var file && file.Length > KeptLength
                ? throw new InvalidOperationException("Read the kept bytes before writing new ones.")
                : file;

        public bool CanCut => _encrypting is null;

        public long? TryMakeDurable()
        {
            if (_encrypting is not null) throw new NotSupportedException("An encrypted file is not resumable.");
            _stream.Flush(flushToDisk: true);
            return _stream.Length;
        }

        public async Task KeepAsync(long length)
        {
            if (_finished) return;
            _finished = true;
            // The tail past the cut may not fit (a full disk): closing may fail to flush it, which is fine.
            _writeback.Dispose();
            try { await _stream.DisposeAsync(); } catch (IOException) { }
            try
            {
                using var file = new FileStream(_tempPath, FileMode.Open, FileAccess.Write, FileShare.None);
                if (file.Length < length) throw new IOException("the partial file is shorter than its last durable cut");
                file.SetLength(length);
                file.Flush(flushToDisk: true);
            }
            catch (IOException)
            {
                TryDelete(_tempPath);
                throw;
            }
        }

        public async Task<ArtifactManifest> CommitAsync(ArtifactManifest manifest, CancellationToken cancellationToken)
        {
            if (_encrypting is not null)
            {
                _encrypting.Finish();
                manifest = manifest with { Encryption = ChunkedAesGcm.Name, KeyFingerprint = _key!.Fingerprint };
            }
            await _stream.FlushAsync(cancellationToken);
            _stream.Flush(flushToDisk: true);
            _writeback.Dispose();
            await _stream.DisposeAsync();
            var finalPath = Path.Combine(_folder, _fileName);
            var manifestPath = finalPath + ManifestSuffix;
            var manifestTemp = Path.Combine(_folder, $"{Path.GetFileName(_tempPath)}{ManifestSuffix}");
            // Durable before its rename, like the file: after a power cut the rename may survive and the bytes not,
            // leaving a zero-length manifest beside a good file.
            await using (var manifestFile = new FileStream(manifestTemp, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                await manifestFile.WriteAsync(manifest.ToJson(), cancellationToken);
                manifestFile.Flush(flushToDisk: true);
            }
            // Artifact first, then manifest: a reader that sees a new file with the old manifest detects
            // the sha256 mismatch and re-reads the manifest (see ArtifactReader).
            File.Move(_tempPath, finalPath, overwrite: true);
            _published = true;
            File.Move(manifestTemp, manifestPath, overwrite: true);
            _finished = true;
            // Published: a stale file that cannot go now (held open on Windows) must not record the run as failed; the next commit retries.
            try { RemoveStaleSiblings(finalPath); }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { }
            return manifest;
        }

        /// <summary>A format change renames the file (x.csv → x.jsonl): the old one must not linger.</summary>
        void RemoveStaleSiblings(string finalPath)
        {
            foreach (var file in Directory.EnumerateFiles(_folder))
            {
                var name = Path.GetFileName(file);
                if (name.StartsWith(TempPrefix, StringComparison.Ordinal)) continue;
                if (file == finalPath || file == finalPath + ManifestSuffix) continue;
                File.Delete(file);
            }
        }

        public async Task AbortAsync()
        {
            if (_finished) return;
            _finished = true;
            _writeback.Dispose();
            // Closing retries a flush that failed (a full disk) and throws again: the file goes anyway.
            try { await _stream.DisposeAsync(); } catch (IOException) { }
            TryDelete(_tempPath);
            // Once the file is in place, its manifest's temp file is what the orphan sweep finishes the commit with.
            if (!_published) TryDelete(Path.Combine(_folder, $"{Path.GetFileName(_tempPath)}{ManifestSuffix}"));
        }

        public async ValueTask DisposeAsync() => await AbortAsync();
    }
}
