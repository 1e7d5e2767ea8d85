#!/usr/bin/env python3
"""run_limited: run a command with a timeout and report its peak memory, like `timeout` + `/usr/bin/time -f %M`
but with the standard library only (a clean CI image may lack /usr/bin/time).

    run_limited.py --timeout SEC --stdout FILE --stderr FILE --report FILE -- CMD [ARG...]

Writes "status=N maxrss_kb=N timed_out=0|1" to --report, where status is the child's exit status,
128+signal if a signal ended it, or 124 after the timeout (then the whole process group is killed).
Exits 0 itself unless it could not start the command (exit 127, message on stderr).
"""

import argparse
import os
import signal
import subprocess
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--timeout", type=float, default=10)
    ap.add_argument("--stdout", required=True)
    ap.add_argument("--stderr", required=True)
    ap.add_argument("--report", required=True)
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    cmd = args.cmd[1:] if args.cmd and args.cmd[0] == "--" else args.cmd
    if not cmd:
        ap.error("no command")
    with open(args.stdout, "wb") as out, open(args.stderr, "wb") as err:
        try:
            p = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                 start_new_session=True)
        except OSError as e:
            print("run_limited: cannot run %s: %s" % (cmd[0], e.strerror), file=sys.stderr)
            return 127
        deadline = time.monotonic() + args.timeout
        timed_out = False
        while True:
            pid, wstatus, rusage = os.wait4(p.pid, os.WNOHANG)
            if pid == p.pid:
                break
            if time.monotonic() > deadline:
                timed_out = True
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                pid, wstatus, rusage = os.wait4(p.pid, 0)
                break
            time.sleep(0.01)
    if timed_out:
        status = 124
    elif os.WIFSIGNALED(wstatus):
        status = 128 + os.WTERMSIG(wstatus)
    else:
        status = os.WEXITSTATUS(wstatus)
    # Linux reports ru_maxrss in kilobytes.
    with open(args.report, "w") as f:
        f.write("status=%d maxrss_kb=%d timed_out=%d\n" % (status, rusage.ru_maxrss, int(timed_out)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
