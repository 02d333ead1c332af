#!/bin/sh
# cuda_tools.sh - prints the path of a cuobjdump that can disassemble
# (nvdisasm beside it), or nothing and exit 1.
#
#   CUOBJDUMP=$(sh tests/cuda_tools.sh) || echo "no cuobjdump"
#
# The toolkit's own (/usr/local/cuda/bin, PATH) if it has one; else NVIDIA's
# PyPI wheels nvidia-cuda-cuobjdump and nvidia-cuda-nvdisasm, pinned by
# version and sha256, fetched once with pip (a test tool, never part of the
# build) and unpacked into $UEAJ_CACHE/cuda-tools-VERSION (default cache
# ~/.cache/ueajc).  CUDA 13.0's toolkit here ships neither tool.  Messages
# go to stderr; UEAJ_NO_FETCH=1 forbids the download.
set -u
VER=13.5.37
SHA_CUOBJDUMP=38780fee50863252a0b8926357faa91615ca1c8346490563f33a06100cd73f58
SHA_NVDISASM=d3fdbdd49fa53e2e4aacd3db8259d052bd2b049ececdcb69e92e083c6728e7ca

for c in /usr/local/cuda/bin/cuobjdump "$(command -v cuobjdump 2>/dev/null)"; do
    if [ -n "$c" ] && [ -x "$c" ] && [ -x "$(dirname "$c")/nvdisasm" ]; then echo "$c"; exit 0; fi
done

cache=${UEAJ_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ueajc}
dir=$cache/cuda-tools-$VER
if [ -x "$dir/bin/cuobjdump" ] && [ -x "$dir/bin/nvdisasm" ]; then echo "$dir/bin/cuobjdump"; exit 0; fi
[ "${UEAJ_NO_FETCH:-0}" = 1 ] && exit 1

PY=${PYTHON:-/usr/bin/python3}
"$PY" -m pip --version > /dev/null 2>&1 || { echo "cuda_tools: no pip for $PY: cuobjdump not fetched" >&2; exit 1; }
mkdir -p "$cache" || exit 1
tmp=$(mktemp -d "$cache/.cuda-tools.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/req.txt" <<EOF
nvidia-cuda-cuobjdump==$VER --hash=sha256:$SHA_CUOBJDUMP
nvidia-cuda-nvdisasm==$VER --hash=sha256:$SHA_NVDISASM
EOF
if ! "$PY" -m pip download -q --no-deps --only-binary=:all: --require-hashes -r "$tmp/req.txt" \
        -d "$tmp/wheels" > "$tmp/log" 2>&1; then
    echo "cuda_tools: pip could not fetch nvidia-cuda-cuobjdump/nvdisasm $VER:" >&2
    tail -3 "$tmp/log" >&2
    exit 1
fi
# the wheels hold nvidia/cu13/bin/{cuobjdump,nvdisasm}; unpack just those
"$PY" - "$tmp/wheels" "$tmp/out" <<'PYEOF' || exit 1
import os, sys, zipfile, glob
src, out = sys.argv[1], sys.argv[2]
os.makedirs(out + "/bin")
for whl in glob.glob(src + "/*.whl"):
    with zipfile.ZipFile(whl) as z:
        for name in z.namelist():
            base = os.path.basename(name)
            if name.endswith("/bin/" + base) and base in ("cuobjdump", "nvdisasm"):
                with open(out + "/bin/" + base, "wb") as f:
                    f.write(z.read(name))
                os.chmod(out + "/bin/" + base, 0o755)
for tool in ("cuobjdump", "nvdisasm"):
    if not os.path.exists(out + "/bin/" + tool):
        sys.exit("cuda_tools: %s is not in the wheels" % tool)
PYEOF
# publish atomically: a concurrent run that lost the race keeps its copy out
mv "$tmp/out" "$dir" 2>/dev/null || [ -x "$dir/bin/cuobjdump" ] || exit 1
echo "$dir/bin/cuobjdump"
