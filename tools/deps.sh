#!/bin/sh
# Installs what the build and the tests need, with apt-get, only when missing.
# Idempotent and silent when everything is present.  Run as root (CI, fresh
# Debian); as another user it only reports what is missing.
set -e
PKGS="gcc g++ make re2c bison pkg-config libcjson-dev check python3-numpy libpcre2-dev libcurl4-openssl-dev"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "deps: missing packages:$missing (run 'make deps' as root)" >&2
    exit 1
fi
echo "deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends $missing >/dev/null
