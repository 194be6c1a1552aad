import type * as Http from 'node:http';
import * as net from 'node:net';
import { describeNetError } from './wsTransport';

/** Options of {@link resolveInspectorTarget}. */
export interface ResolveTargetOptions {
  /**
   * Allow a host that is not loopback. The inspector runs any code it is sent, so by default
   * Gridlock only talks to 127.0.0.0/8, ::1 and localhost.
   */
  allowRemote?: boolean;
  /** Give up on /json/list after this long (default 3000 ms). */
  timeoutMs?: number;
}

/** A user's target string, understood. */
export type ParsedTarget =
  | { kind: 'ws'; url: string; host: string; port: number }
  | { kind: 'http'; host: string; port: number };

const DEFAULT_TIMEOUT_MS = 3000;
const MAX_LIST_BYTES = 1024 * 1024;

/** Matches Node's "Debugger listening on ws://…" line (stderr of `node --inspect`). */
const LISTENING_RE = /Debugger listening on (wss?:\/\/\S+)/;

/** The WebSocket URL in Node's "Debugger listening on ws://…" stderr line, if `text` holds one. */
export function parseListeningLine(text: string): string | undefined {
  return LISTENING_RE.exec(text)?.[1];
}

/** True for 127.0.0.0/8, ::1 (also as ::ffff:127.x) and `localhost`. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (net.isIPv4(h)) return h.startsWith('127.');
  if (net.isIPv6(h)) return h === '::1' || /^::ffff:127\./.test(h) || h === '0:0:0:0:0:0:0:1';
  return false;
}

function badTarget(target: string): Error {
  return new Error(`"${target}" is not an inspector address: give a port (9229), host:port (127.0.0.1:9229) or a ws:// URL`);
}

function checkPort(target: string, text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port < 1 || port > 65535) throw badTarget(target);
  return port;
}

/**
 * Parses `<port>` | `<host:port>` | `[v6]:port` | `http://host:port` | `ws://host:port/id`.
 * Throws an Error with one readable line when the string is none of these.
 */
export function parseTarget(target: string): ParsedTarget {
  const text = target.trim();
  if (/^\d+$/.test(text)) return { kind: 'http', host: '127.0.0.1', port: checkPort(target, text) };
  if (/^(wss?|https?):\/\//i.test(text)) {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw badTarget(target);
    }
    const scheme = url.protocol.slice(0, -1).toLowerCase();
    if (scheme === 'wss' || scheme === 'https') throw new Error(`"${target}": the Node inspector speaks plain ${scheme === 'wss' ? 'ws' : 'http'}, not ${scheme}`);
    const port = url.port ? checkPort(target, url.port) : 80;
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (scheme === 'ws') return { kind: 'ws', url: url.href, host, port };
    return { kind: 'http', host, port };
  }
  const v6 = /^\[([^\]]+)\]:(\d+)$/.exec(text);
  if (v6) return { kind: 'http', host: v6[1], port: checkPort(target, v6[2]) };
  const hp = /^([^:/\s]+):(\d+)$/.exec(text);
  if (hp) return { kind: 'http', host: hp[1], port: checkPort(target, hp[2]) };
  throw badTarget(target);
}

function hostPort(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

function refuseRemote(host: string, port: number): Error {
  return new Error(`refusing to connect to ${hostPort(host, port)}: not a loopback address, and the inspector runs any code it is sent (allow remote hosts explicitly to override)`);
}

/**
 * Turns a user's target string into the inspector's WebSocket URL, asking
 * `http://host:port/json/list` when needed. Rejects with one readable line: not loopback, nothing
 * listening, not a Node inspector, no answer in time.
 */
export async function resolveInspectorTarget(target: string, options: ResolveTargetOptions = {}): Promise<string> {
  const parsed = parseTarget(target);
  if (!options.allowRemote && !isLoopbackHost(parsed.host)) throw refuseRemote(parsed.host, parsed.port);
  if (parsed.kind === 'ws') return parsed.url;
  const list = await fetchJsonList(parsed.host, parsed.port, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const where = hostPort(parsed.host, parsed.port);
  if (!Array.isArray(list)) throw new Error(`${where} is not a Node inspector (/json/list is not a list of targets)`);
  const entries = list as Array<{ type?: unknown; webSocketDebuggerUrl?: unknown }>;
  const entry = entries.find((e) => typeof e?.webSocketDebuggerUrl === 'string' && (e.type === 'node' || e.type === undefined)) ?? entries.find((e) => typeof e?.webSocketDebuggerUrl === 'string');
  if (!entry) {
    throw new Error(list.length === 0 ? `${where} lists no debug target (is another debugger holding it?)` : `${where} is not a Node inspector (/json/list names no webSocketDebuggerUrl)`);
  }
  const url = entry.webSocketDebuggerUrl as string;
  // The URL comes from the remote side: check it too, so a loopback port cannot redirect us elsewhere.
  const resolved = parseTarget(url);
  if (resolved.kind !== 'ws') throw new Error(`${where} is not a Node inspector (bad webSocketDebuggerUrl ${url})`);
  if (!options.allowRemote && !isLoopbackHost(resolved.host)) throw refuseRemote(resolved.host, resolved.port);
  return url;
}

/**
 * node:http, loaded on the first request: `gridlock run` needs it only for a thread dump, and
 * loading it (with its dozen internal modules) would otherwise delay the program's start.
 */
function loadHttp(): typeof Http {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy load of a built-in
  return require('node:http') as typeof Http;
}

/** GET /json/list, parsed; rejects with one readable line. */
function fetchJsonList(host: string, port: number, timeoutMs: number): Promise<unknown> {
  const where = hostPort(host, port);
  const failure = new Error(`cannot read ${where}/json/list`);
  return new Promise((resolve, reject) => {
    const fail = (message: string): void => {
      clearTimeout(timer);
      request.destroy();
      failure.message = message;
      reject(failure);
    };
    const timer = setTimeout(() => fail(`no answer from ${where} within ${timeoutMs} ms (is the program stopped, or not a Node inspector?)`), timeoutMs);
    // The inspector refuses Host headers that are neither an IP nor localhost (DNS rebinding guard).
    const request = loadHttp().get({ host, port, path: '/json/list', headers: { host: hostPort(host, port) }, agent: false }, (response) => {
      if (response.statusCode !== 200) {
        response.resume();
        fail(`${where} is not a Node inspector (HTTP ${response.statusCode} for /json/list)`);
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_LIST_BYTES) fail(`${where} is not a Node inspector (/json/list is too large)`);
        else chunks.push(chunk);
      });
      response.on('error', (error) => fail(describeNetError(error, where)));
      response.on('end', () => {
        clearTimeout(timer);
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } catch {
          failure.message = `${where} is not a Node inspector (/json/list is not JSON)`;
          reject(failure);
        }
      });
    });
    request.on('error', (error) => fail(describeNetError(error, where)));
  });
}
