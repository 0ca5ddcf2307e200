#!/usr/bin/env node
// Thin launcher: Node 24 runs the TypeScript sources directly (type stripping).
import { runCli } from '../src/cli.ts';

// One-shot subcommands exit as soon as their output is flushed: keep-alive connections to the API server
// would otherwise hold the process open for seconds. Long-running ones (console, sandbox) return when done.
const done = (code) => process.stdout.write('', () => process.exit(code));

runCli(process.argv.slice(2)).then(done, (err) => {
  process.stderr.write(`meshops: ${err instanceof Error ? err.message : String(err)}\n`);
  done(1);
});
