/**
 * Evaluates a compiled ARM template (what `bicep build` writes) the way Resource Manager would for one
 * set of parameters, nested deployments (Bicep modules) included, and lists what would be deployed:
 * every resource with its evaluated name, id, scope, condition and body, and every output. Values only
 * Azure knows (principal ids, host names, endpoints) stay symbolic (`Unknown`), labelled with the
 * resource they come from, so a test can say "this setting is that identity's client id".
 */
import {
  evaluate,
  type ExpressionHost,
  isExpression,
  parseExpression,
  ResourceView,
  text,
  Unknown,
} from './armExpressions';
import {
  type AzureContext,
  labelOf,
  type PlannedDeployment,
  type PlannedResource,
  resourceId,
} from './armPlan';

export type { AzureContext, PlannedDeployment, PlannedResource } from './armPlan';
export { allResources, findDeployment } from './armPlan';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const NOT_EVALUATED = new Set(['dependsOn', 'import', 'metadata', 'comments']);

class Template implements ExpressionHost {
  private readonly variableCache = new Map<string, unknown>();
  private readonly children = new Map<string, Template>();
  private readonly planned = new Map<string, PlannedResource>();
  private readonly planning = new Set<string>();

  constructor(
    private readonly template: JsonObject,
    private readonly parameterValues: Record<string, unknown>,
    private readonly context: AzureContext,
    readonly path: string,
    readonly resourceGroup: string | undefined,
  ) {
    const declared = (template.parameters ?? {}) as Record<string, JsonObject>;
    for (const name of Object.keys(parameterValues)) {
      if (!(name in declared)) throw new Error(`${this.where}: no parameter '${name}'`);
    }
  }

  private get where(): string {
    return this.path || 'main';
  }

  /** Deep evaluation of a JSON value: expression strings, and expression keys of objects. */
  value(json: Json | undefined): unknown {
    if (typeof json === 'string')
      return isExpression(json)
        ? evaluate(parseExpression(json), this)
        : json.replace(/^\[\[/, '[');
    if (Array.isArray(json)) return json.map((j) => this.value(j));
    if (json && typeof json === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(json)) out[text(this.value(k))] = this.value(v);
      return out;
    }
    return json;
  }

  parameter(name: string): unknown {
    const declared = (this.template.parameters as Record<string, JsonObject> | undefined)?.[name];
    if (!declared) throw new Error(`${this.where}: no parameter '${name}'`);
    const value =
      name in this.parameterValues
        ? this.parameterValues[name]
        : 'defaultValue' in declared
          ? this.value(declared.defaultValue)
          : declared.nullable
            ? null
            : (() => {
                throw new Error(`${this.where}: parameter '${name}' needs a value`);
              })();
    const allowed = declared.allowedValues as Json[] | undefined;
    if (allowed && !allowed.some((a) => JSON.stringify(a) === JSON.stringify(value)))
      throw new Error(`${this.where}: ${name} = ${JSON.stringify(value)} is not allowed`);
    return value;
  }

  variable(name: string): unknown {
    if (!this.variableCache.has(name)) {
      const variables = (this.template.variables ?? {}) as JsonObject;
      if (!(name in variables)) throw new Error(`${this.where}: no variable '${name}'`);
      if ('copy' in variables)
        throw new Error(`${this.where}: variable copy loops are not supported`);
      this.variableCache.set(name, this.value(variables[name]));
    }
    return this.variableCache.get(name);
  }

  private scopeId(): string {
    const subscription = `/subscriptions/${this.context.subscriptionId}`;
    return this.resourceGroup
      ? `${subscription}/resourceGroups/${this.resourceGroup}`
      : subscription;
  }

  /** Resources of the template with their symbolic names (array templates have none). */
  private declarations(): [string | undefined, JsonObject][] {
    const resources = this.template.resources as Json;
    if (Array.isArray(resources)) return resources.map((r) => [undefined, r as JsonObject]);
    return Object.entries((resources ?? {}) as JsonObject).map(([k, r]) => [k, r as JsonObject]);
  }

  resources(): PlannedResource[] {
    return this.declarations().map(([symbol, r]) => this.plan(symbol, r));
  }

  /** The id of a declaration, from its type, name and scope only (no body: no reference cycles). */
  private idOf(symbol: string | undefined, declaration: JsonObject): string {
    const type = String(declaration.type).split('@')[0] ?? '';
    if (declaration.import) return `${type}(${[this.path, symbol].filter(Boolean).join('.')})`;
    const name = text(this.value(declaration.name));
    const scope =
      declaration.scope === undefined ? this.scopeId() : text(this.value(declaration.scope));
    return resourceId(scope, type, name.split('/'));
  }

  private plan(symbol: string | undefined, declaration: JsonObject): PlannedResource {
    const key = this.idOf(symbol, declaration);
    const cached = this.planned.get(key);
    if (cached) return cached;
    if (this.planning.has(key)) throw new Error(`${this.where}: ${key} refers to itself`);
    this.planning.add(key);
    if ('copy' in declaration)
      throw new Error(`${this.where}: resource copy loops are not supported`);
    const [type = '', version = ''] = String(declaration.type).split('@');
    const name = declaration.name === undefined ? '' : text(this.value(declaration.name));
    const scope = declaration.scope === undefined ? undefined : text(this.value(declaration.scope));
    const body: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(declaration)) {
      if (
        !NOT_EVALUATED.has(k) &&
        !['type', 'name', 'scope', 'condition', 'apiVersion'].includes(k)
      )
        body[k] =
          type === 'Microsoft.Resources/deployments' && k === 'properties' ? {} : this.value(v);
    }
    const id = key;
    const planned: PlannedResource = {
      deployment: this.path,
      ...(symbol ? { symbol } : {}),
      type,
      apiVersion: String(declaration.apiVersion ?? version),
      name,
      id,
      deployed: declaration.condition === undefined || this.value(declaration.condition) === true,
      ...(scope !== undefined ? { scope } : {}),
      body,
    };
    this.planned.set(key, planned);
    return planned;
  }

  child(name: string): Template {
    const existing = this.children.get(name);
    if (existing) return existing;
    const declaration = this.declarations()
      .map(([, r]) => r)
      .find(
        (r) => r.type === 'Microsoft.Resources/deployments' && text(this.value(r.name)) === name,
      );
    if (!declaration) throw new Error(`${this.where}: no module deployment '${name}'`);
    const properties = declaration.properties as JsonObject;
    if ((properties.expressionEvaluationOptions as JsonObject | undefined)?.scope !== 'inner')
      throw new Error(`${this.where}/${name}: only inner-scoped nested templates are supported`);
    const values: Record<string, unknown> = {};
    for (const [k, v] of Object.entries((properties.parameters ?? {}) as JsonObject)) {
      values[k] = (this.value(v) as { value: unknown }).value;
    }
    const resourceGroup =
      declaration.resourceGroup === undefined
        ? this.resourceGroup
        : text(this.value(declaration.resourceGroup));
    const template = new Template(
      properties.template as JsonObject,
      values,
      this.context,
      [this.path, name].filter(Boolean).join('/'),
      resourceGroup,
    );
    this.children.set(name, template);
    return template;
  }

  childNames(): string[] {
    return this.declarations()
      .filter(([, r]) => r.type === 'Microsoft.Resources/deployments')
      .map(([, r]) => text(this.value(r.name)));
  }

  outputs(): Record<string, unknown> {
    const outputs: Record<string, unknown> = {};
    for (const [k, v] of Object.entries((this.template.outputs ?? {}) as JsonObject)) {
      outputs[k] = this.value((v as JsonObject).value);
    }
    return outputs;
  }

  private reference(target: unknown, full: boolean): unknown {
    const ref = text(target);
    const symbolic = this.declarations().find(([symbol]) => symbol === ref);
    const deploymentName = /\/providers\/Microsoft\.Resources\/deployments\/([^/]+)$/i.exec(
      ref,
    )?.[1];
    if (deploymentName) {
      const outputs = this.child(deploymentName).outputs();
      return {
        outputs: Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, { value: v }])),
      };
    }
    const declaration =
      symbolic ??
      this.declarations().find(([s, r]) => this.idOf(s, r).toLowerCase() === ref.toLowerCase());
    const resource = declaration && this.plan(declaration[0], declaration[1]);
    const label = resource?.id.includes('/providers/')
      ? labelOf(resource.id)
      : (resource?.id ?? labelOf(ref));
    if (!resource) return new Unknown(label);
    const properties = (resource.body.properties ?? {}) as Record<string, unknown>;
    const view = new ResourceView(label, properties);
    return full ? new ResourceView(label, { ...resource.body, properties: view }) : view;
  }

  call(name: string, args: unknown[]): unknown {
    const ctx = this.context;
    switch (name) {
      case 'parameters':
        return this.parameter(text(args[0]));
      case 'variables':
        return this.variable(text(args[0]));
      case 'reference':
        return this.reference(args[0], text(args[2] ?? '').toLowerCase() === 'full');
      case 'resourceid': {
        const typeAt = args.findIndex((a) => typeof a === 'string' && a.includes('/'));
        const [subscription, group] =
          typeAt === 2 ? args.map(text) : typeAt === 1 ? [ctx.subscriptionId, text(args[0])] : [];
        const scope = subscription
          ? `/subscriptions/${subscription}/resourceGroups/${group}`
          : this.scopeId();
        return resourceId(scope, text(args[typeAt]), args.slice(typeAt + 1).map(text));
      }
      case 'subscriptionresourceid':
        return resourceId(
          `/subscriptions/${ctx.subscriptionId}`,
          text(args[0]),
          args.slice(1).map(text),
        );
      case 'tenantresourceid':
        return resourceId('', text(args[0]), args.slice(1).map(text));
      case 'extensionresourceid':
        return resourceId(text(args[0]), text(args[1]), args.slice(2).map(text));
      case 'subscription':
        return {
          id: `/subscriptions/${ctx.subscriptionId}`,
          subscriptionId: ctx.subscriptionId,
          tenantId: ctx.tenantId,
        };
      case 'tenant':
        return { tenantId: ctx.tenantId };
      case 'deployer':
        return { objectId: ctx.deployerObjectId, tenantId: ctx.tenantId };
      case 'resourcegroup':
        if (!this.resourceGroup) throw new Error(`${this.where}: resourceGroup() outside a group`);
        return { id: this.scopeId(), name: this.resourceGroup, location: ctx.location };
      case 'environment':
        return {
          name: 'AzureCloud',
          authentication: { loginEndpoint: 'https://login.microsoftonline.com/' },
          suffixes: { storage: 'core.windows.net' },
        };
      default:
        throw new Error(`${this.where}: ARM function ${name}() is not supported by this evaluator`);
    }
  }

  toPlan(): PlannedDeployment {
    // Resource Manager checks every parameter before it deploys anything, used or not.
    for (const name of Object.keys(this.template.parameters ?? {})) this.parameter(name);
    return {
      name: this.path,
      ...(this.resourceGroup ? { resourceGroup: this.resourceGroup } : {}),
      outputs: this.outputs(),
      resources: this.resources().filter((r) => r.type !== 'Microsoft.Resources/deployments'),
      deployments: this.childNames().map((n) => this.child(n).toPlan()),
    };
  }
}

/** Plans a deployment of a compiled main template with the given parameter values. */
export function planDeployment(
  template: object,
  parameters: Record<string, unknown>,
  context: AzureContext,
): PlannedDeployment {
  return new Template(template as JsonObject, parameters, context, '', undefined).toPlan();
}
