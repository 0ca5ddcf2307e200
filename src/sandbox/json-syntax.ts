// A JSON reader that keeps what JSON.parse throws away and the API server needs: every member of an
// object in document order, duplicates included (strict decoding reports `duplicate field "a.b"`), and
// syntax errors worded as Go's encoding/json words them ("unexpected end of JSON input",
// "invalid character 'x' looking for beginning of value", ...).

export type JsonNode =
  | { k: 'object'; members: [string, JsonNode][] }
  | { k: 'array'; items: JsonNode[] }
  | { k: 'string'; v: string }
  | { k: 'number'; raw: string }
  | { k: 'bool'; v: boolean }
  | { k: 'null' };

export class JsonSyntaxError extends Error {}

/** Go's quoteChar: the offending character in single quotes, escaped as strconv.Quote would. */
function quoteChar(c: string): string {
  if (c === "'") return "'\\''";
  if (c === '"') return "'\"'";
  const q = JSON.stringify(c);
  return `'${q.slice(1, -1)}'`;
}

class Reader {
  private i = 0;
  private readonly s: string;
  constructor(s: string) {
    this.s = s;
  }

  private fail(context: string): never {
    if (this.i >= this.s.length) throw new JsonSyntaxError('unexpected end of JSON input');
    throw new JsonSyntaxError(`invalid character ${quoteChar(this.s[this.i] as string)} ${context}`);
  }

  private ws(): void {
    while (this.i < this.s.length && ' \t\r\n'.includes(this.s[this.i] as string)) this.i++;
  }

  document(): JsonNode {
    this.ws();
    const v = this.value();
    this.ws();
    if (this.i < this.s.length) this.fail('after top-level value');
    return v;
  }

  private value(): JsonNode {
    const c = this.s[this.i];
    if (c === '{') return this.object();
    if (c === '[') return this.array();
    if (c === '"') return { k: 'string', v: this.string() };
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.number();
    if (c === 't') return this.literal('true', { k: 'bool', v: true });
    if (c === 'f') return this.literal('false', { k: 'bool', v: false });
    if (c === 'n') return this.literal('null', { k: 'null' });
    return this.fail('looking for beginning of value');
  }

  private literal(word: string, node: JsonNode): JsonNode {
    for (let j = 0; j < word.length; j++, this.i++) {
      if (this.s[this.i] !== word[j]) this.fail(`in literal ${word} (expecting ${quoteChar(word[j] as string)})`);
    }
    return node;
  }

  private object(): JsonNode {
    this.i++;
    const members: [string, JsonNode][] = [];
    this.ws();
    if (this.s[this.i] === '}') {
      this.i++;
      return { k: 'object', members };
    }
    for (;;) {
      this.ws();
      if (this.s[this.i] !== '"') this.fail('looking for beginning of object key string');
      const key = this.string();
      this.ws();
      if (this.s[this.i] !== ':') this.fail('after object key');
      this.i++;
      this.ws();
      members.push([key, this.value()]);
      this.ws();
      const c = this.s[this.i];
      if (c === ',') {
        this.i++;
        continue;
      }
      if (c === '}') {
        this.i++;
        return { k: 'object', members };
      }
      this.fail('after object key:value pair');
    }
  }

  private array(): JsonNode {
    this.i++;
    const items: JsonNode[] = [];
    this.ws();
    if (this.s[this.i] === ']') {
      this.i++;
      return { k: 'array', items };
    }
    for (;;) {
      this.ws();
      items.push(this.value());
      this.ws();
      const c = this.s[this.i];
      if (c === ',') {
        this.i++;
        continue;
      }
      if (c === ']') {
        this.i++;
        return { k: 'array', items };
      }
      this.fail('after array element');
    }
  }

  private string(): string {
    const start = this.i;
    this.i++;
    for (;;) {
      const c = this.s[this.i];
      if (c === undefined) this.fail('in string literal');
      if (c === '"') break;
      if (c === '\\') {
        this.i++;
        const e = this.s[this.i];
        if (e === 'u') {
          for (let j = 1; j <= 4; j++) {
            const h = this.s[this.i + j];
            if (h === undefined || !/[0-9a-fA-F]/.test(h)) {
              this.i += j;
              this.fail('in \\u hexadecimal character escape');
            }
          }
          this.i += 5;
          continue;
        }
        if (e === undefined || !'"\\/bfnrt'.includes(e)) this.fail('in string escape code');
        this.i++;
        continue;
      }
      if (c < ' ') this.fail('in string literal');
      this.i++;
    }
    this.i++;
    return JSON.parse(this.s.slice(start, this.i)) as string;
  }

  private number(): JsonNode {
    const start = this.i;
    const digits = () => {
      while (this.i < this.s.length && (this.s[this.i] as string) >= '0' && (this.s[this.i] as string) <= '9') this.i++;
    };
    if (this.s[this.i] === '-') {
      this.i++;
      const c = this.s[this.i];
      if (c === undefined || c < '0' || c > '9') this.fail('in numeric literal');
    }
    if (this.s[this.i] === '0') this.i++;
    else digits();
    if (this.s[this.i] === '.') {
      this.i++;
      const c = this.s[this.i];
      if (c === undefined || c < '0' || c > '9') this.fail('after decimal point in numeric literal');
      digits();
    }
    if (this.s[this.i] === 'e' || this.s[this.i] === 'E') {
      this.i++;
      if (this.s[this.i] === '+' || this.s[this.i] === '-') this.i++;
      const c = this.s[this.i];
      if (c === undefined || c < '0' || c > '9') this.fail('in exponent of numeric literal');
      digits();
    }
    return { k: 'number', raw: this.s.slice(start, this.i) };
  }
}

/** Parse JSON text; throws JsonSyntaxError with Go's message. */
export function readJson(text: string): JsonNode {
  return new Reader(text).document();
}

/** A JSON node from an already-parsed value (YAML bodies): no duplicates to report. */
export function nodeOf(v: unknown): JsonNode {
  if (v === null || v === undefined) return { k: 'null' };
  if (Array.isArray(v)) return { k: 'array', items: v.map(nodeOf) };
  if (typeof v === 'object')
    return { k: 'object', members: Object.entries(v as Record<string, unknown>).map(([key, x]) => [key, nodeOf(x)]) };
  if (typeof v === 'string') return { k: 'string', v };
  if (typeof v === 'number') return { k: 'number', raw: String(v) };
  if (typeof v === 'boolean') return { k: 'bool', v };
  return { k: 'string', v: String(v) };
}

/** The plain value (a later duplicate member replaces an earlier one). */
export function valueOf(n: JsonNode): unknown {
  switch (n.k) {
    case 'object': {
      const o: Record<string, unknown> = {};
      // defineProperty, so a member named __proto__ stays data (as JSON.parse keeps it).
      for (const [key, v] of n.members)
        Object.defineProperty(o, key, { value: valueOf(v), enumerable: true, writable: true, configurable: true });
      return o;
    }
    case 'array':
      return n.items.map(valueOf);
    case 'string':
      return n.v;
    case 'number':
      return Number(n.raw);
    case 'bool':
      return n.v;
    default:
      return null;
  }
}

/** How Go names a JSON value's kind in "cannot unmarshal X into ..." errors. */
export function goKindOf(n: JsonNode): string {
  return n.k === 'bool' ? 'bool' : n.k;
}
