using System.Management.Automation;
using ExportsPS.Engine.Exports;

namespace ExportsPS.Internal;

/// <summary>Engine failures as PowerShell errors. The error id is the engine's code name, so the
/// FullyQualifiedErrorId is stable: e.g. <c>InvalidQuery,ExportsPS.Commands.NewExportCommand</c>.</summary>
internal static class ErrorRecords
{
    public static ErrorRecord From(ExportException ex) => new(ex, ex.Code.ToString(), CategoryOf(ex.Code), ex.Target)
    {
        ErrorDetails = new ErrorDetails(ex.Message) { RecommendedAction = null },
    };

    /// <summary>A run that did not complete. The id stays ExportRunFailed (or ExportRunCanceled) whatever the cause,
    /// so one catch serves every failed run; the cause is the category and the run's ErrorCode (the TargetObject).</summary>
    public static ErrorRecord RunFailed(ExportRunInfo run) =>
        new(new InvalidOperationException($"Export '{run.Name}' run {run.RunId} {run.Status.ToString().ToLowerInvariant()}: {run.Error}"),
            run.Status == ExportRunStatus.Canceled ? "ExportRunCanceled" : "ExportRunFailed",
            run.Status == ExportRunStatus.Canceled ? ErrorCategory.OperationStopped
            : Enum.TryParse<ExportErrorCode>(run.ErrorCode, out var code) ? CategoryOf(code)
            : ErrorCategory.InvalidResult, run);

    static ErrorCategory CategoryOf(ExportErrorCode code) => code switch
    {
        ExportErrorCode.InvalidName or ExportErrorCode.InvalidQuery or ExportErrorCode.InvalidField or
            ExportErrorCode.InvalidDateMath or ExportErrorCode.InvalidOption or ExportErrorCode.UnknownFormat or
            ExportErrorCode.InvalidSchedule => ErrorCategory.InvalidArgument,
        ExportErrorCode.InvalidPath => ErrorCategory.WriteError,
        ExportErrorCode.DuplicateName => ErrorCategory.ResourceExists,
        ExportErrorCode.ExportNotFound or ExportErrorCode.RunNotFound or ExportErrorCode.UnknownIndex or
            ExportErrorCode.ArtifactMissing => ErrorCategory.ObjectNotFound,
        ExportErrorCode.RunAlreadyActive => ErrorCategory.ResourceBusy,
        ExportErrorCode.RunNotCompleted or ExportErrorCode.ResumeNotPossible => ErrorCategory.InvalidOperation,
        ExportErrorCode.ArtifactCorrupt or ExportErrorCode.InvalidData => ErrorCategory.InvalidData,
        ExportErrorCode.RecordCapExceeded or ExportErrorCode.QuotaExceeded => ErrorCategory.LimitsExceeded,
        ExportErrorCode.SourceFailed => ErrorCategory.ConnectionError,
        ExportErrorCode.SourceAuthenticationFailed => ErrorCategory.AuthenticationError,
        ExportErrorCode.SourceAccessDenied => ErrorCategory.PermissionDenied,
        ExportErrorCode.EncryptionKeyRequired or ExportErrorCode.EncryptionKeyMismatch => ErrorCategory.AuthenticationError,
        ExportErrorCode.ArtifactExpired => ErrorCategory.ResourceUnavailable,
        ExportErrorCode.StorageFailed => ErrorCategory.WriteError,
        ExportErrorCode.TimeLimitExceeded => ErrorCategory.OperationTimeout,
        ExportErrorCode.RunAbandoned => ErrorCategory.OperationStopped,
        ExportErrorCode.CatalogFailed => ErrorCategory.ResourceUnavailable,
        _ => ErrorCategory.NotSpecified,
    };
}
