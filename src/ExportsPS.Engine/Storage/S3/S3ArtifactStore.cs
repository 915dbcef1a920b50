using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Amazon;
using Amazon.Runtime;
using Amazon.Runtime.CredentialManagement;
using Amazon.S3;
using Amazon.S3.Model;
using ExportsPS.Engine.Exports;
using ExportsPS.Engine.Secrets;

namespace ExportsPS.Engine.Storage.S3;

/// <summary>What a consumer needs to download an artifact without credentials: a pre-signed URL and, for an
/// SSE-C encrypted artifact, the headers it must send (the key travels in them, never in the URL).</summary>
public sealed record PresignedDownload(Uri Url, DateTimeOffset ExpiresAt, IReadOnlyDictionary<string, string> Headers);

/// <summary>Artifacts in an S3-compatible bucket: <c>&lt;prefix&gt;&lt;export&gt;/&lt;file&gt;</c> and its manifest beside
/// it. A run streams into a multipart upload as it is produced (memory: part size × parts in flight); S3
/// publishes the object only when the upload completes, so the stable key holds the previous complete file
/// until then. A failed or canceled run aborts its upload; uploads left by a crashed process are found
/// through a marker object naming their run and aborted by <see cref="RemoveOrphans"/>.</summary>
public sealed class S3ArtifactStore : IArtifactStore, IResumableStore, IDisposable
{
    const string ManifestSuffix = ".manifest.json";
    const string UploadMarkers = ".exportsps-uploads/";
    /// <summary>How old an upload no marker protects must be before the sweep aborts it (tests shorten it).</summary>
    internal static TimeSpan UnmarkedUploadAge { get; set; } = TimeSpan.FromHours(24);

    readonly S3StorageTarget _target;
    readonly AmazonS3Client _client;

    /// <summary>Part sizes by part number (tests shrink it to reach the growth and the 10,000-part cap in a few MiB).</summary>
    internal Func<int, PartPlan> PlanParts { get; set; } = firstSize => new PartPlan(firstSize);

    public S3ArtifactStore(S3StorageTarget target, SecretVault? vault)
    {
        target.Validate();
        _target = target;
        var config = new AmazonS3Config
        {
            ForcePathStyle = target.ForcePathStyle,
            AuthenticationRegion = target.Region,
            // Trailing checksums (the SDK's default since 2025) are refused by Ceph and stored corrupted by
            // other S3-compatible servers; the sha256 in the manifest is the integrity check.
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
            MaxErrorRetry = 4,
        };
        if (target.Endpoint is { } endpoint) config.ServiceURL = endpoint.ToString();
        else config.RegionEndpoint = RegionEndpoint.GetBySystemName(target.Region);
        _client = Credentials(target, vault) is { } credentials ? new AmazonS3Client(credentials, config) : new AmazonS3Client(config);
    }

    static AWSCredentials? Credentials(S3StorageTarget target, SecretVault? vault)
    {
        if (target.AccessKeyId is { } accessKey)
            return new BasicAWSCredentials(accessKey, (vault ?? throw new InvalidOperationException("a vault is needed for stored credentials"))
                .Unprotect(target.ProtectedSecretAccessKey!));
        if (target.ProfileName is { } profile)
            return new CredentialProfileStoreChain().TryGetAWSCredentials(profile, out var fromProfile)
                ? fromProfile
                : throw new ExportException(ExportErrorCode.StorageFailed,
                    $"The AWS profile '{profile}' of storage '{target.Name}' was not found in the shared credentials or config file.", profile);
        return null; // the SDK's default chain
    }

    public string Kind => "s3";
    public S3StorageTarget Target => _target;

    string FolderKey(string exportName)
    {
        ExportNames.Validate(exportName);
        return $"{_target.Prefix}{exportName}/";
    }

    string KeyOf(string exportName, string fileName) => FolderKey(exportName) + fileName;

    public string Locate(string exportName, string fileName) =>
        _target.Endpoint is null ? $"s3://{_target.Bucket}/{KeyOf(exportName, fileName)}" : $"{_target.Describe()}{exportName}/{fileName}";

    T Call<T>(Func<Task<T>> call, string what)
    {
        try { return call().GetAwaiter().GetResult(); }
        catch (Exception ex) when (Translate(ex, what) is { } translated) { throw translated; }
    }

    /// <summary>S3's errors in terms a user can act on. Never includes credentials: the SDK's messages do
    /// not carry them, and ours name only the bucket, endpoint and key.</summary>
    internal ExportException? Translate(Exception ex, string what)
    {
        if (ex is ExportException) return null;
        var where = _target.Describe();
        return ex switch
        {
            AmazonS3Exception { ErrorCode: "NoSuchBucket" } => new ExportException(ExportErrorCode.StorageFailed,
                $"Bucket '{_target.Bucket}' does not exist at {where}; create it or fix -Bucket of storage '{_target.Name}'.", _target.Bucket, ex),
            AmazonS3Exception { ErrorCode: "InvalidAccessKeyId" or "SignatureDoesNotMatch" } or AmazonS3Exception { StatusCode: HttpStatusCode.Forbidden } =>
                new ExportException(ExportErrorCode.StorageFailed,
                    $"{where} refused the credentials of storage '{_target.Name}' while trying to {what} ({((AmazonS3Exception)ex).ErrorCode}). " +
                    "Register the storage again with the right -Credential or -ProfileName.", _target.Name, ex),
            AmazonS3Exception s3 => new ExportException(ExportErrorCode.StorageFailed,
                $"{where} could not {what}: {s3.ErrorCode} {s3.Message}", _target.Name, ex),
            AmazonServiceException or HttpRequestException or IOException or AmazonClientException => new ExportException(ExportErrorCode.StorageFailed,
                $"Storage '{_target.Name}' at {where} could not {what}: {ex.Message}. Check the endpoint and that it is reachable.", _target.Name, ex),
            _ => null,
        };
    }

    public void CheckKeyTransport(string exportName) => _target.CheckKeyTransport(exportName);

    static void ApplyKey(ArtifactKey? key, Action<ServerSideEncryptionCustomerMethod, string, string> apply)
    {
        if (key is not null) apply(ServerSideEncryptionCustomerMethod.AES256, key.Base64, key.Fingerprint);
    }

    public IArtifactWrite BeginWrite(string exportName, string fileName, string runId, ArtifactKey? key = null)
    {
        if (key is not null) CheckKeyTransport(exportName);
        return new MultipartWrite(this, KeyOf(exportName, fileName), runId, key);
    }

    string MarkerKeyOf(string runId) => _target.Prefix + UploadMarkers + runId;

    /// <summary>Where an interrupted run's upload stands at its last cut: every part up to <see cref="Parts"/> is complete.
    /// <see cref="OriginRunId"/> is the run that started the upload: the object's metadata names it.</summary>
    sealed record UploadCut(string UploadId, int Parts, string? OriginRunId = null);

    public IResumableWrite ContinueWrite(string exportName, string fileName, string runId, string fromRunId, long length, string? state)
    {
        var key = KeyOf(exportName, fileName);
        var cut = state is null ? null : System.Text.Json.JsonSerializer.Deserialize<UploadCut>(state);
        if (cut is null)
            throw new ExportException(ExportErrorCode.ResumeNotPossible,
                $"Run {fromRunId} recorded no upload to continue at {Locate(exportName, fileName)}. Run the export again without -Resume.", exportName);
        var parts = new List<PartDetail>();
        int? after = null;
        try
        {
            while (true)
            {
                var page = _client.ListPartsAsync(new ListPartsRequest { BucketName = _target.Bucket, Key = key, UploadId = cut.UploadId, PartNumberMarker = after?.ToString() })
                    .GetAwaiter().GetResult();
                parts.AddRange(page.Parts ?? []);
                if (page.IsTruncated != true) break;
                after = page.NextPartNumberMarker;
            }
        }
        catch (AmazonS3Exception ex) when (ex.ErrorCode == "NoSuchUpload")
        {
            throw new ExportException(ExportErrorCode.ResumeNotPossible,
                $"The upload that run {fromRunId} left at {Locate(exportName, fileName)} no longer exists (aborted, or expired by a bucket lifecycle rule). " +
                "Run the export again without -Resume.", exportName, ex);
        }
        catch (Exception ex) when (Translate(ex, "list the parts of the interrupted upload") is { } translated) { throw translated; }
        var kept = parts.Where(p => p.PartNumber <= cut.Parts).OrderBy(p => p.PartNumber).ToList();
        var keptBytes = kept.Sum(p => p.Size ?? 0);
        if (kept.Count != cut.Parts || keptBytes != length)
            throw new ExportException(ExportErrorCode.ResumeNotPossible,
                $"The upload that run {fromRunId} left holds {kept.Count} of its {cut.Parts} parts ({keptBytes:N0} of {length:N0} bytes); it was changed outside ExportsPS. " +
                "Run the export again without -Resume.", exportName);
        // The marker moves to the new run: the sweep keeps the upload while that run is active or resumable.
        Call(() => _client.PutObjectAsync(new PutObjectRequest
        {
            BucketName = _target.Bucket, Key = MarkerKeyOf(runId), ContentBody = key + "\n" + cut.UploadId, UseChunkEncoding = false,
        }), "record the upload");
        try { _client.DeleteObjectAsync(_target.Bucket, MarkerKeyOf(fromRunId)).GetAwaiter().GetResult(); }
        catch (Exception ex) when (ex is AmazonServiceException or HttpRequestException or IOException or AmazonClientException)
        {
            // Best effort: the stale marker names a run that is no longer resumable, and the sweep deletes it.
        }
        return new MultipartWrite(this, key, runId, cut.UploadId, kept.Select(p => (p.PartNumber ?? 0, p.ETag)).ToList(), length, cut.OriginRunId ?? fromRunId);
    }

    public void DiscardPartial(string exportName, string fileName, string runId)
    {
        try
        {
            using (var response = _client.GetObjectAsync(_target.Bucket, MarkerKeyOf(runId)).GetAwaiter().GetResult())
            using (var reader = new StreamReader(response.ResponseStream))
            {
                var lines = reader.ReadToEnd().Split('\n', 3);
                AbortAndDropMarker(lines[0], lines.Length >= 2 ? lines[1] : "", MarkerKeyOf(runId));
            }
        }
        catch (Exception ex) when (ex is AmazonServiceException or HttpRequestException or IOException or AmazonClientException)
        {
            // Gone already, or unreachable: the orphan sweep aborts it once the catalog no longer keeps it.
        }
    }

    public ArtifactManifest? ReadManifest(string exportName)
    {
        var newest = ListKeys(FolderKey(exportName))
            .Where(o => o.Key.EndsWith(ManifestSuffix, StringComparison.Ordinal))
            .OrderByDescending(o => o.LastModified)
            .FirstOrDefault();
        if (newest is null) return null;
        try
        {
            using var response = Call(() => _client.GetObjectAsync(_target.Bucket, newest.Key), "read the manifest");
            using var memory = new MemoryStream();
            response.ResponseStream.CopyTo(memory);
            return ArtifactManifest.FromJson(memory.ToArray(), exportName);
        }
        catch (ExportException ex) when (ex.InnerException is AmazonS3Exception { ErrorCode: "NoSuchKey" })
        {
            return null; // replaced between listing and reading
        }
        catch (System.Text.Json.JsonException ex)
        {
            throw new ExportException(ExportErrorCode.ArtifactCorrupt,
                $"The manifest {newest.Key} in {_target.Describe()} cannot be read ({ex.Message}). Re-run the export with Start-Export.", newest.Key, ex);
        }
    }

    public Stream OpenRead(string exportName, ArtifactManifest manifest, ArtifactKey? key = null)
    {
        ArtifactKey.Check(key, manifest.KeyFingerprint, exportName);
        var request = new GetObjectRequest { BucketName = _target.Bucket, Key = KeyOf(exportName, manifest.FileName) };
        if (manifest.KeyFingerprint is not null && key is not null) CheckKeyTransport(exportName);
        ApplyKey(manifest.KeyFingerprint is null ? null : key, (method, k, md5) =>
        {
            request.ServerSideEncryptionCustomerMethod = method;
            request.ServerSideEncryptionCustomerProvidedKey = k;
            request.ServerSideEncryptionCustomerProvidedKeyMD5 = md5;
        });
        try
        {
            var response = Call(() => _client.GetObjectAsync(request), "download the file");
            return new ResponseStream(response);
        }
        catch (ExportException ex) when (ex.InnerException is AmazonS3Exception { ErrorCode: "NoSuchKey" })
        {
            throw new ExportException(ExportErrorCode.ArtifactMissing,
                $"The file of export '{exportName}' is missing at {Locate(exportName, manifest.FileName)}. Re-run the export with Start-Export.", exportName, ex);
        }
    }

    public PresignedDownload Presign(string exportName, ArtifactManifest manifest, TimeSpan validFor, ArtifactKey? key)
    {
        if (validFor <= TimeSpan.Zero || validFor > TimeSpan.FromHours(24))
            throw new ExportException(ExportErrorCode.InvalidOption, $"-ValidFor must be more than 0 and at most 24 hours, not {validFor}.", validFor);
        ArtifactKey.Check(key, manifest.KeyFingerprint, exportName);
        var expires = DateTimeOffset.UtcNow + validFor;
        if (manifest.ExpiresAt is { } windowEnd && windowEnd < expires) expires = windowEnd; // never outlive the download window
        var request = new GetPreSignedUrlRequest
        {
            BucketName = _target.Bucket,
            Key = KeyOf(exportName, manifest.FileName),
            Verb = HttpVerb.GET,
            Expires = expires.UtcDateTime,
            Protocol = _target.Endpoint?.Scheme == Uri.UriSchemeHttp ? Protocol.HTTP : Protocol.HTTPS,
        };
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (manifest.KeyFingerprint is not null && key is not null)
        {
            CheckKeyTransport(exportName); // whoever fetches the URL sends these headers
            request.ServerSideEncryptionCustomerMethod = ServerSideEncryptionCustomerMethod.AES256;
            headers["x-amz-server-side-encryption-customer-algorithm"] = "AES256";
            headers["x-amz-server-side-encryption-customer-key"] = key.Base64;
            headers["x-amz-server-side-encryption-customer-key-MD5"] = key.Fingerprint;
        }
        var url = Call(() => _client.GetPreSignedURLAsync(request), "sign a download URL");
        return new PresignedDownload(new Uri(url), expires, headers);
    }

    public void Delete(string exportName)
    {
        foreach (var item in ListKeys(FolderKey(exportName)).ToList())
            Call(() => _client.DeleteObjectAsync(_target.Bucket, item.Key), "delete the file");
    }

    public bool DeleteExpired(string exportName, ArtifactManifest expired)
    {
        var key = KeyOf(exportName, expired.FileName);
        if (ReadManifest(exportName)?.RunId != expired.RunId) return false;
        var listed = ListKeys(FolderKey(exportName)).ToList();
        var file = listed.FirstOrDefault(o => o.Key == key);
        var manifest = listed.FirstOrDefault(o => o.Key == key + ManifestSuffix);
        // An object newer than its manifest is a run's commit halfway (upload completed, manifest next): not the expired one.
        if (file is null || manifest is null || file.LastModified > manifest.LastModified) return false;
        Call(() => _client.DeleteObjectAsync(_target.Bucket, key), "delete the expired file");
        return true;
    }

    const string RunMetadata = "exportsps-run";

    /// <summary>The sha256 of a stored (unencrypted) object, read back whole.</summary>
    string HashObject(string key, long expectedBytes, CancellationToken cancellationToken)
    {
        using var response = Call(() => _client.GetObjectAsync(_target.Bucket, key, cancellationToken), "read the completed file back for its sha256");
        using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 16];
        long total = 0;
        int read;
        while ((read = response.ResponseStream.Read(buffer)) > 0)
        {
            hash.AppendData(buffer.AsSpan(0, read));
            total += read;
        }
        if (total != expectedBytes)
            throw new ExportException(ExportErrorCode.StorageFailed,
                $"The object {key} holds {total:N0} bytes, not the {expectedBytes:N0} written; run the export again without -Resume.", key);
        return Convert.ToHexString(hash.GetHashAndReset()).ToLowerInvariant();
    }

    void PutManifest(string key, ArtifactManifest manifest, CancellationToken cancellationToken) =>
        Call(() => _client.PutObjectAsync(new PutObjectRequest
        {
            BucketName = _target.Bucket, Key = key + ManifestSuffix, InputStream = new MemoryStream(manifest.ToJson()),
            ContentType = "application/json", UseChunkEncoding = false,
        }, cancellationToken), "upload the manifest");

    /// <summary>A marker holding a manifest belongs to a run that died while committing. If the object at its
    /// key is that run's (its metadata names the run), the object was published and only the manifest is
    /// missing: it is written now, so the export serves the new file instead of failing its sha256 check.
    /// False when the storage could not be asked or written now (unreachable, busy): the marker must stay for the
    /// next sweep. An SSE-C object's metadata cannot be read without the key, which is never stored: such a torn
    /// commit stays reported as a sha256 mismatch until the next run.</summary>
    bool TryFinishCommit(string key, string originRunId, string manifestJson)
    {
        try
        {
            var head = _client.GetObjectMetadataAsync(_target.Bucket, key).GetAwaiter().GetResult();
            if (head.Metadata[RunMetadata] != originRunId) return true; // its object was never published: nothing to finish
            var manifest = ArtifactManifest.FromJson(System.Text.Encoding.UTF8.GetBytes(manifestJson), ExportNameOf(key)!);
            // A continued upload's marker is written before its object is hashed: hash it now.
            if (manifest.Sha256.Length == 0) manifest = manifest with { Sha256 = HashObject(key, manifest.Bytes, CancellationToken.None) };
            PutManifest(key, manifest, CancellationToken.None);
            return true;
        }
        catch (Exception ex) when (ex is AmazonServiceException or HttpRequestException or IOException or AmazonClientException
                                       or ExportException or System.Text.Json.JsonException)
        {
            return !IsTransient(ex);
        }
    }

    /// <summary>A failure asking again may cure (the storage down or overloaded), unlike a refusal (no such object,
    /// an SSE-C object that needs its key, a manifest that does not parse).</summary>
    static bool IsTransient(Exception ex) => ex switch
    {
        ExportException { InnerException: { } inner } => IsTransient(inner),
        AmazonServiceException service => (int)service.StatusCode >= 500 || service.StatusCode == HttpStatusCode.TooManyRequests
                                          || service.InnerException is HttpRequestException or IOException,
        AmazonClientException or HttpRequestException or IOException => true,
        _ => false,
    };

    public int RemoveOrphans(Func<string, bool> isActiveRun)
    {
        var removed = 0;
        List<(string Key, string RunId, string[] Lines)> ReadMarkers(Func<string, bool> unseen)
        {
            var read = new List<(string Key, string RunId, string[] Lines)>();
            foreach (var marker in ListKeys(_target.Prefix + UploadMarkers).Where(m => unseen(m.Key)).ToList())
            {
                try
                {
                    using var response = Call(() => _client.GetObjectAsync(_target.Bucket, marker.Key), "read an upload marker");
                    using var reader = new StreamReader(response.ResponseStream);
                    // key, upload id, the run that started the upload, then (while committing) the manifest.
                    read.Add((marker.Key, marker.Key[(marker.Key.LastIndexOf('/') + 1)..], reader.ReadToEnd().Split('\n', 4)));
                }
                catch (ExportException ex) when (ex.InnerException is AmazonS3Exception { ErrorCode: "NoSuchKey" })
                {
                    // Its run ended between the listing and the read: nothing to do for it.
                }
            }
            return read;
        }
        var markers = ReadMarkers(_ => true);
        // Uploads of active or resumable runs stay, whatever their age and whichever stale marker also names them
        // (a resumed run's marker replaces its predecessor's, best effort).
        // Each run is asked about once: the answer comes from the catalog, and both uses must agree.
        var active = markers.ToLookup(m => isActiveRun(m.RunId));
        var kept = active[true].Where(m => m.Lines.Length >= 2).Select(m => m.Lines[1]).ToHashSet(StringComparer.Ordinal);
        if (active[false].Any(m => m.Lines.Length >= 2 && m.Lines[1].Length > 0))
        {
            // A resume writes its own marker before its predecessor stops being resumable: a run found inactive above
            // may have handed its upload over since the listing, and a marker listed now names the run that took it.
            var seen = markers.Select(m => m.Key).ToHashSet(StringComparer.Ordinal);
            foreach (var late in ReadMarkers(key => !seen.Contains(key)))
                if (late.Lines.Length >= 2 && isActiveRun(late.RunId)) kept.Add(late.Lines[1]);
        }
        foreach (var (key, runId, lines) in active[false])
        {
            // A torn commit that cannot be finished now keeps its marker (and its upload) for the next sweep.
            if (lines.Length == 4 && lines[3].Length > 0 && !TryFinishCommit(lines[0], lines[2], lines[3])) continue;
            // An upload another run took over (a resume) stays; only this stale marker goes.
            var uploadId = lines.Length >= 2 && !kept.Contains(lines[1]) ? lines[1] : "";
            if (AbortAndDropMarker(lines[0], uploadId, key) == Abort.Aborted) removed++;
        }
        // Uploads without a marker (the process died between the two requests) are aborted once old.
        string? keyMarker = null, uploadMarker = null;
        do
        {
            var uploads = Call(() => _client.ListMultipartUploadsAsync(new ListMultipartUploadsRequest
            {
                BucketName = _target.Bucket, Prefix = _target.Prefix, KeyMarker = keyMarker, UploadIdMarker = uploadMarker,
            }), "list multipart uploads");
            foreach (var upload in uploads.MultipartUploads ?? [])
                if (ExportNameOf(upload.Key) is not null && !kept.Contains(upload.UploadId)
                    && upload.Initiated is { } initiated && DateTime.UtcNow - initiated.ToUniversalTime() > UnmarkedUploadAge)
                    removed += AbortQuietly(upload.Key, upload.UploadId) == Abort.Aborted ? 1 : 0;
            (keyMarker, uploadMarker) = uploads.IsTruncated == true ? (uploads.NextKeyMarker, uploads.NextUploadIdMarker) : (null, null);
        } while (keyMarker is not null);
        return removed;
    }

    enum Abort { Aborted, AlreadyGone, Failed }

    /// <summary>Aborts an upload (none when <paramref name="uploadId"/> is empty), then drops the marker that names it. The
    /// marker stays when the abort failed, so a later sweep tries again; one that cannot be deleted now is deleted by a
    /// later sweep (its run is no longer active). Never throws: the caller is failing, discarding or sweeping.</summary>
    Abort AbortAndDropMarker(string key, string uploadId, string markerKey)
    {
        var abort = uploadId.Length == 0 ? Abort.AlreadyGone : AbortQuietly(key, uploadId);
        if (abort == Abort.Failed) return abort;
        try { _client.DeleteObjectAsync(_target.Bucket, markerKey).GetAwaiter().GetResult(); }
        catch (Exception ex) when (ex is AmazonServiceException or HttpRequestException or IOException or AmazonClientException) { }
        return abort;
    }

    /// <summary>Aborts an upload without throwing. Failed (the server unreachable, which may be why the run failed, or
    /// refusing): the caller keeps the upload's marker, so a later orphan sweep tries again instead of leaving its parts billed.</summary>
    Abort AbortQuietly(string key, string uploadId)
    {
        try
        {
            _client.AbortMultipartUploadAsync(new AbortMultipartUploadRequest { BucketName = _target.Bucket, Key = key, UploadId = uploadId })
                .GetAwaiter().GetResult();
            return Abort.Aborted;
        }
        catch (AmazonS3Exception ex) when (ex.ErrorCode == "NoSuchUpload") { return Abort.AlreadyGone; }
        catch (Exception ex) when (ex is AmazonServiceException or HttpRequestException or IOException or AmazonClientException) { return Abort.Failed; }
    }

    /// <summary>The export a key of this storage belongs to (<c>&lt;prefix&gt;&lt;export&gt;/&lt;export&gt;.&lt;ext&gt;</c>);
    /// null for any other key: another application's in the same bucket, or another storage's under a longer prefix.</summary>
    string? ExportNameOf(string key)
    {
        if (!key.StartsWith(_target.Prefix, StringComparison.Ordinal)) return null;
        var parts = key[_target.Prefix.Length..].Split('/');
        return parts.Length == 2 && ExportNames.IsValid(parts[0]) && parts[1].StartsWith(parts[0] + ".", StringComparison.Ordinal) ? parts[0] : null;
    }

    /// <summary>The objects directly under <paramref name="prefix"/> (a "folder"): keys further down belong to
    /// no export of this storage, e.g. to a storage registered with the longer prefix <c>exports/team/</c>.</summary>
    IEnumerable<S3Object> ListKeys(string prefix)
    {
        string? token = null;
        do
        {
            var page = Call(() => _client.ListObjectsV2Async(new ListObjectsV2Request
            {
                BucketName = _target.Bucket, Prefix = prefix, Delimiter = "/", ContinuationToken = token,
            }), "list objects");
            foreach (var item in page.S3Objects ?? []) yield return item;
            token = page.IsTruncated == true ? page.NextContinuationToken : null;
        } while (token is not null);
    }

    public void Dispose() => _client.Dispose();

    /// <summary>The download stream; disposing it releases the HTTP response.</summary>
    sealed class ResponseStream(GetObjectResponse response) : ReadOnlyStream
    {
        readonly Stream _inner = response.ResponseStream;
        public override long Length => response.ContentLength;
        public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, count);
        public override int Read(Span<byte> buffer) => _inner.Read(buffer);
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => _inner.ReadAsync(buffer, cancellationToken);
        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => _inner.ReadAsync(buffer, offset, count, cancellationToken);
        protected override void Dispose(bool disposing)
        {
            if (disposing) response.Dispose();
            base.Dispose(disposing);
        }
    }

    /// <summary>The run's write: parts are uploaded on background tasks while the run keeps producing; a
    /// file smaller than one part is sent with a single PutObject instead.</summary>
    sealed class MultipartWrite : IResumableWrite
    {
        const int MinPartSize = 5 * 1024 * 1024; // S3's minimum for every part but the last
        readonly S3ArtifactStore _store;
        readonly string _key;
        readonly string _runId;
        readonly PartPlan _plan;
        /// <summary>The run that started the upload (this one, unless it continues an interrupted run's).</summary>
        readonly string _originRunId;
        readonly ArtifactKey? _encryption;
        readonly SemaphoreSlim _inFlight;
        readonly ConcurrentDictionary<int, string> _etags = new();
        // Exact-size part buffers, reused within this upload: the shared pool would round 5 MiB up to
        // 8 MiB and keep the buffers after the run. At most parts-in-flight + 1 of the current size exist.
        readonly ConcurrentBag<byte[]> _spare = new();
        readonly List<Task> _uploads = new();
        byte[] _part;
        int _partLength;
        int _partNumber;
        string? _uploadId;
        Exception? _failure;
        bool _finished;
        long _written;

        public MultipartWrite(S3ArtifactStore store, string key, string runId, ArtifactKey? encryption)
            : this(store, key, runId, encryption, 0) { }

        MultipartWrite(S3ArtifactStore store, string key, string runId, ArtifactKey? encryption, int partsKept)
        {
            _store = store;
            _key = key;
            _runId = runId;
            _originRunId = runId;
            _encryption = encryption;
            _inFlight = new SemaphoreSlim(store._target.PartsInFlight);
            // A cut needs a part of at least 5 MiB collected at a record boundary: with 5 MiB parts that moment
            // would never come, so unencrypted uploads (the resumable ones) send such parts at 6 MiB (+1 MiB a buffer).
            _plan = store.PlanParts(encryption is null && store._target.PartSize == MinPartSize ? MinPartSize + (1 << 20) : store._target.PartSize);
            _partNumber = partsKept;
            _part = GC.AllocateUninitializedArray<byte>(_plan.SizeOf(partsKept + 1));
            Content = new PartWriter(this);
        }

        /// <summary>Continues an interrupted run's upload after its last cut: <paramref name="parts"/> are kept,
        /// new parts are numbered after them.</summary>
        public MultipartWrite(S3ArtifactStore store, string key, string runId, string uploadId, IReadOnlyList<(int Number, string ETag)> parts, long kept,
            string originRunId)
            : this(store, key, runId, null, parts.Count)
        {
            _originRunId = originRunId;
            _uploadId = uploadId;
            foreach (var (number, etag) in parts) _etags[number] = etag;
            _written = kept;
            _stored = kept;
            KeptLength = kept;
        }

        public long KeptLength { get; }
        public string? State { get; private set; }

        // An unfinished upload's parts cannot be read back: the commit hashes the completed object instead.
        public Stream? ReadKept() => KeptLength == 0 ? Stream.Null : null;

        /// <summary>A cut falls on a part boundary: the bytes being collected go out as a part now, if they
        /// are enough for one (5 MiB), and the cut waits until every part is acknowledged.</summary>
        public bool CanCut
        {
            get
            {
                var collected = Volatile.Read(ref _partLength);
                return _encryption is null && Volatile.Read(ref _partNumber) + 1 < _plan.MaxParts && (collected >= MinPartSize || (collected == 0 && _uploadId is not null));
            }
        }

        public long? TryMakeDurable()
        {
            if (!CanCut) return null;
            if (_partLength > 0) SendPart();
            if (_uploadId is null) return null; // nothing written yet
            Task.WhenAll(_uploads).Wait(_stop.Token); // part failures are caught in the tasks and rethrown below
            ThrowIfFailed();
            State = System.Text.Json.JsonSerializer.Serialize(new UploadCut(_uploadId, _partNumber, _originRunId));
            return _written;
        }

        bool _completing;

        /// <summary>Keeps the upload and its marker for a resume; parts after the cut are replaced or left out then.</summary>
        public async Task KeepAsync(long length)
        {
            if (_completing) throw new InvalidOperationException("The upload was being completed; it cannot be kept for a resume.");
            if (_finished) return;
            _finished = true;
            try { await Task.WhenAll(_uploads); } catch { /* the cut's parts were acknowledged before */ }
            ReturnBuffer();
        }

        S3StorageTarget Target => _store._target;
        AmazonS3Client Client => _store._client;
        string MarkerKey => _store.MarkerKeyOf(_runId);

        public Stream Content { get; }
        public long Written => _written;
        long _stored;
        public long BytesStored => Interlocked.Read(ref _stored);

        public void Write(ReadOnlySpan<byte> buffer)
        {
            ThrowIfFailed();
            while (!buffer.IsEmpty)
            {
                // Refused as the first byte past the last part arrives: S3 would fail the upload only at its completion.
                if (_partNumber == _plan.MaxParts) throw Outgrown();
                var take = Math.Min(buffer.Length, _part.Length - _partLength);
                buffer[..take].CopyTo(_part.AsSpan(_partLength));
                _partLength += take;
                _written += take;
                buffer = buffer[take..];
                if (_partLength == _part.Length) SendPart();
            }
        }

        /// <summary>Set when the run is canceled: parts in flight stop at once instead of running out their retries.</summary>
        readonly CancellationTokenSource _stop = new();

        public void Cancel() => _stop.Cancel();

        void ThrowIfFailed()
        {
            var failure = Volatile.Read(ref _failure);
            if (failure is OperationCanceledException canceled && _stop.IsCancellationRequested) throw canceled;
            // The SDK reports an HTTP timeout as a cancellation; nobody canceled this run, so it failed.
            if (failure is OperationCanceledException)
                throw new ExportException(ExportErrorCode.StorageFailed,
                    $"Storage '{Target.Name}' at {Target.Describe()} did not answer a part upload in time. Check the endpoint and that it is reachable, then run the export again.",
                    Target.Name, failure);
            if (failure is not null)
                throw (Exception?)_store.Translate(failure, "upload a part") ?? new IOException(failure.Message, failure);
        }

        void Initiate()
        {
            var request = new InitiateMultipartUploadRequest { BucketName = Target.Bucket, Key = _key, ContentType = "application/octet-stream" };
            request.Metadata.Add(RunMetadata, _originRunId); // lets recovery tell this upload's object from the previous one
            ApplyKey(_encryption, (method, key, md5) =>
            {
                request.ServerSideEncryptionCustomerMethod = method;
                request.ServerSideEncryptionCustomerProvidedKey = key;
                request.ServerSideEncryptionCustomerProvidedKeyMD5 = md5;
            });
            _uploadId = _store.Call(() => Client.InitiateMultipartUploadAsync(request), "start a multipart upload").UploadId;
            // The marker lets RemoveOrphans abort this upload if the process dies: S3 lists uploads but not who owns them.
            _store.Call(() => Client.PutObjectAsync(new PutObjectRequest
            {
                BucketName = Target.Bucket, Key = MarkerKey, ContentBody = _key + "\n" + _uploadId, UseChunkEncoding = false,
            }), "record the upload");
        }

        void SendPart()
        {
            if (_uploadId is null) Initiate();
            _inFlight.Wait(_stop.Token);
            ThrowIfFailed();
            var number = ++_partNumber;
            var part = _part;
            var length = _partLength;
            _part = number == _plan.MaxParts ? [] : NextBuffer(_plan.SizeOf(number + 1));
            _partLength = 0;
            _uploads.Add(Task.Run(async () =>
            {
                try
                {
                    var request = new UploadPartRequest
                    {
                        BucketName = Target.Bucket, Key = _key, UploadId = _uploadId, PartNumber = number,
                        InputStream = new MemoryStream(part, 0, length, writable: false), PartSize = length, UseChunkEncoding = false,
                    };
                    ApplyKey(_encryption, (method, key, md5) =>
                    {
                        request.ServerSideEncryptionCustomerMethod = method;
                        request.ServerSideEncryptionCustomerProvidedKey = key;
                        request.ServerSideEncryptionCustomerProvidedKeyMD5 = md5;
                    });
                    var response = await Client.UploadPartAsync(request, _stop.Token);
                    _etags[number] = response.ETag;
                    Interlocked.Add(ref _stored, length);
                }
                catch (Exception ex)
                {
                    Interlocked.CompareExchange(ref _failure, ex, null);
                }
                finally
                {
                    _spare.Add(part);
                    _inFlight.Release();
                }
            }));
        }

        ExportException Outgrown() =>
            new(ExportErrorCode.StorageFailed,
                $"The file outgrew what {_plan.MaxParts:N0} multipart parts hold ({SizeText(_plan.Capacity)}, starting from {SizeText(_plan.FirstSize)} parts). " +
                $"Register storage '{Target.Name}' again with a larger -PartSizeMB, or narrow the export, and run it again.", Target.Name);

        static string SizeText(long bytes) => bytes >= 1L << 30 ? $"{bytes / (double)(1L << 30):N1} GiB" : $"{bytes / (double)(1 << 20):N1} MiB";

        /// <summary>A spare buffer of the size, if one is back from its upload; spares of a smaller size (parts grew) are dropped.</summary>
        byte[] NextBuffer(int size)
        {
            while (_spare.TryTake(out var spare))
                if (spare.Length == size) return spare;
            return GC.AllocateUninitializedArray<byte>(size);
        }

        public async Task<ArtifactManifest> CommitAsync(ArtifactManifest manifest, CancellationToken cancellationToken)
        {
            if (_uploadId is null)
            {
                WriteMarker(manifest);
                var request = new PutObjectRequest
                {
                    BucketName = Target.Bucket, Key = _key, InputStream = new MemoryStream(_part, 0, _partLength, writable: false),
                    UseChunkEncoding = false, ContentType = "application/octet-stream",
                };
                request.Metadata.Add(RunMetadata, _originRunId);
                ApplyKey(_encryption, (method, key, md5) =>
                {
                    request.ServerSideEncryptionCustomerMethod = method;
                    request.ServerSideEncryptionCustomerProvidedKey = key;
                    request.ServerSideEncryptionCustomerProvidedKeyMD5 = md5;
                });
                _store.Call(() => Client.PutObjectAsync(request, cancellationToken), "upload the file");
                Interlocked.Exchange(ref _stored, _partLength);
            }
            else
            {
                if (_partLength > 0) SendPart();
                await Task.WhenAll(_uploads);
                ThrowIfFailed();
                // (A continued upload's manifest has no sha256 yet: recovery hashes the object if the commit is torn.)
                WriteMarker(manifest);
                _completing = true;
                _store.Call(() => Client.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
                {
                    BucketName = Target.Bucket, Key = _key, UploadId = _uploadId,
                    PartETags = _etags.Where(e => e.Key <= _partNumber).OrderBy(e => e.Key).Select(e => new PartETag(e.Key, e.Value)).ToList(),
                }, cancellationToken), "complete the upload");
                // A continued upload began in another run, whose hash state is gone: hash the object as stored.
                if (KeptLength > 0) manifest = manifest with { Sha256 = _store.HashObject(_key, manifest.Bytes, cancellationToken) };
            }
            _finished = true;
            // Object first, then its manifest (ArtifactVerifier re-reads the manifest on a mismatch); the marker,
            // which holds the manifest, goes last, so a crash in between is finished by RemoveOrphans.
            manifest = Sealed(manifest);
            _store.PutManifest(_key, manifest, cancellationToken);
            ReturnBuffer();
            // Published: what follows tidies up, and its failure must not record the run of a served file as failed.
            // A marker left behind is finished again (idempotently) and removed by the orphan sweep; a stale file, by the next commit.
            try
            {
                _store.Call(() => Client.DeleteObjectAsync(Target.Bucket, MarkerKey, cancellationToken), "remove the upload marker");
                // A format change renames the file (x.csv → x.jsonl): the old object must not linger.
                var folder = _key[..(_key.LastIndexOf('/') + 1)];
                foreach (var stale in _store.ListKeys(folder).Where(o => o.Key != _key && o.Key != _key + ManifestSuffix).ToList())
                    _store.Call(() => Client.DeleteObjectAsync(Target.Bucket, stale.Key, cancellationToken), "remove a stale file");
            }
            catch (ExportException) { }
            return manifest;
        }

        public async Task AbortAsync()
        {
            if (_completing && !_finished)
            {
                // The object may be published already: the marker (with the manifest) and the upload are left
                // to the orphan sweep, which finishes the commit if the object is this upload's, else aborts it.
                _finished = true;
                ReturnBuffer();
                return;
            }
            if (_finished) return;
            _finished = true;
            try { await Task.WhenAll(_uploads); } catch { /* the abort below is what matters */ }
            // The run's own failure is what the user needs to see: an upload not aborted keeps its marker for the sweep.
            if (_uploadId is not null) _store.AbortAndDropMarker(_key, _uploadId, MarkerKey);
            ReturnBuffer();
        }

        /// <summary>The manifest is not encrypted: it holds hashes and the key's fingerprint, no data.</summary>
        ArtifactManifest Sealed(ArtifactManifest manifest) =>
            _encryption is null ? manifest : manifest with { Encryption = "sse-c", KeyFingerprint = _encryption.Fingerprint };

        /// <summary>Before the object becomes visible, the marker records the manifest that must follow it.</summary>
        void WriteMarker(ArtifactManifest manifest) =>
            _store.Call(() => Client.PutObjectAsync(new PutObjectRequest
            {
                BucketName = Target.Bucket, Key = MarkerKey, UseChunkEncoding = false,
                ContentBody = _key + "\n" + (_uploadId ?? "") + "\n" + _originRunId + "\n" + System.Text.Encoding.UTF8.GetString(Sealed(manifest).ToJson()),
            }), "record the commit");

        void ReturnBuffer()
        {
            _part = Array.Empty<byte>();
            _spare.Clear();
        }

        public ValueTask DisposeAsync() => new(AbortAsync());
    }

    /// <summary>The write-only stream a run writes to. Disposing it (the compression chain may) ends nothing:
    /// only the write's commit or abort does.</summary>
    sealed class PartWriter(MultipartWrite write) : WriteOnlyStream
    {
        protected override long Written => write.Written;
        public override void Write(ReadOnlySpan<byte> buffer) => write.Write(buffer);
    }
}
