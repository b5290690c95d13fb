import type {
  CoreInvocationContext,
  FunctionsCoreRegistry,
  RegisteredFunction,
  RpcInvocationRequest,
  RpcInvocationResponse,
  RpcLogCategory,
  RpcLogLevel,
} from './functionsCore';

/**
 * One invocation, in the order the Node.js worker runs it: the app's programming model builds
 * the arguments from the RPC request, preInvocation hooks, the function, postInvocation hooks,
 * then the programming model turns the result into the RPC response.
 */
export async function invokeFunction(
  registry: FunctionsCoreRegistry,
  registered: RegisteredFunction,
  request: RpcInvocationRequest & { invocationId: string },
  log: (level: RpcLogLevel, category: RpcLogCategory, message: string) => void,
): Promise<RpcInvocationResponse> {
  const coreContext: CoreInvocationContext = {
    invocationId: request.invocationId,
    request,
    metadata: registered.metadata,
    log,
  };
  const model = await registry.programmingModel().getInvocationModel(coreContext);
  const { context, inputs } = await model.getArguments();
  const preHooks = registry.hooks('preInvocation');
  const postHooks = registry.hooks('postInvocation');
  if (preHooks.length === 0 && postHooks.length === 0) {
    // No hooks (the usual case): no hook contexts to build.
    let result: unknown;
    try {
      coreContext.state = 'invocation';
      result = await model.invokeFunction(context, inputs, registered.callback);
    } finally {
      coreContext.state = undefined;
    }
    return model.getResponse(context, result);
  }
  const hookData: Record<string, unknown> = {};
  const appHookData = registry.appHookData;

  const pre = {
    hookData,
    appHookData,
    invocationContext: context,
    inputs,
    functionCallback: registered.callback,
  };
  await runHooks(preHooks, pre, coreContext, 'preInvocationHooks');

  let result: unknown;
  let error: unknown;
  try {
    coreContext.state = 'invocation';
    result = await model.invokeFunction(context, pre.inputs, pre.functionCallback);
  } catch (thrown) {
    error = thrown;
  } finally {
    coreContext.state = undefined;
  }

  const post = {
    hookData,
    appHookData,
    invocationContext: context,
    inputs: pre.inputs,
    result,
    error,
  };
  await runHooks(postHooks, post, coreContext, 'postInvocationHooks');
  if (post.error) throw post.error;
  return model.getResponse(context, post.result);
}

async function runHooks(
  hooks: readonly ((context: Record<string, unknown>) => unknown)[],
  hookContext: Record<string, unknown>,
  coreContext: { state?: string },
  state: 'preInvocationHooks' | 'postInvocationHooks',
): Promise<void> {
  if (hooks.length === 0) return;
  coreContext.state = state;
  try {
    for (const hook of hooks) await hook(hookContext);
  } finally {
    coreContext.state = undefined;
  }
}
