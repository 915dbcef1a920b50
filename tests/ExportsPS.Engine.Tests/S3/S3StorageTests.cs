using System.Net;
using System.Security.Cryptography;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using ExportsPS.Engine.Exports;
using ExportsPS.Engine.Runs;
using ExportsPS.Engine.Sample;
using ExportsPS.Engine.Storage;
using ExportsPS.Engine.Storage.S3;
using ExportsPS.Tests.Shared;

namespace ExportsPS.Engine.Tests.S3;

/// <summary>The S3 store against a real S3 server (Ceph's radosgw, started by .ci/services/s3.sh), which
/// enforces SSE-C: multipart streaming with bounded memory, atomic overwrite, abort without orphan parts,
/// customer keys, pre-signed URLs and their expiry, and credentials that never leak. Runs alone: the
/// upload's memory bound is measured on the live heap, which parallel tests would inflate (92 MB in CI).</summary>
[Collection(nameof(HeapMeasurement))]
public sealed class S3StorageTests : IDisposable
{
    const string UrlVariable = "EXPORTSPS_TEST_S3_URL";
    // Checkpoints at every batch: only resumable runs (OpenSearch by PIT with a tiebreaker) take them.
    readonly TestHome _home = new(new EngineSettings { HeartbeatInterval = TimeSpan.FromMilliseconds(200), CheckpointInterval = TimeSpan.Zero });
    readonly string _bucket = "exportsps-" + Guid.NewGuid().ToString("N")[..16];
    readonly AmazonS3Client _raw;
    readonly S3StorageTarget _target;
    readonly S3ArtifactStore _store;
    readonly string _secret;

    public S3StorageTests()
    {
        if (Environment.GetEnvironmentVariable(UrlVariable) is not { Length: > 0 } && Environment.GetEnvironmentVariable("EXPORTSPS_REQUIRE_SERVICES") != "1")
        {
            _raw = null!; _target = null!; _store = null!; _secret = "";
            return; // skipped by ServiceFact
        }
        var url = ServiceFactAttribute.Require(UrlVariable);
        var access = ServiceFactAttribute.Require("EXPORTSPS_TEST_S3_ACCESS_KEY");
        _secret = ServiceFactAttribute.Require("EXPORTSPS_TEST_S3_SECRET_KEY");
        _raw = new AmazonS3Client(new BasicAWSCredentials(access, _secret), new AmazonS3Config
        {
            ServiceURL = url, ForcePathStyle = true, AuthenticationRegion = "us-east-1",
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED, ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        });
        _raw.PutBucketAsync(_bucket).GetAwaiter().GetResult();
        _target = new S3StorageTarget
        {
            Name = "bucket", Bucket = _bucket, Prefix = "exports/", Endpoint = new Uri(url),
            AccessKeyId = access, ProtectedSecretAccessKey = _home.Service.Vault.Protect(_secret), PartSize = 5 * 1024 * 1024,
        };
        _home.Service.RegisterStorage(_target, replace: false);
        _store = (S3ArtifactStore)_home.Service.StoreOf("bucket");
    }

    public void Dispose()
    {
        if (_raw is not null)
        {
            try
            {
                foreach (var upload in _raw.ListMultipartUploadsAsync(_bucket).GetAwaiter().GetResult().MultipartUploads ?? [])
                    _raw.AbortMultipartUploadAsync(_bucket, upload.Key, upload.UploadId).GetAwaiter().GetResult();
                foreach (var item in _raw.ListObjectsV2Async(new ListObjectsV2Request { BucketName = _bucket }).GetAwaiter().GetResult().S3Objects ?? [])
                    _raw.DeleteObjectAsync(_bucket, item.Key).GetAwaiter().GetResult();
                _raw.DeleteBucketAsync(_bucket).GetAwaiter().GetResult();
            }
            catch (AmazonS3Exception) { }
            _raw.Dispose();
        }
        _home.Dispose();
    }

    static ArtifactManifest Manifest(string runId, string file, byte[] sha, long bytes) => new()
    {
        ExportName = file.Split('.')[0], RunId = runId, FileName = file, Format = "jsonl", Compression = "none", Records = 1, Bytes = bytes,
        Sha256 = Convert.ToHexString(sha).ToLowerInvariant(), Query = "*", Index = "events", CreatedAt = DateTimeOffset.UtcNow,
    };

    static byte[] Bytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    byte[] Read(string key, ArtifactKey? customerKey = null)
    {
        var request = new GetObjectRequest { BucketName = _bucket, Key = key };
        if (customerKey is not null)
        {
            request.ServerSideEncryptionCustomerMethod = ServerSideEncryptionCustomerMethod.AES256;
            request.ServerSideEncryptionCustomerProvidedKey = customerKey.Reveal();
            request.ServerSideEncryptionCustomerProvidedKeyMD5 = customerKey.Fingerprint;
        }
        using var response = _raw.GetObjectAsync(request).GetAwaiter().GetResult();
        using var memory = new MemoryStream();
        response.ResponseStream.CopyTo(memory);
        return memory.ToArray();
    }

    int OpenUploads() => (_raw.ListMultipartUploadsAsync(_bucket).GetAwaiter().GetResult().MultipartUploads ?? []).Count;

    /// <summary>A storage under a longer prefix of the same bucket (exports/ and exports/team/) is invisible to the
    /// shorter one, whose export may be named "team": its manifests are not read as that export's, its files are
    /// not deleted by that export's commit or removal, and its uploads are not swept; nor are another application's.</summary>
    [ServiceFact(UrlVariable)]
    public async Task A_storage_under_a_longer_prefix_and_other_applications_keys_are_left_alone()
    {
        using var inner = new S3ArtifactStore(_target with { Name = "team", Prefix = "exports/team/" }, _home.Service.Vault);
        var x = Bytes(100, 1);
        await using (var write = inner.BeginWrite("x", "x.jsonl", Guid.NewGuid().ToString("N")))
        {
            write.Content.Write(x);
            await write.CommitAsync(Manifest("run-x", "x.jsonl", SHA256.HashData(x), x.Length), CancellationToken.None);
        }
        Assert.Null(_store.ReadManifest("team")); // this storage's export "team" has never run
        var team = Bytes(50, 2);
        await using (var write = _store.BeginWrite("team", "team.jsonl", Guid.NewGuid().ToString("N")))
        {
            write.Content.Write(team);
            await write.CommitAsync(Manifest("run-team", "team.jsonl", SHA256.HashData(team), team.Length), CancellationToken.None);
        }
        Assert.Equal("run-x", inner.ReadManifest("x")!.RunId);

        var foreign = (await _raw.InitiateMultipartUploadAsync(_bucket, "exports/other-app/data.bin")).UploadId;
        var innerUpload = (await _raw.InitiateMultipartUploadAsync(_bucket, "exports/team/y/y.jsonl")).UploadId;
        var abandoned = (await _raw.InitiateMultipartUploadAsync(_bucket, "exports/z/z.jsonl")).UploadId;
        var age = S3ArtifactStore.UnmarkedUploadAge;
        S3ArtifactStore.UnmarkedUploadAge = TimeSpan.Zero;
        try { Assert.Equal(1, _store.RemoveOrphans(_ => false)); }
        finally { S3ArtifactStore.UnmarkedUploadAge = age; }
        var open = (_raw.ListMultipartUploadsAsync(_bucket).GetAwaiter().GetResult().MultipartUploads ?? []).Select(u => u.UploadId).ToList();
        Assert.Contains(foreign, open);
        Assert.Contains(innerUpload, open);
        Assert.DoesNotContain(abandoned, open);

        _store.Delete("team");
        Assert.Null(_store.ReadManifest("team"));
        Assert.Equal(x, Read("exports/team/x/x.jsonl"));
        Assert.Equal("run-x", inner.ReadManifest("x")!.RunId);
    }

    [ServiceFact(UrlVariable)]
    public async Task A_file_over_100_MB_streams_through_a_multipart_upload_in_bounded_memory()
    {
        const int total = 110 * 1024 * 1024;
        var chunk = Bytes(1024 * 1024, 1);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        GC.Collect();
        var baseline = GC.GetTotalMemory(true);
        long peak = 0;
        var uploadProgress = new List<long>();
        await using (var write = _store.BeginWrite("big", "big.bin", Guid.NewGuid().ToString("N")))
        {
            for (var written = 0; written < total; written += chunk.Length)
            {
                chunk[0] = (byte)written; // every MiB differs
                write.Content.Write(chunk);
                sha.AppendData(chunk);
                peak = Math.Max(peak, GC.GetTotalMemory(false) - baseline);
                uploadProgress.Add(write.BytesStored);
            }
            var digest = sha.GetHashAndReset();
            await write.CommitAsync(Manifest("r1", "big.bin", digest, total), CancellationToken.None);
            // Upload progress counts acknowledged parts: it rises while writing and ends at the file's size.
            Assert.True(uploadProgress.Zip(uploadProgress.Skip(1)).All(p => p.Second >= p.First));
            Assert.Contains(uploadProgress, stored => stored > 0 && stored < total);
            Assert.Equal(total, write.BytesStored);
            Assert.Equal(digest, SHA256.HashData(Read("exports/big/big.bin")));
        }
        // 5 MiB parts × 3 in flight + the one being filled, plus SDK buffers — never the file.
        Assert.True(peak < 64L * 1024 * 1024, $"managed memory grew by {peak / 1048576} MB while uploading {total / 1048576} MB");
        Assert.Equal(0, OpenUploads());
        Assert.Equal(total, _store.ReadManifest("big")!.Bytes);
    }

    /// <summary>The 10,000-part cap and the growth that keeps a large file under it, shrunk to three parts that
    /// double from the first: 6 + 12 + 24 MiB. Parts of different sizes complete into one object; a file past the
    /// cap is refused when its extra part would go, naming the fix, and its upload is aborted.</summary>
    [ServiceFact(UrlVariable)]
    public async Task Parts_grow_so_a_file_of_unknown_size_fits_and_one_past_the_part_cap_fails_before_completing()
    {
        _store.PlanParts = first => new PartPlan(first, ConstantParts: 1, PartsPerDoubling: 1, MaxParts: 3);
        var fits = Bytes(40 * 1024 * 1024, 11);
        await using (var write = _store.BeginWrite("grown", "grown.bin", "run-grown"))
        {
            write.Content.Write(fits);
            await write.CommitAsync(Manifest("run-grown", "grown.bin", SHA256.HashData(fits), fits.Length), CancellationToken.None);
        }
        Assert.Equal(fits, Read("exports/grown/grown.bin"));
        // A multipart object's ETag is the MD5 of its parts' MD5s, "-" its part count: it pins the sizes 6, 12 and 22 MiB.
        int[] sizes = [6 << 20, 12 << 20, 22 << 20];
        var partDigests = sizes.Select((size, i) => MD5.HashData(fits.AsSpan(sizes[..i].Sum(), size))).SelectMany(d => d).ToArray();
        var etag = (await _raw.GetObjectMetadataAsync(_bucket, "exports/grown/grown.bin")).ETag.Trim('"');
        Assert.Equal(Convert.ToHexString(MD5.HashData(partDigests)).ToLowerInvariant() + "-3", etag);

        var write2 = _store.BeginWrite("outgrown", "outgrown.bin", "run-outgrown");
        var failure = Assert.Throws<ExportException>(() => write2.Content.Write(Bytes(43 * 1024 * 1024, 12)));
        Assert.Equal(ExportErrorCode.StorageFailed, failure.Code);
        Assert.Contains("-PartSizeMB", failure.Message);
        Assert.Contains("42.0 MiB", failure.Message); // what the plan holds, said in the error
        await write2.AbortAsync();
        Assert.Equal(0, OpenUploads());
    }

    [ServiceFact(UrlVariable)]
    public async Task A_rerun_overwrites_in_place_and_readers_see_the_previous_file_until_it_completes()
    {
        var first = Bytes(1000, 2);
        await using (var write = _store.BeginWrite("same", "same.jsonl", "run1"))
        {
            write.Content.Write(first);
            await write.CommitAsync(Manifest("run1", "same.jsonl", SHA256.HashData(first), first.Length), CancellationToken.None);
        }
        var second = Bytes(12 * 1024 * 1024, 3);
        await using (var write = _store.BeginWrite("same", "same.jsonl", "run2"))
        {
            write.Content.Write(second); // two parts uploaded, one pending
            Assert.Equal(first, Read("exports/same/same.jsonl"));
            Assert.Equal("run1", _store.ReadManifest("same")!.RunId);
            await write.CommitAsync(Manifest("run2", "same.jsonl", SHA256.HashData(second), second.Length), CancellationToken.None);
        }
        Assert.Equal(second, Read("exports/same/same.jsonl"));
        Assert.Equal("run2", _store.ReadManifest("same")!.RunId);
    }

    [ServiceFact(UrlVariable)]
    public async Task A_failed_run_aborts_its_upload_and_leaves_no_parts_and_a_crashed_one_is_swept()
    {
        var write = _store.BeginWrite("aborted", "aborted.jsonl", "run-abort");
        write.Content.Write(Bytes(11 * 1024 * 1024, 4));
        Assert.Equal(1, OpenUploads());
        await write.AbortAsync();
        Assert.Equal(0, OpenUploads());
        Assert.Empty(_raw.ListObjectsV2Async(new ListObjectsV2Request { BucketName = _bucket }).GetAwaiter().GetResult().S3Objects ?? []);

        // A process that dies mid-upload leaves the upload and its marker; recovery aborts it.
        var crashed = _store.BeginWrite("crashed", "crashed.jsonl", "0123456789abcdef0123456789abcdef");
        crashed.Content.Write(Bytes(6 * 1024 * 1024, 5));
        Assert.Equal(1, OpenUploads());
        Assert.Equal(0, _store.RemoveOrphans(run => run == "0123456789abcdef0123456789abcdef")); // still active: kept
        Assert.Equal(1, _store.RemoveOrphans(_ => false));
        Assert.Equal(0, OpenUploads());
        ReliabilityReport.Record("storage faults", "S3 failed run: multipart upload aborted (0 parts, 0 objects); crashed run's upload swept by recovery");
    }

    [ServiceFact(UrlVariable)]
    public async Task The_server_going_away_mid_upload_fails_the_write_clearly_and_its_parts_are_aborted_once_it_is_back()
    {
        using var proxy = new TcpProxy(_target.Endpoint!);
        _home.Service.RegisterStorage(_target with { Name = "flaky", Endpoint = proxy.Url }, replace: false);
        var store = (S3ArtifactStore)_home.Service.StoreOf("flaky");
        var previous = Bytes(2000, 8);
        await using (var write = store.BeginWrite("fragile", "fragile.jsonl", "run-ok"))
        {
            write.Content.Write(previous);
            await write.CommitAsync(Manifest("run-ok", "fragile.jsonl", SHA256.HashData(previous), previous.Length), CancellationToken.None);
        }

        var failing = store.BeginWrite("fragile", "fragile.jsonl", "0123456789abcdef0123456789abcdee");
        failing.Content.Write(Bytes(11 * 1024 * 1024, 9)); // upload started, two parts on their way
        await Task.Delay(500);
        proxy.Cut();
        var error = await Assert.ThrowsAsync<ExportException>(async () =>
        {
            failing.Content.Write(Bytes(6 * 1024 * 1024, 10));
            await failing.CommitAsync(Manifest("run-bad", "fragile.jsonl", new byte[32], 1), CancellationToken.None);
        });
        Assert.Equal(ExportErrorCode.StorageFailed, error.Code);
        Assert.Contains("flaky", error.Message);
        await failing.AbortAsync(); // the server is gone: the abort cannot reach it, and must not throw
        Assert.Equal(1, OpenUploads());

        proxy.Start();
        Assert.Equal(1, store.RemoveOrphans(_ => false)); // the next start's recovery
        Assert.Equal(0, OpenUploads());
        Assert.Equal(previous, Read("exports/fragile/fragile.jsonl"));
        Assert.Equal("run-ok", store.ReadManifest("fragile")!.RunId);
        ReliabilityReport.Record("storage faults", "S3 server cut mid-upload: write failed with StorageFailed, previous object and manifest intact, " +
            "the upload's parts aborted by the orphan sweep once the server was back (0 uploads left)");
    }

    /// <summary>A process killed after its object was published but before its manifest was: the export would
    /// fail its sha256 check until the next run. The state is reproduced in the bucket exactly as the commit
    /// leaves it at that point (marker with the manifest, new object, old manifest).</summary>
    [ServiceFact(UrlVariable)]
    public async Task A_commit_torn_between_object_and_manifest_is_finished_by_recovery()
    {
        async Task<ArtifactManifest> Commit(string runId, int seed, int size)
        {
            var bytes = Bytes(size, seed);
            await using var write = _store.BeginWrite("torn", "torn.bin", runId);
            write.Content.Write(bytes);
            var manifest = Manifest(runId, "torn.bin", SHA256.HashData(bytes), bytes.Length);
            await write.CommitAsync(manifest, CancellationToken.None);
            return manifest;
        }
        void PutRaw(string key, string body) =>
            _raw.PutObjectAsync(new PutObjectRequest { BucketName = _bucket, Key = key, ContentBody = body, UseChunkEncoding = false }).GetAwaiter().GetResult();

        foreach (var (size, path) in new[] { (1024 * 1024, "one PutObject"), (6 * 1024 * 1024, "multipart") })
        {
            var old = await Commit("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 10, size);
            var torn = await Commit("bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", 11, size);
            // Rewind to the crash point: the old manifest in place, the new run's marker still holding its manifest.
            PutRaw("exports/torn/torn.bin.manifest.json", System.Text.Encoding.UTF8.GetString(old.ToJson()));
            PutRaw("exports/.exportsps-uploads/" + torn.RunId, $"exports/torn/torn.bin\n\n{torn.RunId}\n" + System.Text.Encoding.UTF8.GetString(torn.ToJson()));
            // A marker of a run that died before publishing its object must not roll anything forward.
            var never = Manifest("cccccccccccccccccccccccccccccccc", "torn.bin", SHA256.HashData(Bytes(10, 12)), 10);
            PutRaw("exports/.exportsps-uploads/" + never.RunId, $"exports/torn/torn.bin\n\n{never.RunId}\n" + System.Text.Encoding.UTF8.GetString(never.ToJson()));
            Assert.Equal(old.Sha256, _store.ReadManifest("torn")!.Sha256);

            _store.RemoveOrphans(_ => false);
            Assert.Equal(torn.Sha256, _store.ReadManifest("torn")!.Sha256);
            Assert.Equal(torn.Sha256, Convert.ToHexString(SHA256.HashData(Read("exports/torn/torn.bin"))).ToLowerInvariant());
            Assert.Empty(_raw.ListObjectsV2Async(new ListObjectsV2Request { BucketName = _bucket, Prefix = "exports/.exportsps-uploads/" })
                .GetAwaiter().GetResult().S3Objects ?? []);
            ReliabilityReport.Record("crash", $"S3 commit torn between object and manifest ({path}, state reproduced in the bucket): recovery wrote the manifest, the new file verifies; a marker of an unpublished run rolled nothing forward");
        }

        // A resumed upload: its object's metadata names the run that started it, and its manifest has no sha256
        // until the object is read back, so recovery must match the origin run and hash the object itself.
        var previous = _store.ReadManifest("torn")!;
        var cutBytes = Bytes(5 * 1024 * 1024, 13);
        var starting = (IResumableWrite)_store.BeginWrite("torn", "torn.bin", "dddddddddddddddddddddddddddddddd");
        starting.Content.Write(cutBytes);
        var cut = starting.TryMakeDurable();
        Assert.Equal(cutBytes.Length, cut);
        await starting.KeepAsync(cut!.Value);
        var continuing = ((IResumableStore)_store).ContinueWrite("torn", "torn.bin", "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee", "dddddddddddddddddddddddddddddddd", cut.Value, starting.State);
        var tail = Bytes(1024 * 1024, 14);
        continuing.Content.Write(tail);
        var whole = cutBytes.Concat(tail).ToArray();
        var unhashed = Manifest("eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee", "torn.bin", SHA256.HashData(whole), whole.Length) with { Sha256 = "" };
        var committed = await continuing.CommitAsync(unhashed, CancellationToken.None);
        Assert.Equal(Convert.ToHexString(SHA256.HashData(whole)).ToLowerInvariant(), committed.Sha256);
        PutRaw("exports/torn/torn.bin.manifest.json", System.Text.Encoding.UTF8.GetString(previous.ToJson()));
        PutRaw("exports/.exportsps-uploads/" + unhashed.RunId, $"exports/torn/torn.bin\n\ndddddddddddddddddddddddddddddddd\n" + System.Text.Encoding.UTF8.GetString(unhashed.ToJson()));
        _store.RemoveOrphans(_ => false);
        Assert.Equal(committed.Sha256, _store.ReadManifest("torn")!.Sha256);
    }

    /// <summary>A resume takes an interrupted run's upload over while a sweep is under way: the sweep read the old run's
    /// marker, then the resume wrote its own and replaced the resume point, so the old run no longer counts as resumable
    /// when the sweep asks. The upload is the resumed run's now, and the sweep must not abort it.</summary>
    [ServiceFact(UrlVariable)]
    public async Task A_sweep_racing_a_resume_leaves_the_upload_the_resume_took_over()
    {
        const string interrupted = "abababababababababababababababab", resumed = "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd";
        var cutBytes = Bytes(5 * 1024 * 1024, 21);
        var starting = (IResumableWrite)_store.BeginWrite("raced", "raced.bin", interrupted);
        starting.Content.Write(cutBytes);
        var cut = starting.TryMakeDurable();
        await starting.KeepAsync(cut!.Value);
        IResumableWrite? continuing = null;
        _store.RemoveOrphans(run =>
        {
            if (run == interrupted && continuing is null)
                continuing = ((IResumableStore)_store).ContinueWrite("raced", "raced.bin", resumed, interrupted, cut.Value, starting.State);
            return run == resumed; // what the catalog answers once the resume point is the resumed run's
        });
        Assert.NotNull(continuing);
        var tail = Bytes(1024 * 1024, 22);
        continuing.Content.Write(tail);
        var whole = cutBytes.Concat(tail).ToArray();
        var committed = await continuing.CommitAsync(Manifest(resumed, "raced.bin", SHA256.HashData(whole), whole.Length) with { Sha256 = "" }, CancellationToken.None);
        Assert.Equal(Convert.ToHexString(SHA256.HashData(whole)).ToLowerInvariant(), committed.Sha256);
        Assert.Equal(0, OpenUploads());
    }

    /// <summary>Uploads of crashed runs are swept even when the storage refuses to delete one's marker: the sweep goes on to
    /// the next, and the marker left (its upload aborted) goes at a later sweep.</summary>
    [ServiceFact(UrlVariable)]
    public async Task A_marker_that_cannot_be_deleted_does_not_stop_the_sweep_of_the_other_uploads()
    {
        using var proxy = new S3FaultProxy(_target.Endpoint!);
        _home.Service.RegisterStorage(_target with { Name = "flaky", Endpoint = proxy.Url }, replace: false);
        var flaky = (S3ArtifactStore)_home.Service.StoreOf("flaky");
        foreach (var (runId, export) in new[] { ("11111111111111111111111111111111", "crashed-a"), ("22222222222222222222222222222222", "crashed-b") })
        {
            var write = flaky.BeginWrite(export, export + ".bin", runId); // never committed nor aborted: its process died
            write.Content.Write(Bytes(6 << 20, 50));
            await write.Content.FlushAsync();
        }
        Assert.Equal(2, OpenUploads());
        const string firstMarker = "exports/.exportsps-uploads/11111111111111111111111111111111";
        proxy.Fail = r => r.HttpMethod == "DELETE" && r.Url!.AbsolutePath.EndsWith(firstMarker, StringComparison.Ordinal) ? 503 : null;
        Assert.Equal(2, flaky.RemoveOrphans(_ => false));
        Assert.True(proxy.Failed > 0, "the marker's DELETE was never attempted");
        Assert.Equal(0, OpenUploads());

        proxy.Fail = null;
        Assert.Equal(0, flaky.RemoveOrphans(_ => false));
        Assert.Empty(_raw.ListObjectsV2Async(new ListObjectsV2Request { BucketName = _bucket, Prefix = "exports/.exportsps-uploads/" }).GetAwaiter().GetResult().S3Objects ?? []);
    }

    /// <summary>A torn commit found while the storage cannot be asked about it (its HEAD answered 503) or cannot take
    /// the manifest (its PUT answered 503): the marker stays and a later sweep finishes the commit, instead of the
    /// marker being dropped and the export failing its sha256 check until its next run.</summary>
    [ServiceFact(UrlVariable)]
    public async Task A_torn_commit_the_storage_cannot_finish_now_is_finished_by_a_later_sweep()
    {
        using var proxy = new S3FaultProxy(_target.Endpoint!);
        _home.Service.RegisterStorage(_target with { Name = "busy", Endpoint = proxy.Url }, replace: false);
        var busy = (S3ArtifactStore)_home.Service.StoreOf("busy");
        async Task<ArtifactManifest> Commit(string runId, int seed)
        {
            var bytes = Bytes(100_000, seed);
            await using var write = busy.BeginWrite("mended", "mended.bin", runId);
            write.Content.Write(bytes);
            var manifest = Manifest(runId, "mended.bin", SHA256.HashData(bytes), bytes.Length);
            await write.CommitAsync(manifest, CancellationToken.None);
            return manifest;
        }
        var old = await Commit("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 20);
        var torn = await Commit("bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", 21);
        var markerKey = "exports/.exportsps-uploads/" + torn.RunId;
        await _raw.PutObjectAsync(new PutObjectRequest { BucketName = _bucket, Key = "exports/mended/mended.bin.manifest.json", ContentBody = System.Text.Encoding.UTF8.GetString(old.ToJson()), UseChunkEncoding = false });
        await _raw.PutObjectAsync(new PutObjectRequest { BucketName = _bucket, Key = markerKey, ContentBody = $"exports/mended/mended.bin\n\n{torn.RunId}\n" + System.Text.Encoding.UTF8.GetString(torn.ToJson()), UseChunkEncoding = false });
        bool MarkerKept() => (_raw.ListObjectsV2Async(new ListObjectsV2Request { BucketName = _bucket, Prefix = markerKey }).GetAwaiter().GetResult().S3Objects ?? []).Count == 1;

        foreach (var (what, fault) in new (string, Func<HttpListenerRequest, int?>)[]
                 {
                     ("HEAD of the object", r => r.HttpMethod == "HEAD" ? 503 : null),
                     ("PUT of the manifest", r => r.HttpMethod == "PUT" && r.Url!.AbsolutePath.EndsWith(".manifest.json") ? 503 : null),
                 })
        {
            proxy.Fail = fault;
            var failedBefore = proxy.Failed;
            busy.RemoveOrphans(_ => false);
            Assert.True(proxy.Failed > failedBefore, $"the {what} was never attempted");
            Assert.True(MarkerKept(), $"the marker was dropped when the {what} failed");
            Assert.Equal(old.Sha256, busy.ReadManifest("mended")!.Sha256);
        }
        proxy.Fail = null;
        busy.RemoveOrphans(_ => false);
        Assert.False(MarkerKept());
        Assert.Equal(torn.Sha256, busy.ReadManifest("mended")!.Sha256);
        Assert.Equal(torn.Sha256, Convert.ToHexString(SHA256.HashData(Read("exports/mended/mended.bin"))).ToLowerInvariant());
        ReliabilityReport.Record("storage faults", "S3 torn commit found while the storage answered 503 (to the HEAD, then to the manifest PUT): marker kept, finished by the next sweep");
    }

    /// <summary>Once the file and its manifest are published, tidying up (the upload marker, the file a format change
    /// renamed) failing must not fail the commit: the run would be recorded failed while its file is served.</summary>
    [ServiceFact(UrlVariable)]
    public async Task A_commit_whose_tidying_up_fails_after_publishing_still_succeeds()
    {
        using var proxy = new S3FaultProxy(_target.Endpoint!);
        _home.Service.RegisterStorage(_target with { Name = "tidy", Endpoint = proxy.Url }, replace: false);
        var tidy = (S3ArtifactStore)_home.Service.StoreOf("tidy");
        async Task<ArtifactManifest> Commit(string runId, string file, int seed)
        {
            var bytes = Bytes(100_000, seed);
            await using var write = tidy.BeginWrite("renamed", file, runId);
            write.Content.Write(bytes);
            return await write.CommitAsync(Manifest(runId, file, SHA256.HashData(bytes), bytes.Length), CancellationToken.None);
        }
        IEnumerable<string> Keys() => (_raw.ListObjectsV2Async(new ListObjectsV2Request { BucketName = _bucket, Prefix = "exports/renamed/" })
            .GetAwaiter().GetResult().S3Objects ?? []).Select(o => o.Key[("exports/renamed/".Length)..]).Order();

        await Commit("cccccccccccccccccccccccccccccccc", "renamed.csv", 30);
        proxy.Fail = r => r.HttpMethod == "DELETE" ? 503 : null;
        var failedBefore = proxy.Failed;
        var published = await Commit("dddddddddddddddddddddddddddddddd", "renamed.jsonl", 31);
        Assert.True(proxy.Failed > failedBefore, "the stale file's DELETE was never attempted");
        Assert.Equal(published.Sha256, tidy.ReadManifest("renamed")!.Sha256);
        Assert.Contains("renamed.csv", Keys());

        proxy.Fail = null;
        await Commit("eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee", "renamed.jsonl", 32);
        Assert.Equal(["renamed.jsonl", "renamed.jsonl.manifest.json"], Keys());
    }

    /// <summary>An upload whose abort the storage refused (503) keeps its marker, so the next orphan sweep aborts it
    /// instead of its parts staying billed with nothing pointing at them.</summary>
    [ServiceFact(UrlVariable)]
    public async Task An_upload_whose_abort_failed_keeps_its_marker_and_the_next_sweep_aborts_it()
    {
        using var proxy = new S3FaultProxy(_target.Endpoint!);
        _home.Service.RegisterStorage(_target with { Name = "flaky", Endpoint = proxy.Url }, replace: false);
        var flaky = (S3ArtifactStore)_home.Service.StoreOf("flaky");
        var runId = "ffffffffffffffffffffffffffffffff";
        var markerKey = "exports/.exportsps-uploads/" + runId;
        bool MarkerKept() => (_raw.ListObjectsV2Async(new ListObjectsV2Request { BucketName = _bucket, Prefix = markerKey }).GetAwaiter().GetResult().S3Objects ?? []).Count == 1;

        var write = flaky.BeginWrite("abandoned", "abandoned.bin", runId);
        write.Content.Write(Bytes(20 << 20, 40));
        await write.Content.FlushAsync();
        Assert.Equal(1, OpenUploads());
        proxy.Fail = r => r.HttpMethod == "DELETE" && r.Url!.Query.Contains("uploadId") ? 503 : null;
        await write.AbortAsync();
        Assert.True(proxy.Failed > 0, "the abort was never attempted");
        Assert.Equal(1, OpenUploads());
        Assert.True(MarkerKept(), "the marker was dropped although the upload is still open");

        proxy.Fail = null;
        flaky.RemoveOrphans(_ => false);
        Assert.Equal(0, OpenUploads());
        Assert.False(MarkerKept());
    }

    /// <summary>Resume into a bucket: the interrupted run's multipart upload is kept at its last cut (a part
    /// boundary), the resumed run adds parts after it and completes one object, hashed as stored.</summary>
    [ServiceFact(UrlVariable)]
    public void An_interrupted_run_into_the_bucket_is_resumed_to_one_verified_object()
    {
        const int Documents = 60_000;
        _home.LoadSample(SampleKind.Events, Documents);
        using var server = new OpenSearch.LoopbackOpenSearch(_home.Service.Indexes) { Version = "2.11.1" };
        new Sources.OpenSearch.OpenSearchSettings
        {
            Name = "cluster", Urls = [server.Url], PageSize = 500, TiebreakerField = "event.id", MaxRetries = 1, RetryDelay = TimeSpan.FromMilliseconds(10),
        }.Save(_home.Catalog);
        // The fixture's storage has S3's smallest parts (5 MiB), the hardest case for a cut on a part boundary.
        _home.Service.Create(new ExportDefinition { Name = "s3-resume", Query = "*", Source = "cluster", Storage = "bucket", Format = "jsonl", Slices = 2 });

        server.Faults.Enqueue(new OpenSearch.Fault.Status("/_search", 503) { Skip = 80 });
        for (var i = 0; i < 12; i++) server.Faults.Enqueue(new OpenSearch.Fault.Status("/_search", 503));
        var failed = _home.Service.Start("s3-resume", RunTrigger.Manual).Completion.GetAwaiter().GetResult();
        server.Faults.Clear();
        Assert.Equal(RunStatus.Failed, failed.Status);
        Assert.Contains("-Resume", failed.Error);
        Assert.Equal(1, OpenUploads()); // kept for the resume, not aborted
        var point = Runs.ResumePoint.FromJson(_home.Catalog.FindResumePoint("s3-resume")!.Value.StateJson);
        Assert.True(point.Bytes >= 5 * 1024 * 1024 && point.Records > 0);
        // The orphan sweep must leave a resumable upload alone, however old (a resume after a weekend).
        var age = S3ArtifactStore.UnmarkedUploadAge;
        S3ArtifactStore.UnmarkedUploadAge = TimeSpan.Zero;
        try { _home.Service.Recover(); }
        finally { S3ArtifactStore.UnmarkedUploadAge = age; }
        Assert.Equal(1, OpenUploads());

        var handle = _home.Service.Start("s3-resume", RunTrigger.Manual, resume: true);
        var resumed = handle.Completion.GetAwaiter().GetResult();
        Assert.True(resumed.Status == RunStatus.Completed, resumed.Error);
        Assert.Equal(resumed.Bytes, handle.BytesStored); // upload progress ends at the object's size, kept parts included
        Assert.Equal(Documents, resumed.Records);
        Assert.Equal(0, OpenUploads());
        var received = _home.Service.ReceiveAsync("s3-resume", Path.Combine(_home.Root, "s3-resume.jsonl"), false, null, CancellationToken.None).GetAwaiter().GetResult();
        Assert.Equal(resumed.Sha256, Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(received.Path))).ToLowerInvariant());
        var ids = File.ReadLines(received.Path).Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement.GetProperty("event").GetProperty("id").GetString()).ToList();
        Assert.Equal(Documents, ids.Count);
        Assert.Equal(Documents, ids.Distinct().Count());
        Assert.Empty(_raw.ListObjectsV2Async(new ListObjectsV2Request { BucketName = _bucket, Prefix = "exports/.exportsps-uploads/" })
            .GetAwaiter().GetResult().S3Objects ?? []);
        ReliabilityReport.Record("resume", $"S3 (radosgw): run failed after {point.Records:N0} records with {point.Bytes / 1048576.0:N1} MB in acknowledged parts kept; " +
                                           $"resumed to one object of {Documents:N0} records, 0 duplicates, 0 missing, sha256 verified, 0 uploads left");
    }

    [ServiceFact(UrlVariable)]
    public async Task Sse_c_round_trips_and_a_wrong_or_missing_key_is_named_as_such()
    {
        var key = ArtifactKey.Generate();
        var data = Bytes(7 * 1024 * 1024, 6);
        await using (var write = _store.BeginWrite("secret", "secret.jsonl", "run-k", key))
        {
            write.Content.Write(data);
            await write.CommitAsync(Manifest("run-k", "secret.jsonl", SHA256.HashData(data), data.Length), CancellationToken.None);
        }
        var manifest = _store.ReadManifest("secret")!;
        Assert.Equal(("sse-c", key.Fingerprint), (manifest.Encryption, manifest.KeyFingerprint));
        using (var verified = ArtifactVerifier.Open(_store, "secret", manifest, key))
        using (var memory = new MemoryStream())
        {
            verified.CopyTo(memory);
            Assert.Equal(data, memory.ToArray());
        }
        // The server really encrypted it: without the key it refuses to serve the object at all.
        var refused = Assert.Throws<AmazonS3Exception>(() => Read("exports/secret/secret.jsonl"));
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);

        var wrong = Assert.Throws<ExportException>(() => _store.OpenRead("secret", manifest, ArtifactKey.Generate()));
        Assert.Equal(ExportErrorCode.EncryptionKeyMismatch, wrong.Code);
        var missing = Assert.Throws<ExportException>(() => _store.OpenRead("secret", manifest));
        Assert.Equal(ExportErrorCode.EncryptionKeyRequired, missing.Code);
    }

    [ServiceFact(UrlVariable)]
    public async Task Presigned_urls_work_with_a_plain_http_client_and_stop_working_when_they_expire()
    {
        var key = ArtifactKey.Generate();
        var data = Bytes(4096, 7);
        await using (var write = _store.BeginWrite("shared", "shared.jsonl", "run-p", key))
        {
            write.Content.Write(data);
            await write.CommitAsync(Manifest("run-p", "shared.jsonl", SHA256.HashData(data), data.Length), CancellationToken.None);
        }
        var manifest = _store.ReadManifest("shared")!;
        Assert.Throws<ExportException>(() => _store.Presign("shared", manifest, TimeSpan.FromHours(25), key));
        var link = _store.Presign("shared", manifest, TimeSpan.FromSeconds(3), key);
        Assert.Equal("http", link.Url.Scheme);
        Assert.DoesNotContain(key.Reveal(), link.Url.ToString());
        using var http = new HttpClient();
        HttpRequestMessage Request(bool withHeaders)
        {
            var request = new HttpRequestMessage(HttpMethod.Get, link.Url);
            if (withHeaders) foreach (var (name, value) in link.Headers) request.Headers.Add(name, value);
            return request;
        }
        using (var ok = await http.SendAsync(Request(withHeaders: true)))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            Assert.Equal(data, await ok.Content.ReadAsByteArrayAsync());
        }
        // Without the key headers the request is refused (the algorithm header is part of the signature).
        using (var noKey = await http.SendAsync(Request(withHeaders: false)))
            Assert.Contains(noKey.StatusCode, new[] { HttpStatusCode.BadRequest, HttpStatusCode.Forbidden });
        await Task.Delay(TimeSpan.FromSeconds(4.5));
        using (var expired = await http.SendAsync(Request(withHeaders: true)))
            Assert.Equal(HttpStatusCode.Forbidden, expired.StatusCode);
    }

    [ServiceFact(UrlVariable)]
    public void An_export_runs_into_the_bucket_is_received_verified_and_expires_with_its_download_window()
    {
        _home.LoadSample(SampleKind.Events, 3000);
        var key = ArtifactKey.Generate();
        _home.Service.Create(new ExportDefinition
        {
            Name = "to-s3", Query = "*", Storage = "bucket", Compression = CompressionKind.Gzip, KeyFingerprint = key.Fingerprint,
            DownloadWindow = TimeSpan.FromSeconds(5),
        });
        Assert.Throws<ExportException>(() => _home.Service.Start("to-s3", RunTrigger.Manual)); // no key
        var run = _home.Service.Start("to-s3", RunTrigger.Manual, key).Completion.GetAwaiter().GetResult();
        Assert.True(run.Status == RunStatus.Completed, run.Error);
        Assert.StartsWith(_target.Endpoint!.GetLeftPart(UriPartial.Authority), run.Location);
        var destination = Path.Combine(_home.Root, "received.jsonl.gz");
        var received = _home.Service.ReceiveAsync("to-s3", destination, false, null, CancellationToken.None, key).GetAwaiter().GetResult();
        Assert.Equal(run.Sha256, Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(received.Path))).ToLowerInvariant());
        Assert.Equal(3000, _home.Service.ReadRecords("to-s3", CancellationToken.None, key).Count());
        var tooBig = Assert.Throws<ExportException>(() =>
            _home.Service.ReceiveAsync("to-s3", Path.Combine(_home.Root, "x.gz"), false, null, CancellationToken.None, key, maxBytes: 10).GetAwaiter().GetResult());
        Assert.Contains("-MaxSize", tooBig.Message);

        Thread.Sleep(TimeSpan.FromSeconds(5.5));
        var expired = Assert.Throws<ExportException>(() => _home.Service.RequireArtifact("to-s3"));
        Assert.Equal(ExportErrorCode.ArtifactExpired, expired.Code);
        Assert.Equal(1, _home.Service.DeleteExpiredArtifacts(DateTimeOffset.UtcNow));
        Assert.Equal(0, _home.Service.DeleteExpiredArtifacts(DateTimeOffset.UtcNow)); // deleted and audited once
        var kept = _store.ReadManifest("to-s3")!; // the run's record stays; its object does not
        Assert.Equal(run.Id, kept.RunId);
        Assert.ThrowsAny<Exception>(() => _store.OpenRead("to-s3", kept, key).ReadByte());
        Assert.Equal(ExportErrorCode.ArtifactExpired, Assert.Throws<ExportException>(() => _home.Service.RequireArtifact("to-s3")).Code);
    }

    [ServiceFact(UrlVariable)]
    public void Credentials_are_stored_protected_and_appear_in_no_message()
    {
        var stored = _home.Catalog.FindRegistration(S3StorageTarget.RegistrationKind, "bucket")!;
        Assert.DoesNotContain(_secret, stored);
        Assert.Contains("enc:v1:", stored);
        Assert.DoesNotContain(_secret, _target.ToString());

        var wrongSecret = _target with { Name = "wrong", Prefix = "wrong/", ProtectedSecretAccessKey = _home.Service.Vault.Protect("not-the-secret-" + _secret[..4]) };
        _home.Service.RegisterStorage(wrongSecret, replace: false);
        var error = Assert.Throws<ExportException>(() => _home.Service.StoreOf("wrong").ReadManifest("anything"));
        Assert.Contains("refused the credentials", error.Message);
        Assert.DoesNotContain(_secret, error.ToString());
        Assert.DoesNotContain("not-the-secret", error.ToString());

        var noBucket = _target with { Name = "nobucket", Bucket = "no-such-bucket-" + Guid.NewGuid().ToString("N")[..8] };
        _home.Service.RegisterStorage(noBucket, replace: false);
        var missing = Assert.Throws<ExportException>(() => _home.Service.StoreOf("nobucket").ReadManifest("anything"));
        Assert.Contains("does not exist", missing.Message);
    }
}
