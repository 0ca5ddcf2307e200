// A small interpreter for the subset of CEL (Common Expression Language) that CRD validation rules
// (x-kubernetes-validations) use in practice, Istio's among them: literals, `self` and its fields,
// has(), size(), the list macros all/exists/exists_one, string methods (contains, startsWith,
// endsWith, matches, substring, lowerAscii), int()/string()/duration()/url(), `in`, arithmetic,
// comparisons, && || ! and ?:. Anything outside the subset throws CelUnsupported, and the caller
// skips that rule (the README lists this as a known difference).

export class CelUnsupported extends Error {}

type Value = unknown;
type Node =
  | { k: 'lit'; v: Value }
  | { k: 'id'; name: string }
  | { k: 'list'; items: Node[] }
  | { k: 'member'; obj: Node; name: string }
  | { k: 'index'; obj: Node; idx: Node }
  | { k: 'call'; fn: string; target?: Node; args: Node[] }
  | { k: 'unary'; op: string; arg: Node }
  | { k: 'binary'; op: string; l: Node; r: Node }
  | { k: 'cond'; c: Node; t: Node; f: Node };

const TOKEN =
  /\s*(?:(\d+\.\d+(?:[eE][-+]?\d+)?)|(\d+)u?|("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')|([A-Za-z_][A-Za-z0-9_]*)|(==|!=|<=|>=|&&|\|\||[-+*/%<>!?:.,()[\]{}]))/y;

function tokenize(src: string): string[] {
  const out: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < src.length) {
    if (/^\s*$/.test(src.slice(TOKEN.lastIndex))) break;
    // A sticky regex read from lastIndex (RegExp#exec, not a process: no shell anywhere here).
    const m = RegExp.prototype.exec.call(TOKEN, src);
    if (!m) throw new CelUnsupported(`cannot read ${src.slice(TOKEN.lastIndex)}`);
    out.push((m[1] ?? m[2] ?? m[3] ?? m[4] ?? m[5]) as string);
  }
  return out;
}

function unquote(s: string): string {
  const body = s.slice(1, -1);
  return body.replace(/\\(.)/g, (_, c: string) => ({ n: '\n', t: '\t', r: '\r' })[c] ?? c);
}

class Parser {
  private i = 0;
  private readonly t: string[];
  constructor(t: string[]) {
    this.t = t;
  }
  private peek(): string | undefined {
    return this.t[this.i];
  }
  private next(): string {
    const x = this.t[this.i++];
    if (x === undefined) throw new CelUnsupported('unexpected end');
    return x;
  }
  private eat(x: string): void {
    if (this.next() !== x) throw new CelUnsupported(`expected ${x}`);
  }
  parse(): Node {
    const n = this.cond();
    if (this.i !== this.t.length) throw new CelUnsupported(`unexpected ${this.peek()}`);
    return n;
  }
  private cond(): Node {
    const c = this.or();
    if (this.peek() !== '?') return c;
    this.next();
    const t = this.cond();
    this.eat(':');
    return { k: 'cond', c, t, f: this.cond() };
  }
  private bin(ops: string[], sub: () => Node): Node {
    let l = sub();
    while (ops.includes(this.peek() ?? '')) {
      const op = this.next();
      l = { k: 'binary', op, l, r: sub() };
    }
    return l;
  }
  private or = (): Node => this.bin(['||'], this.and);
  private and = (): Node => this.bin(['&&'], this.rel);
  private rel = (): Node => this.bin(['==', '!=', '<', '<=', '>', '>=', 'in'], this.add);
  private add = (): Node => this.bin(['+', '-'], this.mul);
  private mul = (): Node => this.bin(['*', '/', '%'], this.unary);
  private unary = (): Node => {
    if (this.peek() === '!' || this.peek() === '-') return { k: 'unary', op: this.next(), arg: this.unary() };
    return this.postfix();
  };
  private args(): Node[] {
    const out: Node[] = [];
    this.eat('(');
    while (this.peek() !== ')') {
      out.push(this.cond());
      if (this.peek() === ',') this.next();
    }
    this.eat(')');
    return out;
  }
  private postfix(): Node {
    let n = this.primary();
    for (;;) {
      if (this.peek() === '.') {
        this.next();
        const name = this.next();
        n = this.peek() === '(' ? { k: 'call', fn: name, target: n, args: this.args() } : { k: 'member', obj: n, name };
      } else if (this.peek() === '[') {
        this.next();
        const idx = this.cond();
        this.eat(']');
        n = { k: 'index', obj: n, idx };
      } else return n;
    }
  }
  private primary(): Node {
    const x = this.next();
    if (x === '(') {
      const n = this.cond();
      this.eat(')');
      return n;
    }
    if (x === '[') {
      const items: Node[] = [];
      while (this.peek() !== ']') {
        items.push(this.cond());
        if (this.peek() === ',') this.next();
      }
      this.eat(']');
      return { k: 'list', items };
    }
    if (/^\d/.test(x)) return { k: 'lit', v: Number(x) };
    if (x.startsWith('"') || x.startsWith("'")) return { k: 'lit', v: unquote(x) };
    if (x === 'true' || x === 'false') return { k: 'lit', v: x === 'true' };
    if (x === 'null') return { k: 'lit', v: null };
    if (/^[A-Za-z_]/.test(x))
      return this.peek() === '(' ? { k: 'call', fn: x, args: this.args() } : { k: 'id', name: x };
    throw new CelUnsupported(`unexpected ${x}`);
  }
}

class Duration {
  readonly ns: number;
  constructor(ns: number) {
    this.ns = ns;
  }
}

const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

function parseDuration(s: string): Duration {
  const m = s.match(/^(-?)((?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+)$/);
  if (!m) throw new CelError(`invalid duration ${JSON.stringify(s)}`);
  let ns = 0;
  for (const part of (m[2] as string).matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g))
    ns += Number(part[1]) * (UNIT_NS[part[2] as string] as number);
  return new Duration(m[1] ? -ns : ns);
}

/** An evaluation error (a bad duration, a missing field): the rule fails, as in Kubernetes. */
export class CelError extends Error {}

function cmp(a: Value, b: Value): number {
  const x = a instanceof Duration ? a.ns : a;
  const y = b instanceof Duration ? b.ns : b;
  if (typeof x === 'number' && typeof y === 'number') return x - y;
  if (typeof x === 'string' && typeof y === 'string') return x < y ? -1 : x > y ? 1 : 0;
  throw new CelError('no such overload');
}

function eq(a: Value, b: Value): boolean {
  if (a instanceof Duration && b instanceof Duration) return a.ns === b.ns;
  return JSON.stringify(a) === JSON.stringify(b);
}

function sizeOf(v: Value): number {
  if (typeof v === 'string') return [...v].length;
  if (Array.isArray(v)) return v.length;
  if (v && typeof v === 'object') return Object.keys(v).length;
  throw new CelError('no such overload: size');
}

function elements(v: Value): Value[] {
  if (Array.isArray(v)) return v;
  if (v && typeof v === 'object') return Object.keys(v);
  throw new CelError('not a list or map');
}

function evaluate(n: Node, env: Record<string, Value>): Value {
  switch (n.k) {
    case 'lit':
      return n.v;
    case 'id':
      if (!(n.name in env)) throw new CelUnsupported(`unknown identifier ${n.name}`);
      return env[n.name];
    case 'list':
      return n.items.map((x) => evaluate(x, env));
    case 'member': {
      const o = evaluate(n.obj, env);
      if (!o || typeof o !== 'object' || !(n.name in o)) throw new CelError(`no such key: ${n.name}`);
      return (o as Record<string, Value>)[n.name];
    }
    case 'index': {
      const o = evaluate(n.obj, env);
      const i = evaluate(n.idx, env);
      if (Array.isArray(o) && typeof i === 'number' && i >= 0 && i < o.length) return o[i];
      if (o && typeof o === 'object' && typeof i === 'string' && i in o) return (o as Record<string, Value>)[i];
      throw new CelError('no such key');
    }
    case 'unary': {
      const v = evaluate(n.arg, env);
      if (n.op === '!') return !truthy(v);
      if (typeof v === 'number') return -v;
      throw new CelError('no such overload');
    }
    case 'cond':
      return truthy(evaluate(n.c, env)) ? evaluate(n.t, env) : evaluate(n.f, env);
    case 'binary':
      return binary(n, env);
    case 'call':
      return call(n, env);
  }
}

function truthy(v: Value): boolean {
  if (typeof v !== 'boolean') throw new CelError('no such overload');
  return v;
}

function binary(n: Extract<Node, { k: 'binary' }>, env: Record<string, Value>): Value {
  if (n.op === '&&' || n.op === '||') {
    // CEL's commutative logic: an error on one side is absorbed when the other side decides.
    let l: boolean | CelError;
    try {
      l = truthy(evaluate(n.l, env));
    } catch (e) {
      if (!(e instanceof CelError)) throw e;
      l = e;
    }
    if (l === (n.op === '||')) return l;
    const r = truthy(evaluate(n.r, env));
    if (l instanceof CelError) {
      if (r === (n.op === '||')) return r;
      throw l;
    }
    return r;
  }
  const l = evaluate(n.l, env);
  const r = evaluate(n.r, env);
  switch (n.op) {
    case '==':
      return eq(l, r);
    case '!=':
      return !eq(l, r);
    case '<':
      return cmp(l, r) < 0;
    case '<=':
      return cmp(l, r) <= 0;
    case '>':
      return cmp(l, r) > 0;
    case '>=':
      return cmp(l, r) >= 0;
    case 'in':
      if (Array.isArray(r)) return r.some((x) => eq(x, l));
      if (r && typeof r === 'object') return typeof l === 'string' && l in r;
      throw new CelError('no such overload: in');
    case '+':
      if (typeof l === 'number' && typeof r === 'number') return l + r;
      if (typeof l === 'string' && typeof r === 'string') return l + r;
      if (Array.isArray(l) && Array.isArray(r)) return [...l, ...r];
      throw new CelError('no such overload: +');
    default: {
      if (typeof l !== 'number' || typeof r !== 'number') throw new CelError(`no such overload: ${n.op}`);
      if (n.op === '-') return l - r;
      if (n.op === '*') return l * r;
      if (r === 0) throw new CelError('division by zero');
      return n.op === '/' ? Math.trunc(l / r) : l % r;
    }
  }
}

function call(n: Extract<Node, { k: 'call' }>, env: Record<string, Value>): Value {
  if (n.fn === 'has' && !n.target) {
    const arg = n.args[0];
    if (arg?.k !== 'member') throw new CelUnsupported('has() needs a field');
    const o = evaluate(arg.obj, env);
    return !!o && typeof o === 'object' && arg.name in o;
  }
  if (n.target && ['all', 'exists', 'exists_one'].includes(n.fn)) {
    const v = n.args[0];
    const body = n.args[1];
    if (v?.k !== 'id' || !body) throw new CelUnsupported('macro needs a variable');
    const items = elements(evaluate(n.target, env));
    const hits = items.map((x) => truthy(evaluate(body, { ...env, [v.name]: x })));
    if (n.fn === 'all') return hits.every(Boolean);
    if (n.fn === 'exists') return hits.some(Boolean);
    return hits.filter(Boolean).length === 1;
  }
  const target = n.target ? evaluate(n.target, env) : undefined;
  const args = n.args.map((a) => evaluate(a, env));
  const str = (v: Value): string => {
    if (typeof v !== 'string') throw new CelError(`no such overload: ${n.fn}`);
    return v;
  };
  switch (n.fn) {
    case 'size':
      return sizeOf(n.target ? target : args[0]);
    case 'contains':
      return str(target).includes(str(args[0]));
    case 'startsWith':
      return str(target).startsWith(str(args[0]));
    case 'endsWith':
      return str(target).endsWith(str(args[0]));
    case 'matches':
      return new RegExp(str(n.target ? args[0] : args[1]), 'u').test(str(n.target ? target : args[0]));
    case 'lowerAscii':
      return str(target).replace(/[A-Z]/g, (c) => c.toLowerCase());
    case 'substring': {
      const s = [...str(target)];
      const a = args[0] as number;
      const b = (args[1] as number | undefined) ?? s.length;
      if (a < 0 || b > s.length || a > b) throw new CelError('index out of range');
      return s.slice(a, b).join('');
    }
    case 'int': {
      const v = args[0];
      if (typeof v === 'number') return Math.trunc(v);
      if (typeof v === 'string' && /^-?\d+$/.test(v)) return Number(v);
      throw new CelError('cannot convert to int');
    }
    case 'string':
      return String(args[0]);
    case 'duration':
      return parseDuration(str(args[0]));
    case 'url':
      try {
        return new URL(str(args[0]));
      } catch {
        throw new CelError('invalid url');
      }
    case 'isURL':
      return URL.canParse(str(args[0]));
    case 'getScheme':
      if (!(target instanceof URL)) throw new CelError('no such overload');
      return target.protocol.replace(/:$/, '');
    case 'getHost':
      if (!(target instanceof URL)) throw new CelError('no such overload');
      return target.host;
    default:
      throw new CelUnsupported(`function ${n.fn}`);
  }
}

const compiled = new Map<string, Node>();

/** Evaluate a validation rule with `self` bound. True/false, CelError when it errs, CelUnsupported outside the subset. */
export function evalRule(rule: string, self: unknown): boolean {
  let ast = compiled.get(rule);
  if (!ast) {
    ast = new Parser(tokenize(rule)).parse();
    compiled.set(rule, ast);
  }
  const v = evaluate(ast, { self });
  if (typeof v !== 'boolean') throw new CelError('rule did not evaluate to a bool');
  return v;
}
