namespace ExportsPS.Engine.Exports;

/// <summary>What went wrong, in terms a caller can act on. The cmdlets turn each code into a stable
/// FullyQualifiedErrorId and an ErrorCategory, so the names here are part of the public contract.</summary>
public enum ExportErrorCode
{
    InvalidName,
    DuplicateName,
    ExportNotFound,
    InvalidQuery,
    UnknownIndex,
    UnknownFormat,
    InvalidField,
    InvalidDateMath,
    InvalidOption,
    InvalidPath,
    RunAlreadyActive,
    RunNotFound,
    RunNotCompleted,
    ArtifactMissing,
    ArtifactCorrupt,
    RecordCapExceeded,
    SourceFailed,
    StorageFailed,
    InvalidData,
    CatalogFailed,
    InvalidSchedule,
    QuotaExceeded,
    SourceAuthenticationFailed,
    SourceAccessDenied,
    EncryptionKeyRequired,
    EncryptionKeyMismatch,
    ArtifactExpired,
    ResumeNotPossible,
    /// <summary>A run stopped by its export's time limit.</summary>
    TimeLimitExceeded,
    /// <summary>A run whose process ended or hung (its heartbeats stopped), failed by the lease sweep.</summary>
    RunAbandoned,
}

/// <summary>The engine's only exception type for expected failures: it carries a code, a message that
/// says what is wrong and how to fix it, and the offending value.</summary>
public sealed class ExportException : Exception
{
    public ExportException(ExportErrorCode code, string message, object? target = null, Exception? inner = null)
        : base(message, inner)
    {
        Code = code;
        Target = target;
    }

    public ExportErrorCode Code { get; }
    public object? Target { get; }
}
