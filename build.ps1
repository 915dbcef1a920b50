#!/usr/bin/env pwsh
<#
.SYNOPSIS
    Builds ExportsPS and stages the importable module at out/ExportsPS/.
.DESCRIPTION
    Same result as `dotnet build ExportsPS.sln`: the module project's StageModule target lays out
    out/ExportsPS (manifest, cmdlet assembly, format views, help, and dependencies/ with the engine).
.EXAMPLE
    ./build.ps1; Import-Module ./out/ExportsPS/ExportsPS.psd1
.EXAMPLE
    ./build.ps1 -Configuration Release -Test
#>
[CmdletBinding()]
param(
    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Debug',
    [switch] $Test
)
$ErrorActionPreference = 'Stop'
Push-Location $PSScriptRoot
try {
    dotnet build ExportsPS.sln -c $Configuration
    if ($LASTEXITCODE -ne 0) { throw "dotnet build failed ($LASTEXITCODE)" }
    Write-Host "Module staged at $(Join-Path $PSScriptRoot 'out/ExportsPS')"
    if ($Test) {
        & bash ./test.sh
        if ($LASTEXITCODE -ne 0) { throw "tests failed ($LASTEXITCODE)" }
    }
}
finally { Pop-Location }
