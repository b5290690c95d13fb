#!/usr/bin/env bash
# Installs the Bicep CLI from NuGet into .local/bicep/ (git-ignored) and prints its path.
# The package Azure.Bicep.CommandLine.linux-x64 holds tools/bicep, a self-contained CLI (no .NET
# runtime needed at run time, only ICU). `dotnet` is used only to download it: a throwaway project
# with a PackageDownload item, restored into a private package folder.
# Usage: BICEP_PATH=$(scripts/install-bicep.sh)   (progress goes to stderr)
set -euo pipefail
cd "$(dirname "$0")/.."

version="${BICEP_VERSION:-0.49.2}"
package="Azure.Bicep.CommandLine.linux-x64"
root=".local/bicep"
cli="$PWD/$root/packages/${package,,}/$version/tools/bicep"

if [ -x "$cli" ]; then
  echo "$cli"
  exit 0
fi
if ! command -v dotnet >/dev/null; then
  echo "install-bicep: dotnet is not installed; get the Bicep CLI another way (azd and 'az bicep install' bring their own)" >&2
  exit 1
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# Any target framework the installed SDK knows will do: nothing is built.
framework="net$(dotnet --version | cut -d. -f1).0"
cat >"$work/restore.csproj" <<PROJECT
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup><TargetFramework>$framework</TargetFramework></PropertyGroup>
  <ItemGroup><PackageDownload Include="$package" Version="[$version]" /></ItemGroup>
</Project>
PROJECT
echo "install-bicep: restoring $package $version with dotnet" >&2
dotnet restore "$work/restore.csproj" --packages "$PWD/$root/packages" --nologo -v quiet >&2
# NuGet extracts files without their executable bit.
chmod +x "$cli"
"$cli" --version >&2
echo "$cli"
