import * as path from 'node:path';

/** Where the agent bundle sits next to the CLI bundle (injected whole by `attach`). */
export function agentBundlePath(): string {
  return path.join(__dirname, 'agent.js');
}

/** What NODE_OPTIONS preloads: the loader that runs the agent bundle with a code cache. */
export function agentLoaderPath(): string {
  return path.join(__dirname, 'agentLoader.js');
}

/** NODE_OPTIONS with the agent appended (never replaced: js-debug and others put their own there). */
export function nodeOptionsWithAgent(existing: string | undefined, agentPath: string): string {
  const quoted = `"${agentPath.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  // --inspect-publish-uid=http keeps Node from printing "Debugger listening on …" to the program's stderr.
  return [existing?.trim(), `--require ${quoted}`, '--inspect-publish-uid=http'].filter(Boolean).join(' ');
}
