@{
    RootModule             = 'ExportsPS.dll'
    ModuleVersion          = '0.1.0'
    GUID                   = '6b0c2f8e-3d2a-4f5e-9a7b-1c4d8e2f6a90'
    Author                 = 'ExportsPS'
    CompanyName            = 'ExportsPS'
    Copyright              = '(c) ExportsPS. All rights reserved.'
    Description            = 'Turns a Lucene query against a search index (embedded Lucene.NET or OpenSearch) into a downloadable json, jsonl, csv, MISP or STIX file, and keeps doing it on a schedule.'
    PowerShellVersion      = '7.4'
    CompatiblePSEditions   = @('Core')
    FormatsToProcess       = @('ExportsPS.format.ps1xml')
    CmdletsToExport        = @(
        'New-Export'
        'Set-Export'
        'Start-Export'
        'Stop-Export'
        'Get-Export'
        'Get-ExportStatus'
        'Remove-Export'
        'Receive-ExportFile'
        'Import-ExportData'
        'New-ExportSampleData'
        'Get-ExportIndex'
        'Get-ExportAuditEvent'
        'Set-ExportSchedule'
        'Get-ExportSchedule'
        'Invoke-ExportScheduler'
        'Set-ExportTenant'
        'Get-ExportQuota',
        'Register-ExportSource', 'Get-ExportSource', 'Unregister-ExportSource', 'Test-ExportSource',
        'Register-ExportStorage', 'Get-ExportStorage', 'Unregister-ExportStorage', 'Get-ExportDownloadUrl'
    )
    FunctionsToExport      = @()
    AliasesToExport        = @()
    VariablesToExport      = @()
    PrivateData            = @{
        PSData = @{
            Tags         = @('Export', 'OpenSearch', 'Lucene', 'MISP', 'STIX', 'CSV', 'S3', 'Security')
            ProjectUri   = ''
            ReleaseNotes = 'Foundation: embedded Lucene.NET source; json, jsonl, csv formats; local storage; SQLite catalog.'
        }
    }
}
