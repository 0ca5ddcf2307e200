// No source file does several jobs at once: every file under src/ stays at or under 400 lines (as
// formatted by Biome), except generated catalogues, which say so in their first line.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { projectPath, tsFilesUnder } from '../support/import-graph.ts';
import { projectRoot } from '../support/shared.ts';

const LIMIT = 400;

describe('file size', () => {
  it(`no file under src/ is longer than ${LIMIT} lines (generated files excepted)`, () => {
    const files = tsFilesUnder(join(projectRoot, 'src'));
    expect(files.length).toBeGreaterThan(150);
    const long = files
      .map((f) => ({ file: projectPath(f), text: readFileSync(f, 'utf8') }))
      .filter(({ text }) => !text.startsWith('// GENERATED'))
      .map(({ file, text }) => ({ file, lines: text.split('\n').length - (text.endsWith('\n') ? 1 : 0) }))
      .filter(({ lines }) => lines > LIMIT)
      .map(({ file, lines }) => `${file}: ${lines} lines`);
    expect(long).toEqual([]);
  });
});
