// CPU pinning for the load tests (bench/run.mjs, bench/frameworks.mjs): servers on CPU 0, this
// process (autocannon) on CPU 1, so the load generator and the server under test do not take
// turns on one core and the per-round spread narrows.
import { execFileSync, fork, spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';

/**
 * Pin this process to CPU 1 when `mode` allows it: `auto` pins where Linux's taskset exists and
 * there are two CPUs or more, `off` never pins. Returns whether it pinned.
 */
export function pinDriver(mode) {
  if (mode === 'off' || availableParallelism() < 2) return false;
  try {
    execFileSync('taskset', ['-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Start a server script with an IPC channel, on CPU 0 when `pinned`. */
export function startServerProcess(script, options, pinned, execArgv = []) {
  return pinned ? spawn('taskset', ['-c', '0', process.execPath, ...execArgv, script], options) : fork(script, { ...options, execArgv });
}
