/**
 * Tests of `tandem console`: an HTTPS client that trusts only the federation
 * CA and checks the server's certificate names the node (as a browser
 * would), and the console run as its own process, with the login link it
 * prints read from its stdout.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { request as httpsRequest } from 'node:https';
import { readFileSync } from 'node:fs';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import { resolve } from 'node:path';

const BIN = resolve(import.meta.dirname, '..', '..', 'bin', 'tandem.mjs');

export type ConsoleResponse = {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly text: string;
  readonly json: unknown;
  readonly peer: PeerCertificate;
};

export type ConsoleRequest = {
  readonly method?: 'GET' | 'POST';
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: unknown;
  /** Client certificate and key (PEM files). */
  readonly cert?: string;
  readonly key?: string;
};

/**
 * One request to a console on 127.0.0.1:`port`, checking its certificate
 * against `caFile` for the host name `node` (the name on the certificate).
 */
export function consoleRequest(
  port: number,
  node: string,
  caFile: string,
  path: string,
  r: ConsoleRequest = {},
): Promise<ConsoleResponse> {
  const body = r.body === undefined ? undefined : JSON.stringify(r.body);
  return new Promise((done, fail) => {
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port,
        path,
        method: r.method ?? 'GET',
        servername: node,
        ca: readFileSync(caFile),
        agent: false,
        headers: {
          host: `${node}:${port}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...r.headers,
        },
        ...(r.cert === undefined ? {} : { cert: readFileSync(r.cert), key: readFileSync(r.key ?? '') }),
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => {
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          done({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text,
            json,
            peer: (res.socket as TLSSocket).getPeerCertificate(),
          });
        });
      },
    );
    req.on('error', fail);
    req.end(body);
  });
}

export type ConsoleProcess = {
  readonly child: ChildProcess;
  readonly link: string;
  readonly port: number;
  readonly stdout: () => string;
  stop(): Promise<void>;
};

/** Runs `tandem console …` and waits for the login link it prints. */
export function startConsoleProcess(args: readonly string[], timeoutMs = 30_000): Promise<ConsoleProcess> {
  const child = spawn(process.execPath, [BIN, 'console', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, FORCE_COLOR: '0' },
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((done, fail) => {
    const timer = setTimeout(
      () => fail(new Error(`no login link within ${timeoutMs} ms; stdout:\n${stdout}\nstderr:\n${stderr}`)),
      timeoutMs,
    );
    child.on('exit', (code) => fail(new Error(`tandem console exited with ${code}:\n${stderr}`)));
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      const link = /https:\/\/[^\s]+\/login\?token=[\w-]+/.exec(stdout)?.[0];
      if (link === undefined) return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      done({
        child,
        link,
        port: Number(new URL(link).port),
        stdout: () => stdout,
        stop: () =>
          new Promise<void>((stopped) => {
            if (child.exitCode !== null || child.signalCode !== null) return stopped();
            child.once('exit', () => stopped());
            child.kill('SIGTERM');
          }),
      });
    });
  });
}

/** The session cookie a login answer sets, as a Cookie header. */
export function sessionCookieOf(response: ConsoleResponse): string {
  const set = response.headers['set-cookie'];
  const line = (Array.isArray(set) ? set : [set ?? '']).find((l) => l.startsWith('__Host-tandem-console='));
  if (line === undefined) throw new Error(`no session cookie in ${JSON.stringify(response.headers)}`);
  return line.split(';')[0] ?? '';
}
