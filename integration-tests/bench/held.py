#!/usr/bin/env python3
"""held.py - the load and the timer of bench/held.

  held.py write FOLDER N
      writes N small files into FOLDER, as fast as may be.
  held.py run PORT FOLDER N LIMIT [PID]
      asks GET /healthz of 127.0.0.1:PORT every 10 ms (a new connection
      each time, as a probe does); a second in, starts "held.py write
      FOLDER N" in another process; asks /metrics every 100 ms until the
      daemon has queued N more events (or LIMIT seconds passed); prints
      the figures as NAME=VALUE lines for the shell. With PID (the
      daemon's), the daemon is stopped (SIGSTOP) while the files are
      written, and continued (SIGCONT) once all are: its event queue
      overflows, and it rescans.

The latencies are those of the requests started from the first write
(with PID: from the SIGCONT) to the last event queued. A request still
unanswered when the run ends counts with the time it had waited so far.
"""

import http.client
import os
import re
import signal
import subprocess
import sys
import threading
import time

PERIOD = 0.010
SAMPLE = re.compile(r"^objtrigger_(events|inotify_overflows)_total\{(.*)\} (\S+)$",
                    re.M)


def write(folder, n):
    for i in range(n):
        with open(os.path.join(folder, "f%06d.txt" % i), "w") as f:
            f.write("file %d\n" % i)


def get(port, path, timeout):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        return r.status, r.read().decode(errors="replace")
    finally:
        conn.close()


class Prober(threading.Thread):
    """GET /healthz every PERIOD: (start, seconds, answered 200)."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port = port
        self.samples = []
        self.pending = None  # the start of the request in flight
        self.stop = False

    def run(self):
        while not self.stop:
            t0 = time.monotonic()
            self.pending = t0
            try:
                ok = get(self.port, "/healthz", 600)[0] == 200
            except (OSError, http.client.HTTPException):
                ok = False
            t1 = time.monotonic()
            self.pending = None
            self.samples.append((t0, t1 - t0, ok))
            time.sleep(max(0.0, t0 + PERIOD - time.monotonic()))


def counters(port):
    """(accepted events, inotify overflows) as /metrics says."""
    accepted = overflows = 0
    _, body = get(port, "/metrics", 600)
    for m in SAMPLE.finditer(body):
        if m.group(1) == "events" and 'outcome="accepted"' in m.group(2):
            accepted += int(float(m.group(3)))
        elif m.group(1) == "inotify_overflows":
            overflows += int(float(m.group(3)))
    return accepted, overflows


def pct(sorted_ms, p):
    if not sorted_ms:
        return 0.0
    i = min(len(sorted_ms) - 1, int(round(p / 100.0 * (len(sorted_ms) - 1))))
    return sorted_ms[i]


def run(port, folder, n, limit, pid):
    base = counters(port)
    prober = Prober(port)
    writer = [sys.executable, __file__, "write", folder, str(n)]
    w1 = None
    if pid:
        os.kill(pid, signal.SIGSTOP)
        w0 = time.monotonic()
        subprocess.run(writer, check=True)
        w1 = time.monotonic() - w0
        w0 = time.monotonic()
        os.kill(pid, signal.SIGCONT)
        prober.start()
    else:
        prober.start()
        time.sleep(1)
        w0 = time.monotonic()
        writer = subprocess.Popen(writer)
    accepted = overflows = 0
    done = None
    while time.monotonic() < w0 + limit:
        if w1 is None and writer.poll() is not None:
            w1 = time.monotonic() - w0
        try:
            accepted, overflows = counters(port)
            accepted -= base[0]
            overflows -= base[1]
        except (OSError, http.client.HTTPException):
            pass
        if accepted >= n:
            done = time.monotonic()
            break
        time.sleep(0.1)
    if w1 is None:
        writer.wait()
        w1 = time.monotonic() - w0
    end = time.monotonic()
    prober.stop = True
    samples = [s for s in prober.samples if s[0] >= w0 and s[0] <= end]
    pending = prober.pending
    if pending is not None:  # still waiting: it counts as so far
        samples.append((pending, end - pending, True))
    ms = sorted(s[1] * 1000 for s in samples)
    print("WRITE_S=%.1f" % w1)
    print("QUEUED=%d" % accepted)
    print("QUEUED_S=%s" % ("%.1f" % (done - w0) if done else ""))
    print("OVERFLOWS=%d" % overflows)
    print("PROBES=%d" % len(ms))
    print("FAILED=%d" % sum(1 for s in samples if not s[2]))
    print("P50_MS=%.1f" % pct(ms, 50))
    print("P99_MS=%.1f" % pct(ms, 99))
    print("MAX_MS=%.1f" % (ms[-1] if ms else 0.0))
    print("OVER100=%d" % sum(1 for v in ms if v > 100))
    return 0 if done else 1


def main(argv):
    if len(argv) == 4 and argv[1] == "write":
        write(argv[2], int(argv[3]))
        return 0
    if len(argv) in (6, 7) and argv[1] == "run":
        return run(int(argv[2]), argv[3], int(argv[4]), float(argv[5]),
                   int(argv[6]) if len(argv) == 7 else 0)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
