import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';

export const BIN = resolve('bin/vmshepherd.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI to completion. */
export function runCli(args: string[], cwd = process.cwd(), env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

/**
 * Starts the CLI as a daemon; `lines` collects its JSON log lines as they come, each with `receivedAt`
 * (epoch ms on this process's clock: the daemon's own `time` is wrong when its clock is stepped).
 */
export function startCli(
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv = {},
): { child: ChildProcess; lines: Record<string, unknown>[]; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, ...env } });
  const lines: Record<string, unknown>[] = [];
  let buffer = '';
  child.stdout!.on('data', (d) => {
    buffer += d;
    const parts = buffer.split('\n');
    buffer = parts.pop() ?? '';
    const receivedAt = Date.now();
    for (const part of parts) if (part.startsWith('{')) lines.push({ ...JSON.parse(part), receivedAt });
  });
  child.stderr!.on('data', (d) => process.stderr.write(d));
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  return { child, lines, exited };
}
