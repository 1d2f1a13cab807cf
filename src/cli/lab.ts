/**
 * `advbias lab`: serves the browser lab (web/, built by `npm run build` into dist/web/) on
 * 127.0.0.1 until interrupted. A small static server on node:http: the lab is static files, and
 * everything it computes runs in the browser (the library in a Web Worker).
 */
import { createServer, type Server } from 'node:http';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname, join, normalize, sep } from 'node:path';
import { InputError, AdvbiasError } from '../errors.ts';
import { packageRoot } from '../node/package-root.ts';

export interface LabFlags {
  port?: string;
  host?: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.csv': 'text/csv; charset=utf-8',
  '.map': 'application/json',
};

/** The built lab's folder (dist/web/ under the package root). */
export function labRoot(): string {
  return join(packageRoot(), 'dist', 'web');
}

/**
 * Starts the static server on host:port (port 0: any free port) for the files under `root`;
 * resolves with the server and its URL once listening.
 */
export function startLabServer(root: string, host: string, port: number): Promise<{ server: Server; url: string }> {
  const base = normalize(root + sep);
  const server = createServer((req, res) => {
    try {
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
      let file = normalize(join(base, path));
      if (!file.startsWith(base)) {
        res.writeHead(403).end('forbidden');
        return;
      }
      if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
      if (!existsSync(file)) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${path}`);
        return;
      }
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-cache' });
      res.end(req.method === 'HEAD' ? undefined : readFileSync(file));
    } catch {
      res.writeHead(400).end('bad request');
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const addr = server.address();
      const p = typeof addr === 'object' && addr ? addr.port : port;
      resolve({ server, url: `http://${host.includes(':') ? `[${host}]` : host}:${p}/` });
    });
  });
}

export async function labCommand(flags: LabFlags): Promise<number> {
  const host = flags.host ?? '127.0.0.1';
  const portText = flags.port ?? '5178';
  const port = Number(portText);
  if (portText.trim() === '' || !Number.isInteger(port) || port < 0 || port > 65535) throw new InputError(`invalid --port "${portText}": must be an integer 0…65535 (0: any free port)`, 'port');
  const root = labRoot();
  if (!existsSync(join(root, 'index.html'))) throw new AdvbiasError(`the lab is not built (no ${join(root, 'index.html')}): run npm run build`);
  let started: { server: Server; url: string };
  try {
    started = await startLabServer(root, host, port);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new InputError(`--port ${port} is in use on ${host}: pick another, or --port 0 for any free port`, 'port');
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new InputError(`--host ${host} is not an address of this machine`, 'host');
    if (code === 'EACCES') throw new InputError(`--port ${port} needs privileges here: pick one above 1023`, 'port');
    throw e;
  }
  process.stdout.write(`advbias lab: ${started.url}  (Ctrl-C to stop)\n`);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      started.server.close(() => resolve());
      started.server.closeAllConnections();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return 0;
}
