/**
 * A small Bicep reader for the infra checks. No Bicep compiler runs on these machines, so the files are
 * parsed with tree-sitter-bicep and read as syntax: declarations, object properties, string literals, and
 * a best-effort rendering of string expressions through variables and parameter defaults.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Language, Parser, type Node } from 'web-tree-sitter';

export const ROOT = path.resolve(__dirname, '..', '..');
export const INFRA = path.join(ROOT, 'infra');

/**
 * tree-sitter-bicep 1.1.0 predates the `extension <alias>` declaration (it reports an ERROR node), so
 * exactly those lines are blanked before parsing, keeping every other offset in place. Nothing else is
 * rewritten.
 */
const EXTENSION_LINE = /^[ \t]*extension[ \t]+([A-Za-z_][A-Za-z0-9_]*|'[^']*')[ \t]*$/gm;

export interface BicepFile {
  /** Path relative to the repository root, for messages. */
  readonly name: string;
  readonly path: string;
  readonly source: string;
  readonly root: Node;
  /** `extension` declarations found (and blanked before parsing): alias names or quoted references. */
  readonly extensions: readonly string[];
  /** 1-based line numbers that were blanked. */
  readonly blankedLines: readonly number[];
}

let parser: Promise<Parser> | undefined;

function bicepParser(): Promise<Parser> {
  parser ??= (async () => {
    await Parser.init();
    // Bytes rather than a path: given a path, web-tree-sitter reads it with a dynamic import(), which
    // jest's CommonJS runtime refuses.
    const wasm = readFileSync(
      path.join(ROOT, 'node_modules', 'tree-sitter-bicep', 'tree-sitter-bicep.wasm'),
    );
    const language = await Language.load(new Uint8Array(wasm));
    return new Parser().setLanguage(language);
  })();
  return parser;
}

/** Parses Bicep source; `name` is only used in messages. */
export async function parseBicep(source: string, name = '<source>'): Promise<BicepFile> {
  const extensions: string[] = [];
  const blankedLines: number[] = [];
  const blanked = source.replace(EXTENSION_LINE, (line: string, alias: string, offset: number) => {
    extensions.push(alias);
    blankedLines.push(source.slice(0, offset).split('\n').length);
    return ' '.repeat(line.length);
  });
  const tree = (await bicepParser()).parse(blanked);
  if (!tree) throw new Error(`tree-sitter returned no tree for ${name}`);
  return { name, path: name, source, root: tree.rootNode, extensions, blankedLines };
}

/** Reads and parses a file; `file` is relative to the repository root or absolute. */
export async function loadBicep(file: string): Promise<BicepFile> {
  const absolute = path.resolve(ROOT, file);
  const parsed = await parseBicep(readFileSync(absolute, 'utf8'), path.relative(ROOT, absolute));
  return { ...parsed, path: absolute };
}

/** Every .bicep file under a directory, relative to the repository root, sorted. */
export function bicepFilesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.bicep'))
    .map((f) => path.relative(ROOT, path.join(dir, f)))
    .sort();
}

export interface SyntaxProblem {
  kind: 'ERROR' | 'MISSING';
  line: number;
  column: number;
  text: string;
}

/** ERROR and MISSING nodes: what the grammar could not fit, with 1-based positions. */
export function syntaxProblems(file: BicepFile): SyntaxProblem[] {
  const problems: SyntaxProblem[] = [];
  const visit = (node: Node): void => {
    if (node.isError || node.isMissing) {
      problems.push({
        kind: node.isMissing ? 'MISSING' : 'ERROR',
        line: node.startPosition.row + 1,
        column: node.startPosition.column + 1,
        text: node.isMissing ? node.type : node.text.slice(0, 80),
      });
    }
    if (node.hasError) for (const child of node.children) visit(child);
  };
  visit(file.root);
  return problems;
}

// ---------------------------------------------------------------------------------------------------
// Declarations

const COMMENTS = new Set(['comment', 'diagnostic_comment']);

/** Named children without comments, so positions are stable. */
export function parts(node: Node): Node[] {
  return node.namedChildren.filter((n) => !COMMENTS.has(n.type));
}

function declarations(file: BicepFile, type: string): Node[] {
  return parts(file.root).filter((n) => n.type === type);
}

function nameOf(declaration: Node): string {
  const first = parts(declaration)[0];
  if (!first) throw new Error(`declaration without a name: ${declaration.text.slice(0, 60)}`);
  return first.text;
}

export interface Param {
  name: string;
  type: string;
  /** A default value, or a nullable type: azd may leave it out. */
  optional: boolean;
  defaultValue?: Node;
  /** Values of @allowed([...]), when present. */
  allowed?: string[];
}

export function params(file: BicepFile): Map<string, Param> {
  const result = new Map<string, Param>();
  for (const node of declarations(file, 'parameter_declaration')) {
    const [id, type, defaultValue] = parts(node);
    if (!id || !type) continue;
    const decorators = node.previousNamedSibling;
    const allowedCall =
      decorators?.type === 'decorators'
        ? decorators.descendantsOfType('call_expression').find((c) => calleeName(c) === 'allowed')
        : undefined;
    const allowedArray = allowedCall ? args(allowedCall)[0] : undefined;
    result.set(id.text, {
      name: id.text,
      type: type.text,
      optional: defaultValue !== undefined || type.descendantsOfType('nullable_type').length > 0,
      ...(defaultValue ? { defaultValue } : {}),
      ...(allowedArray?.type === 'array'
        ? { allowed: parts(allowedArray).map((a) => String(literal(a))) }
        : {}),
    });
  }
  return result;
}

/** `var name = <expression>`: the expression nodes by name. */
export function variables(file: BicepFile): Map<string, Node> {
  return valuesByName(declarations(file, 'variable_declaration'), 1);
}

/** `output name type = <expression>`: the expression nodes by name. */
export function outputs(file: BicepFile): Map<string, Node> {
  return valuesByName(declarations(file, 'output_declaration'), 2);
}

function valuesByName(nodes: Node[], valueIndex: number): Map<string, Node> {
  const result = new Map<string, Node>();
  for (const node of nodes) {
    const value = parts(node)[valueIndex];
    if (value) result.set(nameOf(node), value);
  }
  return result;
}

export interface ModuleUse {
  symbol: string;
  /** The module path as written, e.g. './app/api.bicep'. */
  source: string;
  /** Absolute path for a local module; undefined for registry modules (br:, br/, ts:). */
  file?: string;
  body: Node;
  params: Map<string, Node>;
}

export function modules(file: BicepFile): ModuleUse[] {
  return declarations(file, 'module_declaration').map((node) => {
    const [id, sourceNode, value] = parts(node);
    if (!id || !sourceNode || !value) throw new Error(`odd module in ${file.name}: ${node.text}`);
    const source = String(literal(sourceNode));
    const body = bodyOf(value);
    const paramsNode = prop(body, 'params');
    return {
      symbol: id.text,
      source,
      ...(/^(br[:/]|ts[:/])/.test(source)
        ? {}
        : { file: path.resolve(path.dirname(file.path), source) }),
      body,
      params: paramsNode ? props(paramsNode) : new Map<string, Node>(),
    };
  });
}

export interface Resource {
  symbol: string;
  /** The type string as written: 'Microsoft.Web/sites@2024-04-01', or 'config' when nested. */
  type: string;
  existing: boolean;
  /** The condition of `= if (...) { }`, when present. */
  condition?: Node;
  body: Node;
  parent?: Resource;
}

/** Every resource declaration, nested ones included (with their parent). */
export function resources(file: BicepFile): Resource[] {
  const found: Resource[] = [];
  const collect = (declaration: Node, parent?: Resource): void => {
    const [id, typeNode, value] = parts(declaration);
    if (!id || !typeNode || !value) return;
    const condition = value.type === 'if_statement' ? parts(value)[0] : undefined;
    const resource: Resource = {
      symbol: id.text,
      type: String(literal(typeNode)),
      existing: declaration.children.some((c) => c.type === 'existing'),
      ...(condition ? { condition } : {}),
      body: bodyOf(value),
      ...(parent ? { parent } : {}),
    };
    found.push(resource);
    for (const property of parts(resource.body)) {
      const nested = parts(property)[0];
      if (property.type === 'object_property' && nested?.type === 'resource_declaration')
        collect(nested, resource);
    }
  };
  for (const declaration of declarations(file, 'resource_declaration')) collect(declaration);
  return found;
}

/** The full type of a resource, resolving nested declarations: 'Microsoft.Web/sites/config'. */
export function fullType(resource: Resource): string {
  const own = resource.type.split('@')[0] ?? resource.type;
  return resource.parent && !own.includes('/') ? `${fullType(resource.parent)}/${own}` : own;
}

function bodyOf(value: Node): Node {
  if (value.type === 'object') return value;
  if (value.type === 'if_statement') {
    const object = parts(value).find((n) => n.type === 'object');
    if (object) return object;
  }
  throw new Error(`unsupported declaration body (${value.type}): ${value.text.slice(0, 60)}`);
}

// ---------------------------------------------------------------------------------------------------
// Expressions

/** The value, or an error naming what is missing (a failed expectation, not a crash in a helper). */
export function need<T>(value: T | null | undefined, what: string): T {
  if (value === null || value === undefined) throw new Error(`missing: ${what}`);
  return value;
}

/** The properties of an object literal by key (quotes removed). */
export function props(object: Node): Map<string, Node> {
  const result = new Map<string, Node>();
  if (object.type !== 'object') return result;
  for (const property of parts(object)) {
    if (property.type !== 'object_property') continue;
    const [key, value] = parts(property);
    if (!key || !value || key.type === 'resource_declaration') continue;
    result.set(key.type === 'string' ? stringText(key, (e) => `\${${e.text}}`) : key.text, value);
  }
  return result;
}

/** A property by dotted path: prop(body, 'properties.functionAppConfig.runtime'). */
export function prop(object: Node, dottedPath: string): Node | undefined {
  let current: Node | undefined = object;
  for (const key of dottedPath.split('.')) {
    current = current ? props(current).get(key) : undefined;
  }
  return current;
}

/** The value of a literal without interpolation: a string, a boolean or a number; else undefined. */
export function literal(node: Node | undefined): string | boolean | number | undefined {
  if (!node) return undefined;
  switch (node.type) {
    case 'boolean':
      return node.text === 'true';
    case 'number':
      return Number(node.text);
    case 'string': {
      if (node.descendantsOfType('interpolation').length > 0) return undefined;
      return stringText(node, () => '');
    }
    default:
      return undefined;
  }
}

/** The items of an array literal. */
export function items(node: Node | undefined): Node[] {
  return node?.type === 'array' ? parts(node) : [];
}

/** The function name of a call expression (`union`, `resourceGroup`, ...). */
export function calleeName(call: Node): string | undefined {
  return call.childForFieldName('function')?.text;
}

/** The argument expressions of a call. */
export function args(call: Node): Node[] {
  const list = call.childForFieldName('arguments');
  return list ? parts(list) : [];
}

/** Every identifier used in an expression (symbols, parameters, variables; not property names). */
export function identifiersIn(node: Node): string[] {
  return [
    ...(node.type === 'identifier' ? [node.text] : []),
    ...node.descendantsOfType('identifier').map((n) => n.text),
  ];
}

/** The expression text with all whitespace removed, for comparing expressions written differently. */
export function compact(node: Node | undefined): string {
  return node ? node.text.replace(/\s+/g, '') : '';
}

function stringText(node: Node, interpolate: (expression: Node) => string): string {
  const multiline = node.text.startsWith("'''");
  let out = '';
  for (const child of node.namedChildren) {
    if (child.type === 'interpolation') {
      const expression = parts(child)[0];
      out += expression ? interpolate(expression) : '';
    } else if (child.type === 'escape_sequence' && !multiline) {
      out += unescape(child.text);
    } else {
      out += child.text;
    }
  }
  return out;
}

function unescape(sequence: string): string {
  const simple: Record<string, string> = {
    "\\'": "'",
    '\\\\': '\\',
    '\\n': '\n',
    '\\r': '\r',
    '\\t': '\t',
    '\\$': '$',
  };
  return simple[sequence] ?? sequence;
}

/** Where names in an expression are looked up: the file's variables and parameters, and optionally
 * the values a caller passes to this file's parameters (a module use). */
export interface Scope {
  file: BicepFile;
  /** Parameter values from the module call site, evaluated in the caller's scope. */
  passed?: { values: Map<string, Node>; scope: Scope };
}

/** An expression together with the scope its names resolve in. */
export interface Located {
  node: Node;
  scope: Scope;
}

/**
 * Renders a string expression as far as the source determines it: literals, interpolations of
 * variables and parameters (their call-site value, else their default), members of a
 * `loadJsonContent(...)` variable, and the azd idiom `!empty(override) ? override : derived` (taken as
 * no override). Anything else (resource properties, module outputs, other calls) becomes
 * `placeholder(expressionText)`.
 */
export function render(
  node: Node,
  scope: Scope,
  placeholder: (expression: string) => string = (e) => `<${e}>`,
  depth = 0,
): string {
  if (depth > 20) return placeholder(node.text);
  const again = (n: Node, s: Scope = scope) => render(n, s, placeholder, depth + 1);
  switch (node.type) {
    case 'string':
      return stringText(node, (expression) => again(expression));
    case 'parenthesized_expression': {
      const inner = parts(node)[0];
      return inner ? again(inner) : '';
    }
    case 'ternary_expression': {
      const condition = node.childForFieldName('condition');
      const alternative = node.childForFieldName('alternative');
      if (condition && alternative && /^!empty\(\w+\)$/.test(compact(condition)))
        return again(alternative);
      return placeholder(node.text);
    }
    case 'identifier': {
      const resolved = resolveName(node.text, scope);
      return resolved ? again(resolved.node, resolved.scope) : placeholder(node.text);
    }
    case 'member_expression': {
      const json = jsonMember(node, scope);
      return typeof json === 'string' ? json : placeholder(node.text);
    }
    default:
      return placeholder(node.text);
  }
}

/** `abbrs.webSitesFunctions` where `var abbrs = loadJsonContent('./abbreviations.json')`. */
function jsonMember(node: Node, scope: Scope): unknown {
  const object = node.childForFieldName('object');
  const property = node.childForFieldName('property');
  if (object?.type !== 'identifier' || !property) return undefined;
  const resolved = resolveName(object.text, scope);
  if (resolved?.node.type !== 'call_expression' || calleeName(resolved.node) !== 'loadJsonContent')
    return undefined;
  const file = literal(args(resolved.node)[0]);
  if (typeof file !== 'string') return undefined;
  const json = JSON.parse(
    readFileSync(path.resolve(path.dirname(resolved.scope.file.path), file), 'utf8'),
  );
  return (json as Record<string, unknown>)[property.text];
}

/** A variable's expression, or a parameter's call-site value or default, with the scope it lives in. */
export function resolveName(name: string, scope: Scope): Located | undefined {
  const variable = variables(scope.file).get(name);
  if (variable) return { node: variable, scope };
  const param = params(scope.file).get(name);
  if (!param) return undefined;
  const passed = scope.passed?.values.get(name);
  if (passed && scope.passed) return { node: passed, scope: scope.passed.scope };
  return param.defaultValue ? { node: param.defaultValue, scope } : undefined;
}

/**
 * Follows an expression through variables and parameters (call-site values first) to where it
 * comes from: `identityClientId` in app/api.bicep leads to `identity.outputs.clientId` in main.bicep.
 */
export function origin(node: Node, scope: Scope, depth = 0): Located {
  if (depth > 20 || node.type !== 'identifier') return { node, scope };
  const resolved = resolveName(node.text, scope);
  return resolved ? origin(resolved.node, resolved.scope, depth + 1) : { node, scope };
}

/**
 * The keys an object-valued expression may have: object literals, `union(...)` of them, both branches
 * of a ternary, and names resolved through variables and parameters (call-site values first).
 */
export function objectKeys(node: Node, scope: Scope, depth = 0): Map<string, Located> {
  const keys = new Map<string, Located>();
  if (depth > 20) return keys;
  const merge = (n: Node | null | undefined, s: Scope = scope) => {
    if (n) for (const [k, v] of objectKeys(n, s, depth + 1)) keys.set(k, v);
  };
  switch (node.type) {
    case 'object':
      for (const [k, v] of props(node)) keys.set(k, { node: v, scope });
      break;
    case 'call_expression':
      if (calleeName(node) === 'union') for (const arg of args(node)) merge(arg);
      break;
    case 'ternary_expression':
      merge(node.childForFieldName('consequence'));
      merge(node.childForFieldName('alternative'));
      break;
    case 'parenthesized_expression':
      merge(parts(node)[0]);
      break;
    case 'identifier': {
      const resolved = resolveName(node.text, scope);
      if (resolved) merge(resolved.node, resolved.scope);
      break;
    }
  }
  return keys;
}

/** Every string literal in a file, rendered with its interpolations as written (`${...}`). */
export function strings(file: BicepFile): string[] {
  return file.root.descendantsOfType('string').map((s) => stringText(s, (e) => `\${${e.text}}`));
}

// ---------------------------------------------------------------------------------------------------
// The deployment: main.bicep and the local modules it uses

export interface ModuleInstance {
  use: ModuleUse;
  file: BicepFile;
  /** The module's names, with the values main.bicep passes to its parameters. */
  scope: Scope;
}

export interface Deployment {
  main: BicepFile;
  mainScope: Scope;
  /** Local modules of main.bicep by symbol (identity, storage, api, ...). */
  modules: Map<string, ModuleInstance>;
}

export async function loadDeployment(): Promise<Deployment> {
  const main = await loadBicep('infra/main.bicep');
  const mainScope: Scope = { file: main };
  const instances = new Map<string, ModuleInstance>();
  for (const use of modules(main)) {
    if (!use.file) continue;
    const file = await loadBicep(use.file);
    instances.set(use.symbol, {
      use,
      file,
      scope: { file, passed: { values: use.params, scope: mainScope } },
    });
  }
  return { main, mainScope, modules: instances };
}

export function moduleInstance(deployment: Deployment, symbol: string): ModuleInstance {
  const instance = deployment.modules.get(symbol);
  if (!instance) throw new Error(`main.bicep has no local module '${symbol}'`);
  return instance;
}

/** The single resource of a type (full type without API version) in a file. */
export function resourceOfType(file: BicepFile, type: string): Resource {
  const found = resources(file).filter((r) => fullType(r) === type && !r.existing);
  if (found.length !== 1)
    throw new Error(`${file.name}: expected one ${type}, found ${found.length}`);
  return found[0] as Resource;
}

/** The function app's settings: the `appsettings` config resource of app/api.bicep, keys resolved
 * through main.bicep's appSettings parameter value. */
export function appSettings(deployment: Deployment): Map<string, Located> {
  const api = moduleInstance(deployment, 'api');
  const config = resources(api.file).find(
    (r) =>
      fullType(r) === 'Microsoft.Web/sites/config' &&
      literal(prop(r.body, 'name')) === 'appsettings',
  );
  const properties = config && prop(config.body, 'properties');
  if (!properties) throw new Error(`${api.file.name}: no appsettings config resource`);
  return objectKeys(properties, api.scope);
}
