// Debug aid: node --import tsx test/helpers/showEvents.ts <fixture> [args] — prints the resource events.
import * as path from 'node:path';
import { run } from './agentHarness';

const RESOURCE = new Set(['resource-created', 'lock-wait', 'lock-acquired', 'lock-released', 'lock-wait-ended', 'queue-stats', 'pool-task', 'hello', 'drain', 'block']);
void (async () => {
  const result = await run(process.argv.slice(2).map((a, i) => (i === 0 ? path.resolve(a) : a)));
  console.log('code', result.code, 'stdout', JSON.stringify(result.stdout), 'stderr', result.stderr.slice(0, 2000));
  for (const e of result.events) {
    if (!RESOURCE.has(e.type)) continue;
    const { ts: _ts, sender: _s, stack: _st, ...rest } = e as unknown as Record<string, unknown>;
    const site = rest.site as { file: string; line: number } | undefined;
    if (site) rest.site = `${site.file.split('/').pop()}:${site.line}`;
    if (e.type === 'hello') console.log('hello', (e as { threadId: number }).threadId, JSON.stringify((e as { notes?: string[] }).notes ?? []));
    else console.log(JSON.stringify(rest));
  }
})();
