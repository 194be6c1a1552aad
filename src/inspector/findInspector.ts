import * as fs from 'node:fs';

/**
 * Loopback TCP ports a process listens on, read from /proc (Linux): how `gridlock dump <pid>` finds
 * the inspector that the agent opened on a random port. Returns [] when /proc cannot tell.
 */
export function listeningLoopbackPorts(pid: number): number[] {
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
  const ports: number[] = [];
  for (const table of ['tcp', 'tcp6']) {
    let text: string;
    try {
      text = fs.readFileSync(`/proc/${pid}/net/${table}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10) continue;
      const [localAddress, , state] = [cols[1], cols[2], cols[3]];
      const inode = cols[9];
      if (state !== '0A' || !inodes.has(inode)) continue; // 0A: LISTEN
      const [hexIp, hexPort] = localAddress.split(':');
      if (!isLoopback(hexIp)) continue;
      ports.push(parseInt(hexPort, 16));
    }
  }
  return [...new Set(ports)];
}

function isLoopback(hexIp: string): boolean {
  if (hexIp.length === 8) return hexIp.endsWith('7F'); // 127.x.x.x, little-endian
  return hexIp === '00000000000000000000000001000000' || hexIp === '0000000000000000FFFF00000100007F';
}
