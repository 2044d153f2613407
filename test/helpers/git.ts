import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type Server } from 'node:net';
import { dirname, join } from 'node:path';
import { tempDir } from './tmp.js';

const AUTHOR = ['-c', 'user.name=vmshepherd test', '-c', 'user.email=test@vmshepherd.invalid'];

export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', [...AUTHOR, ...args], {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  }).trim();
}

/**
 * A real remote: a bare repository (`<root>/<name>.git`) and a work tree that commits and pushes to it,
 * as a team pushing preset changes would.
 */
export class GitRemote {
  readonly bare: string;
  readonly work: string;

  constructor(
    readonly root: string,
    readonly name = 'presets',
  ) {
    this.bare = join(root, `${name}.git`);
    this.work = join(root, `${name}-work`);
    mkdirSync(this.work, { recursive: true });
    execFileSync('git', ['init', '--quiet', '--bare', '--initial-branch=main', this.bare]);
    git(this.work, 'init', '--quiet', '--initial-branch=main');
    git(this.work, 'remote', 'add', 'origin', this.bare);
  }

  get url(): string {
    return `file://${this.bare}`;
  }

  /** Writes files (a null text removes the file), commits them and pushes; returns the commit id. */
  commit(files: Record<string, string | null>, branch = 'main', message = 'change presets'): string {
    this.checkout(branch);
    for (const [name, text] of Object.entries(files)) {
      const path = join(this.work, name);
      if (text === null) rmSync(path, { force: true });
      else {
        mkdirSync(dirname(path), { recursive: true });
        writeFileSync(path, text);
      }
    }
    git(this.work, 'add', '--all');
    git(this.work, 'commit', '--quiet', '--allow-empty', '-m', message);
    git(this.work, 'push', '--quiet', 'origin', branch);
    return git(this.work, 'rev-parse', 'HEAD');
  }

  /** Replaces the branch with one unrelated commit holding only `files` and force-pushes it. */
  forcePush(files: Record<string, string>, branch = 'main'): string {
    this.checkout(branch);
    git(this.work, 'checkout', '--quiet', '--orphan', 'rewrite');
    git(this.work, 'rm', '--quiet', '-r', '--force', '--ignore-unmatch', '.');
    for (const [name, text] of Object.entries(files)) {
      mkdirSync(dirname(join(this.work, name)), { recursive: true });
      writeFileSync(join(this.work, name), text);
    }
    git(this.work, 'add', '--all');
    git(this.work, 'commit', '--quiet', '--allow-empty', '-m', 'rewrite');
    git(this.work, 'branch', '--quiet', '-M', branch);
    git(this.work, 'push', '--quiet', '--force', 'origin', branch);
    return git(this.work, 'rev-parse', 'HEAD');
  }

  private checkout(branch: string): void {
    const branches = git(this.work, 'branch', '--list', branch);
    const hasCommits = git(this.work, 'rev-list', '--all', '--max-count=1') !== '';
    if (!hasCommits) {
      git(this.work, 'checkout', '--quiet', '--orphan', branch);
    } else if (branches === '') {
      git(this.work, 'checkout', '--quiet', '-b', branch);
    } else {
      git(this.work, 'checkout', '--quiet', branch);
    }
  }
}

export function gitRemote(name = 'presets'): GitRemote {
  return new GitRemote(tempDir(), name);
}

export interface RunningServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * `git daemon` serving every repository under `baseDir` over git:// on 127.0.0.1 and an ephemeral port:
 * a Node server takes the connections and hands each to `git daemon --inetd` (no port to guess).
 */
export async function gitDaemon(baseDir: string): Promise<RunningServer> {
  const sockets = new Set<import('node:net').Socket>();
  const server: Server = createNetServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    const child = spawn('git', ['daemon', '--inetd', '--export-all', `--base-path=${baseDir}`, baseDir], {
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    socket.pipe(child.stdin);
    child.stdout.pipe(socket);
    socket.on('error', () => child.kill());
    child.on('exit', () => socket.end());
  });
  const running = await listen(server, (port) => `git://127.0.0.1:${port}`);
  return {
    ...running,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await running.close();
    },
  };
}

/**
 * Smart HTTP through `git http-backend` (CGI) on 127.0.0.1 and an ephemeral port, with Basic
 * authentication when `auth` is given: a real git server that refuses wrong credentials.
 */
export async function gitHttpServer(
  baseDir: string,
  auth?: { username: string; password: string },
  delayMs = 0,
): Promise<RunningServer & { requests: string[]; maxInFlight: () => number }> {
  const requests: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const server = createHttpServer(async (req, res) => {
    requests.push(`${req.method} ${req.url} ${req.headers.authorization ?? ''}`);
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    res.on('close', () => inFlight--);
    if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
    if (auth) {
      const expected = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
      if (req.headers.authorization !== expected) {
        res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="git"' }).end('unauthorized');
        return;
      }
    }
    cgi(baseDir, req, res);
  });
  const running = await listen(server, (port) => `http://127.0.0.1:${port}`);
  return { ...running, requests, maxInFlight: () => maxInFlight };
}

function cgi(baseDir: string, req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const child = spawn('git', ['http-backend'], {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      GIT_PROJECT_ROOT: baseDir,
      GIT_HTTP_EXPORT_ALL: '1',
      REQUEST_METHOD: req.method ?? 'GET',
      PATH_INFO: decodeURIComponent(url.pathname),
      QUERY_STRING: url.search.slice(1),
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      REMOTE_USER: 'test',
      REMOTE_ADDR: '127.0.0.1',
      ...(req.headers['content-encoding']
        ? { HTTP_CONTENT_ENCODING: String(req.headers['content-encoding']) }
        : {}),
      ...(req.headers['git-protocol'] ? { GIT_PROTOCOL: String(req.headers['git-protocol']) } : {}),
    },
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  req.pipe(child.stdin);
  let head = Buffer.alloc(0);
  let headersDone = false;
  child.stdout.on('data', (chunk: Buffer) => {
    if (headersDone) {
      res.write(chunk);
      return;
    }
    head = Buffer.concat([head, chunk]);
    const end = head.indexOf('\r\n\r\n');
    if (end < 0) return;
    headersDone = true;
    let status = 200;
    for (const line of head.subarray(0, end).toString().split('\r\n')) {
      const i = line.indexOf(':');
      const name = line.slice(0, i).trim();
      const value = line.slice(i + 1).trim();
      if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10);
      else res.setHeader(name, value);
    }
    res.writeHead(status);
    res.write(head.subarray(end + 4));
  });
  child.on('close', () => res.end());
}

function listen(
  server: Server | ReturnType<typeof createHttpServer>,
  url: (port: number) => string,
): Promise<RunningServer> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      resolve({
        url: url(port),
        port,
        close: () =>
          new Promise<void>((done) => {
            (server as Server).close(() => done());
            (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
          }),
      });
    });
  });
}
