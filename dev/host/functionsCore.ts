import Module from 'node:module';

/**
 * The `@azure/functions-core` module, as the Azure Functions Node.js worker provides it to an app:
 * `@azure/functions` calls `setProgrammingModel` once and `registerFunction(metadata, callback)`
 * for every `app.http` / `app.timer`. The local host installs it before loading the app, so the
 * registrations reach the host and every invocation goes through the library's own invocation
 * model (request and response conversion, cookies, errors), as in Azure.
 * Shapes: `types-core/index.d.ts` in Azure/azure-functions-nodejs-library (only what is used here).
 */

export type RpcLogLevel =
  'trace' | 'debug' | 'information' | 'warning' | 'error' | 'critical' | 'none';
export type RpcLogCategory = 'user' | 'system' | 'customMetric';

export interface RpcBindingInfo {
  type?: string | null;
  direction?: 'in' | 'out' | 'inout' | null;
  [option: string]: unknown;
}

export interface FunctionMetadata {
  name: string;
  functionId?: string;
  bindings: Record<string, RpcBindingInfo>;
}

export type FunctionCallback = (...args: unknown[]) => unknown;

export interface RpcNullableString {
  value?: string | null;
}

export interface RpcHttpCookie {
  name?: string | null;
  value?: string | null;
  domain?: RpcNullableString | null;
  path?: RpcNullableString | null;
  expires?: { value?: { seconds?: number | null } | null } | null;
  secure?: { value?: boolean | null } | null;
  httpOnly?: { value?: boolean | null } | null;
  sameSite?: 'none' | 'lax' | 'strict' | 'explicitNone' | null;
  maxAge?: { value?: number | null } | null;
}

export interface RpcHttpData {
  method?: string | null;
  url?: string | null;
  headers?: Record<string, string> | null;
  query?: Record<string, string> | null;
  params?: Record<string, string> | null;
  body?: RpcTypedData | null;
  statusCode?: string | null;
  cookies?: RpcHttpCookie[] | null;
}

export interface RpcTypedData {
  string?: string | null;
  json?: string | null;
  bytes?: Uint8Array | null;
  http?: RpcHttpData | null;
}

export interface RpcInvocationRequest {
  invocationId?: string | null;
  functionId?: string | null;
  inputData?: { name?: string | null; data?: RpcTypedData | null }[] | null;
  triggerMetadata?: Record<string, RpcTypedData> | null;
}

export interface RpcInvocationResponse {
  invocationId?: string | null;
  outputData?: { name?: string | null; data?: RpcTypedData | null }[] | null;
  returnValue?: RpcTypedData | null;
}

export type InvocationState = 'preInvocationHooks' | 'postInvocationHooks' | 'invocation';

export interface CoreInvocationContext {
  invocationId: string;
  request: RpcInvocationRequest;
  metadata: FunctionMetadata;
  state?: InvocationState;
  log(level: RpcLogLevel, category: RpcLogCategory, message: string): void;
}

export interface InvocationModel {
  getArguments(): Promise<{ context: unknown; inputs: unknown[] }>;
  invokeFunction(context: unknown, inputs: unknown[], callback: FunctionCallback): Promise<unknown>;
  getResponse(context: unknown, result: unknown): Promise<RpcInvocationResponse>;
}

export interface ProgrammingModel {
  name: string;
  version: string;
  getInvocationModel(context: CoreInvocationContext): InvocationModel | Promise<InvocationModel>;
}

export interface Disposable {
  dispose(): void;
}

export type HookName = 'preInvocation' | 'postInvocation' | 'appStart' | 'appTerminate';
type HookCallback = (context: Record<string, unknown>) => unknown;

export interface RegisteredFunction {
  metadata: FunctionMetadata;
  callback: FunctionCallback;
}

/** What the app registered through the module: read by the host. */
export interface FunctionsCoreRegistry {
  readonly functions: RegisteredFunction[];
  programmingModel(): ProgrammingModel;
  hooks(name: HookName): readonly HookCallback[];
  /** Hook data shared by every hook of the app (the worker's appHookData). */
  readonly appHookData: Record<string, unknown>;
}

export type CoreLog = (level: RpcLogLevel, category: RpcLogCategory, message: string) => void;

/**
 * Makes `require('@azure/functions-core')` answer the returned module, in this process, for any
 * copy of `@azure/functions` (the app's own node_modules or a bundle), as the worker does.
 */
export function installFunctionsCore(log: CoreLog): FunctionsCoreRegistry {
  const functions: RegisteredFunction[] = [];
  const hooks = new Map<string, HookCallback[]>();
  let model: ProgrammingModel | undefined;
  const names = new Set<string>();

  const core = {
    version: '4.0.0-local',
    hostVersion: '4.0.0-local',
    setProgrammingModel(programmingModel: ProgrammingModel) {
      model = programmingModel;
    },
    getProgrammingModel() {
      return model;
    },
    registerFunction(metadata: FunctionMetadata, callback: FunctionCallback): Disposable {
      // The worker refuses a second function of the same name; so does this host.
      if (names.has(metadata.name)) {
        throw new Error(`A function can only be registered once: "${metadata.name}".`);
      }
      names.add(metadata.name);
      const entry = { metadata, callback };
      functions.push(entry);
      return {
        dispose: () => {
          functions.splice(functions.indexOf(entry), 1);
          names.delete(metadata.name);
        },
      };
    },
    registerHook(name: string, callback: HookCallback): Disposable {
      const list = hooks.get(name) ?? [];
      list.push(callback);
      hooks.set(name, list);
      return { dispose: () => list.splice(list.indexOf(callback), 1) };
    },
    log,
  };

  const originalRequire = Module.prototype.require;
  Module.prototype.require = new Proxy(originalRequire, {
    apply(target, thisArg, args: [string]) {
      if (args[0] === '@azure/functions-core') return core;
      return Reflect.apply(target, thisArg, args);
    },
  }) as NodeJS.Require;

  return {
    functions,
    programmingModel: () => {
      if (!model) throw new Error('The app loaded no programming model (@azure/functions v4).');
      return model;
    },
    hooks: (name) => hooks.get(name) ?? [],
    appHookData: {},
  };
}
