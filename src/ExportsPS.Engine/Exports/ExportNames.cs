namespace ExportsPS.Engine.Exports;

/// <summary>Export names become folder and object-key names, so they are restricted to characters that
/// are safe everywhere: letters, digits, '-', '_' and '.', not starting with '.' or '-' nor ending with '.', at most 100 characters.</summary>
public static class ExportNames
{
    public const int MaxLength = 100;

    static readonly System.Buffers.SearchValues<char> SafeCharacters =
        System.Buffers.SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.");

    public static void Validate(string? name)
    {
        if (Problem(name) is { } problem)
            throw new ExportException(ExportErrorCode.InvalidName,
                $"Export name '{Printable(name)}' is not valid: {problem}. Use letters, digits, '-', '_' and '.', " +
                "e.g. 'daily-logins'.", name);
    }

    public static bool IsValid(string? name) => Problem(name) is null;

    static string? Problem(string? name)
    {
        if (string.IsNullOrWhiteSpace(name)) return "it is empty";
        if (name.Length > MaxLength) return $"it is {name.Length} characters long (at most {MaxLength})";
        if (name[0] == '.' || name[0] == '-') return "it starts with '.' or '-'";
        // Windows drops a trailing dot from folder names, so 'foo.' and 'foo' would share one folder.
        if (name[^1] == '.') return "it ends with '.'";
        if (name.Contains("..")) return "it contains '..'";
        // An index, not FirstOrDefault: the default char is NUL, which is itself a bad character.
        var at = name.AsSpan().IndexOfAnyExcept(SafeCharacters);
        if (at < 0) return null;
        var bad = name[at];
        return char.IsControl(bad) || char.IsWhiteSpace(bad) ? $"it contains the character U+{(int)bad:X4}" : $"it contains '{bad}'";
    }

    static string Printable(string? name) =>
        name is null ? "" : new string(name.Take(MaxLength).Select(c => char.IsControl(c) ? '?' : c).ToArray());
}
