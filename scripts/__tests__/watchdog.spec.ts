import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { eventually, isAlive } from './system';

/**
 * signalWhenWeDie (scripts/lib/watchdog.ts): a process whose parent died is signalled from outside, and killed when
 * it does not stop, even when its main thread never returns to its event loop.
 */
const WATCHDOG = join(__dirname, '..', 'lib', 'watchdog.ts');

/** A parent that starts `child` (a node -e script), watches it with `options`, prints the child's pid, then waits to be killed. */
function parentOf(child: string, options: object) {
  const script = `
    const { spawn } = require('node:child_process');
    const { signalWhenWeDie } = require(${JSON.stringify(WATCHDOG)});
    const child = spawn(process.execPath, ['-e', ${JSON.stringify(child)}], { stdio: 'ignore', detached: true });
    signalWhenWeDie(child.pid, ${JSON.stringify(options)});
    process.stdout.write(child.pid + '\\n');
    setInterval(() => undefined, 1000);`;
  const parent = spawn(process.execPath, ['--import', 'tsx', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const pid = new Promise<number>((resolve) => parent.stdout!.once('data', (chunk) => resolve(Number(String(chunk).trim()))));
  return { parent, pid };
}

const started = new Set<number>();
afterAll(() => {
  for (const pid of started) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
});

describe('signalWhenWeDie', () => {
  it('SIGKILLs a process stuck on its main thread (SIGTERM ignored, event loop never reached) once its parent is killed', async () => {
    // what a logger retrying a write to a full pipe does: the main thread waits on a futex and runs no handler
    const stuck = `process.on('SIGTERM', () => undefined); Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);`;
    const { parent, pid } = parentOf(stuck, { signal: 'TERM', group: true, killAfterS: 1 });
    const child = await pid;
    started.add(child);
    await new Promise((r) => setTimeout(r, 1500));
    expect(isAlive(child)).toBe(true); // the parent still lives: nothing is signalled
    parent.kill('SIGKILL');
    await eventually(`the stuck child ${child} gone`, () => !isAlive(child), 10_000);
  }, 30_000);

  it('a process that stops on SIGTERM is stopped by it, long before its SIGKILL would come', async () => {
    const { parent, pid } = parentOf(`process.on('SIGTERM', () => process.exit(0)); setInterval(() => undefined, 1000);`, { signal: 'TERM', group: true, killAfterS: 30 });
    const child = await pid;
    started.add(child);
    parent.kill('SIGKILL');
    // well before the 30 s of its SIGKILL: the SIGTERM did it
    await eventually(`child ${child} gone on SIGTERM`, () => !isAlive(child), 5_000);
  }, 30_000);
});
