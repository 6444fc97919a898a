#!/usr/bin/env python3
"""prom.py - reads the Prometheus text format (0.0.4) strictly, for the tests.

  prom.py check FILE
      exits 1, naming each line at fault, unless FILE is well formed and
      holds what promtool lets through but a scraper or a query would trip
      on: the same series twice, a family's lines not together, a TYPE or
      HELP after its samples or twice, a counter without "_total" or below
      zero, a histogram whose buckets are not cumulative or lack "+Inf"
      (equal to _count) or whose _sum or _count is missing.
  prom.py value FILE NAME [LABEL=VALUE...]
      prints the value of the one series NAME with exactly those labels
      (in any order); exits 1 if there is none.
  prom.py sum FILE NAME [LABEL=VALUE...]
      prints the sum over the series NAME having those labels (and maybe
      others); 0 if there is none.
"""

import math
import re
import sys

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r"[a-zA-Z_][a-zA-Z0-9_]*"
TYPES = ("counter", "gauge", "histogram", "summary", "untyped")
SUFFIXES = {"histogram": ("_bucket", "_sum", "_count"),
            "summary": ("", "_sum", "_count")}


class Bad(Exception):
    pass


def parse_value(text):
    if text in ("+Inf", "Inf"):
        return math.inf
    if text == "-Inf":
        return -math.inf
    if text == "NaN":
        return math.nan
    if not re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", text):
        raise Bad("%r is not a number" % text)
    return float(text)


def parse_labels(text, pos):
    """Reads {a="b",...} from text[pos] == '{'; returns (labels, end)."""
    labels = {}
    pos += 1
    while True:
        if text.startswith("}", pos):
            return labels, pos + 1
        m = re.compile(LABEL).match(text, pos)
        if not m:
            raise Bad("a label name expected at column %d" % (pos + 1))
        name = m.group(0)
        pos = m.end()
        if not text.startswith('="', pos):
            raise Bad('=" expected after label %s' % name)
        pos += 2
        value = []
        while True:
            if pos >= len(text):
                raise Bad("label %s: value not closed" % name)
            c = text[pos]
            if c == "\\":
                nxt = text[pos + 1:pos + 2]
                if nxt not in ('\\', '"', "n"):
                    raise Bad("label %s: escape \\%s" % (name, nxt))
                value.append("\n" if nxt == "n" else nxt)
                pos += 2
            elif c == '"':
                pos += 1
                break
            else:
                value.append(c)
                pos += 1
        if name in labels:
            raise Bad("label %s twice" % name)
        labels[name] = "".join(value)
        if text.startswith(",", pos):
            pos += 1
        elif not text.startswith("}", pos):
            raise Bad("',' or '}' expected at column %d" % (pos + 1))


def parse(data):
    """(families, samples): families[name] = {type, help}; samples a list
    of (line number, name, labels, value)."""
    if data and not data.endswith("\n"):
        raise Bad("the last line has no newline")
    families, samples = {}, []
    done = set()     # families whose lines are over
    current = None   # the family of the last line
    for n, line in enumerate(data.split("\n")[:-1], 1):
        try:
            if line.startswith("#"):
                m = re.fullmatch(r"# (HELP|TYPE) (%s)(?: (.*))?" % NAME, line)
                if not m:
                    if re.match(r"#\s*(HELP|TYPE)\b", line):
                        raise Bad("malformed %s line" % line.split()[1])
                    continue  # a plain comment
                kind, name, rest = m.group(1), m.group(2), m.group(3) or ""
                fam = families.setdefault(name, {})
                if name in done or (current not in (None, name) and fam.get("seen")):
                    raise Bad("%s %s after the family's samples or apart from them" % (kind, name))
                if kind.lower() in fam:
                    raise Bad("second %s for %s" % (kind, name))
                if kind == "TYPE":
                    if rest not in TYPES:
                        raise Bad("unknown type %r" % rest)
                    if fam.get("seen"):
                        raise Bad("TYPE %s after its samples" % name)
                if kind == "HELP" and re.search(r"\\([^\\n]|$)", re.sub(r"\\[\\n]", "", rest)):
                    raise Bad("HELP %s: bad escape" % name)
                fam[kind.lower()] = rest
                if current is not None and current != name:
                    done.add(current)
                current = name
                continue
            if line.strip() == "":
                continue
            m = re.compile(NAME).match(line)
            if not m:
                raise Bad("a metric name expected")
            name, pos = m.group(0), m.end()
            labels = {}
            if line.startswith("{", pos):
                labels, pos = parse_labels(line, pos)
            parts = line[pos:].split(" ")
            if len(parts) not in (2, 3) or parts[0] != "":
                raise Bad("one space, a value and maybe a timestamp expected")
            value = parse_value(parts[1])
            if len(parts) == 3 and not re.fullmatch(r"-?\d+", parts[2]):
                raise Bad("timestamp %r" % parts[2])
            family = name
            for base, fam in families.items():
                for suffix in SUFFIXES.get(fam.get("type"), ()):
                    if suffix and name == base + suffix:
                        family = base
            fam = families.setdefault(family, {})
            if family in done:
                raise Bad("family %s continues after other families" % family)
            if current is not None and current != family:
                done.add(current)
            current = family
            fam["seen"] = True
            samples.append((n, name, labels, value))
        except Bad as e:
            raise Bad("line %d: %s: %s" % (n, e, line))
    return families, samples


def check(families, samples):
    errors = []
    seen = {}
    for n, name, labels, value in samples:
        key = (name, tuple(sorted(labels.items())))
        if key in seen:
            errors.append("line %d: the series of line %d again" % (n, seen[key]))
        seen[key] = n
    for fname, fam in families.items():
        ftype = fam.get("type", "untyped")
        mine = [s for s in samples if s[1] == fname or
                (ftype in SUFFIXES and s[1] in [fname + x for x in SUFFIXES[ftype]])]
        if ftype == "counter":
            if not fname.endswith("_total"):
                errors.append("counter %s: the name does not end in _total" % fname)
            for n, _, _, v in mine:
                if math.isnan(v) or v < 0:
                    errors.append("line %d: counter %s at %r" % (n, fname, v))
        if ftype != "histogram":
            continue
        groups = {}
        for n, name, labels, v in mine:
            rest = tuple(sorted((k, x) for k, x in labels.items() if k != "le"))
            g = groups.setdefault(rest, {"buckets": []})
            if name == fname + "_bucket":
                if "le" not in labels:
                    errors.append("line %d: a bucket without le" % n)
                    continue
                g["buckets"].append((parse_value(labels["le"]), v, n))
            elif name in (fname + "_sum", fname + "_count"):
                if "le" in labels:
                    errors.append("line %d: le on %s" % (n, name))
                g[name[len(fname) + 1:]] = v
            else:
                errors.append("line %d: %s in histogram %s" % (n, name, fname))
        for rest, g in groups.items():
            what = "%s%s" % (fname, dict(rest) or "")
            b = g["buckets"]
            if [x[0] for x in b] != sorted(x[0] for x in b):
                errors.append("%s: buckets not in le order" % what)
            for (le1, v1, _), (le2, v2, n2) in zip(b, b[1:]):
                if v2 < v1:
                    errors.append("line %d: %s: bucket le=%s below the one before" % (n2, what, le2))
            if not b or b[-1][0] != math.inf:
                errors.append("%s: no le=\"+Inf\" bucket" % what)
            elif "count" in g and b[-1][1] != g["count"]:
                errors.append("%s: +Inf bucket %s, _count %s" % (what, b[-1][1], g["count"]))
            for part in ("sum", "count"):
                if part not in g:
                    errors.append("%s: no _%s" % (what, part))
    return errors


def wanted(args):
    out = {}
    for a in args:
        k, sep, v = a.partition("=")
        if not sep:
            sys.exit("prom.py: %r is not LABEL=VALUE" % a)
        out[k] = v
    return out


def number(v):
    return str(int(v)) if v == int(v) else repr(v)


def main(argv):
    if len(argv) < 3 or argv[1] not in ("check", "value", "sum"):
        sys.exit(__doc__)
    with open(argv[2], encoding="utf-8") as f:
        data = f.read()
    try:
        families, samples = parse(data)
    except Bad as e:
        print("prom.py: %s: %s" % (argv[2], e), file=sys.stderr)
        return 1
    if argv[1] == "check":
        errors = check(families, samples)
        for e in errors:
            print("prom.py: %s: %s" % (argv[2], e), file=sys.stderr)
        return 1 if errors else 0
    name, want = argv[3], wanted(argv[4:])
    if argv[1] == "value":
        for _, n, labels, v in samples:
            if n == name and labels == want:
                print(number(v))
                return 0
        return 1
    total = sum(v for _, n, labels, v in samples if n == name and
                all(labels.get(k) == x for k, x in want.items()))
    print(number(total))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
