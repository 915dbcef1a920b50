using System.Collections.Concurrent;
using System.Text.Json;
using ExportsPS.Engine.Catalog;
using ExportsPS.Engine.Formats;
using ExportsPS.Engine.Runs;
using ExportsPS.Engine.Sources;
using ExportsPS.Engine.Sources.Embedded;
using ExportsPS.Engine.Sources.OpenSearch;
using ExportsPS.Engine.Secrets;
using ExportsPS.Engine.Storage;
using ExportsPS.Engine.Storage.S3;

namespace ExportsPS.Engine.Exports;

/// <summary>The engine's façade: every cmdlet talks to this and nothing else. Validates before any
/// work starts, records every state change in the catalog and the audit trail, and runs exports on
/// background threads that callers observe through <see cref="RunHandle"/>.</summary>
public sealed class ExportService
{
    static readonly ConcurrentDictionary<string, ExportService> Services = new(StringComparer.Ordinal);

    readonly ConcurrentDictionary<string, RunHandle> _running = new(StringComparer.Ordinal);
    readonly Dictionary<string, IArtifactStore> _stores = new(StringComparer.OrdinalIgnoreCase);
    readonly RunExecutor _executor;

    public ExportService(ExportsHome home, IExportCatalog catalog, FormatRegistry? formats = null, EngineSettings? settings = null)
    {
        Home = home;
        Catalog = catalog;
        Formats = formats ?? FormatRegistry.CreateDefault();
        Settings = settings ?? EngineSettings.FromEnvironment();
        Indexes = new EmbeddedIndexStore(home);
        _registeredStores = new RegistrationCache<S3ArtifactStore>(catalog, S3StorageTarget.RegistrationKind);
        Sources = new SourceRegistry(catalog, () => Vault, new EmbeddedSource(Indexes));
        _stores[StorageNames.Local] = new LocalArtifactStore(home.ExportsFolder);
        _executor = new RunExecutor(catalog, SourceOf, Formats, StoreOf, Settings.Host, Settings.HeartbeatInterval, Settings.CheckpointInterval);
        Schedules = new Scheduling.ScheduleService(this);
    }

    public Scheduling.ScheduleService Schedules { get; }

    public ExportsHome Home { get; }
    public IExportCatalog Catalog { get; }
    public FormatRegistry Formats { get; }
    public EngineSettings Settings { get; }
    public EmbeddedIndexStore Indexes { get; }
    public SourceRegistry Sources { get; }
    public string Actor => Settings.Actor;

    /// <summary>One service per data folder per process, so a run started by one cmdlet can be observed
    /// and canceled by the next. Opening also recovers from crashes (stale runs, temp files).</summary>
    public static ExportService Open(ExportsHome home) => Services.GetOrAdd(home.Root, _ =>
    {
        home.EnsureCreated();
        var shared = Environment.GetEnvironmentVariable(PostgresCatalog.EnvironmentVariable);
        SqlCatalog catalog = string.IsNullOrWhiteSpace(shared) ? new SqliteCatalog(home.CatalogPath) : new PostgresCatalog(shared);
        catalog.Initialize();
        return new ExportService(home, catalog); // its first RecoverIfDue sweeps
    });

    public void RegisterSource(IRecordSource source) => Sources.Add(source);
    public void RegisterStore(string name, IArtifactStore store) => _stores[name] = store;

    /// <summary>Built-in and registered sources (see <see cref="SourceRegistry"/>).</summary>
    public IRecordSource SourceOf(string name) => Sources.Get(name);

    SecretVault? _vault;
    /// <summary>Created on first use: most exports never need a secret, so no key file appears until one does.</summary>
    public SecretVault Vault => _vault ??= new SecretVault(Home);

    readonly RegistrationCache<S3ArtifactStore> _registeredStores;

    /// <summary>The built-in local folder (and stores a host adds in code), then the S3 targets registered in
    /// the catalog — rebuilt when their registration changes.</summary>
    public IArtifactStore StoreOf(string name)
    {
        if (_stores.TryGetValue(name, out var store)) return store;
        return _registeredStores.Get(name, () => new S3ArtifactStore(S3StorageTarget.Load(Catalog, name)!, Vault))
            ?? throw new ExportException(ExportErrorCode.InvalidOption,
                $"Storage '{name}' is not registered. Register-ExportStorage adds an S3 target; Get-ExportStorage lists them (built in: {string.Join(", ", _stores.Keys)}).", name);
    }

    public void RegisterStorage(S3StorageTarget target, bool replace)
    {
        target.Validate();
        if (_stores.ContainsKey(target.Name))
            throw new ExportException(ExportErrorCode.InvalidName, $"'{target.Name}' is built-in storage; choose another -Name.", target.Name);
        var current = S3StorageTarget.Load(Catalog, target.Name);
        if (!replace && current is not null)
            throw new ExportException(ExportErrorCode.DuplicateName, $"Storage '{target.Name}' is already registered. Add -Force to replace it.", target.Name);
        // Two storages at one location would overwrite each other's same-named exports and sweep each other's uploads.
        if (S3StorageTarget.List(Catalog).FirstOrDefault(other => !string.Equals(other.Name, target.Name, StringComparison.OrdinalIgnoreCase)
                                                                  && other.Location == target.Location) is { } twin)
            throw new ExportException(ExportErrorCode.InvalidOption,
                $"Storage '{twin.Name}' already keeps its files at {twin.Describe()}. Give this one another -Prefix (e.g. {target.Prefix}{target.Name.ToLowerInvariant()}/) or another bucket.", target.Name);
        // Credentials may change under exports; the location may not: their files and upload markers would be stranded.
        if (current is not null && current.Location != target.Location && Registrations.UsedBy(Catalog, e => e.Storage, target.Name) is { Count: > 0 } users)
            throw new ExportException(ExportErrorCode.InvalidOption,
                $"Storage '{target.Name}' holds the files of export(s) {string.Join(", ", users)} at {current.Describe()}; it cannot move to {target.Describe()}. " +
                "Register the new location under another -Name and create exports there.", target.Name);
        target.Save(Catalog);
    }

    public void UnregisterStorage(string name)
    {
        if (_stores.ContainsKey(name))
            throw new ExportException(ExportErrorCode.InvalidOption, $"'{name}' is built in and cannot be unregistered.", name);
        if (Catalog.FindRegistration(S3StorageTarget.RegistrationKind, name) is null)
            throw new ExportException(ExportErrorCode.InvalidOption, $"No storage named '{name}' is registered. Get-ExportStorage lists them.", name);
        var users = Registrations.UsedBy(Catalog, e => e.Storage, name);
        if (users.Count > 0)
            throw new ExportException(ExportErrorCode.InvalidOption,
                $"Storage '{name}' holds the files of export(s) {string.Join(", ", users)}. Remove them (Remove-Export) first.", name);
        Catalog.RemoveRegistration(S3StorageTarget.RegistrationKind, name);
        _registeredStores.Forget(name);
    }

    /// <summary>Deletes files whose download window has passed (the scheduler calls this each pass); each is
    /// audited once, and its manifest stays as the record of the run.</summary>
    public int DeleteExpiredArtifacts(DateTimeOffset now, Func<string, bool>? confirm = null)
    {
        var deleted = 0;
        foreach (var export in List())
        {
            try
            {
                var store = StoreOf(export.Storage);
                // Asked after the confirmation (a prompt may wait for minutes): a run of the export active now may commit its
                // new file between the store's check and its delete, so its export's expired file waits for a later pass.
                // One that starts after this look would have to finish its whole run before the delete that follows.
                if (RunExecutor.CurrentManifest(Catalog, store, export) is { } manifest && ExpiryOf(export, manifest) is { } expires && expires <= now
                    && (confirm is null || confirm(export.Name)) && Catalog.LatestRun(export.Name) is not { IsSettled: false }
                    && store.DeleteExpired(export.Name, manifest))
                {
                    Catalog.Audit(AuditEvents.ArtifactExpired, export.Name, null, Actor, $"expired {expires:O}", now);
                    deleted++;
                }
            }
            // Unreachable storage, or a file a reader holds open (Windows): the next pass tries again.
            catch (Exception ex) when (ex is ExportException or IOException or UnauthorizedAccessException) { }
        }
        return deleted;
    }

    long _lastRecoveryTicks;

    /// <summary>Recovers at most every few seconds; every cmdlet calls this, so a run whose process died is
    /// marked failed soon after its lease lapses, without a scheduler running.</summary>
    public void RecoverIfDue()
    {
        var now = DateTime.UtcNow.Ticks;
        var interval = Math.Min(TimeSpan.FromSeconds(10).Ticks, Settings.RunLease.Ticks / 2);
        var last = Interlocked.Read(ref _lastRecoveryTicks);
        if (now - last < interval || Interlocked.CompareExchange(ref _lastRecoveryTicks, now, last) != last) return;
        Recover();
    }

    const string HostDied = "The run stopped sending heartbeats";

    bool PreviousRunDied(RunRecord run) =>
        Catalog.ListRuns(run.ExportName, 10).FirstOrDefault(r => r.QueuedAt < run.QueuedAt) is
            { Trigger: RunTrigger.Schedule, Status: RunStatus.Failed, Error: { } error } && error.StartsWith(HostDied, StringComparison.Ordinal);

    /// <summary>Settles runs whose process died (heartbeat lapsed) and removes their temp files. A run that had
    /// published its file is recorded completed from the file's manifest; the others are marked failed (the count returned).</summary>
    public int Recover()
    {
        var now = Catalog.Now();
        var lapsed = now - Settings.RunLease;
        // The sweep comes first and treats a run whose heartbeat lapsed as ended, so a commit its crash tore is finished
        // before the run is settled below. Partial files of interrupted runs stay until they are resumed or superseded.
        // Each leftover is looked up when it is found, not in a list taken before the sweep: a run that starts meanwhile
        // (its record exists before its first byte) must not lose its temp file or upload.
        bool Keep(string runId) =>
            Catalog.FindRun(runId) is { IsSettled: false } run && !(run.HeartbeatAt < lapsed) || Catalog.ResumableRunIds().Contains(runId);
        foreach (var store in _stores.Values) store.RemoveOrphans(Keep);
        foreach (var store in _registeredStores.All())
        {
            try { store.RemoveOrphans(Keep); }
            catch (ExportException) { /* unreachable now: the next recovery retries */ }
        }
        CompletePublishedRuns(lapsed, now);
        var failed = Catalog.FailStaleRuns(lapsed, now,
            $"{HostDied} for over {Settings.RunLease.TotalSeconds:0} s (its process ended or hung); marked failed.");
        // Retry policy: a scheduled run whose host died runs again at the next scheduler call (once: only the
        // caller that failed the run re-arms it, and the retry is an ordinary due tick, claimed by exactly one scheduler).
        // Not when the run before it died too: that was the retry (or a crash that repeats), and an export that kills
        // its host would otherwise run again every lease, for ever. The next regular tick runs it.
        foreach (var run in failed) RetryIfScheduled(run, now);
        return failed.Count;
    }

    bool RetryIfScheduled(RunRecord run, DateTimeOffset now) =>
        run.Trigger == RunTrigger.Schedule && !PreviousRunDied(run) && Catalog.FindSchedule(run.ExportName) is { Enabled: true, NextDue: { } next } && next > now
        && Catalog.TryRearm(run.ExportName, next, now);

    /// <summary>A run canceled here but not by Stop-Export stopped with what ran it (Ctrl+C on its cmdlet, a scheduler
    /// shutting down). It is audited as Stop-Export's cancel is, and a scheduled one runs again at the next scheduler call,
    /// as after a host that died: a scheduler stopped for a reboot must not drop its tick. Stop-Export cancels for good.</summary>
    void StoppedWithItsCaller(RunRecord run)
    {
        try
        {
            var now = Catalog.Now();
            var retried = RetryIfScheduled(run, now);
            Catalog.Audit(AuditEvents.ExportCanceled, run.ExportName, run.Id, Actor,
                $"stopped with what ran it (a stopped pipeline, a scheduler shutting down){(retried ? "; the scheduler runs it again at its next call" : "")}", now);
        }
        // The settled run's result stands even if the catalog fails to take this note of why it stopped.
        catch (Exception ex) when (ex is ExportException or System.Data.Common.DbException) { }
    }

    /// <summary>A process that ended between publishing its file and recording its run (killed there, or the catalog's
    /// database failing at that moment) left a served file whose run would be marked failed: not charged to the quota,
    /// retried by the scheduler, and shown as failed. The file's manifest names the run, so it is recorded completed.</summary>
    void CompletePublishedRuns(DateTimeOffset lapsed, DateTimeOffset now)
    {
        foreach (var run in Catalog.ActiveRuns().Where(r => r.HeartbeatAt < lapsed))
        {
            try
            {
                if (Catalog.FindExport(run.ExportName) is not { } export) continue;
                var store = StoreOf(export.Storage);
                if (store.ReadManifest(export.Name) is not { } manifest || manifest.RunId != run.Id) continue;
                Catalog.FinishRun(run.Id, new RunOutcome(RunStatus.Completed, manifest.Records, run.Total, manifest.Records, manifest.Bytes,
                    manifest.Sha256, store.Locate(export.Name, manifest.FileName), null,
                    [$"Its process ended after publishing the file, before recording the run; recorded from the file's manifest at {now:u}."]), now);
            }
            catch (Exception ex) when (ex is ExportException or IOException) { /* storage unreachable: the run is marked failed below, as before */ }
        }
    }

    // ---- definitions ---------------------------------------------------------------------------

    /// <summary>Everything that can be checked without running: name, format and its options, fields,
    /// dates, and (by the source) index, query and field existence. <paramref name="cancellationToken"/> stops a
    /// remote source that is still retrying (Ctrl+C on New-Export against an unreachable cluster).</summary>
    public void Validate(ExportDefinition export, CancellationToken cancellationToken = default)
    {
        ExportNames.Validate(export.Name);
        var format = Formats.Get(export.Format);
        foreach (var field in export.Fields)
        {
            if (string.IsNullOrWhiteSpace(field))
                throw new ExportException(ExportErrorCode.InvalidField,
                    "The field list has an empty entry. List dotted field paths, e.g. -Field '@timestamp','source.ip'.", field);
            if (field.IndexOfAny(['*', '?']) >= 0)
                throw new ExportException(ExportErrorCode.InvalidField,
                    $"Field '{field}' is a wildcard; the field list must name exact fields (e.g. source.ip, not source.*).", field);
        }
        if (export.Fields.Distinct(StringComparer.Ordinal).Count() != export.Fields.Count)
            throw new ExportException(ExportErrorCode.InvalidField,
                $"The field list names a field twice ({string.Join(", ", export.Fields.GroupBy(f => f).Where(g => g.Count() > 1).Select(g => g.Key))}).",
                export.Fields);
        if (string.IsNullOrWhiteSpace(export.TimestampField))
            throw new ExportException(ExportErrorCode.InvalidField, "The timestamp field is empty.", export.TimestampField);
        if (export.From is not null) DateMath.Validate(export.From, "From");
        if (export.To is not null) DateMath.Validate(export.To, "To");
        if (export.From is not null && export.To is not null)
        {
            var now = Catalog.Now();
            if (DateMath.Resolve(export.From, now, "From") > DateMath.Resolve(export.To, now, "To"))
                throw new ExportException(ExportErrorCode.InvalidDateMath,
                    $"-From '{export.From}' is after -To '{export.To}'; swap them.", export.From);
        }
        if (export.RecordCap <= 0)
            throw new ExportException(ExportErrorCode.InvalidOption, "-RecordCap must be at least 1.", export.RecordCap);
        if (export.Slices is < 1 or > 64)
            throw new ExportException(ExportErrorCode.InvalidOption, $"-Slices must be between 1 and 64, not {export.Slices}.", export.Slices);
        if (export.TimeLimit is { } limit && (limit <= TimeSpan.Zero || limit > ExportDefinition.LongestTimeLimit))
            throw new ExportException(ExportErrorCode.InvalidOption,
                $"-TimeLimit must be positive and at most {ExportDefinition.LongestTimeLimit.TotalDays:0} days, not {limit}; omit it for no limit.", limit);
        format.Validate(export);
        var store = StoreOf(export.Storage);
        if (export.KeyFingerprint is not null) store.CheckKeyTransport(export.Name);
        if (export.DownloadWindow is { } window && (window <= TimeSpan.Zero || window > TimeSpan.FromDays(366)))
            throw new ExportException(ExportErrorCode.InvalidOption, $"-DownloadWindow must be positive and at most a year, not {window}.", window);
        SourceOf(export.Source).Validate(new SourceQuery(export.Index, export.Query, export.Fields, export.TimestampField, null, null), cancellationToken);
    }

    /// <summary>Replaces field patterns with the concrete fields the source has, so the stored definition
    /// (and the caller) sees exactly which columns the export will have.</summary>
    public ExportDefinition ExpandFields(ExportDefinition export, CancellationToken cancellationToken = default)
    {
        if (!export.Fields.Any(FieldPatterns.IsPattern)) return export;
        ExportNames.Validate(export.Name);
        return export with { Fields = SourceOf(export.Source).ExpandFields(export.Index, export.Fields, cancellationToken) };
    }

    public ExportDefinition Create(ExportDefinition export, CancellationToken cancellationToken = default)
    {
        export = ExpandFields(export with { CreatedAt = Catalog.Now(), CreatedBy = Actor }, cancellationToken);
        Validate(export, cancellationToken);
        Catalog.AddExport(export);
        Catalog.Audit(AuditEvents.ExportCreated, export.Name, null, Actor,
            $"format={export.Format} index={export.Index} query={export.Query}", Catalog.Now());
        return export;
    }

    /// <summary>Replaces the definition (name, runs, file and schedule stay); <paramref name="change"/> says what
    /// changed, for the audit trail.</summary>
    public ExportDefinition Update(ExportDefinition export, string? change = null, CancellationToken cancellationToken = default)
    {
        var current = Get(export.Name);
        if (export.Storage != current.Storage)
            throw new ExportException(ExportErrorCode.InvalidOption,
                $"Export '{current.Name}' keeps its file in storage '{current.Storage}', so its storage cannot change. Create a new export with -Storage {export.Storage}.", export.Storage);
        if (export.KeyFingerprint != current.KeyFingerprint)
            throw new ExportException(ExportErrorCode.InvalidOption,
                $"Export '{current.Name}' cannot change its encryption. Create a new export (New-Export -Encrypt) instead.", export.Name);
        export = ExpandFields(export with { CreatedAt = current.CreatedAt, CreatedBy = current.CreatedBy }, cancellationToken);
        Validate(export, cancellationToken);
        Catalog.UpdateExport(export);
        Catalog.Audit(AuditEvents.ExportUpdated, export.Name, null, Actor, change, Catalog.Now());
        return export;
    }

    public ExportDefinition Get(string name) =>
        Catalog.FindExport(name) ?? throw new ExportException(ExportErrorCode.ExportNotFound,
            $"No export named '{name}' exists. Get-Export lists the exports; New-Export creates one.", name);

    public IReadOnlyList<ExportDefinition> List() => Catalog.ListExports();

    /// <summary>Every tenant the catalog knows: "default", those with a policy, and those owning an export; sorted.</summary>
    public IReadOnlyList<string> Tenants() =>
        Catalog.ListRegistrations(Engine.Tenants.TenantPolicy.RegistrationKind).Select(r => r.Name)
            .Concat(List().Select(e => e.Tenant)).Append("default")
            .Distinct(StringComparer.OrdinalIgnoreCase).Order(StringComparer.Ordinal).ToList();

    /// <summary>Removes the definition, its runs, its file and manifest. Refuses while a run is active.</summary>
    public void Remove(string name)
    {
        var export = Get(name);
        var active = Catalog.LatestRun(export.Name);
        if (active is { IsSettled: false })
            throw new ExportException(ExportErrorCode.RunAlreadyActive,
                $"Export '{export.Name}' has a {active.Status.ToString().ToLowerInvariant()} run ({active.Id}). Stop it with Stop-Export first.",
                export.Name);
        // The catalog first: it refuses a run started since the check above, before any file is gone.
        Catalog.RemoveExport(export.Name);
        Catalog.Audit(AuditEvents.ExportDeleted, export.Name, null, Actor, null, Catalog.Now());
        try { StoreOf(export.Storage).Delete(export.Name); }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The export is gone either way (a new export of the name never serves what is left: CurrentManifest).
            throw new ExportException(ExportErrorCode.StorageFailed,
                $"Export '{export.Name}' was removed, but its files could not all be deleted: {ex.Message} Delete what is left by hand.", export.Name, ex);
        }
    }

    // ---- runs ----------------------------------------------------------------------------------

    /// <summary>A run refused before it could start (a scheduled tick whose source was down), recorded as failed
    /// with the reason, so it shows where runs are looked at.</summary>
    public RunRecord RecordFailedStart(string name, RunTrigger trigger, string reason, ExportErrorCode? code)
    {
        var export = Get(name);
        var run = Catalog.CreateRun(export.Name, export.Tenant, trigger, Settings.Host, Actor);
        Catalog.Audit(AuditEvents.ExportRerun, export.Name, run.Id, Actor, trigger.ToString().ToLowerInvariant(), Catalog.Now());
        Catalog.FinishRun(run.Id, new RunOutcome(RunStatus.Failed, 0, null, null, null, null, null, "The run could not start: " + reason, [], code), Catalog.Now());
        return Catalog.FindRun(run.Id)!;
    }

    /// <summary>Queues a run and executes it on a background thread. Refuses when the export already
    /// has an active run (in any process). With <paramref name="resume"/>, the run continues the export's
    /// interrupted run from its last checkpoint; without, any kept partial file is discarded. Scheduled runs
    /// resume an interrupted predecessor whenever its checkpoint still fits the definition.
    /// <paramref name="cancellationToken"/> stops only the checks before the run exists; the run has its own.</summary>
    public RunHandle Start(string name, RunTrigger trigger, ArtifactKey? key = null, bool resume = false, CancellationToken cancellationToken = default)
    {
        var export = Get(name);
        Validate(export, cancellationToken);
        if (export.KeyFingerprint is not null) ArtifactKey.Check(key, export.KeyFingerprint, export.Name);
        else if (key is not null)
            throw new ExportException(ExportErrorCode.InvalidOption, $"Export '{export.Name}' is not encrypted; run it without -EncryptionKey.", export.Name);
        var point = ReadResumePoint(export.Name, resume);
        // A scheduled run continues its interrupted predecessor by itself: nobody is there to ask for -Resume.
        if (trigger == RunTrigger.Schedule && point is not null && point.DefinitionHash == ResumePoint.HashOf(export)) resume = true;
        if (resume) CheckResumable(export, point);
        var run = Catalog.CreateRun(export.Name, export.Tenant, trigger, Settings.Host, Actor);
        var eventName = trigger is RunTrigger.Create ? AuditEvents.ExportRequested : AuditEvents.ExportRerun;
        Catalog.Audit(eventName, export.Name, run.Id, Actor, trigger.ToString().ToLowerInvariant(), Catalog.Now());
        if (resume)
            Catalog.Audit(AuditEvents.ExportResumed, export.Name, run.Id, Actor, $"continues run {point!.RunId} after {point.Records:N0} records", Catalog.Now());
        else if (point is not null)
        {
            // A fresh run supersedes the interrupted one: its partial file will never be continued.
            if (StoreOf(export.Storage) is IResumableStore partials) partials.DiscardPartial(export.Name, point.FileName, point.RunId);
            Catalog.RemoveResumePoint(export.Name, point.RunId);
        }
        var handle = new RunHandle(run);
        _running[run.Id] = handle;
        handle.Completion = Task.Run(async () =>
        {
            try
            {
                var finished = await _executor.ExecuteAsync(handle, export, key, resume ? point : null);
                if (finished is { Status: RunStatus.Canceled, CancelRequested: false }) StoppedWithItsCaller(finished);
                return finished;
            }
            finally { _running.TryRemove(run.Id, out _); }
        });
        return handle;
    }

    /// <summary>How many records a failed or canceled run kept for Start-Export -Resume; null when it kept none
    /// (or a later run took its file over).</summary>
    public long? KeptRecords(RunRecord run)
    {
        if (run.Status is not (RunStatus.Failed or RunStatus.Canceled)) return null;
        var point = ReadResumePoint(run.ExportName, resume: false);
        return point?.RunId == run.Id ? point.Records : null;
    }

    /// <summary>The export's resume point; one that cannot be read (written by another version) is refused for
    /// -Resume and otherwise dropped, so a fresh run is never blocked by it.</summary>
    ResumePoint? ReadResumePoint(string exportName, bool resume)
    {
        if (Catalog.FindResumePoint(exportName) is not { } found) return null;
        try { return ResumePoint.FromJson(found.StateJson); }
        catch (JsonException ex)
        {
            if (resume)
                throw new ExportException(ExportErrorCode.ResumeNotPossible,
                    $"The checkpoint of export '{exportName}' cannot be read ({ex.Message}); run it again without -Resume.", exportName, ex);
            Catalog.RemoveResumePoint(exportName, found.RunId);
            return null;
        }
    }

    void CheckResumable(ExportDefinition export, ResumePoint? point)
    {
        if (point is null)
        {
            var latest = Catalog.LatestRun(export.Name);
            var state = latest is null ? "it has never run" : $"its latest run, {latest.Id}, is {latest.Status.ToString().ToLowerInvariant()}";
            throw new ExportException(ExportErrorCode.ResumeNotPossible,
                $"Export '{export.Name}' has no interrupted run to resume ({state} and no partial file is kept). " +
                "Runs are resumable when they read an OpenSearch source by point in time with -TiebreakerField, " +
                "in json, jsonl or csv, unencrypted, to local or S3 storage. Start it without -Resume.", export.Name);
        }
        if (point.DefinitionHash != ResumePoint.HashOf(export))
            throw new ExportException(ExportErrorCode.ResumeNotPossible,
                $"Export '{export.Name}' was changed (Set-Export) after run {point.RunId} was interrupted; continuing its file would mix both definitions. " +
                "Start it without -Resume.", export.Name);
    }

    public RunHandle? FindRunning(string runId) => _running.TryGetValue(runId, out var handle) ? handle : null;

    /// <summary>Cancels the export's active run, here or in another process (which polls the catalog).</summary>
    public RunRecord Cancel(string name)
    {
        var export = Get(name);
        var run = Catalog.LatestRun(export.Name);
        if (run is null || run.IsSettled)
            throw new ExportException(ExportErrorCode.RunNotFound,
                $"Export '{export.Name}' has no queued or running run to stop.", export.Name);
        Catalog.RequestCancel(run.Id, Catalog.Now());
        FindRunning(run.Id)?.Cancel();
        Catalog.Audit(AuditEvents.ExportCanceled, export.Name, run.Id, Actor, null, Catalog.Now());
        return Catalog.FindRun(run.Id)!;
    }

    public RunRecord? LatestRun(string name) => Catalog.LatestRun(Get(name).Name);

    public IReadOnlyList<RunRecord> History(string name, int limit) => Catalog.ListRuns(Get(name).Name, limit);

    public RunRecord GetRun(string runId) =>
        Catalog.FindRun(runId) ?? throw new ExportException(ExportErrorCode.RunNotFound,
            $"No run with id '{runId}' exists. Get-ExportStatus -Name <export> -History lists runs.", runId);

    // ---- artifacts -----------------------------------------------------------------------------

    /// <summary>When the file runs out of its download window: counted from the run that wrote it under the
    /// export's window as it is now, so Set-Export -DownloadWindow (or scheduling, which lifts a default window)
    /// also reaches the file already written.</summary>
    static DateTimeOffset? ExpiryOf(ExportDefinition export, ArtifactManifest manifest) =>
        export.DownloadWindow is { } window ? manifest.CreatedAt + window : null;

    /// <summary>The export's latest complete artifact. Refuses (the seed API's 409) when none exists
    /// yet, naming the latest run's status.</summary>
    public ArtifactManifest RequireArtifact(string name)
    {
        var export = Get(name);
        var manifest = RunExecutor.CurrentManifest(Catalog, StoreOf(export.Storage), export);
        if (manifest is not null) manifest = manifest with { ExpiresAt = ExpiryOf(export, manifest) };
        if (manifest is { ExpiresAt: { } expires } && expires <= Catalog.Now())
            throw new ExportException(ExportErrorCode.ArtifactExpired,
                $"The file of export '{export.Name}' could be downloaded until {expires:u} (its download window); it is no longer served. " +
                "Run the export again with Start-Export for a fresh file.", export.Name);
        if (manifest is not null) return manifest;
        var latest = Catalog.LatestRun(export.Name);
        var state = latest is null ? "has never run" : $"has no completed run yet (latest run {latest.Id} is {latest.Status.ToString().ToLowerInvariant()})";
        throw new ExportException(ExportErrorCode.RunNotCompleted,
            $"Export '{export.Name}' {state}, so there is no file to receive. " +
            (latest is { IsSettled: false } ? "Wait with Get-ExportStatus -Wait, then try again." : "Run it with Start-Export."),
            export.Name);
    }

    /// <summary>Copies the artifact to <paramref name="destination"/>, verifying its sha256 against the
    /// manifest on the way. Writes to a temp file first, so a failed download leaves nothing behind.</summary>
    public async Task<ReceivedArtifact> ReceiveAsync(string name, string destination, bool overwrite,
        IProgress<long>? progress, CancellationToken cancellationToken, ArtifactKey? key = null, long? maxBytes = null)
    {
        var export = Get(name);
        var store = StoreOf(export.Storage);
        var manifest = RequireArtifact(export.Name);
        ArtifactKey.Check(key, manifest.KeyFingerprint, export.Name);
        if (maxBytes is { } max && manifest.Bytes > max)
            throw new ExportException(ExportErrorCode.RecordCapExceeded,
                $"The file of export '{export.Name}' is {manifest.Bytes:N0} bytes, more than -MaxSize {max:N0}. Raise -MaxSize or narrow the export.", manifest.Bytes);
        var target = Path.GetFullPath(Directory.Exists(destination) ? Path.Combine(destination, manifest.FileName) : destination);
        if (File.Exists(target) && !overwrite)
            throw new ExportException(ExportErrorCode.InvalidPath,
                $"'{target}' already exists. Use -Force to overwrite it, or choose another -Destination.", target);
        var folder = Path.GetDirectoryName(target)!;
        if (!Directory.Exists(folder))
            throw new ExportException(ExportErrorCode.InvalidPath,
                $"The folder '{folder}' does not exist. Create it first or choose another -Destination.", folder);
        var temp = Path.Combine(folder, $".{Path.GetFileName(target)}.{Guid.NewGuid():N}.partial");
        try
        {
            string sha;
            await using (var input = ArtifactVerifier.Open(store, export.Name, manifest, key))
            await using (var output = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                var buffer = new byte[1 << 16];
                long copied = 0;
                int read;
                while ((read = await input.ReadAsync(buffer, cancellationToken)) > 0)
                {
                    await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                    copied += read;
                    progress?.Report(copied);
                }
                sha = input.VerifiedSha256;
                manifest = input.Manifest;
            }
            File.Move(temp, target, overwrite);
            Catalog.Audit(AuditEvents.ExportDownloaded, export.Name, manifest.RunId, Actor, $"to={target} sha256={sha}", Catalog.Now());
            return new ReceivedArtifact(target, manifest);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ExportException(ExportErrorCode.InvalidPath, $"Cannot write '{target}': {ex.Message}", target, ex);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>Streams the artifact's records (decompressed, parsed by its format). A local file is verified against
    /// its sha256 before the first record (a second read, from the page cache): nothing unverified reaches the caller.
    /// A remote one would have to be downloaded twice, so it is verified as the stream ends, and a mismatch throws
    /// before the last record is returned. Damage the reader meets (gzip, JSON, csv or text decoding errors) is ArtifactCorrupt.</summary>
    public IEnumerable<JsonElement> ReadRecords(string name, CancellationToken cancellationToken, ArtifactKey? key = null)
    {
        var export = Get(name);
        var store = StoreOf(export.Storage);
        var manifest = RequireArtifact(export.Name);
        ArtifactKey.Check(key, manifest.KeyFingerprint, export.Name);
        var format = Formats.Get(manifest.Format);
        if (store is LocalArtifactStore)
            using (var check = ArtifactVerifier.Open(store, export.Name, manifest, key)) check.DrainAndVerify(cancellationToken);
        // Audited as reading starts: a consumer that stops after the first records has still received data.
        Catalog.Audit(AuditEvents.ExportDownloaded, export.Name, manifest.RunId, Actor, "as objects", Catalog.Now());
        using var verified = ArtifactVerifier.Open(store, export.Name, manifest, key);
        using var content = manifest.Compression == "gzip"
            ? new System.IO.Compression.GZipStream(verified, System.IO.Compression.CompressionMode.Decompress)
            : (Stream)verified;
        using var records = format.ReadRecords(content, cancellationToken).GetEnumerator();
        while (true)
        {
            try
            {
                if (!records.MoveNext()) break;
            }
            catch (Exception ex) when (ex is InvalidDataException or JsonException or EndOfStreamException or System.Text.DecoderFallbackException)
            {
                verified.DrainAndVerify(cancellationToken); // a changed file says so by its hash
                throw new ExportException(ExportErrorCode.ArtifactCorrupt,
                    $"The file of export '{export.Name}' cannot be read as {manifest.Format}{(manifest.Compression == "gzip" ? ".gz" : "")}: {ex.Message} " +
                    "Run the export again to replace it.", export.Name, ex);
            }
            yield return records.Current;
        }
        verified.DrainAndVerify(cancellationToken);
    }

    // ---- data ----------------------------------------------------------------------------------

    public ImportResult Import(string index, IEnumerable<JsonElement> documents, ImportOptions options,
        IProgress<long>? progress, CancellationToken cancellationToken) =>
        new EmbeddedImporter(Indexes).Import(index, documents, options, progress, cancellationToken);
}

public sealed record ReceivedArtifact(string Path, ArtifactManifest Manifest);
