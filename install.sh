#!/usr/bin/env sh
# Builds objectstore from this checkout and puts it on the PATH: the release build goes to
# $PREFIX/share/objectstore, a link to it to $PREFIX/bin/objectstore (PREFIX defaults to ~/.local,
# where a user's own programs go). Run again after a pull to update. Needs only the .NET SDK.
set -eu
cd "$(dirname "$0")"
prefix="${PREFIX:-$HOME/.local}"
app="$prefix/share/objectstore"
# Framework-dependent and compiled ahead of time (ReadyToRun): shell commands start without JIT work.
dotnet publish src/ObjectStore.Node -c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true \
  --artifacts-path .install -o "$app" --nologo -v quiet
mkdir -p "$prefix/bin"
ln -sf "$app/objectstore" "$prefix/bin/objectstore"
echo "installed $prefix/bin/objectstore ($("$prefix/bin/objectstore" --version 2>/dev/null || echo 'version unknown'))"
case ":$PATH:" in
  *":$prefix/bin:"*) ;;
  *) echo "note: $prefix/bin is not on your PATH; add it: export PATH=\"$prefix/bin:\$PATH\"" ;;
esac
