#!/usr/bin/env python3
"""Assert tests/expected-verdicts.tsv against wsdiag's JSON report, sample by sample.

usage: check_expected.py WSDIAG SOURCE_DIR [TSV]

The TSV (format in its header comment) gives for each connection of each sample in samples/ the
expected verdict code, side, how TCP ended and the rule ids wsdiag must report. For every row:
  code     a number: verdict.code equals it; `open`: verdict.name "open" and code null;
           `handshake-failed`: verdict.name "handshake failed" and code null
           `tls-handshake-failed`: verdict.name "TLS handshake failed" and code null (wss://)
  side     verdict.side ("-": null)
  tcp_end  tcp_end.how
  rules    every listed id appears among findings[].rule ("-": none required; more are allowed)
A row `FILE` means the report holds exactly one connection; rows `FILE#N` are matched to the
connection whose "id" is N, and every connection in the report must have a row. Every sample file
must have at least one row, and every row a sample file: a new capture cannot slip in untested.

Output: `ok`/`FAIL` per connection row (FAIL lists every mismatch), then `N passed, M failed`
(counted per row; a sample without rows, a row without a sample, a malformed row or a wsdiag error
counts as one failure). Exit 1 on any failure.
"""
import json
import os
import re
import subprocess
import sys

SAMPLE_SUFFIXES = (".pcap", ".pcapng")
COLUMNS = ("sample", "code", "side", "tcp_end", "rules")
SIDES = ("client", "server", "-")
TCP_ENDS = ("fin", "rst", "open")
RULE_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


class Row:
    def __init__(self, lineno, sample, conn, code, side, tcp_end, rules):
        self.lineno, self.sample, self.conn = lineno, sample, conn
        self.code, self.side, self.tcp_end, self.rules = code, side, tcp_end, rules

    @property
    def label(self):
        return self.sample + (f"#{self.conn}" if self.conn is not None else "")


def parse_tsv(path):
    """Return (rows, errors). Comment lines start with '#'; the first other line is the header."""
    rows, errors = [], []
    header = None
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\r\n")
            if not line.strip() or line.startswith("#"):
                continue
            cells = line.split("\t")
            if header is None:
                header = [c.strip() for c in cells]
                missing = [c for c in COLUMNS if c not in header]
                if missing:
                    errors.append(f"line {lineno}: header lacks column(s) {', '.join(missing)}: {line!r}")
                    return rows, errors
                continue
            if len(cells) != len(header):
                errors.append(f"line {lineno}: {len(cells)} tab-separated cells, header has {len(header)}: {line!r}")
                continue
            r = dict(zip(header, (c.strip() for c in cells)))
            problems = []
            m = re.fullmatch(r"(.+?)(?:#([0-9]+))?", r["sample"])
            sample, conn = m.group(1), (int(m.group(2)) if m.group(2) else None)
            if conn is not None and conn < 1:
                problems.append(f"connection number {conn} < 1")
            code = r["code"]
            if not (code in ("open", "handshake-failed", "tls-handshake-failed") or re.fullmatch(r"[0-9]+", code)):
                problems.append(f"code {code!r} is not a number, 'open', 'handshake-failed' or 'tls-handshake-failed'")
            if r["side"] not in SIDES:
                problems.append(f"side {r['side']!r} is not one of {', '.join(SIDES)}")
            if r["tcp_end"] not in TCP_ENDS:
                problems.append(f"tcp_end {r['tcp_end']!r} is not one of {', '.join(TCP_ENDS)}")
            rules = [] if r["rules"] == "-" else [x.strip() for x in r["rules"].split(",")]
            for x in rules:
                if not RULE_ID.match(x):
                    problems.append(f"rule id {x!r} is not kebab-case")
            if problems:
                errors.append(f"line {lineno} ({r['sample']}): " + "; ".join(problems))
                continue
            rows.append(Row(lineno, sample, conn, code, r["side"], r["tcp_end"], rules))
    if header is None:
        errors.append("no header line")
    return rows, errors


def check_connection(row, conn):
    """Every mismatch between a row and a connection object of wsdiag's JSON."""
    out = []
    v = conn.get("verdict") or {}
    code, name, side = v.get("code"), v.get("name"), v.get("side")
    said = f"code {json.dumps(code)}, name {json.dumps(name)}"
    if row.code == "open":
        if name != "open" or code is not None:
            out.append(f"verdict is {said}; expected name \"open\", code null")
    elif row.code == "handshake-failed":
        if name != "handshake failed" or code is not None:
            out.append(f"verdict is {said}; expected name \"handshake failed\", code null")
    elif row.code == "tls-handshake-failed":
        if name != "TLS handshake failed" or code is not None:
            out.append(f"verdict is {said}; expected name \"TLS handshake failed\", code null")
    elif code != int(row.code) or isinstance(code, bool):
        out.append(f"verdict.code is {json.dumps(code)} ({name}); expected {row.code}")
    want_side = None if row.side == "-" else row.side
    if side != want_side:
        out.append(f"verdict.side is {json.dumps(side)}; expected {json.dumps(want_side)}")
    how = (conn.get("tcp_end") or {}).get("how")
    if how != row.tcp_end:
        out.append(f"tcp_end.how is {json.dumps(how)}; expected \"{row.tcp_end}\"")
    found = [f.get("rule") for f in conn.get("findings") or []]
    for rule in row.rules:
        if rule not in found:
            out.append(f"rule {rule} not among the findings [{', '.join(found) or 'none'}]")
    if out:
        out.append(f"wsdiag said: {v.get('summary', '?')!s} (tcp_end {how}, findings: {', '.join(found) or 'none'})")
    return out


def main(argv):
    if len(argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    binary, src = os.path.abspath(argv[0]), argv[1]
    tsv = argv[2] if len(argv) == 3 else os.path.join(src, "tests", "expected-verdicts.tsv")
    passed = failed = 0

    def fail(label, problems):
        nonlocal failed
        failed += 1
        print(f"FAIL {label}")
        for p in problems:
            print(f"       - {p}")

    if not os.path.isfile(tsv):
        fail(tsv, ["file not found"])
        print(f"{passed} passed, {failed} failed")
        return 1
    rows, errors = parse_tsv(tsv)
    for e in errors:
        fail(os.path.basename(tsv), [e])

    sample_dir = os.path.join(src, "samples")
    samples = sorted(n for n in os.listdir(sample_dir)
                     if n.endswith(SAMPLE_SUFFIXES) and os.path.isfile(os.path.join(sample_dir, n))) \
        if os.path.isdir(sample_dir) else []
    by_sample = {}
    for r in rows:
        by_sample.setdefault(r.sample, []).append(r)

    for name in sorted(set(by_sample) - set(samples)):
        lines = ", ".join(str(r.lineno) for r in by_sample[name])
        fail(name, [f"row(s) at line {lines} of the TSV name samples/{name}, which does not exist"])
    if not samples:
        fail("samples/", ["no *.pcap or *.pcapng files"])

    for name in samples:
        srows = by_sample.get(name, [])
        if not srows:
            fail(name, ["no row in tests/expected-verdicts.tsv: add one per connection "
                        "(sample code side tcp_end rules) after checking the capture"])
            continue
        plain = [r for r in srows if r.conn is None]
        numbered = [r for r in srows if r.conn is not None]
        if plain and numbered or len(plain) > 1:
            fail(name, ["the TSV mixes a plain row with #N rows, or repeats the plain row "
                        f"(lines {', '.join(str(r.lineno) for r in srows)})"])
            continue
        seen, dup = set(), []
        for r in numbered:
            if r.conn in seen:
                dup.append(r)
            seen.add(r.conn)
        if dup:
            fail(name, [f"#{r.conn} appears twice in the TSV (again at line {r.lineno})" for r in dup])
            continue

        # wss:// samples come with their TLS key log (samples/NAME.keys): the verdict is the
        # decrypted connection's, which must equal the plaintext equivalent's.
        keys = os.path.join("samples", os.path.splitext(name)[0] + ".keys")
        extra = ["--tls-keylog", keys] if os.path.isfile(os.path.join(src, keys)) else []
        res = subprocess.run([binary, "--format", "json", "--no-progress", *extra, "samples/" + name],
                             cwd=src, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if res.returncode != 0:
            fail(name, [f"wsdiag exited {res.returncode}: "
                        + res.stderr.decode("utf-8", "replace").strip()])
            continue
        try:
            conns = json.loads(res.stdout)["connections"]
        except (ValueError, KeyError, TypeError) as e:
            fail(name, [f"wsdiag's JSON report is unreadable: {e}"])
            continue

        if plain:
            row = plain[0]
            if len(conns) != 1:
                ids = ", ".join(f"#{c.get('id')} {c.get('client')}->{c.get('server')}" for c in conns)
                fail(row.label, [f"the TSV row (line {row.lineno}) is for a capture with exactly one "
                                 f"connection; wsdiag reports {len(conns)} ({ids or 'none'})"])
                continue
            pairs = [(row, conns[0])]
        else:
            by_id = {c.get("id"): c for c in conns}
            pairs = []
            for row in sorted(numbered, key=lambda r: r.conn):
                if row.conn not in by_id:
                    fail(row.label, [f"wsdiag reports no connection with id {row.conn} "
                                     f"(ids: {', '.join(str(i) for i in sorted(by_id)) or 'none'})"])
                else:
                    pairs.append((row, by_id[row.conn]))
            extra = sorted(set(by_id) - {r.conn for r in numbered})
            for i in extra:
                c = by_id[i]
                fail(f"{name}#{i}", [f"wsdiag reports connection #{i} ({c.get('client')} -> "
                                     f"{c.get('server')}, {(c.get('verdict') or {}).get('summary')}) "
                                     "but the TSV has no row for it"])
        for row, conn in pairs:
            problems = check_connection(row, conn)
            if problems:
                fail(row.label, problems)
            else:
                passed += 1
                rules = ",".join(row.rules) or "-"
                print(f"ok   {row.label}: {row.code} {row.side} {row.tcp_end} [{rules}]")

    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
