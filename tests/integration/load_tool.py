#!/usr/bin/env python3
"""Load helpers for t_reload_load.sh.

  reload PID CONF LOG N CONF_A CONF_B TAPIRCTL SOCKET EVERY GAP OUT
      N reloads of tapird (PID), one at a time: before reload i the file
      CONF is replaced (by rename) with CONF_B, CONF_B, CONF_A, CONF_A, ...
      (i mod 4), so every other reload changes the modules' settings and
      the ones between change nothing.  Every EVERY-th reload is asked for
      with "TAPIRCTL -s SOCKET reload" (which must say "reload complete"),
      the others with SIGHUP.  A reload is done when LOG grows a "reload
      complete" line; one that logs "reload failed" or "reload applied,
      but", or takes more than 30 s, ends the run.  GAP seconds pass
      between one reload's end and the next one's start.  OUT gets one line per
      reload: "I HOW START END" (seconds since the epoch).  Prints a
      summary; exits 0 when all N completed.
  echo HOST PORT CONNS BYTES SECONDS
      CONNS TCP connections to HOST:PORT (an echo service), each sending
      BYTES random bytes paced evenly over SECONDS and reading them back;
      prints "CONN sent=N got=N sha=ok|bad|short error=..." per
      connection and exits 0 only when every one got back exactly what it
      sent, with no reset.
  http HOST PORT PATH CONNS SECONDS SHA256
      CONNS HTTP/1.1 GETs of PATH, each on its own connection with a
      small receive buffer, each body read at a pace that takes SECONDS
      (so the transfers are in flight all that time); prints "CONN
      status=N got=N sha=ok|bad|short error=..." per connection and exits
      0 only when every one got status 200 and a body whose SHA-256 is
      SHA256, with no reset.
"""
import hashlib
import os
import selectors
import signal
import socket
import subprocess
import sys
import time


def reload_run(pid, conf, log, n, conf_a, conf_b, ctl, sock, every, gap, out):
    pid, n, every, gap = int(pid), int(n), int(every), float(gap)
    texts = {}
    for name in (conf_a, conf_b):
        with open(name) as f:
            texts[name] = f.read()
    order = [conf_b, conf_b, conf_a, conf_a]
    lf = open(log, "rb")
    lf.seek(0, os.SEEK_END)
    pending = b""
    times = []
    with open(out, "w") as rec:
        for i in range(n):
            tmp = conf + ".next"
            with open(tmp, "w") as f:
                f.write(texts[order[i % 4]])
            os.rename(tmp, conf)
            how = "ctl" if every > 0 and i % every == every - 1 else "hup"
            start = time.time()
            if how == "ctl":
                r = subprocess.run([ctl, "-s", sock, "reload"],
                                   capture_output=True, text=True, timeout=60)
                if r.returncode != 0 or "reload complete" not in r.stdout:
                    print("reload %d: tapirctl reload exited %d: %s%s" %
                          (i, r.returncode, r.stdout, r.stderr))
                    return 1
            else:
                os.kill(pid, signal.SIGHUP)
            done = False
            deadline = start + 30
            while not done:
                chunk = lf.read()
                if chunk:
                    pending += chunk
                    *lines, pending = pending.split(b"\n")
                    for line in lines:
                        if b"reload failed" in line or \
                                b"reload applied, but" in line:
                            print("reload %d: %s" %
                                  (i, line.decode("utf-8", "replace")))
                            return 1
                        if b"reload complete" in line:
                            done = True
                    continue
                if time.time() > deadline:
                    print("reload %d (%s): no 'reload complete' within 30 s"
                          % (i, how))
                    return 1
                time.sleep(0.001)
            end = time.time()
            times.append(end - start)
            rec.write("%d %s %.6f %.6f\n" % (i, how, start, end))
            rec.flush()
            time.sleep(gap)
    times.sort()
    print("%d reloads in %.1f s: median %.1f ms, 99%% %.1f ms, max %.1f ms" %
          (n, sum(times), 1000 * times[len(times) // 2],
           1000 * times[min(len(times) - 1, len(times) * 99 // 100)],
           1000 * times[-1]))
    return 0


class Conn:
    def __init__(self, i, data):
        self.i = i
        self.data = data
        self.sent = 0
        self.got = 0
        self.rx = hashlib.sha256()
        self.error = None
        self.sock = None


def echo_run(host, port, conns, nbytes, seconds):
    conns, nbytes, seconds = int(conns), int(nbytes), float(seconds)
    sel = selectors.DefaultSelector()
    cs = []
    for i in range(conns):
        c = Conn(i, os.urandom(nbytes))
        s = socket.create_connection((host, int(port)), timeout=10)
        s.setblocking(False)
        c.sock = s
        sel.register(s, selectors.EVENT_READ, c)
        cs.append(c)
    start = time.time()
    deadline = start + seconds + 60
    chunk = 4096
    live = len(cs)
    while live and time.time() < deadline:
        # Pacing: by now each connection may have sent this much.
        allowed = min(nbytes, int(nbytes * (time.time() - start) / seconds)
                      + chunk)
        for c in cs:
            if c.error or c.sent >= allowed or c.sent - c.got > 65536:
                continue
            try:
                c.sent += c.sock.send(c.data[c.sent:min(allowed,
                                                        c.sent + chunk)])
            except BlockingIOError:
                pass
            except OSError as e:
                c.error = "send: %s" % e
                live -= 1
                sel.unregister(c.sock)
        for key, _ in sel.select(0.01):
            c = key.data
            try:
                b = c.sock.recv(65536)
            except BlockingIOError:
                continue
            except OSError as e:
                c.error = "recv: %s" % e
            else:
                if not b:
                    c.error = "closed by the server after %d bytes" % c.got
                else:
                    c.rx.update(b)
                    c.got += len(b)
                    if c.got > nbytes:
                        c.error = "got more than sent"
            if c.error or c.got == nbytes:
                sel.unregister(c.sock)
                live -= 1
    bad = 0
    for c in cs:
        want = hashlib.sha256(c.data).hexdigest()
        got = c.rx.hexdigest()
        if c.got < nbytes and not c.error:
            c.error = "timed out"
        sha = "ok" if got == want and c.got == nbytes else \
            ("short" if c.got < nbytes else "bad")
        if sha != "ok" or c.error:
            bad += 1
        print("%d sent=%d got=%d sha=%s error=%s" %
              (c.i, c.sent, c.got, sha, c.error or "-"))
        c.sock.close()
    return 1 if bad else 0


def http_run(host, port, path, conns, seconds, want):
    conns, seconds = int(conns), float(seconds)
    req = ("GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" %
           (path, host)).encode()
    cs = []
    for i in range(conns):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32768)
        s.settimeout(10)
        s.connect((host, int(port)))
        s.sendall(req)
        s.setblocking(False)
        c = Conn(i, None)
        c.sock = s
        c.head = b""
        c.status = 0
        c.length = None
        c.done = False
        cs.append(c)
    start = time.time()
    deadline = start + seconds + 60
    live = len(cs)
    while live and time.time() < deadline:
        frac = min(1.0, (time.time() - start) / seconds)
        for c in cs:
            if c.done:
                continue
            if c.length is None:
                allowed = 65536
            else:
                allowed = int(c.length * frac) + 4096 - c.got
            if allowed <= 0:
                continue
            try:
                b = c.sock.recv(min(allowed, 65536))
            except BlockingIOError:
                continue
            except OSError as e:
                c.error = "recv: %s" % e
                b = None
            if b == b"" and (c.length is None or c.got < c.length):
                c.error = "closed by the server after %d bytes" % c.got
            if b and c.length is None:
                c.head += b
                if b"\r\n\r\n" in c.head:
                    head, b = c.head.split(b"\r\n\r\n", 1)
                    lines = head.decode("latin-1").split("\r\n")
                    c.status = int(lines[0].split()[1])
                    c.length = 0
                    for line in lines[1:]:
                        k, _, v = line.partition(":")
                        if k.strip().lower() == "content-length":
                            c.length = int(v)
                else:
                    b = b""
            if b and c.length is not None:
                c.rx.update(b)
                c.got += len(b)
                if c.got > c.length:
                    c.error = "got more than the length"
            if c.error or (c.length is not None and c.got == c.length):
                c.done = True
                live -= 1
        time.sleep(0.01)
    bad = 0
    for c in cs:
        if not c.done and not c.error:
            c.error = "timed out"
        sha = "ok" if c.rx.hexdigest() == want and c.got == c.length else \
            ("short" if c.length is None or c.got < c.length else "bad")
        if sha != "ok" or c.error or c.status != 200:
            bad += 1
        print("%d status=%d got=%d sha=%s error=%s" %
              (c.i, c.status, c.got, sha, c.error or "-"))
        c.sock.close()
    print("%d of %d transfers failed, %.1f s" % (bad, conns, time.time() - start))
    return 1 if bad else 0


def main(argv):
    cmd = argv[1] if len(argv) > 1 else ""
    if cmd == "reload" and len(argv) == 13:
        return reload_run(*argv[2:])
    if cmd == "http" and len(argv) == 8:
        return http_run(*argv[2:])
    if cmd == "echo" and len(argv) == 7:
        return echo_run(*argv[2:])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
