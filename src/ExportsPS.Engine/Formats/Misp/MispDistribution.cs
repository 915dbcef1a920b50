using ExportsPS.Engine.Exports;

namespace ExportsPS.Engine.Formats.Misp;

/// <summary>MISP's distribution levels, by number or by the names MISP's UI and API use.</summary>
public static class MispDistribution
{
    public const string OptionName = "distribution";

    const int SharingGroup = 4, Inherit = 5;

    static readonly Dictionary<string, int> Names = new(StringComparer.OrdinalIgnoreCase)
    {
        ["Organisation"] = 0, ["YourOrganisationOnly"] = 0, ["Your organisation only"] = 0, ["Organization"] = 0,
        ["Community"] = 1, ["ThisCommunityOnly"] = 1, ["This community only"] = 1,
        ["Connected"] = 2, ["ConnectedCommunities"] = 2, ["Connected communities"] = 2,
        ["All"] = 3, ["AllCommunities"] = 3, ["All communities"] = 3,
        ["SharingGroup"] = SharingGroup, ["Sharing group"] = SharingGroup,
        ["Inherit"] = Inherit, ["InheritEvent"] = Inherit, ["Inherit event"] = Inherit,
    };

    /// <summary>An attribute's or object's own level as it may travel into the exported event: a sharing group
    /// (4) becomes 0, your organisation only. Its group does not exist on the importing instance, so no level
    /// there means the same; 0 is the one that can never share it wider than the group did.</summary>
    public static string? Portable(string? level) => level?.Trim() == "4" ? "0" : level;

    public static readonly string Accepted = "0 (Organisation), 1 (Community), 2 (Connected) or 3 (All)";

    /// <summary>The exported event's level as MISP writes it ("0".."3"); throws a clear error when missing,
    /// unknown, or a level MISP refuses on an event as this format writes it.</summary>
    public static string Parse(IReadOnlyDictionary<string, string> options, string format)
    {
        if (!options.TryGetValue(OptionName, out var text) || string.IsNullOrWhiteSpace(text))
            throw new ExportException(ExportErrorCode.InvalidOption,
                $"The {format} format needs a distribution level: add -Distribution with {Accepted}.", OptionName);
        if (!(int.TryParse(text, out var number) && number is >= 0 and <= Inherit) && !Names.TryGetValue(text.Trim(), out number))
            throw new ExportException(ExportErrorCode.InvalidOption,
                $"Distribution '{text}' is not a MISP distribution level. Use {Accepted}.", text);
        // MISP's Event validation takes 0..4 and, for 4, a sharing_group_id. That id names a sharing group on
        // the importing instance, which an export written elsewhere cannot know, and there is no option for it.
        return number switch
        {
            SharingGroup => throw new ExportException(ExportErrorCode.InvalidOption,
                $"Distribution '{text}' (sharing group) needs the id of a sharing group on the MISP instance that imports the event, which an export cannot name. " +
                $"Use -Distribution 0 (Organisation) and assign the sharing group after the import, or another level: {Accepted}.", text),
            Inherit => throw new ExportException(ExportErrorCode.InvalidOption,
                $"Distribution '{text}' (inherit) is for attributes and objects, which take their event's level; the exported event itself needs {Accepted}.", text),
            _ => number.ToString(),
        };
    }
}
