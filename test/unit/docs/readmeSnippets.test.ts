import { readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/** The README's "Use it in your functions" example compiles where it says it goes. */

const ROOT = path.resolve(__dirname, '../../..');

function readmeFile(name: string): string {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const block = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)]
    .map((m) => m[1] ?? '')
    .find((code) => code.startsWith(`// ${name}\n`));
  if (!block) throw new Error(`README has no ts block starting with "// ${name}"`);
  return block;
}

function typeErrors(fileName: string, source: string): string[] {
  const configPath = path.join(ROOT, 'tsconfig.json');
  const config = ts.getParsedCommandLineOfConfigFile(
    configPath,
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: () => undefined,
    },
  );
  if (!config) throw new Error('tsconfig.json unreadable');
  const target = path.join(ROOT, fileName);
  const host = ts.createCompilerHost(config.options);
  const readFile = host.readFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  host.readFile = (f) => (path.resolve(f) === target ? source : readFile(f));
  host.fileExists = (f) => path.resolve(f) === target || fileExists(f);
  const program = ts.createProgram([target], { ...config.options, noEmit: true }, host);
  return ts
    .getPreEmitDiagnostics(program, program.getSourceFile(target))
    .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
}

describe('README snippets', () => {
  it('when the orders example is saved as example/src/functions/orders.ts, then it type-checks', () => {
    expect(
      typeErrors('example/src/functions/orders.ts', readmeFile('example/src/functions/orders.ts')),
    ).toEqual([]);
  });
});
