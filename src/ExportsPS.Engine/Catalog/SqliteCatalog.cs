using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace ExportsPS.Engine.Catalog;

/// <summary>The default catalog: one SQLite file in the data folder, in WAL mode so readers never wait
/// for a writer; several processes on one host share it safely.</summary>
public sealed class SqliteCatalog : SqlCatalog
{
    readonly string _connectionString;

    public SqliteCatalog(string path)
    {
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
    }

    protected override DbConnection OpenConnection()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        using var pragma = connection.CreateCommand();
        pragma.CommandText = "PRAGMA busy_timeout = 30000; PRAGMA foreign_keys = ON;";
        pragma.ExecuteNonQuery();
        return connection;
    }

    protected override bool IsUniqueViolation(DbException exception) =>
        exception is SqliteException { SqliteErrorCode: 19 }; // SQLITE_CONSTRAINT

    protected override void Migrate(DbConnection connection)
    {
        using (var wal = connection.CreateCommand())
        {
            wal.CommandText = "PRAGMA journal_mode = WAL;";
            wal.ExecuteNonQuery();
        }
        // BEGIN IMMEDIATE takes the write lock up front, so two processes never migrate at once.
        using var transaction = ((SqliteConnection)connection).BeginTransaction(deferred: false);
        ApplyMigrations(connection, transaction);
        transaction.Commit();
    }

    protected override IReadOnlyList<string> Migrations => CatalogSchema.Migrations;

    /// <summary>BEGIN IMMEDIATE: the write lock is taken before the tenant's running runs are counted.</summary>
    protected override DbTransaction BeginWrite(DbConnection connection) => ((SqliteConnection)connection).BeginTransaction(deferred: false);
}
