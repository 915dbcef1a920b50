namespace ExportsPS.Engine.Exports;

/// <summary>Export names become folder and object-key names, so they are restricted to characters that
/// are safe everywhere: letters, digits, '-', '_' and '.', not starting with '.', at most 100 characters.</summary>
public static class ExportNames
{
    public const int MaxLength = 100;

    static readonly System.Buffers.SearchValues<char> SafeCharacters =
        System.Buffers.SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.");

    public static void Validate(string? name)
    {
        string? problem = null;
        if (string.IsNullOrWhiteSpace(name)) problem = "it is empty";
        else if (name.Length > MaxLength) problem = $"it is {name.Length} characters long (at most {MaxLength})";
        else if (name[0] == '.' || name[0] == '-') problem = "it starts with '.' or '-'";
        else if (name.Contains(".."))  problem = "it contains '..'";
        else
        {
            // An index, not FirstOrDefault: the default char is NUL, which is itself a bad character.
            var at = name.AsSpan().IndexOfAnyExcept(SafeCharacters);
            var bad = at >= 0 ? name[at] : ' ';
            if (at >= 0)
                problem = char.IsControl(bad) || char.IsWhiteSpace(bad)
                    ? $"it contains the character U+{(int)bad:X4}"
                    : $"it contains '{bad}'";
        }
        if (problem is not null)
            throw new ExportException(ExportErrorCode.InvalidName,
                $"Export name '{Printable(name)}' is not valid: {problem}. Use letters, digits, '-', '_' and '.', " +
                "e.g. 'daily-logins'.", name);
    }

    static string Printable(string? name) =>
        name is null ? "" : new string(name.Take(MaxLength).Select(c => char.IsControl(c) ? '?' : c).ToArray());
}
