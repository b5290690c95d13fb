// The app's setup file, loaded first by the "main" glob.
const { app } = require('@azure/functions');

app.setup({ enableHttpStream: false });
