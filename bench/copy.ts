import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Client } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

/** One value in PostgreSQL's COPY text format (tab-separated, \N for null). */
export function copyValue(value: string | number | boolean | Date | null | undefined): string {
  if (value === null || value === undefined) return '\\N';
  if (typeof value === 'boolean') return value ? 't' : 'f';
  if (typeof value === 'number') return String(value);
  if (value instanceof Date) return value.toISOString();
  return /[\\\t\n\r]/.test(value) ? value.replace(/[\\\t\n\r]/g, (c) => ({ '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' })[c]!) : value;
}

/** A table being loaded, as the progress line shows it. */
interface TableState {
  table: string;
  expected: number;
  rows: number;
  startedAt: number;
  finishedAt?: number;
}

const number = (n: number) => Math.round(n).toLocaleString('en-US');
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/**
 * Progress of the tables being loaded: a live line (rewritten in place on a terminal, every few seconds
 * otherwise) and one permanent line per table when it is done.
 */
export class LoadProgress {
  private readonly tables: TableState[] = [];
  private readonly timer: NodeJS.Timeout;
  private lastPlain = 0;
  readonly startedAt = Date.now();

  constructor(private readonly out: NodeJS.WriteStream = process.stdout) {
    this.timer = setInterval(() => this.render(), 500);
  }

  begin(table: string, expected: number): TableState {
    const state: TableState = { table, expected, rows: 0, startedAt: Date.now() };
    this.tables.push(state);
    return state;
  }

  finish(state: TableState): void {
    state.finishedAt = Date.now();
    const took = state.finishedAt - state.startedAt;
    this.clearLine();
    this.out.write(
      `  ${state.table.padEnd(34)} ${number(state.rows).padStart(10)} rows in ${seconds(took).padStart(7)}` +
        `  ${number(state.rows / Math.max(took / 1000, 0.001)).padStart(9)} rows/s   elapsed ${seconds(Date.now() - this.startedAt)}\n`,
    );
  }

  stop(): void {
    clearInterval(this.timer);
    this.clearLine();
  }

  private clearLine(): void {
    if (this.out.isTTY) this.out.write('\r\x1b[K');
  }

  private render(): void {
    const running = this.tables.filter((t) => t.finishedAt === undefined);
    if (!running.length) return;
    const parts = running.map((t) => {
      const took = Math.max((Date.now() - t.startedAt) / 1000, 0.001);
      const pct = t.expected ? ` ${Math.min(100, Math.floor((t.rows / t.expected) * 100))}%` : '';
      return `${t.table} ${number(t.rows)}/${number(t.expected)}${pct} ${number(t.rows / took)} rows/s`;
    });
    const line = `  … ${parts.join(' | ')}   elapsed ${seconds(Date.now() - this.startedAt)}`;
    if (this.out.isTTY) {
      this.out.write(`\r\x1b[K${line.slice(0, (this.out.columns ?? 200) - 1)}`);
    } else if (Date.now() - this.lastPlain >= 5000) {
      this.lastPlain = Date.now();
      this.out.write(`${line}\n`);
    }
  }
}

/** Groups lines into ~64 KiB chunks (the stream's unit), counting rows as they are produced. */
function* chunked(lines: Iterable<string>, state: TableState): Generator<string> {
  let chunk = '';
  for (const line of lines) {
    chunk += line;
    state.rows++;
    if (chunk.length >= 65_536) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}

/**
 * Streams rows into a table with `COPY … FROM STDIN` (text format). `lines` is a lazy generator of
 * tab-separated lines ending in "\n": only a few chunks are ever in memory.
 */
export async function copyInto(
  client: Client,
  progress: LoadProgress,
  table: string,
  columns: readonly string[],
  expectedRows: number,
  lines: Iterable<string>,
): Promise<number> {
  const state = progress.begin(table, expectedRows);
  const sql = `COPY ${table} (${columns.join(', ')}) FROM STDIN`;
  await pipeline(Readable.from(chunked(lines, state)), client.query(copyFrom(sql)));
  progress.finish(state);
  return state.rows;
}
