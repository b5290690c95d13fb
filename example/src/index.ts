import { app } from '@azure/functions';
import { registerSignIn } from 'entra-functions-signin';
import './functions/demo';
import './functions/hello';
import './functions/profile';
import './functions/admin';
import './functions/members';
import './functions/report';

/**
 * The example app's entry, as any app using the package has one: the sign-in endpoints and the
 * cleanup timer; the app's own functions (imported above) each register themselves with
 * app.http. The build bundles this file into dist/main.js.
 */
registerSignIn(app);
