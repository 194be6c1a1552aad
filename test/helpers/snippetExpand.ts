// Expands a VS Code snippet body the way the editor inserts it when the user accepts every
// default: tab stops and placeholders take their default text (the first placeholder of an index
// that has a default gives it to every other one of that index), a choice takes its first option,
// `$0` is empty, variables take the values given (unknown ones insert their own name, as VS Code
// does), transforms are applied, and `\$`, `\}`, `\\` are unescaped.
// Grammar: https://code.visualstudio.com/docs/editor/userdefinedsnippets#_grammar

type SnippetNode =
  | { kind: 'text'; value: string }
  | { kind: 'tabstop'; index: number; children: SnippetNode[] | undefined; transform: Transform | undefined }
  | { kind: 'choice'; index: number; options: string[] }
  | { kind: 'variable'; name: string; children: SnippetNode[] | undefined; transform: Transform | undefined };

interface Transform {
  regex: RegExp;
  format: FormatPart[];
}

type FormatPart =
  | { kind: 'text'; value: string }
  | { kind: 'group'; group: number; modifier: string | undefined; ifText: string | undefined; elseText: string | undefined };

export interface ExpandOptions {
  /** Values of snippet variables (`$TM_FILENAME`, `${CURRENT_YEAR}`, …). */
  variables?: Record<string, string>;
}

/** Expands a snippet body (a string, or the array of lines of a .code-snippets entry). */
export function expandSnippet(body: string | readonly string[], options: ExpandOptions = {}): string {
  const text = typeof body === 'string' ? body : body.join('\n');
  const parser = new Parser(text);
  const nodes = parser.parseAny(false);
  const defaults = new Map<number, SnippetNode[]>();
  collectDefaults(nodes, defaults);
  return render(nodes, { defaults, variables: options.variables ?? {}, active: new Set() });
}

class Parser {
  private pos = 0;
  constructor(private readonly text: string) {}

  /** Parses until the end, or until an unescaped `}` when `inside` (the `}` is not consumed). */
  parseAny(inside: boolean): SnippetNode[] {
    const nodes: SnippetNode[] = [];
    let text = '';
    const flush = (): void => {
      if (text !== '') nodes.push({ kind: 'text', value: text });
      text = '';
    };
    while (this.pos < this.text.length) {
      const c = this.text[this.pos];
      if (c === '\\' && '$}\\'.includes(this.text[this.pos + 1] ?? 'x')) {
        text += this.text[this.pos + 1];
        this.pos += 2;
      } else if (c === '}' && inside) {
        break;
      } else if (c === '$') {
        const start = this.pos;
        const node = this.parseDollar();
        if (node) {
          flush();
          nodes.push(node);
        } else {
          this.pos = start + 1; // not a tab stop or variable: a literal `$`, as VS Code does
          text += '$';
        }
      } else {
        text += c;
        this.pos += 1;
      }
    }
    flush();
    return nodes;
  }

  /** At a `$`: a tab stop, placeholder, choice or variable, or undefined (then nothing was consumed for good). */
  private parseDollar(): SnippetNode | undefined {
    const t = this.text;
    this.pos += 1;
    const index = this.match(/[0-9]+/y);
    if (index !== undefined) return { kind: 'tabstop', index: Number(index), children: undefined, transform: undefined };
    const name = this.match(/[_a-zA-Z][_a-zA-Z0-9]*/y);
    if (name !== undefined) return { kind: 'variable', name, children: undefined, transform: undefined };
    if (t[this.pos] !== '{') return undefined;
    this.pos += 1;
    const braced = this.match(/[0-9]+/y);
    if (braced !== undefined) {
      const n = Number(braced);
      if (this.eat('}')) return { kind: 'tabstop', index: n, children: undefined, transform: undefined };
      if (this.eat(':')) {
        const children = this.parseAny(true);
        return this.eat('}') ? { kind: 'tabstop', index: n, children, transform: undefined } : undefined;
      }
      if (this.eat('|')) {
        const options = this.parseChoice();
        return options ? { kind: 'choice', index: n, options } : undefined;
      }
      if (t[this.pos] === '/') {
        const transform = this.parseTransform();
        return transform ? { kind: 'tabstop', index: n, children: undefined, transform } : undefined;
      }
      return undefined;
    }
    const variable = this.match(/[_a-zA-Z][_a-zA-Z0-9]*/y);
    if (variable === undefined) return undefined;
    if (this.eat('}')) return { kind: 'variable', name: variable, children: undefined, transform: undefined };
    if (this.eat(':')) {
      const children = this.parseAny(true);
      return this.eat('}') ? { kind: 'variable', name: variable, children, transform: undefined } : undefined;
    }
    if (t[this.pos] === '/') {
      const transform = this.parseTransform();
      return transform ? { kind: 'variable', name: variable, children: undefined, transform } : undefined;
    }
    return undefined;
  }

  /** After `${n|`: options separated by `,`, ended by `|}`; `\,` `\|` `\\` are escapes. */
  private parseChoice(): string[] | undefined {
    const options: string[] = [];
    let current = '';
    while (this.pos < this.text.length) {
      const c = this.text[this.pos];
      if (c === '\\' && ',|\\$}'.includes(this.text[this.pos + 1] ?? 'x')) {
        current += this.text[this.pos + 1];
        this.pos += 2;
      } else if (c === ',') {
        options.push(current);
        current = '';
        this.pos += 1;
      } else if (c === '|' && this.text[this.pos + 1] === '}') {
        options.push(current);
        this.pos += 2;
        return options;
      } else {
        current += c;
        this.pos += 1;
      }
    }
    return undefined;
  }

  /** At `/`: `/regex/format/options}` (the closing `}` is consumed). */
  private parseTransform(): Transform | undefined {
    this.pos += 1;
    const regex = this.until('/', true);
    if (regex === undefined) return undefined;
    const format = this.parseFormat();
    if (format === undefined) return undefined;
    const flags = this.match(/[a-z]*/y) ?? '';
    if (!this.eat('}')) return undefined;
    try {
      return { regex: new RegExp(regex, flags), format };
    } catch {
      return undefined;
    }
  }

  /** A transform's format up to the next unescaped `/` (consumed). */
  private parseFormat(): FormatPart[] | undefined {
    const parts: FormatPart[] = [];
    let text = '';
    while (this.pos < this.text.length) {
      const c = this.text[this.pos];
      if (c === '\\' && '/$\\}'.includes(this.text[this.pos + 1] ?? 'x')) {
        text += this.text[this.pos + 1];
        this.pos += 2;
        continue;
      }
      if (c === '/') {
        this.pos += 1;
        if (text) parts.push({ kind: 'text', value: text });
        return parts;
      }
      if (c === '$') {
        const start = this.pos;
        const part = this.parseFormatGroup();
        if (part) {
          if (text) parts.push({ kind: 'text', value: text });
          text = '';
          parts.push(part);
          continue;
        }
        this.pos = start;
      }
      text += c;
      this.pos += 1;
    }
    return undefined;
  }

  private parseFormatGroup(): FormatPart | undefined {
    this.pos += 1;
    const bare = this.match(/[0-9]+/y);
    if (bare !== undefined) return { kind: 'group', group: Number(bare), modifier: undefined, ifText: undefined, elseText: undefined };
    if (!this.eat('{')) return undefined;
    const group = this.match(/[0-9]+/y);
    if (group === undefined) return undefined;
    const n = Number(group);
    if (this.eat('}')) return { kind: 'group', group: n, modifier: undefined, ifText: undefined, elseText: undefined };
    if (!this.eat(':')) return undefined;
    if (this.eat('/')) {
      const modifier = this.match(/upcase|downcase|capitalize|camelcase|pascalcase/y);
      return modifier !== undefined && this.eat('}') ? { kind: 'group', group: n, modifier, ifText: undefined, elseText: undefined } : undefined;
    }
    if (this.eat('+')) {
      const ifText = this.until('}', false);
      return ifText === undefined ? undefined : { kind: 'group', group: n, modifier: undefined, ifText, elseText: undefined };
    }
    if (this.eat('?')) {
      const ifText = this.until(':', false);
      const elseText = ifText === undefined ? undefined : this.until('}', false);
      return elseText === undefined ? undefined : { kind: 'group', group: n, modifier: undefined, ifText, elseText };
    }
    this.eat('-');
    const elseText = this.until('}', false);
    return elseText === undefined ? undefined : { kind: 'group', group: n, modifier: undefined, ifText: undefined, elseText };
  }

  /** Text up to an unescaped `end` (consumed); in a regex, escapes other than `\/` are kept for RegExp. */
  private until(end: string, regex: boolean): string | undefined {
    let out = '';
    while (this.pos < this.text.length) {
      const c = this.text[this.pos];
      if (c === '\\' && this.pos + 1 < this.text.length) {
        const next = this.text[this.pos + 1];
        out += next === end || (!regex && '\\$}'.includes(next)) ? next : c + next;
        this.pos += 2;
      } else if (c === end) {
        this.pos += 1;
        return out;
      } else {
        out += c;
        this.pos += 1;
      }
    }
    return undefined;
  }

  private match(pattern: RegExp): string | undefined {
    pattern.lastIndex = this.pos;
    const m = pattern.exec(this.text);
    if (!m || m[0] === '') return undefined;
    this.pos += m[0].length;
    return m[0];
  }

  private eat(s: string): boolean {
    if (!this.text.startsWith(s, this.pos)) return false;
    this.pos += s.length;
    return true;
  }
}

/** In document order, the first placeholder (or choice) of each index with a default defines it. */
function collectDefaults(nodes: SnippetNode[], defaults: Map<number, SnippetNode[]>): void {
  for (const node of nodes) {
    if (node.kind === 'tabstop') {
      if (node.children && node.children.length > 0 && node.index !== 0 && !defaults.has(node.index)) defaults.set(node.index, node.children);
      if (node.children) collectDefaults(node.children, defaults);
    } else if (node.kind === 'choice') {
      if (!defaults.has(node.index)) defaults.set(node.index, [{ kind: 'text', value: node.options[0] ?? '' }]);
    } else if (node.kind === 'variable' && node.children) {
      collectDefaults(node.children, defaults);
    }
  }
}

interface RenderState {
  defaults: Map<number, SnippetNode[]>;
  variables: Record<string, string>;
  active: Set<number>;
}

function render(nodes: SnippetNode[], state: RenderState): string {
  let out = '';
  for (const node of nodes) {
    switch (node.kind) {
      case 'text':
        out += node.value;
        break;
      case 'choice':
        out += node.options[0] ?? '';
        break;
      case 'tabstop': {
        let value = '';
        if (node.index === 0) {
          value = node.children ? render(node.children, state) : '';
        } else if (!state.active.has(node.index)) {
          // Guard against a placeholder that contains its own index.
          state.active.add(node.index);
          const children = state.defaults.get(node.index);
          value = children ? render(children, state) : '';
          state.active.delete(node.index);
        }
        out += node.transform ? applyTransform(value, node.transform) : value;
        break;
      }
      case 'variable': {
        const known = Object.prototype.hasOwnProperty.call(state.variables, node.name);
        const value = known ? (state.variables[node.name] ?? '') : undefined;
        if (node.transform) out += applyTransform(value ?? '', node.transform);
        else if (value) out += value;
        else if (node.children) out += render(node.children, state);
        else if (!known) out += node.name; // VS Code inserts an unknown variable's name
        break;
      }
    }
  }
  return out;
}

function applyTransform(value: string, transform: Transform): string {
  return value.replace(transform.regex, (...args: unknown[]) => {
    const groups = args.slice(0, -2).filter((g) => typeof g === 'string' || g === undefined) as Array<string | undefined>;
    let out = '';
    for (const part of transform.format) {
      if (part.kind === 'text') {
        out += part.value;
        continue;
      }
      const group = groups[part.group] ?? '';
      if (part.ifText !== undefined) out += group ? part.ifText : (part.elseText ?? '');
      else if (part.modifier) out += modify(group, part.modifier);
      else out += group || (part.elseText ?? '');
    }
    return out;
  });
}

function modify(value: string, modifier: string): string {
  const words = value.split(/[^a-zA-Z0-9]+/).filter(Boolean);
  switch (modifier) {
    case 'upcase':
      return value.toUpperCase();
    case 'downcase':
      return value.toLowerCase();
    case 'capitalize':
      return value.charAt(0).toUpperCase() + value.slice(1);
    case 'pascalcase':
      return words.map((w) => w.charAt(0).toUpperCase() + w.slice(1).toLowerCase()).join('');
    case 'camelcase':
      return words.map((w, i) => (i === 0 ? w.toLowerCase() : w.charAt(0).toUpperCase() + w.slice(1).toLowerCase())).join('');
    default:
      return value;
  }
}
