#!/usr/bin/python3
"""hub_server.py - a small stand-in for the Hugging Face hub, for tests/test_hub.c.

Standard library only.  Listens on 127.0.0.1 with an ephemeral port and
prints the port on stdout (one line) once it accepts connections.  It
serves fixture repositories in the hub's URL layout:

  GET  /api/models/ORG/NAME/revision/REV   {"id", "sha", "siblings": [{"rfilename"}]}
  HEAD|GET /ORG/NAME/resolve/REV/FILE      REV: a branch, tag or the commit
      small files: 200, ETag "<git blob sha1>", X-Repo-Commit, Content-Length
      LFS files (*.safetensors, *.bin, *.gguf, *.pth, tokenizer.model):
           302 to http://127.0.0.1:PORT/cdn/SHA256?X-Amz-Signature=..., with
           X-Linked-Etag "<sha256>", X-Linked-Size, X-Repo-Commit, and an
           ETag that is NOT the blob name (as on the real hub)
  HEAD|GET /cdn/SHA256?...                 the bytes, with an S3-like ETag
  Range: bytes=N- is honoured (206 + Content-Range) unless --no-range.
  Errors carry X-Error-Code / X-Error-Message as the hub sends them.

Repositories:
  test-org/tiny-llama    config, tokenizer(.json, _config), generation_config,
                         special_tokens_map, model.safetensors (2 MB), and files
                         a runner must not fetch: pytorch_model.bin,
                         model.gguf, original/params.json,
                         original/consolidated.00.pth, README.md, .gitattributes.
                         Revisions "main" and "v1.0" (same commit).
  test-org/tiny-sharded  config, tokenizer.model, tokenizer_config,
                         model.safetensors.index.json + 2 shards, and
                         consolidated.safetensors (not to be fetched); no
                         generation_config.json.
  test-org/gated         gated: the listing is public, files need --token
                         (401 without a token, 403 with another one).

Options:
  --fixture-dir DIR  write every fixture file to DIR/ORG--NAME/FILE and
                     DIR/manifest.txt ("REPO FILE ETAG SIZE" lines)
  --log FILE         append one line per request: "METHOD PATH range=R auth=A"
                     (A: none, ok, bad - never the token itself)
  --token TOKEN      the token gated repos accept
  --require-token    every repo (listing included) needs the token
  --cut FILE         the first GET of FILE's bytes sends half the body, then
                     closes the connection (Content-Length announces all)
  --no-range         ignore Range headers (always 200 with the whole body)
  --missing FILE     FILE is listed but resolve answers 404 EntryNotFound
  --lie-size FILE    HEAD announces FILE 10 bytes larger than it is
  --prefix /P        serve the hub under /P (HF_ENDPOINT=http://127.0.0.1:PORT/P);
                     the CDN stays at /cdn, outside the endpoint
  --max-seconds N    exit after N seconds (default 60)
The server also exits when its stdin reaches EOF, so it never outlives the
test process that started it, however that process ends.
"""
import argparse
import hashlib
import http.server
import json
import os
import socketserver
import struct
import sys
import threading
import time
import urllib.parse

LFS_SUFFIXES = (".safetensors", ".bin", ".gguf", ".pth", ".pt")


def pseudo_bytes(n, seed):
    """Deterministic bytes: SHA-256 in counter mode (fast, version-independent)."""
    out = bytearray()
    i = 0
    while len(out) < n:
        out += hashlib.sha256(b"%d:%d" % (seed, i)).digest()
        i += 1
    return bytes(out[:n])


def safetensors(tensors):
    """tensors: list of (name, nfloats, seed) -> a valid F32 safetensors file."""
    header, data, off = {}, b"", 0
    for name, n, seed in tensors:
        blob = pseudo_bytes(4 * n, seed)
        header[name] = {"dtype": "F32", "shape": [n], "data_offsets": [off, off + len(blob)]}
        data += blob
        off += len(blob)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + data


def jdump(obj):
    return (json.dumps(obj, indent=2) + "\n").encode()


def make_repos():
    cfg = {"architectures": ["LlamaForCausalLM"], "hidden_size": 64, "num_hidden_layers": 2,
           "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 256,
           "intermediate_size": 128, "rms_norm_eps": 1e-5, "rope_theta": 10000.0}
    tok = {"version": "1.0", "model": {"type": "BPE", "vocab": {chr(65 + i): i for i in range(26)}, "merges": []},
           "added_tokens": [{"id": 0, "content": "<s>", "special": True}]}
    tiny = {
        "config.json": jdump(cfg),
        "tokenizer.json": jdump(tok) + b" " * 3000,
        "tokenizer_config.json": jdump({"bos_token": "<s>", "model_max_length": 2048}),
        "generation_config.json": jdump({"bos_token_id": 0, "eos_token_id": 1}),
        "special_tokens_map.json": jdump({"bos_token": "<s>"}),
        "model.safetensors": safetensors([("model.embed_tokens.weight", 500000, 7), ("lm_head.weight", 24000, 9)]),
        "pytorch_model.bin": pseudo_bytes(5000, 1),
        "model.gguf": pseudo_bytes(3000, 2),
        "original/params.json": jdump({"dim": 64}),
        "original/consolidated.00.pth": pseudo_bytes(4000, 3),
        "README.md": b"# tiny llama\n",
        ".gitattributes": b"*.safetensors filter=lfs\n",
    }
    shard1 = safetensors([("model.embed_tokens.weight", 60000, 11)])
    shard2 = safetensors([("lm_head.weight", 50000, 12)])
    sharded = {
        "config.json": jdump(cfg),
        "tokenizer.model": pseudo_bytes(20000, 13),
        "tokenizer_config.json": jdump({"bos_token": "<s>"}),
        "model.safetensors.index.json": jdump({"metadata": {"total_size": 440000}, "weight_map": {
            "model.embed_tokens.weight": "model-00001-of-00002.safetensors",
            "lm_head.weight": "model-00002-of-00002.safetensors"}}),
        "model-00001-of-00002.safetensors": shard1,
        "model-00002-of-00002.safetensors": shard2,
        "consolidated.safetensors": shard1 + b"x",
    }
    gated = {
        "config.json": jdump(cfg),
        "tokenizer.json": jdump(tok),
        "tokenizer_config.json": jdump({"bos_token": "<s>"}),
        "model.safetensors": safetensors([("lm_head.weight", 1000, 21)]),
    }
    repos = {}
    for rid, files, gated_flag in (("test-org/tiny-llama", tiny, False), ("test-org/tiny-sharded", sharded, False),
                                   ("test-org/gated", gated, True)):
        sha = hashlib.sha1(rid.encode() + b"-commit").hexdigest()
        entries = {}
        for name, data in files.items():
            lfs = name.endswith(LFS_SUFFIXES) or name == "tokenizer.model"
            git = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
            entries[name] = {"data": data, "lfs": lfs, "git": git, "sha256": hashlib.sha256(data).hexdigest(),
                             "etag": hashlib.sha256(data).hexdigest() if lfs else git}
        revs = {"main": sha, sha: sha}
        if rid == "test-org/tiny-llama":
            revs["v1.0"] = sha
        repos[rid] = {"sha": sha, "files": entries, "gated": gated_flag, "revs": revs}
    return repos


class State:
    def __init__(self, args):
        self.args = args
        self.repos = make_repos()
        self.by_sha256 = {}
        for repo in self.repos.values():
            for name, e in repo["files"].items():
                self.by_sha256[e["sha256"]] = (name, e)
        self.cut_done = set()
        self.lock = threading.Lock()
        self.port = 0

    def log(self, line):
        if self.args.log:
            with self.lock, open(self.args.log, "a") as f:
                f.write(line + "\n")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "hub_server/1"

    def log_message(self, fmt, *a):  # quiet
        pass

    # -- helpers --
    def st(self):
        return self.server.state

    def auth(self):
        got = self.headers.get("Authorization")
        if got is None:
            return "none"
        tok = self.st().args.token
        return "ok" if tok is not None and got == "Bearer " + tok else "bad"

    def send(self, code, headers=(), body=b"", head=False):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        if not any(k.lower() == "content-length" for k, _ in headers):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head and body:
            self.wfile.write(body)

    def error(self, code, ecode, msg, head):
        body = jdump({"error": msg})
        self.send(code, [("Content-Type", "application/json"), ("X-Error-Code", ecode),
                         ("X-Error-Message", msg)], body, head)

    def gate(self, repo_id, repo, head, listing):
        """None if allowed, else sends 401/403 and returns True."""
        need = self.st().args.require_token or (repo["gated"] and not listing)
        if not need:
            return None
        a = self.auth()
        if a == "ok":
            return None
        if a == "none":
            self.error(401, "GatedRepo", "Access to model %s is restricted. You must be authenticated to access it."
                       % repo_id, head)
        else:
            self.error(403, "GatedRepo", "Access to model %s is restricted and you are not in the authorized list."
                       % repo_id, head)
        return True

    def body_range(self, data, etag_headers, head, name):
        """Serves data (whole or from a Range), maybe cut short once."""
        args = self.st().args
        start = 0
        rng = self.headers.get("Range")
        if rng and not args.no_range and rng.startswith("bytes=") and rng.endswith("-"):
            try:
                start = int(rng[6:-1])
            except ValueError:
                start = 0
            if start >= len(data):
                self.send(416, [("Content-Range", "bytes */%d" % len(data))] + etag_headers, b"", head)
                return
        part = data[start:]
        hdrs = list(etag_headers) + [("Accept-Ranges", "bytes"), ("Content-Length", str(len(part))),
                                     ("Content-Type", "application/octet-stream")]
        code = 200
        if start > 0:
            code = 206
            hdrs.append(("Content-Range", "bytes %d-%d/%d" % (start, len(data) - 1, len(data))))
        cut = False
        if not head and args.cut == name:
            with self.st().lock:
                cut = name not in self.st().cut_done
                self.st().cut_done.add(name)
        if cut:
            self.send_response(code)
            for k, v in hdrs:
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(part[:len(part) // 2])
            self.wfile.flush()
            self.close_connection = True
            try:
                self.connection.shutdown(2)
            except OSError:
                pass
            return
        self.send(code, hdrs, part, head)

    # -- routes --
    def route(self, head):
        st = self.st()
        parsed = urllib.parse.urlsplit(self.path)
        path = parsed.path
        st.log("%s %s range=%s auth=%s" % ("HEAD" if head else "GET", path,
                                          self.headers.get("Range", "-"), self.auth()))
        pre = st.args.prefix.rstrip("/") if st.args.prefix else ""
        if pre and not path.startswith("/cdn/"):
            if not path.startswith(pre + "/"):
                return self.error(404, "NotFound", "no route", head)
            path = path[len(pre):]
        parts = [urllib.parse.unquote(p) for p in path.split("/")[1:]]
        if len(parts) == 6 and parts[0] == "api" and parts[1] == "models" and parts[4] == "revision":
            return self.listing(parts[2] + "/" + parts[3], parts[5], head)
        if len(parts) >= 5 and parts[2] == "resolve":
            return self.resolve(parts[0] + "/" + parts[1], parts[3], "/".join(parts[4:]), head)
        if len(parts) == 2 and parts[0] == "cdn":
            hit = st.by_sha256.get(parts[1])
            if not hit or "X-Amz-Signature" not in parsed.query:
                return self.error(403, "AccessDenied", "bad signature", head)
            name, e = hit
            s3 = hashlib.md5(e["data"]).hexdigest()
            return self.body_range(e["data"], [("ETag", '"%s"' % s3)], head, name)
        return self.error(404, "NotFound", "no route", head)

    def listing(self, repo_id, rev, head):
        repo = self.st().repos.get(repo_id)
        if repo is None:
            return self.error(404, "RepoNotFound", "Repository not found", head)
        if self.gate(repo_id, repo, head, True):
            return
        if rev not in repo["revs"]:
            return self.error(404, "RevisionNotFound", "Invalid rev id: %s" % rev, head)
        body = json.dumps({"id": repo_id, "modelId": repo_id, "sha": repo["revs"][rev], "private": False,
                           "gated": "manual" if repo["gated"] else False,
                           "siblings": [{"rfilename": n} for n in repo["files"]]}).encode()
        self.send(200, [("Content-Type", "application/json")], body, head)

    def resolve(self, repo_id, rev, name, head):
        st = self.st()
        repo = st.repos.get(repo_id)
        if repo is None:
            return self.error(404, "RepoNotFound", "Repository not found", head)
        if self.gate(repo_id, repo, head, False):
            return
        if rev not in repo["revs"]:
            return self.error(404, "RevisionNotFound", "Invalid rev id: %s" % rev, head)
        e = repo["files"].get(name)
        if e is None or name == st.args.missing:
            return self.error(404, "EntryNotFound", "Entry not found", head)
        commit = repo["revs"][rev]
        size = len(e["data"]) + (10 if head and name == st.args.lie_size else 0)
        if e["lfs"]:
            loc = "http://127.0.0.1:%d/cdn/%s?X-Amz-Signature=secret-signature&X-Amz-Expires=3600" % (
                st.port, e["sha256"])
            return self.send(302, [("Location", loc), ("X-Repo-Commit", commit),
                                   ("X-Linked-Etag", '"%s"' % e["sha256"]), ("X-Linked-Size", str(size)),
                                   ("ETag", '"%s"' % e["git"])], b"", head)
        hdrs = [("X-Repo-Commit", commit), ("ETag", '"%s"' % e["git"])]
        if head:
            return self.send(200, hdrs + [("Content-Length", str(size))], b"", True)
        return self.body_range(e["data"], hdrs, head, name)

    def do_GET(self):
        self.route(False)

    def do_HEAD(self):
        self.route(True)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        # a client that hangs up mid-transfer (the tests do that on purpose) is not news
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fixture-dir")
    ap.add_argument("--log")
    ap.add_argument("--token")
    ap.add_argument("--require-token", action="store_true")
    ap.add_argument("--cut")
    ap.add_argument("--no-range", action="store_true")
    ap.add_argument("--missing")
    ap.add_argument("--lie-size")
    ap.add_argument("--prefix")
    ap.add_argument("--max-seconds", type=float, default=60)
    args = ap.parse_args()
    state = State(args)
    if args.fixture_dir:
        lines = []
        for rid, repo in state.repos.items():
            for name, e in repo["files"].items():
                path = os.path.join(args.fixture_dir, rid.replace("/", "--"), name)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "wb") as f:
                    f.write(e["data"])
                lines.append("%s %s %s %d\n" % (rid, name, e["etag"], len(e["data"])))
            lines.append("%s @commit %s 0\n" % (rid, repo["sha"]))
        with open(os.path.join(args.fixture_dir, "manifest.txt"), "w") as f:
            f.writelines(lines)
    srv = Server(("127.0.0.1", 0), Handler)
    srv.state = state
    state.port = srv.server_address[1]

    def watch_stdin():
        try:
            while sys.stdin.buffer.read(4096):
                pass
        except OSError:
            pass
        os._exit(0)

    threading.Thread(target=watch_stdin, daemon=True).start()
    deadline = time.monotonic() + args.max_seconds
    threading.Thread(target=lambda: (time.sleep(max(0.0, deadline - time.monotonic())), os._exit(0)),
                     daemon=True).start()
    print(state.port, flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
