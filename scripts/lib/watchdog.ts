import { spawn } from 'node:child_process';

/**
 * A watcher that signals a process when this process's end of its pipe closes, that is when this process is gone,
 * however it went (SIGKILL included): `signal` at once, then SIGKILL after `killAfterS` seconds if it still runs, so a
 * process whose event loop is stuck (say, a logger waiting on a pipe nobody reads) cannot keep itself alive.
 * It is a small `sh`, in a process group of its own, outside every process it watches. `group`: the signals go to the
 * process group `pid` leads. `release()` ends it without a word once the process stopped normally: closing its pipe
 * then would signal a pid that may no longer be the process's.
 */
export function signalWhenWeDie(pid: number, options: { signal: 'INT' | 'TERM'; group?: boolean; killAfterS?: number }): { release(): void } {
  const target = options.group ? `-${pid}` : String(pid);
  const script = [
    'read _ignored',
    `kill -${options.signal} "$1" 2>/dev/null || exit 0`,
    ...(options.killAfterS
      ? [
          // tenths of a second, until the process is gone (reaped) or the time is up
          'i=0',
          `while kill -0 "$2" 2>/dev/null && [ "$i" -lt ${Math.round(options.killAfterS * 10)} ]; do sleep 0.1; i=$((i + 1)); done`,
          'kill -0 "$2" 2>/dev/null && kill -KILL "$1" 2>/dev/null',
        ]
      : []),
  ].join('\n');
  const watcher = spawn('sh', ['-c', script, 'sh', target, String(pid)], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
  watcher.on('error', () => undefined);
  watcher.unref();
  return { release: () => void watcher.kill('SIGKILL') };
}
