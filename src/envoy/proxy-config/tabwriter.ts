// Go's text/tabwriter as istioctl uses it (flags 0, pad ' '): text whose cells end in '\t' and whose
// lines end in '\n' comes back aligned. A column is a run of consecutive lines that all have a
// tab-terminated cell at that index; every such cell is padded to the widest cell of its run plus
// `padding` (at least `minwidth`), the last cell of a line (not tab-terminated) is never padded. So a
// row may end in spaces: an empty trailing cell followed by a tab is padded like any other. Widths
// count code points, as Go counts runes.

export interface TabwriterOptions {
  /** Cells are padded to at least this width (istioctl: 0). */
  minwidth?: number;
  /** Spaces added after the widest cell of a column (istioctl: 5 for most tables, 1 for some). */
  padding: number;
}

interface Line {
  cells: string[];
  /** Whether the line ended in '\n' (the text's last line may not). */
  newline: boolean;
}

const width = (s: string): number => {
  let n = 0;
  for (const _ of s) n++;
  return n;
};

function splitLines(text: string): Line[] {
  const parts = text.split('\n');
  const lines: Line[] = [];
  parts.forEach((p, i) => {
    const last = i === parts.length - 1;
    if (last && p === '') return;
    lines.push({ cells: p.split('\t'), newline: !last });
  });
  return lines;
}

/** Align `text` as Go's tabwriter.Writer does on Flush. */
export function tabwriter(text: string, options: TabwriterOptions): string {
  const { minwidth = 0, padding } = options;
  const lines = splitLines(text);
  const out: string[] = [];
  const widths: number[] = [];

  const writeLines = (from: number, to: number): void => {
    for (let i = from; i < to; i++) {
      const line = lines[i]!;
      let s = '';
      line.cells.forEach((c, j) => {
        s += c;
        if (j < widths.length) s += ' '.repeat(Math.max(0, widths[j]! - width(c)));
      });
      out.push(line.newline ? s + '\n' : s);
    }
  };

  // Lines [line0, line1) are formatted knowing the widths of the columns left of `widths.length`.
  const format = (line0: number, line1: number): void => {
    const column = widths.length;
    let start = line0;
    for (let i = line0; i < line1; i++) {
      if (column >= lines[i]!.cells.length - 1) continue;
      // A block of this column starts here: lines before it are done.
      writeLines(start, i);
      let w = minwidth;
      let end = i;
      for (; end < line1; end++) {
        const cells = lines[end]!.cells;
        if (column >= cells.length - 1) break;
        w = Math.max(w, width(cells[column]!) + padding);
      }
      widths.push(w);
      format(i, end);
      widths.pop();
      start = end;
      i = end - 1;
    }
    writeLines(start, line1);
  };

  format(0, lines.length);
  return out.join('');
}

/** Rows of cells → tab-separated text, each row ending in '\n' (what istioctl's Fprintf calls build). */
export function tabRows(rows: readonly (readonly (string | number | boolean)[])[]): string {
  return rows.map((r) => r.join('\t') + '\n').join('');
}

/** `tabwriter(tabRows(rows), { padding })`. */
export function table(rows: readonly (readonly (string | number | boolean)[])[], padding: number): string {
  return tabwriter(tabRows(rows), { padding });
}
