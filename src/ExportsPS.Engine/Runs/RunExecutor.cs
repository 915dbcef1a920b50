using ExportsPS.Engine.Catalog;
using ExportsPS.Engine.Exports;
using ExportsPS.Engine.Formats;
using ExportsPS.Engine.Sources;
using ExportsPS.Engine.Storage;

namespace ExportsPS.Engine.Runs;

/// <summary>Executes one run: source → format → compression → store, with the catalog told every step.
/// Reading runs on its own thread and hands batches over a bounded queue, so memory is bounded by the
/// queue, never by the result. Every failure leaves the previous artifact in place and no temp files.</summary>
public sealed class RunExecutor
{
    const int QueueCapacity = 8;
    const int MaxWarnings = 100;

    readonly IExportCatalog _catalog;
    readonly Func<string, IRecordSource> _sources;
    readonly FormatRegistry _formats;
    readonly Func<string, IArtifactStore> _stores;
    readonly string _host;
    readonly TimeSpan _heartbeatInterval;
    readonly TimeSpan _checkpointInterval;

    public RunExecutor(IExportCatalog catalog, Func<string, IRecordSource> sources, FormatRegistry formats,
        Func<string, IArtifactStore> stores, string host, TimeSpan heartbeatInterval, TimeSpan checkpointInterval)
    {
        _checkpointInterval = checkpointInterval;
        _catalog = catalog;
        _sources = sources;
        _formats = formats;
        _stores = stores;
        _host = host;
        _heartbeatInterval = heartbeatInterval;
    }

    /// <summary>Runs the export; with <paramref name="resume"/>, continues that interrupted run's partial file
    /// from its recorded positions instead of starting over.</summary>
    public async Task<RunRecord> ExecuteAsync(RunHandle handle, ExportDefinition export, ArtifactKey? key = null, ResumePoint? resume = null)
    {
        var runId = handle.RunId;
        var policy = Tenants.TenantPolicy.Load(_catalog, export.Tenant);
        // Queued until the tenant has a free slot (its concurrency limit), across processes and hosts.
        while (true)
        {
            var status = _catalog.TryStartRun(runId, _host, policy.ConcurrencyLimit, _catalog.Now());
            if (status == RunStatus.Running) break;
            if (status != RunStatus.Queued) return _catalog.FindRun(runId)!; // canceled or failed while queued
            handle.Phase = $"queued (tenant '{export.Tenant}' has {policy.ConcurrencyLimit} running)";
            if (handle.Token.WaitHandle.WaitOne(TimeSpan.FromMilliseconds(250)))
            {
                _catalog.RequestCancel(runId, _catalog.Now());
                return _catalog.FindRun(runId)!;
            }
        }

        using var timeLimit = new CancellationTokenSource();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(handle.Token, timeLimit.Token);
        var token = linked.Token;
        // (A definition stored before limits were capped may hold more than a timer takes: no limit then.)
        if (export.TimeLimit is { } limit && limit <= ExportDefinition.LongestTimeLimit) timeLimit.CancelAfter(limit);

        var warnings = new List<string>();
        var suppressedWarnings = 0;
        void Warn(string message)
        {
            lock (warnings)
            {
                if (warnings.Count < MaxWarnings) warnings.Add(message);
                else suppressedWarnings++;
            }
        }

        ISourceSession? activeSession = null;
        using var heartbeat = new Timer(_ =>
        {
            try
            {
                // The phase names how the source reads (e.g. "point in time, 4 slices, 37 pages"), refreshed here.
                if (Volatile.Read(ref activeSession) is { } active && active.Describe() is { Length: > 0 } how) handle.Phase = $"reading ({how})";
                if (_catalog.Heartbeat(runId, handle.Processed, handle.Total, _catalog.Now())) handle.Cancel();
            }
            catch (Exception) { /* a missed heartbeat is retried at the next tick */ }
        }, null, _heartbeatInterval, _heartbeatInterval);

        IArtifactWrite? write = null;
        OutputChain? output = null;
        CancellationTokenRegistration stopTransfers = default;
        ResumePoint? kept = null; // the last durable cut of this run's file
        long records = 0;
        RunOutcome completed;
        try
        {
            var format = _formats.Get(export.Format);
            var source = _sources(export.Source);
            var store = _stores(export.Storage);
            var now = _catalog.Now();
            var from = export.From is null ? (DateTimeOffset?)null : DateMath.Resolve(export.From, now, "From");
            var to = export.To is null ? (DateTimeOffset?)null : DateMath.Resolve(export.To, now, "To");
            DateTimeOffset? highWaterMark = null;
            if (resume is not null)
            {
                // The interrupted run's range, not a fresh one: now-1d must not move under a resumed file.
                (from, to, highWaterMark) = (resume.From, resume.To, resume.HighWaterMark);
            }
            else if (export.SinceLastRun)
            {
                // Bounded above by now, so the next run starts exactly where this one ends ([From, To) is
                // half-open): documents are shipped once. One indexed late with an older timestamp is not (documented).
                to ??= now;
                highWaterMark = to;
                if (CurrentManifest(_catalog, store, export)?.HighWaterMark is { } previous && (from is null || previous >= from))
                    from = previous;
            }
            // A resumed file keeps the columns its header names, whatever fields the index has gained since.
            var columns = resume?.Columns ?? (format.NeedsColumns
                ? (export.Fields.Count > 0 ? export.Fields : source.DefaultColumns(export.Index, token))
                : export.Fields);
            var query = new SourceQuery(export.Index, export.Query, export.Fields, export.TimestampField, from, to, export.Slices, resume?.Positions)
            {
                Columns = format.NeedsColumns ? columns : null,
            };

            handle.Phase = "opening";
            await using var session = await source.OpenAsync(query, token);
            if (resume is not null && session.ResumeUnsupportedReason is { } cannot)
                throw new ExportException(ExportErrorCode.ResumeNotPossible,
                    $"Run {resume.RunId} of export '{export.Name}' cannot be resumed: {cannot}.", export.Name);
            if (resume is not null && resume.PositionKey != session.PositionKey)
                throw new ExportException(ExportErrorCode.ResumeNotPossible,
                    $"Run {resume.RunId} of export '{export.Name}' recorded its positions for '{resume.PositionKey}', but source '{export.Source}' now reads " +
                    $"'{session.PositionKey}': the sort key, or with several slices the indices and shards behind the index name, changed. " +
                    "Run the export again without -Resume.", export.Name);
            var total = session.Total; // what is left to read: with a resume, after each slice's position
            var earlier = resume?.Records ?? 0;
            handle.SetTotal(earlier + total);
            handle.Advance(earlier);
            CheckCaps(export, format, earlier + total);

            if (resume is null && format.NeedsColumns && export.Fields.Count == 0 && columns.Count == FieldPatterns.DefaultColumnCount
                && source.ExpandFields(export.Index, ["*"], token).Except(columns).ToList() is { Count: > 0 } left)
                Warn($"Without -Field, {format.Name} takes the first {columns.Count} of the index's {columns.Count + left.Count} fields; " +
                     $"{left.Count} are not in the file ({string.Join(", ", left.Take(5))}{(left.Count > 5 ? ", …" : "")}). " +
                     "Name the columns with Set-Export -Field (patterns such as source.* work).");
            var fileName = FileNameOf(export, format);
            IResumableWrite? continued = null;
            if (resume is not null)
            {
                write = continued = ((IResumableStore)store).ContinueWrite(export.Name, fileName, runId, resume.RunId, resume.Bytes, resume.StoreState);
                // The partial file is this run's now: a failure before its first cut keeps it as it was.
                kept = resume with { RunId = runId, At = _catalog.Now() };
                if (!_catalog.SaveResumePoint(export.Name, runId, kept.ToJson())) handle.Cancel(); // settled elsewhere meanwhile
            }
            else write = store.BeginWrite(export.Name, fileName, runId, key);
            output = new OutputChain(write.Content, export.Compression == CompressionKind.Gzip,
                formattingCostsCpu: !format.CopiesSource && !format.WritesIndependentRows, token);
            var hashing = output.Hashing;
            long unhashed = 0; // kept bytes the store cannot read back: it hashes the file at commit
            if (continued is not null)
            {
                using var earlierBytes = continued.ReadKept();
                if (earlierBytes is null) unhashed = continued.KeptLength;
                else hashing.Prime(earlierBytes);
            }
            var storing = write;
            handle.StoredProbe = () => storing.BytesStored;
            stopTransfers = token.Register(storing.Cancel);
            // Checkpoints need positions from the source, a format that can continue and a store that keeps partial files.
            var resumable = write as IResumableWrite;
            var checkpoints = session.ResumeUnsupportedReason is null && format.ContinueUnsupportedReason is null && resumable is not null && key is null;
            var positions = resume?.Positions.ToArray() ?? new string?[Math.Max(1, export.Slices)];
            var sinceCheckpoint = System.Diagnostics.Stopwatch.StartNew();
            var definitionHash = ResumePoint.HashOf(export);

            Volatile.Write(ref activeSession, session);
            handle.Phase = session.Describe() is { Length: > 0 } how ? $"reading ({how})" : "reading";
            var context = new FormatContext(export, columns, Warn) { LeafColumns = session.LeafColumns };
            // The reader gets its own token so a failing writer (record cap, full disk) releases it
            // from a blocked hand-off instead of leaving it waiting forever.
            using (var pipeline = CancellationTokenSource.CreateLinkedTokenSource(token))
            using (var queue = new RecordBatchQueue(QueueCapacity, pipeline.Token))
            using (var formatter = format.CreateWriter(output.Input, context))
            {
                var reading = Task.Run(async () =>
                {
                    try { await session.ReadAsync(queue, pipeline.Token); }
                    finally { queue.CompleteAdding(); }
                }, CancellationToken.None);

                using var parallel = ParallelBatchFormatter.Workers > 1 && format.WritesIndependentRows
                    ? new ParallelBatchFormatter(output.Input, ParallelBatchFormatter.Workers, rows => format.CreateRowWriter(rows, context), queue.Return)
                    : null;

                // Cuts the file where every byte so far is durable and records how far each slice got: the rows
                // in flight are written, the gzip member ends, the store makes the bytes durable (fsync, or the
                // S3 parts acknowledged). Null when the store cannot cut yet; the next batch tries again.
                ResumePoint? Checkpoint()
                {
                    parallel?.Drain();
                    formatter.Flush();
                    long? durable = null;
                    output.Cut(() => resumable!.CanCut, () => durable = resumable!.TryMakeDurable());
                    if (durable is null) return null;
                    if (durable != hashing.BytesWritten + unhashed)
                        throw new InvalidOperationException($"Checkpoint mismatch: the file holds {durable} bytes, the run wrote {hashing.BytesWritten + unhashed}.");
                    var point = new ResumePoint
                    {
                        RunId = runId, DefinitionHash = definitionHash, FileName = fileName, Bytes = durable.Value, Records = earlier + records,
                        Positions = positions.ToArray(), PositionKey = session.PositionKey, From = from, To = to, HighWaterMark = highWaterMark,
                        StoreState = resumable!.State, Columns = columns, At = _catalog.Now(),
                    };
                    if (!_catalog.SaveResumePoint(export.Name, runId, point.ToJson()))
                    {
                        // Settled elsewhere (failed as stale while this process was paused): its retry owns the export now.
                        handle.Cancel();
                        return null;
                    }
                    return point;
                }
                try
                {
                    if (resume is not null) formatter.Continue(earlier);
                    else
                    {
                        formatter.WriteStart();
                        if (parallel is not null) formatter.WriteEnd(); // the header, before any row
                    }
                    foreach (var batch in queue.Consume())
                    {
                        var count = batch.Count; // a returned batch is cleared (by a worker, possibly at once)
                        if (batch.Position is { } position) positions[batch.Slice] = System.Text.Encoding.UTF8.GetString(position);
                        if (parallel is not null) parallel.Add(batch);
                        else
                        {
                            for (var i = 0; i < count; i++) formatter.WriteRecord(batch[i]);
                            queue.Return(batch);
                        }
                        records += count;
                        handle.Advance(count);
                        if (earlier + records > export.RecordCap) throw RecordCap(export, earlier + records);
                        // CanCut first: an S3 part must reach 5 MiB, and asking costs a drain of the pipeline.
                        if (checkpoints && sinceCheckpoint.Elapsed >= _checkpointInterval && resumable!.CanCut && Checkpoint() is { } cut)
                        {
                            kept = cut;
                            sinceCheckpoint.Restart();
                        }
                    }
                    parallel?.Drain();
                }
                catch
                {
                    pipeline.Cancel();
                    await Task.WhenAny(reading);
                    // The reader's own failure explains more than the writer's "canceled".
                    if (reading.IsFaulted && reading.Exception!.InnerException is not OperationCanceledException)
                        throw reading.Exception.InnerException!;
                    throw;
                }
                await reading;
                formatter.WriteEnd();
            }
            handle.Phase = "committing";
            output.Complete();
            token.ThrowIfCancellationRequested();

            if (records != total)
                throw new ExportException(ExportErrorCode.SourceFailed,
                    $"The source returned {records:N0} records but reported {total:N0} matches; the file would be incomplete, so it was discarded. " +
                    (records < total ? session.MissingRecordsHint ?? "Re-run the export." : "Re-run the export."));
            records += earlier;

            var manifest = new ArtifactManifest
            {
                ExportName = export.Name,
                RunId = runId,
                FileName = fileName,
                Format = format.Name,
                Compression = export.Compression.ToString().ToLowerInvariant(),
                ContentType = export.Compression == CompressionKind.Gzip ? "application/gzip" : format.ContentType,
                Records = records,
                Bytes = hashing.BytesWritten + unhashed,
                Sha256 = unhashed > 0 ? "" : hashing.HashHex(), // "": the store hashes what it holds
                Query = export.Query,
                Index = export.Index,
                Fields = export.Fields,
                From = export.From,
                To = export.To,
                CreatedAt = _catalog.Now(),
                ExpiresAt = export.DownloadWindow is { } window ? _catalog.Now() + window : null,
                KeyFingerprint = key?.Fingerprint,
                HighWaterMark = highWaterMark,
            };
            ReserveQuota(runId, export, policy, manifest.Bytes);
            // The commit is never canceled halfway (it would throw the finished file away): stop listening, then
            // honour a cancel that came in meanwhile while the file is still kept.
            stopTransfers.Dispose();
            // Still this host's run? One paused past its lease (a VM pause, a laptop asleep) may have been failed and
            // retried elsewhere meanwhile: it must not publish over the retry. A cancel asked since the last beat counts too.
            if (_catalog.Heartbeat(runId, handle.Processed, handle.Total, _catalog.Now())) handle.Cancel();
            token.ThrowIfCancellationRequested();
            // From here the commit publishes the file: it is no longer resumable, and a commit torn by a crash
            // is finished by the orphan sweep, which skips runs it must keep for a resume.
            if (kept is not null)
            {
                _catalog.RemoveResumePoint(export.Name, runId);
                kept = null;
            }
            manifest = await write.CommitAsync(manifest, CancellationToken.None);
            write = null;
            if (suppressedWarnings > 0) warnings.Add($"{suppressedWarnings} more warnings were not kept.");
            completed = new RunOutcome(RunStatus.Completed, records, total, records, manifest.Bytes, manifest.Sha256,
                store.Locate(export.Name, fileName), null, warnings);
        }
        catch (Exception ex)
        {
            // Its stages stop first: the bytes written are counted after the last block landed, and none may
            // land after the file is cut back or discarded.
            output?.Dispose();
            var location = write is null ? null : _stores(export.Storage).Locate(export.Name, FileNameOf(export, _formats.Get(export.Format)));
            var written = write?.Content.CanSeek == true ? write.Content.Length : 0;
            var (status, message, code) = Classify(ex, export, handle, timeLimit.IsCancellationRequested, location, written);
            if (resume is not null && kept is null && ex is ExportException { Code: ExportErrorCode.ResumeNotPossible } && handle.Run.Trigger == RunTrigger.Schedule)
            {
                // A scheduled run resumes by itself; one refused must not make every later tick fail the same way.
                DropCheckpoint(export, resume);
                message += " The checkpoint was dropped: the next scheduled run starts over.";
            }
            if (write is not null && !await KeepForResumeAsync(write, kept, ex, export))
            {
                kept = null;
                await write.AbortAsync();
            }
            if (kept is not null)
                message += $" The first {kept.Records:N0} records are kept: Start-Export -Name '{export.Name}' -Resume continues from there.";
            return Finish(runId, new RunOutcome(status, handle.Processed, handle.Total, null, null, null, null, message, warnings, code));
        }
        finally
        {
            output?.Dispose();
            stopTransfers.Dispose();
            handle.Phase = "done";
        }
        // Outside the try: the file is published, so a catalog error here must not record the run as failed.
        return Finish(runId, completed);
    }

    void DropCheckpoint(ExportDefinition export, ResumePoint point)
    {
        try
        {
            if (_stores(export.Storage) is IResumableStore partials) partials.DiscardPartial(export.Name, point.FileName, point.RunId);
            _catalog.RemoveResumePoint(export.Name, point.RunId);
        }
        catch (ExportException) { /* the sweep removes what is left; a fresh run discards it too */ }
    }

    /// <summary>After a failure: keeps the file up to the run's last durable cut for Start-Export -Resume,
    /// unless the failure would only repeat (a cap, a quota) or nothing was cut. False: discard it.</summary>
    async Task<bool> KeepForResumeAsync(IArtifactWrite write, ResumePoint? kept, Exception failure, ExportDefinition export)
    {
        if (kept is null || write is not IResumableWrite resumable) return false;
        try
        {
            if (failure is not ExportException { Code: ExportErrorCode.RecordCapExceeded or ExportErrorCode.QuotaExceeded })
            {
                await resumable.KeepAsync(kept.Bytes);
                return true;
            }
        }
        catch (Exception) { /* the cut cannot be kept (the disk is gone): discarded below */ }
        try { _catalog.RemoveResumePoint(export.Name, kept.RunId); } catch (ExportException) { }
        return false;
    }

    RunRecord Finish(string runId, RunOutcome outcome)
    {
        _catalog.FinishRun(runId, outcome, _catalog.Now());
        return _catalog.FindRun(runId)!;
    }

    /// <summary>The file is complete but not yet published: reserve its bytes of the tenant's monthly quota, or refuse
    /// it if they do not fit, so the previous file stays and nothing over quota is ever served.</summary>
    void ReserveQuota(string runId, ExportDefinition export, Tenants.TenantPolicy policy, long bytes)
    {
        var now = _catalog.Now();
        var month = Tenants.TenantPolicy.MonthStart(now);
        var (granted, used) = _catalog.TryReserveQuota(runId, export.Tenant, bytes, policy.MonthlyQuotaBytes, month);
        if (granted) return;
        var message = $"Tenant '{export.Tenant}' would exceed its monthly quota: {used:N0} bytes used + {bytes:N0} for this file > {policy.MonthlyQuotaBytes:N0}. " +
                      $"The quota resets on {month.AddMonths(1):yyyy-MM-dd} (UTC); raise it with Set-ExportTenant -MonthlyQuota, or narrow the export.";
        _catalog.Audit(Catalog.AuditEvents.QuotaRefused, export.Name, null, "scheduler/runner@" + _host, message, now);
        throw new ExportException(ExportErrorCode.QuotaExceeded, message, export.Tenant);
    }

    /// <summary>The export's file as its storage describes it, if one of this export's runs (in this catalog) wrote it.
    /// A removed export whose files could not be deleted (storage unreachable) leaves a manifest a new export of the
    /// same name must not serve, nor take its -Since LastRun mark from; so does another catalog sharing the storage.</summary>
    public static ArtifactManifest? CurrentManifest(IExportCatalog catalog, IArtifactStore store, ExportDefinition export) =>
        store.ReadManifest(export.Name) is { } manifest
        && catalog.FindRun(manifest.RunId) is { } run && string.Equals(run.ExportName, export.Name, StringComparison.OrdinalIgnoreCase)
            ? manifest
            : null;

    public static string FileNameOf(ExportDefinition export, ExportFormat format) =>
        $"{export.Name}.{format.FileExtension}{(export.Compression == CompressionKind.Gzip ? ".gz" : "")}";

    static void CheckCaps(ExportDefinition export, ExportFormat format, long total)
    {
        if (total > export.RecordCap) throw RecordCap(export, total);
        if (format.MaxRecords(export) is { } max && total > max)
            throw new ExportException(ExportErrorCode.RecordCapExceeded,
                $"The query matches {total:N0} records, more than the {max:N0} that the {format.Name} format allows. " +
                "Narrow the query (a shorter -From/-To, a more specific query) or export as json, jsonl or csv.", total);
    }

    static ExportException RecordCap(ExportDefinition export, long count) =>
        new(ExportErrorCode.RecordCapExceeded,
            $"The query matches {count:N0} records, more than this export's record cap of {export.RecordCap:N0}. " +
            "Nothing was truncated: narrow the query, or raise the cap with -RecordCap.", count);

    static (RunStatus, string, ExportErrorCode?) Classify(Exception ex, ExportDefinition export, RunHandle handle, bool timedOut, string? location, long written)
    {
        if (ex is OperationCanceledException || ex is AggregateException { InnerException: OperationCanceledException })
        {
            if (timedOut)
                return (RunStatus.Failed, $"The run exceeded its time limit of {export.TimeLimit} after {handle.Processed:N0} records and was stopped. " +
                                          "Raise -TimeLimit or narrow the query.", ExportErrorCode.TimeLimitExceeded);
            return (RunStatus.Canceled, $"Canceled after {handle.Processed:N0} records.", null);
        }
        if (ex is AggregateException { InnerException: { } inner }) ex = inner;
        if (ex is ExportException known) return (RunStatus.Failed, ex.Message, known.Code);
        if (ex is IOException io && IsDiskFull(io))
        {
            // Extrapolate from what fitted: the file needs about written × total / processed bytes.
            var needed = handle.Processed > 0 && handle.Total is > 0 ? written * handle.Total.Value / handle.Processed : written;
            return (RunStatus.Failed,
                $"The disk is full: writing '{location}' stopped after {written / 1048576.0:N1} MB ({handle.Processed:N0} of {handle.Total:N0} records). " +
                $"The file needs about {needed / 1048576.0:N1} MB: free that much space where the data folder is, or point EXPORTSPS_HOME elsewhere. " +
                "The previous file was kept.", ExportErrorCode.StorageFailed);
        }
        if (ex is IOException other)
            return (RunStatus.Failed, $"Writing '{location}' failed: {other.Message}", ExportErrorCode.StorageFailed);
        return (RunStatus.Failed, $"{ex.GetType().Name}: {ex.Message}", null); // unexpected: no code claims to know why
    }

    static bool IsDiskFull(IOException io) =>
        io.HResult == unchecked((int)0x80070070) || io.HResult == 28 || io.Message.Contains("No space left", StringComparison.OrdinalIgnoreCase);
}
