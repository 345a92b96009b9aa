/** Plain-text tables for the terminal: every column padded to its widest cell. */

/** `header` and `rows` as lines, columns left-aligned and joined by `gap`. */
export function alignColumns(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  gap: string,
): string[] {
  const widths = header.map((cell, index) =>
    Math.max(cell.length, ...rows.map((row) => row[index]!.length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, index) => cell.padEnd(widths[index]!))
      .join(gap)
      .trimEnd();
  return [line(header), ...rows.map(line)];
}
