/**
 * ARM template expressions (`"[format('{0}', parameters('x'))]"`), parsed and evaluated: enough of the
 * language for what `bicep build` emits from infra/, and a clear error for anything else, so a new
 * construct fails a test instead of being misread.
 * @see https://learn.microsoft.com/azure/azure-resource-manager/templates/template-expressions
 */
import { createHash } from 'node:crypto';

export type Expression =
  | { kind: 'literal'; value: string | number | boolean | null }
  | { kind: 'call'; name: string; args: Expression[] }
  | { kind: 'member'; object: Expression; property: Expression };

/** A value only known once Azure has deployed something: a resource property, an object id. */
export class Unknown {
  constructor(readonly label: string) {}
  toString(): string {
    return `<${this.label}>`;
  }
}

/** What `reference()` of a resource gives: what the template set, and unknowns for the rest. */
export class ResourceView {
  constructor(
    readonly label: string,
    readonly known: Record<string, unknown>,
  ) {}
}

export interface Lambda {
  lambda: true;
  variables: string[];
  body: Expression;
  scope: LambdaScope;
}
type LambdaScope = Record<string, unknown>;

/** What the evaluator asks its template for. */
export interface ExpressionHost {
  call(name: string, args: unknown[]): unknown;
}

/** Whether a JSON string is an expression: `[...]`, but not the `[[` escape of a literal `[`. */
export function isExpression(text: string): boolean {
  return text.startsWith('[') && text.endsWith(']') && !text.startsWith('[[');
}

export function parseExpression(source: string): Expression {
  const text = source.slice(1, -1);
  let at = 0;
  const fail = (why: string): never => {
    throw new Error(`ARM expression ${source}: ${why} at ${at}`);
  };
  const skip = () => {
    while (text[at] === ' ') at++;
  };
  const expect = (c: string) => {
    skip();
    if (text[at] !== c) fail(`expected '${c}'`);
    at++;
  };
  const primary = (): Expression => {
    skip();
    const c = text[at] ?? '';
    if (c === "'") {
      let value = '';
      at++;
      for (;;) {
        if (at >= text.length) fail('unterminated string');
        if (text[at] === "'") {
          if (text[at + 1] === "'") {
            value += "'";
            at += 2;
            continue;
          }
          at++;
          return { kind: 'literal', value };
        }
        value += text[at++];
      }
    }
    const number = /^-?\d+/.exec(text.slice(at));
    if (number) {
      at += number[0].length;
      return { kind: 'literal', value: Number(number[0]) };
    }
    const name = /^[A-Za-z_$][\w$.]*?(?=\s*\()/.exec(text.slice(at));
    if (!name) fail('expected a function call, string or number');
    at += (name as RegExpExecArray)[0].length;
    expect('(');
    const args: Expression[] = [];
    skip();
    if (text[at] === ')') at++;
    else {
      for (;;) {
        args.push(expression());
        skip();
        if (text[at] === ',') at++;
        else if (text[at] === ')') {
          at++;
          break;
        } else fail("expected ',' or ')'");
      }
    }
    return { kind: 'call', name: (name as RegExpExecArray)[0].toLowerCase(), args };
  };
  const expression = (): Expression => {
    let result = primary();
    for (;;) {
      skip();
      if (text[at] === '.') {
        at++;
        const property = /^[A-Za-z_$][\w$]*/.exec(text.slice(at));
        if (!property) fail('expected a property name');
        at += (property as RegExpExecArray)[0].length;
        result = {
          kind: 'member',
          object: result,
          property: { kind: 'literal', value: (property as RegExpExecArray)[0] },
        };
      } else if (text[at] === '[') {
        at++;
        const property = expression();
        expect(']');
        result = { kind: 'member', object: result, property };
      } else return result;
    }
  };
  const result = expression();
  skip();
  if (at !== text.length) fail('unexpected text');
  return result;
}

/** Renders any value as text: unknowns as <label>, as format() and string interpolation would. */
export function text(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value instanceof Unknown) return value.toString();
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new Error(`not a string: ${JSON.stringify(value)}`);
}

function known<T>(value: T | Unknown, what: string): T {
  if (value instanceof Unknown || value instanceof ResourceView)
    throw new Error(`${what} depends on a deploy-time value (${String(value)})`);
  return value;
}

const hash = (args: unknown[]) =>
  createHash('sha256')
    .update(args.map((a) => text(a)).join('|'))
    .digest('hex');

/** Same shape as ARM's uniqueString (13 characters of [a-z0-9]), not the same hash. */
function uniqueString(args: unknown[]): string {
  return BigInt(`0x${hash(args).slice(0, 16)}`)
    .toString(36)
    .padStart(13, '0')
    .slice(0, 13);
}

function guid(args: unknown[]): string {
  const h = hash(args);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

function member(object: unknown, property: unknown): unknown {
  if (object instanceof Unknown) return new Unknown(`${object.label}.${text(property)}`);
  if (object instanceof ResourceView) {
    const key = text(property);
    return key in object.known ? object.known[key] : new Unknown(`${object.label}.${key}`);
  }
  if (Array.isArray(object) && typeof property === 'number') return object[property];
  if (object && typeof object === 'object') {
    const key = text(property);
    // ARM property names are case-insensitive.
    const match = Object.keys(object).find((k) => k.toLowerCase() === key.toLowerCase());
    if (match === undefined) throw new Error(`no property '${key}' in ${JSON.stringify(object)}`);
    return (object as Record<string, unknown>)[match];
  }
  throw new Error(`cannot read '${text(property)}' of ${JSON.stringify(object)}`);
}

function empty(value: unknown): boolean {
  const v = known(value, 'empty()');
  if (v === null || v === undefined) return true;
  if (typeof v === 'string' || Array.isArray(v)) return v.length === 0;
  if (typeof v === 'object') return Object.keys(v).length === 0;
  return false;
}

function union(values: unknown[]): unknown {
  if (values.every(Array.isArray)) return [...new Set((values as unknown[][]).flat())];
  const merged: Record<string, unknown> = {};
  for (const v of values) Object.assign(merged, known(v, 'union()'));
  return merged;
}

/** A string function that passes unknowns through, labelled with what was done to them. */
function onText(name: string, value: unknown, f: (s: string) => unknown): unknown {
  return value instanceof Unknown ? new Unknown(`${name}(${value.label})`) : f(text(value));
}

/** The functions that need no template; `host` answers the rest (parameters, reference, ...). */
export function evaluate(
  expression: Expression,
  host: ExpressionHost,
  lambdaScope: LambdaScope = {},
): unknown {
  const again = (e: Expression) => evaluate(e, host, lambdaScope);
  if (expression.kind === 'literal') return expression.value;
  if (expression.kind === 'member')
    return member(again(expression.object), again(expression.property));

  const { name } = expression;
  // Lazily evaluated: if() takes one branch, lambda() keeps its body.
  if (name === 'if') {
    const [condition, yes, no] = expression.args as [Expression, Expression, Expression];
    return known(again(condition), 'if()') ? again(yes) : again(no);
  }
  if (name === 'lambda') {
    const variables = expression.args.slice(0, -1).map((a) => text(again(a)));
    const body = expression.args.at(-1) as Expression;
    return { lambda: true, variables, body, scope: lambdaScope } satisfies Lambda;
  }
  const args = expression.args.map(again);
  const apply = (f: unknown, ...values: unknown[]) => {
    const l = f as Lambda;
    const scope = { ...l.scope };
    l.variables.forEach((v, i) => (scope[v] = values[i]));
    return evaluate(l.body, host, scope);
  };
  const [a, b, c] = args;
  switch (name) {
    case 'lambdavariables':
      return lambdaScope[text(a)];
    case 'true':
      return true;
    case 'false':
      return false;
    case 'null':
      return null;
    case 'not':
      return !known(a, 'not()');
    case 'and':
      return args.every((x) => known(x, 'and()'));
    case 'or':
      return args.some((x) => known(x, 'or()'));
    case 'equals':
      return JSON.stringify(known(a, 'equals()')) === JSON.stringify(known(b, 'equals()'));
    case 'empty':
      return empty(a);
    case 'coalesce':
      return args.find((x) => x !== null && x !== undefined) ?? null;
    case 'format':
      return text(a).replace(/\{(\d+)\}/g, (_, i: string) => text(args[Number(i) + 1]));
    case 'concat':
      return args.every(Array.isArray) ? (args as unknown[][]).flat() : args.map(text).join('');
    case 'tolower':
      return onText(name, a, (s) => s.toLowerCase());
    case 'toupper':
      return onText(name, a, (s) => s.toUpperCase());
    case 'trim':
      return onText(name, a, (s) => s.trim());
    case 'take':
      return Array.isArray(a)
        ? a.slice(0, Number(b))
        : onText(name, a, (s) => s.slice(0, Number(b)));
    case 'substring':
      return onText(name, a, (s) => s.substring(Number(b), Number(b) + Number(c ?? s.length)));
    case 'split':
      return onText(name, a, (s) => s.split(text(b)));
    case 'startswith':
      return text(known(a, name)).toLowerCase().startsWith(text(b).toLowerCase());
    case 'endswith':
      return text(known(a, name)).toLowerCase().endsWith(text(b).toLowerCase());
    case 'length': {
      const v = known(a, 'length()');
      return typeof v === 'string' || Array.isArray(v) ? v.length : Object.keys(v as object).length;
    }
    case 'sub':
      return Number(a) - Number(b);
    case 'add':
      return Number(a) + Number(b);
    case 'string':
      return typeof a === 'string' ? a : JSON.stringify(a);
    case 'createobject': {
      const object: Record<string, unknown> = {};
      for (let i = 0; i < args.length; i += 2) object[text(args[i])] = args[i + 1];
      return object;
    }
    case 'createarray':
      return args;
    case 'union':
      return union(args);
    case 'map':
      return (known(a, 'map()') as unknown[]).map((x, i) => apply(b, x, i));
    case 'filter':
      return (known(a, 'filter()') as unknown[]).filter((x, i) =>
        known(apply(b, x, i), 'filter()'),
      );
    case 'uniquestring':
      return uniqueString(args);
    case 'guid':
      return guid(args);
    default:
      return host.call(name, args);
  }
}
