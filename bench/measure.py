"""Tiny wrapper child for bench/runner.py: run one command as this process's only child and
write its rusage as JSON, so each tool's peak RSS is its own, not inherited from the benchmark.

(On Linux a child's ru_maxrss starts at the RSS of the process it was forked from, so the
benchmark's own ~60 MB would show in every tool; forked from this wrapper, run with
`python -I -S`, the floor is ~8 MB.) CPU is user+sys from getrusage(RUSAGE_CHILDREN) taken
after the child is reaped: the child, plus any children it reaped itself (e.g. workers).

    python -I -S bench/measure.py RESULT.json CMD [ARG...]
"""

import os
import resource
import sys
import time


def main() -> int:
    result, cmd = sys.argv[1], sys.argv[2:]
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        try:
            os.execvp(cmd[0], cmd)
        finally:
            os._exit(127)
    _, status = os.waitpid(pid, 0)
    wall = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    rc = os.waitstatus_to_exitcode(status)
    with open(result, "w") as fh:
        fh.write('{"rc": %d, "cpu_s": %.6f, "wall_s": %.6f, "maxrss_kb": %d}'
                 % (rc, usage.ru_utime + usage.ru_stime, wall, usage.ru_maxrss))
    return rc


if __name__ == "__main__":
    sys.exit(main())
