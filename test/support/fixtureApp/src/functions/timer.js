const { app } = require('@azure/functions');

app.timer('everySecond', {
  schedule: '* * * * * *',
  handler: async (timer, context) => {
    context.log(`tick isPastDue=${timer.isPastDue}`);
  },
});
