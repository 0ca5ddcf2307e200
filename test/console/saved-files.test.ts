// A terminal cannot show a PNG: the console saves a message's binary files (a window's chart) and says
// where, instead of printing a placeholder.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from '@jest/globals';
import { ConsoleMessenger } from '../../src/console/repl.ts';

const dir = mkdtempSync(join(tmpdir(), 'meshops-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('console files', () => {
  it('saves a chart to the files directory and prints its path; text files print as text', async () => {
    let out = '';
    const sink = new Writable({
      write: (c, _e, cb) => {
        out += String(c);
        cb();
      },
    });
    const m = new ConsoleMessenger(sink, { tty: false, filesDir: join(dir, 'charts') });
    const bytes = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]);
    await m.post('console', {
      text: 'verdict',
      blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'passed' } }],
      files: [
        { filename: '../x/chart.png', title: 'the chart', content: '[chart]', bytes },
        { filename: 'list.txt', title: 'the list', content: 'a\nb' },
      ],
    });
    const path = join(dir, 'charts', '1-chart.png');
    expect(out).toContain(`saved to ${path} (7 bytes)`);
    expect(out).not.toContain('[chart]');
    expect(out).toContain('--- the list ---\na\nb');
    expect([...readFileSync(path)]).toEqual([...bytes]);
  });
});
