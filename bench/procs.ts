/**
 * CPU time per process from /proc (Linux): every service of the stack, PostgreSQL (the postmaster, its live
 * backends and, through cutime/cstime, the backends that already exited), the peers the bench starts, and the
 * bench itself (the load generator, from process.cpuUsage). Elsewhere than Linux, CPU columns stay empty.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = (() => {
  const out = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim();
  const n = Number(out);
  return Number.isFinite(n) && n > 0 ? n : 100;
})();

export const cpuFromProc = existsSync('/proc/self/stat');

interface Stat {
  ppid: number;
  /** utime + stime, ms */
  self: number;
  /** cutime + cstime (children waited for), ms */
  children: number;
}

function readStat(pid: number): Stat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command (field 2) is in parentheses and may hold spaces: the fields after the last ')' are fixed
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state): ppid is field 4, utime 14, stime 15, cutime 16, cstime 17
    const tick = 1000 / TICKS_PER_SECOND;
    return {
      ppid: Number(fields[1]),
      self: (Number(fields[11]) + Number(fields[12])) * tick,
      children: (Number(fields[13]) + Number(fields[14])) * tick,
    };
  } catch {
    return undefined;
  }
}

function allStats(): Map<number, Stat> {
  const stats = new Map<number, Stat>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readStat(Number(name));
    if (stat) stats.set(Number(name), stat);
  }
  return stats;
}

export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '';
  }
}

/** A name for each process the bench measures, by pid (a process and everything under it count as one). */
export type Processes = Map<string, number>;

/**
 * The stack's processes under start.ts (`rootPid`): gateway, each subgraph by name, PostgreSQL; anything else
 * start.ts runs (its watcher shell) is left out.
 */
export function stackProcesses(rootPid: number): Processes {
  const found: Processes = new Map();
  if (!cpuFromProc) return found;
  for (const [pid, stat] of allStats()) {
    if (stat.ppid !== rootPid) continue;
    const command = commandLine(pid);
    const subgraph = /subgraphs\/(\w+)\/src\/main\.ts/.exec(command)?.[1];
    if (subgraph) found.set(subgraph, pid);
    else if (/gateway\/src\/main\.ts/.test(command)) found.set('gateway', pid);
    else if (/\/postgres(\s|$)/.test(command) || /\bpostgres\b.*-D\s/.test(command)) found.set('postgresql', pid);
  }
  return found;
}

/** CPU ms per name: each process with its live descendants and the children it has reaped; 'bench' is this process. */
export type CpuSnapshot = Record<string, number>;

export function cpuSnapshot(processes: Processes): CpuSnapshot {
  const snapshot: CpuSnapshot = {};
  const usage = process.cpuUsage();
  snapshot.bench = (usage.user + usage.system) / 1000;
  if (!cpuFromProc) return snapshot;
  const stats = allStats();
  const childrenOf = new Map<number, number[]>();
  for (const [pid, stat] of stats) {
    const list = childrenOf.get(stat.ppid);
    if (list) list.push(pid);
    else childrenOf.set(stat.ppid, [pid]);
  }
  const total = (pid: number): number => {
    const stat = stats.get(pid);
    if (!stat) return 0;
    return stat.self + stat.children + (childrenOf.get(pid) ?? []).reduce((sum, child) => sum + total(child), 0);
  };
  for (const [name, pid] of processes) snapshot[name] = total(pid);
  return snapshot;
}

export function cpuDelta(before: CpuSnapshot, after: CpuSnapshot): CpuSnapshot {
  const delta: CpuSnapshot = {};
  for (const name of Object.keys(after)) delta[name] = Math.max(0, after[name] - (before[name] ?? 0));
  return delta;
}

/** Proportional set size (shared pages split among the processes sharing them), MiB, of each process with its descendants. */
export function memorySnapshot(processes: Processes): Record<string, number> {
  const result: Record<string, number> = {};
  if (!cpuFromProc) return result;
  const stats = allStats();
  const childrenOf = new Map<number, number[]>();
  for (const [pid, stat] of stats) childrenOf.set(stat.ppid, [...(childrenOf.get(stat.ppid) ?? []), pid]);
  const pss = (pid: number): number => {
    let kib = 0;
    try {
      kib = Number(/^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0);
    } catch {
      // gone, or not ours
    }
    return kib / 1024 + (childrenOf.get(pid) ?? []).reduce((sum, child) => sum + pss(child), 0);
  };
  for (const [name, pid] of processes) result[name] = pss(pid);
  return result;
}
