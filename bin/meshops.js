#!/usr/bin/env node
// Thin launcher: Node 24 runs the TypeScript sources directly (type stripping).
import { runCli } from '../src/cli.ts';

runCli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`meshops: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
