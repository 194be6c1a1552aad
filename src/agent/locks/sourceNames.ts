/**
 * Readable names for resources, read from the program's source lines: the variable or property a
 * creating line assigns to (`const ledger = new Mutex()`), or the receiver of a call on the
 * resource (`lock.acquireAsync()`). Files and names are cached, both caches bounded.
 */
import type { SourceSite } from '../../protocol/agentEvents';
import type { BuiltinMap } from '../builtins';

const MAX_CACHED_FILES = 64;
const MAX_CACHED_NAMES = 1024;

/** Ways a creating line names what it creates, most specific first. */
const DECLARATIONS = [/\b(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*(?::[^=]*)?=(?!=)/, /\bthis\.(#?[A-Za-z_$][\w$]*)\s*=(?!=)/, /([A-Za-z_$][\w$]*)\s*:\s*(?:new\b|[\w$.]+\()/, /([A-Za-z_$][\w$.]*)\s*=(?!=)\s*(?:new\b|[\w$.]+\()/];
const RECEIVER = /([A-Za-z_$#][\w$.#]*)\s*\.\s*(?:acquire|acquireAsync|runExclusive|tryAcquire|request|add|push|run|exec|lock)\b/;

export class SourceNames {
  private readonly files = new Map<string, string[] | null>();
  private readonly names = new Map<string, string | null>();

  constructor(private readonly fs: BuiltinMap['fs'] | undefined) {}

  /** The name the line at `site` declares (what a creating line assigns to). */
  declaredAt(site: SourceSite | undefined): string | undefined {
    return this.nameAt(site, 'd', (line) => line, DECLARATIONS);
  }

  /** The receiver of the call at `site` (the 80 characters before its column). */
  receiverAt(site: SourceSite | undefined): string | undefined {
    return this.nameAt(site, 'r', (line, column) => line.slice(Math.max(0, column - 80)), [RECEIVER]);
  }

  /** The source line at `site` (cached per file), when the file can be read. */
  lineAt(site: SourceSite): string | undefined {
    try {
      return this.line(site.file, site.line);
    } catch {
      return undefined;
    }
  }

  private nameAt(site: SourceSite | undefined, kind: string, part: (line: string, column: number) => string, patterns: RegExp[]): string | undefined {
    if (site === undefined) return undefined;
    const cacheKey = `${kind}${site.file}:${site.line}:${site.column}`;
    const cached = this.names.get(cacheKey);
    if (cached !== undefined) return cached ?? undefined;
    let name: string | null = null;
    try {
      const line = this.line(site.file, site.line);
      if (line !== undefined) {
        const text = part(line, site.column);
        for (const candidate of patterns) {
          const match = candidate.exec(text);
          if (match !== null) {
            name = match[1];
            break;
          }
        }
      }
    } catch {
      name = null;
    }
    if (this.names.size >= MAX_CACHED_NAMES) this.names.clear();
    this.names.set(cacheKey, name);
    return name ?? undefined;
  }

  private line(file: string, line: number): string | undefined {
    let lines = this.files.get(file);
    if (lines === undefined) {
      lines = null;
      try {
        let path = file;
        if (path.startsWith('file://')) path = decodeURIComponent(new URL(path).pathname);
        if (this.fs !== undefined && path.startsWith('/')) lines = this.fs.readFileSync(path, 'utf8').split('\n');
      } catch {
        lines = null;
      }
      if (this.files.size >= MAX_CACHED_FILES) this.files.clear();
      this.files.set(file, lines);
    }
    return lines?.[line - 1];
  }
}
