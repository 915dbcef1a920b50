namespace ExportsPS.Engine.Sources.Embedded;

/// <summary>Names of the embedded index's internal fields (OpenSearch's meta-field names where one exists).</summary>
internal static class EmbeddedFields
{
    /// <summary>The document as imported (compact UTF-8 JSON), kept as binary doc values: reading them is
    /// ~10× faster than stored fields (measured: 1.45M vs 125k docs/s), which is what makes exports fast.</summary>
    public const string Source = "_source";
    /// <summary>The document's csv cells (<see cref="Json.LeafRecord"/>), as binary doc values beside <see cref="Source"/>.
    /// Missing for documents imported before it existed or that cannot have one; those export from their JSON.</summary>
    public const string Leaves = "_leaves";
    /// <summary>Commit user data: the index's <see cref="Json.LeafPaths"/>, committed atomically with the records that number them.</summary>
    public const string LeafPathsKey = "exportsps.leafPaths";
    /// <summary>Every leaf and object path a document has, for <c>_exists_:field</c>.</summary>
    public const string FieldNames = "_field_names";
    /// <summary>The parser's name for "no field given": expanded at query time to every field that can hold the term, as
    /// OpenSearch's default <c>index.query.default_field: *</c> does (no catch-all field is indexed).</summary>
    public const string All = "_all";
    /// <summary>Coarser than Lucene's default of 4: a quarter of the indexed terms per number (faster
    /// imports), at the cost of slightly slower numeric ranges. Index and queries must agree.</summary>
    public const int NumericPrecisionStep = 16;
    /// <summary>OpenSearch's limit for dynamically mapped keyword subfields.</summary>
    public const int KeywordIgnoreAbove = 256;
}
