#!/usr/bin/env python3
"""Golden reports: run wsdiag on every sample and write its normalised JSON and text reports.

usage: golden.py generate WSDIAG SOURCE_DIR OUTDIR [SAMPLE...]
       golden.py samples SOURCE_DIR                 (list the sample file names, one a line)
       golden.py normalize {json|text} VERSION < REPORT > NORMALISED

For each sample (every samples/*.pcap and samples/*.pcapng, or the names given) it writes
OUTDIR/<sample-file-name>.json (`wsdiag --format json --no-progress samples/<name>`) and
OUTDIR/<sample-file-name>.txt (`wsdiag --color never --no-progress samples/<name>`), both run from
SOURCE_DIR so the file names embedded in the reports are `samples/<name>` on every machine.

Only volatile fields are normalised: the tool version ("tool"."version" in JSON, "wsdiag X.Y.Z" in the
text report) becomes "VERSION". Nothing else is touched: the JSON keeps wsdiag's own layout, byte for
byte, so a golden diff shows exactly what changed in the output.

A sample on which wsdiag exits non-zero (or prints an error) gets OUTDIR/<name>.error holding the exit
status and stderr instead of the reports; `generate` then exits 1 after doing the other samples.
"""
import json
import os
import re
import subprocess
import sys

SAMPLE_SUFFIXES = (".pcap", ".pcapng")
PLACEHOLDER = "VERSION"


def list_samples(src):
    d = os.path.join(src, "samples")
    if not os.path.isdir(d):
        return []
    return sorted(n for n in os.listdir(d)
                  if n.endswith(SAMPLE_SUFFIXES) and os.path.isfile(os.path.join(d, n)))


# The "tool" object's "version" member, and nothing else: wsdiag writes `"tool": { "name": ...,
# "version": "0.1.0" }` with no nested object inside, so [^{}]* stays inside that object.
_TOOL_VERSION = re.compile(r'("tool"\s*:\s*\{[^{}]*?"version"\s*:\s*)"((?:[^"\\]|\\.)*)"')


def normalize_json(text, version=None):
    """Return (normalised text, version found). Raises ValueError if the report is not JSON or if the
    substitution changed anything but tool.version (checked by re-parsing both)."""
    doc = json.loads(text)
    found = (doc.get("tool") or {}).get("version") if isinstance(doc, dict) else None
    if found is None:
        return text, version          # no version in this report: nothing volatile to replace
    if version is not None and found != version:
        raise ValueError(f"tool.version is {found!r}, expected {version!r}")
    out, n = _TOOL_VERSION.subn(lambda m: m.group(1) + json.dumps(PLACEHOLDER), text, count=1)
    if n != 1:
        raise ValueError('could not find "tool": {... "version": ...} in the JSON text')
    doc["tool"]["version"] = PLACEHOLDER
    if json.loads(out) != doc:
        raise ValueError("normalising tool.version changed more than tool.version")
    return out, found


def normalize_text(text, version):
    if not version:
        return text
    return re.sub(r"\bwsdiag " + re.escape(version) + r"(?![0-9A-Za-z.+-])",
                  "wsdiag " + PLACEHOLDER, text)


def run(cmd, cwd):
    env = dict(os.environ)
    env.pop("NO_COLOR", None)         # --color never decides; keep the environment out of it
    env["LC_ALL"] = "C.UTF-8"
    return subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)


def tool_version(binary):
    r = subprocess.run([binary, "--version"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    m = re.search(r"wsdiag\s+(\S+)", r.stdout.decode("utf-8", "replace"))
    return m.group(1) if m else None


def generate(binary, src, outdir, names):
    binary = os.path.abspath(binary)
    os.makedirs(outdir, exist_ok=True)
    version = tool_version(binary)
    bad = 0
    for name in names:
        rel = "samples/" + name
        err_path = os.path.join(outdir, name + ".error")
        problems = []
        outputs = {}
        for kind, args in (("json", ["--format", "json", "--no-progress"]),
                           ("txt", ["--color", "never", "--no-progress"])):
            r = run([binary, *args, rel], src)
            stderr = r.stderr.decode("utf-8", "replace")
            if r.returncode != 0:
                problems.append(f"{kind}: wsdiag exited {r.returncode}\n{stderr.strip()}")
                continue
            text = r.stdout.decode("utf-8")
            try:
                if kind == "json":
                    text, version = normalize_json(text, version)
                else:
                    text = normalize_text(text, version)
            except ValueError as e:
                problems.append(f"{kind}: {e}")
                continue
            outputs[kind] = text
        if problems:
            bad += 1
            with open(err_path, "w", encoding="utf-8") as f:
                f.write("\n".join(problems) + "\n")
            print(f"golden.py: {rel}: " + problems[0].splitlines()[0], file=sys.stderr)
            continue
        if os.path.exists(err_path):
            os.remove(err_path)
        for kind, text in outputs.items():
            with open(os.path.join(outdir, f"{name}.{kind}"), "w", encoding="utf-8", newline="") as f:
                f.write(text)
    return 1 if bad else 0


def main(argv):
    if len(argv) >= 4 and argv[0] == "generate":
        binary, src, outdir = argv[1], argv[2], argv[3]
        names = argv[4:] or list_samples(src)
        return generate(binary, src, outdir, names)
    if len(argv) == 2 and argv[0] == "samples":
        for n in list_samples(argv[1]):
            print(n)
        return 0
    if len(argv) == 3 and argv[0] == "normalize" and argv[1] in ("json", "text"):
        text = sys.stdin.read()
        if argv[1] == "json":
            text, _ = normalize_json(text, argv[2] or None)
        else:
            text = normalize_text(text, argv[2])
        sys.stdout.write(text)
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
