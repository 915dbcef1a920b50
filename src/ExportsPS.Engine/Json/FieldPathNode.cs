using System.Text;
using System.Text.Json;

namespace ExportsPS.Engine.Json;

/// <summary>A tree of dotted field paths (<c>source.ip</c> is <c>source</c> → <c>ip</c>), matched against a
/// document's property names as a Utf8JsonReader meets them, whether the document nests objects
/// (<c>{"source":{"ip":…}}</c>) or uses flat dotted keys (<c>{"source.ip":…}</c>, or <c>"source\u002eip"</c>).
/// The one place field paths meet documents: the csv column extractor and <c>_source</c> includes share it.</summary>
internal abstract class FieldPathNode<TNode>(string name) where TNode : FieldPathNode<TNode>
{
    public readonly byte[] Utf8Name = Encoding.UTF8.GetBytes(name);
    public readonly string Name = name;
    // An array, not a list: it is read for every property of every document.
    TNode[] _children = [];

    public bool HasChildren => _children.Length > 0;

    /// <summary>True where a flat dotted key stops descending, because this node takes everything below it.</summary>
    protected virtual bool TakesDescendants => false;

    protected abstract TNode CreateChild(string segment);

    /// <summary>The node of a dotted path below this one, created as needed.</summary>
    public TNode Add(string path)
    {
        var node = (TNode)this;
        foreach (var segment in path.Split('.')) node = node.Child(segment);
        return node;
    }

    TNode Child(string segment)
    {
        foreach (var child in _children) if (child.Name == segment) return child;
        var created = CreateChild(segment);
        _children = [.. _children, created];
        return created;
    }

    /// <summary>The node the property name under the reader leads to (following dots in flat keys), or null.</summary>
    public TNode? Find(ref Utf8JsonReader reader)
    {
        if (!reader.ValueIsEscaped)
        {
            // The common case: raw bytes, most children ruled out on their length and first byte alone.
            var name = reader.ValueSpan;
            foreach (var child in _children)
            {
                var candidate = child.Utf8Name;
                if (candidate.Length == name.Length && (name.Length == 0 || candidate[0] == name[0]) && name.SequenceEqual(candidate)) return child;
            }
            if (name.IndexOf((byte)'.') < 0) return null;
        }
        // Rare: an escaped name, or a flat dotted key. Escaped names are decoded leniently, because
        // ValueTextEquals and GetString throw on a lone surrogate escape.
        var text = JsonText.DecodeLossy(reader.ValueSpan, reader.ValueIsEscaped);
        if (reader.ValueIsEscaped)
        {
            foreach (var child in _children)
                if (child.Name == text) return child;
            if (!text.Contains('.')) return null;
        }
        var node = (TNode)this;
        foreach (var segment in text.Split('.'))
        {
            if (node.TakesDescendants) return node;
            node = Array.Find(node._children, c => c.Name == segment);
            if (node is null) return null;
        }
        return node;
    }
}
