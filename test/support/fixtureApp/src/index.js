// The app's setup file, loaded first by the "main" glob.
const { app } = require('@azure/functions');

app.setup({ enableHttpStream: false });

// Hooks run as in the worker: appStart once the entry is loaded, postInvocation after a function.
app.hook.appStart((context) => {
  console.log(`appStart hook ran (hookData ${typeof context.hookData})`);
});
app.hook.postInvocation((context) => {
  if (context.invocationContext.functionName === 'hooked') {
    context.result = { status: 200, body: `${context.result.body}, then the postInvocation hook` };
  }
});
