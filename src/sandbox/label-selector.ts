// The labelSelector grammar as apimachinery's labels package reads it: a lexer (identifiers, the
// keywords in/notin, the symbols = == != ! ( ) , > <), a recursive parser with Kubernetes' own error
// wording ("unable to parse requirement: found '=', expected: identifier"), and validation of keys
// (qualified names) and values (label values) as NewRequirement does.
import { badRequest } from './api-errors.ts';

export type LabelRequirement =
  | { key: string; op: 'eq' | 'neq'; value: string }
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'exists' | 'notexists' }
  | { key: string; op: 'gt' | 'lt'; value: string };

type Tok =
  | 'end'
  | 'error'
  | 'ident'
  | 'in'
  | 'notin'
  | 'eq'
  | 'deq'
  | 'neq'
  | 'not'
  | 'gt'
  | 'lt'
  | 'open'
  | 'close'
  | 'comma';

const SYMBOLS: Record<string, Tok> = {
  ')': 'close',
  ',': 'comma',
  '!': 'not',
  '==': 'deq',
  '=': 'eq',
  '>': 'gt',
  '<': 'lt',
  '!=': 'neq',
  '(': 'open',
};
const KEYWORDS: Record<string, Tok> = { in: 'in', notin: 'notin' };
const isSpace = (c: string) => c === ' ' || c === '\t' || c === '\r' || c === '\n';
const isSymbol = (c: string) => '=!(),><'.includes(c);

function lex(s: string): { tok: Tok; lit: string }[] {
  const out: { tok: Tok; lit: string }[] = [];
  let i = 0;
  for (;;) {
    while (i < s.length && isSpace(s[i] as string)) i++;
    if (i >= s.length) {
      out.push({ tok: 'end', lit: '' });
      return out;
    }
    if (isSymbol(s[i] as string)) {
      // The longest run of symbols that still spells an operator.
      let buf = '';
      let last: { tok: Tok; lit: string } | undefined;
      while (i < s.length && isSymbol(s[i] as string)) {
        const next = buf + s[i];
        if (SYMBOLS[next]) {
          last = { tok: SYMBOLS[next] as Tok, lit: next };
          buf = next;
          i++;
        } else if (last) {
          break;
        } else {
          buf = next;
          i++;
        }
      }
      out.push(last ?? { tok: 'error', lit: `error expected: keyword found '${buf}'` });
      continue;
    }
    const start = i;
    while (i < s.length && !isSpace(s[i] as string) && !isSymbol(s[i] as string)) i++;
    const word = s.slice(start, i);
    out.push({ tok: KEYWORDS[word] ?? 'ident', lit: word });
  }
}

const NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const NAME_MSG =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

/** validation.IsQualifiedName's messages (empty when valid). */
export function qualifiedNameErrors(key: string): string[] {
  const parts = key.split('/');
  if (parts.length > 2)
    return [`a qualified name ${NAME_MSG} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`];
  const errs: string[] = [];
  const name = parts.length === 2 ? (parts[1] as string) : (parts[0] as string);
  if (parts.length === 2) {
    const prefix = parts[0] as string;
    if (prefix === '') errs.push('prefix part must be non-empty');
    else if (prefix.length > 253) errs.push('prefix part must be no more than 253 characters');
    else if (!SUBDOMAIN.test(prefix)) errs.push(`prefix part ${SUBDOMAIN_MSG}`);
  }
  if (name === '') errs.push('name part must be non-empty');
  else if (name.length > 63) errs.push('name part must be no more than 63 characters');
  if (name !== '' && !NAME_PART.test(name)) errs.push(`name part ${NAME_MSG}`);
  return errs;
}

/** validation.IsValidLabelValue's messages (empty when valid). */
export function labelValueErrors(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 63) errs.push('must be no more than 63 characters');
  if (!LABEL_VALUE.test(v)) {
    errs.push(
      "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
    );
  }
  return errs;
}

class SelectorError extends Error {}

class Parser {
  private pos = 0;
  private readonly items: { tok: Tok; lit: string }[];
  constructor(text: string) {
    this.items = lex(text);
  }

  /** In a values context the keywords in/notin are plain identifiers. */
  private peek(values: boolean): { tok: Tok; lit: string } {
    const it = this.items[Math.min(this.pos, this.items.length - 1)] as { tok: Tok; lit: string };
    return values && (it.tok === 'in' || it.tok === 'notin') ? { tok: 'ident', lit: it.lit } : it;
  }

  private next(values: boolean): { tok: Tok; lit: string } {
    const it = this.peek(values);
    if (this.pos < this.items.length) this.pos++;
    return it;
  }

  parse(): LabelRequirement[] {
    const out: LabelRequirement[] = [];
    for (;;) {
      const { tok, lit } = this.peek(true);
      if (tok === 'end') return out;
      if (tok !== 'ident' && tok !== 'not')
        throw new SelectorError(`found '${lit}', expected: !, identifier, or 'end of string'`);
      try {
        out.push(this.requirement());
      } catch (e) {
        if (e instanceof SelectorError) throw new SelectorError(`unable to parse requirement: ${e.message}`);
        throw e;
      }
      const after = this.next(true);
      if (after.tok === 'end') return out;
      if (after.tok !== 'comma') throw new SelectorError(`found '${after.lit}', expected: ',' or 'end of string'`);
      const t2 = this.peek(true);
      if (t2.tok !== 'ident' && t2.tok !== 'not')
        throw new SelectorError(`found '${t2.lit}', expected: identifier after ','`);
    }
  }

  private requirement(): LabelRequirement {
    let negated = false;
    let first = this.next(true);
    if (first.tok === 'not') {
      negated = true;
      first = this.next(true);
    }
    if (first.tok !== 'ident') throw new SelectorError(`found '${first.lit}', expected: identifier`);
    const key = first.lit;
    const keyErrs = qualifiedNameErrors(key);
    if (keyErrs.length) throw new SelectorError(`<nil>: Invalid value: ${JSON.stringify(key)}: ${keyErrs.join('; ')}`);
    const la = this.peek(true).tok;
    if (negated || la === 'end' || la === 'comma') {
      return { key, op: negated ? 'notexists' : 'exists' };
    }
    const op = this.next(false);
    switch (op.tok) {
      case 'in':
      case 'notin': {
        const values = this.valueSet();
        if (values.length === 0)
          throw new SelectorError(`values: Invalid value: []: for 'in', 'notin' operators, values set can't be empty`);
        this.checkValues(key, values);
        return { key, op: op.tok, values };
      }
      case 'eq':
      case 'deq':
      case 'neq': {
        const value = this.exactValue();
        this.checkValues(key, [value]);
        return { key, op: op.tok === 'neq' ? 'neq' : 'eq', value };
      }
      case 'gt':
      case 'lt': {
        const value = this.exactValue();
        if (!/^[-+]?\d+$/.test(value))
          throw new SelectorError(
            `values[0]: Invalid value: ${JSON.stringify(value)}: for 'Gt', 'Lt' operators, the value must be an integer`,
          );
        return { key, op: op.tok, value };
      }
      default:
        throw new SelectorError(`found '${op.lit}', expected: in, notin, =, ==, !=, gt, lt`);
    }
  }

  private checkValues(key: string, values: string[]): void {
    values.forEach((v, i) => {
      const errs = labelValueErrors(v);
      if (errs.length)
        throw new SelectorError(`values[${i}][${key}]: Invalid value: ${JSON.stringify(v)}: ${errs.join('; ')}`);
    });
  }

  private exactValue(): string {
    const la = this.peek(true);
    if (la.tok === 'end' || la.tok === 'comma') return '';
    const t = this.next(true);
    if (t.tok === 'ident') return t.lit;
    throw new SelectorError(`found '${t.lit}', expected: identifier`);
  }

  private valueSet(): string[] {
    const open = this.next(true);
    if (open.tok !== 'open') throw new SelectorError(`found '${open.lit}' expected: '('`);
    const la = this.peek(true);
    if (la.tok === 'close') {
      this.next(true);
      return [''];
    }
    if (la.tok !== 'ident' && la.tok !== 'comma')
      throw new SelectorError(`found '${la.lit}', expected: ',', ')' or identifier`);
    const set = new Set<string>();
    for (;;) {
      const t = this.next(true);
      if (t.tok === 'ident') {
        set.add(t.lit);
        const t2 = this.peek(true);
        if (t2.tok === 'comma') continue;
        if (t2.tok === 'close') break;
        throw new SelectorError(`found '${t2.lit}', expected: ',' or ')'`);
      } else if (t.tok === 'comma') {
        if (set.size === 0) set.add('');
        const t2 = this.peek(true);
        if (t2.tok === 'close') {
          set.add('');
          break;
        }
        if (t2.tok === 'comma') {
          this.next(true);
          set.add('');
        }
      } else {
        throw new SelectorError(`found '${t.lit}', expected: ',', or identifier`);
      }
    }
    const close = this.next(true);
    if (close.tok !== 'close') throw new SelectorError(`found '${close.lit}', expected: ')'`);
    return [...set].sort();
  }
}

/** Parse a labelSelector; a 400 BadRequest with Kubernetes' message when it is malformed. */
export function parseLabelSelectorText(text: string): LabelRequirement[] {
  try {
    return new Parser(text).parse();
  } catch (e) {
    if (e instanceof SelectorError) throw badRequest(e.message);
    throw e;
  }
}
