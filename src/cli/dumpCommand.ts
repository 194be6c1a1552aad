import * as fs from 'node:fs';
import { EXIT_UNREACHABLE } from '../protocol/report';
import { listeningLoopbackPorts } from '../inspector/findInspector';
import { resolveInspectorTarget } from '../inspector/inspectorTarget';
import { takeThreadDump, type ThreadDumpEntry } from '../inspector/threadDump';
import type { StackFrames } from '../protocol/agentEvents';

/** `gridlock dump <pid|port|host:port|ws-url>`: a thread dump of every thread, like jstack. */
export async function dumpCommand(args: { target: string; json: boolean }): Promise<number> {
  let url: string;
  try {
    url = await targetUrl(args.target);
  } catch (error) {
    process.stderr.write(`gridlock: ${(error as Error).message}\n`);
    return EXIT_UNREACHABLE;
  }
  let dump;
  try {
    dump = await takeThreadDump(url, { timeoutMs: 5000 });
  } catch (error) {
    process.stderr.write(`gridlock: cannot take a thread dump from ${url}: ${(error as Error).message}\n`);
    return EXIT_UNREACHABLE;
  }
  if (args.json) {
    process.stdout.write(JSON.stringify(dump, null, 2) + '\n');
    return 0;
  }
  const out: string[] = [`Thread dump of ${args.target} (${url}) at ${new Date().toISOString()}`, ''];
  for (const t of dump.threads) {
    out.push(`"${t.name}" thread ${t.threadId}${t.error ? ` — ${t.error}` : t.state ? ` — ${stateText(t)}` : ''}`);
    out.push(...formatStack(t.stack ?? []), '');
  }
  for (const note of dump.notes) out.push(`note: ${note}`, '');
  process.stdout.write(out.join('\n'));
  return 0;
}

/** A number is a pid when such a process exists and listens on loopback; otherwise a port. */
async function targetUrl(target: string): Promise<string> {
  if (/^\d+$/.test(target) && fs.existsSync(`/proc/${target}`)) {
    const ports = listeningLoopbackPorts(Number(target));
    if (ports.length === 0) {
      throw new Error(`process ${target} has no inspector open on loopback. Run it under \`gridlock run\`, or start it with --inspect=127.0.0.1:0 (or send it SIGUSR1).`);
    }
    const errors: string[] = [];
    for (const port of ports) {
      try {
        return await resolveInspectorTarget(String(port));
      } catch (error) {
        errors.push((error as Error).message);
      }
    }
    // Ports that answered as something else are not news; a port that did not answer at all
    // (a stopped program, a busy one) is: say what happened there.
    const telling = errors.filter((e) => !/is not a Node inspector|lists no debug target/.test(e));
    if (telling.length > 0) throw new Error(`process ${target}: ${telling.join('; ')}`);
    throw new Error(`process ${target} listens on ${ports.join(', ')}, but none is a Node inspector`);
  }
  if (/^\d+$/.test(target) && Number(target) > 65535) throw new Error(`there is no process ${target}, and it is not a port either`);
  return resolveInspectorTarget(target);
}

function stateText(t: ThreadDumpEntry): string {
  if (t.state === 'blocked') return `blocked in ${t.blockedIn ?? 'a wait'}`;
  if (t.state === 'idle') return 'idle (its event loop waits)';
  return 'running';
}

/** Stack frames as `    at fn (file:line:column)` lines. */
export function formatStack(stack: StackFrames): string[] {
  if (stack.length === 0) return ['    (no JavaScript frames)'];
  return stack.map((f) => `    at ${f.functionName ? `${f.functionName} ` : ''}(${f.file}:${f.line}:${f.column})`);
}
