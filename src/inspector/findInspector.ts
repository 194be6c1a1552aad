import * as fs from 'node:fs';

/** A TCP socket a process listens on, read from /proc. */
export interface ListeningSocket {
  /** The local address as text: `127.0.0.1`, `0.0.0.0`, `::`, `::1`, `::ffff:127.0.0.1`. */
  address: string;
  port: number;
  family: 4 | 6;
  loopback: boolean;
}

/**
 * Every TCP socket a process listens on, on any address, read from /proc (Linux): the socket
 * inodes among its open descriptors, matched against /proc/<pid>/net/tcp and tcp6. Returns []
 * when /proc cannot tell (the process is gone, or belongs to someone else).
 */
export function listeningSockets(pid: number): ListeningSocket[] {
  let inodes: Set<string>;
  try {
    inodes = new Set(
      fs
        .readdirSync(`/proc/${pid}/fd`)
        .map((fd) => {
          try {
            return /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
          } catch {
            return undefined;
          }
        })
        .filter((x): x is string => x !== undefined),
    );
  } catch {
    return [];
  }
  const sockets: ListeningSocket[] = [];
  for (const table of ['tcp', 'tcp6'] as const) {
    let text: string;
    try {
      text = fs.readFileSync(`/proc/${pid}/net/${table}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10) continue;
      const [localAddress, state, inode] = [cols[1], cols[3], cols[9]];
      if (state !== '0A' || !inodes.has(inode)) continue; // 0A: LISTEN
      const [hexIp, hexPort] = localAddress.split(':');
      const address = hexIp.length === 8 ? ipv4(hexIp) : ipv6(hexIp);
      sockets.push({ address, port: parseInt(hexPort, 16), family: hexIp.length === 8 ? 4 : 6, loopback: isLoopbackAddress(address) });
    }
  }
  return sockets;
}

/**
 * Loopback TCP ports a process listens on, read from /proc (Linux): how `gridlock dump <pid>` finds
 * the inspector that the agent opened on a random port. Returns [] when /proc cannot tell.
 */
export function listeningLoopbackPorts(pid: number): number[] {
  return [...new Set(listeningSockets(pid).filter((s) => s.loopback).map((s) => s.port))];
}

/** 127.0.0.0/8, ::1, and 127.x mapped into IPv6. */
function isLoopbackAddress(address: string): boolean {
  return address.startsWith('127.') || address === '::1' || address.startsWith('::ffff:127.');
}

/** /proc's little-endian hex IPv4 as dotted text. */
function ipv4(hex: string): string {
  return [6, 4, 2, 0].map((i) => parseInt(hex.slice(i, i + 2), 16)).join('.');
}

/** /proc's hex IPv6 (four little-endian 32-bit words) as text, with `::` for the longest zero run. */
function ipv6(hex: string): string {
  const bytes: number[] = [];
  for (let word = 0; word < 4; word++) {
    const w = hex.slice(word * 8, word * 8 + 8);
    for (let i = 6; i >= 0; i -= 2) bytes.push(parseInt(w.slice(i, i + 2), 16));
  }
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) return `::ffff:${bytes.slice(12).join('.')}`;
  const groups = Array.from({ length: 8 }, (_, i) => ((bytes[2 * i] << 8) | bytes[2 * i + 1]).toString(16));
  let best = { start: -1, length: 0 };
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > best.length) best = { start: i, length: j - i };
    i = j;
  }
  if (best.length < 2) return groups.join(':');
  return `${groups.slice(0, best.start).join(':')}::${groups.slice(best.start + best.length).join(':')}`;
}
