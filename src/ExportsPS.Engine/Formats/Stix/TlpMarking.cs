using System.Text.Json;

namespace ExportsPS.Engine.Formats.Stix;

/// <summary>The four TLP marking definitions STIX 2.1 predefines (§7.2.1.4), with the ids every STIX tool knows;
/// a MISP tag tlp:white, tlp:clear (TLP 2.0's name for white), tlp:green, tlp:amber or tlp:red refers to one.
/// tlp:amber+strict has no STIX 2.1 definition: it stays a label, as every tag does.</summary>
internal sealed class TlpMarking
{
    public string Id { get; }
    public string Name { get; }
    readonly string _colour;

    TlpMarking(string id, string colour)
    {
        Id = id;
        _colour = colour;
        Name = "TLP:" + colour.ToUpperInvariant();
    }

    static readonly TlpMarking White = new("marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9", "white");
    static readonly TlpMarking Green = new("marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", "green");
    static readonly TlpMarking Amber = new("marking-definition--f88d31f6-486f-44da-b317-01333bde0b82", "amber");
    static readonly TlpMarking Red = new("marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed", "red");

    static readonly Dictionary<string, TlpMarking> ByTag = new(StringComparer.OrdinalIgnoreCase)
    {
        ["tlp:white"] = White, ["tlp:clear"] = White, ["tlp:green"] = Green, ["tlp:amber"] = Amber, ["tlp:red"] = Red,
    };

    /// <summary>The markings the tags name, each once, in the tags' order.</summary>
    public static List<TlpMarking> Of(IEnumerable<string> tags)
    {
        var markings = new List<TlpMarking>();
        foreach (var tag in tags)
            if (ByTag.TryGetValue(tag.Trim(), out var marking) && !markings.Contains(marking)) markings.Add(marking);
        return markings;
    }

    /// <summary>The definition exactly as the specification gives it (its schema allows nothing else in it).</summary>
    public void Write(Utf8JsonWriter json)
    {
        json.WriteStartObject();
        json.WriteString("type", "marking-definition");
        json.WriteString("spec_version", "2.1");
        json.WriteString("id", Id);
        json.WriteString("created", "2017-01-20T00:00:00.000Z");
        json.WriteString("definition_type", "tlp");
        json.WriteString("name", Name);
        json.WriteStartObject("definition");
        json.WriteString("tlp", _colour);
        json.WriteEndObject();
        json.WriteEndObject();
    }
}
