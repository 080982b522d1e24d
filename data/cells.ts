/**
 * How one cell's text is read: as a number (the loader, preprocessing at
 * scoring time and `data inspect` share this, so a value parses the same
 * everywhere) or as a category.
 */

/**
 * Makes the numeric cell parser the loader uses, so scoring parses exactly as
 * training did. It returns NaN for missing, `undefined` for not a number.
 */
export function numericCellParser(missingTokens: Iterable<string>): (raw: string) => number | undefined {
  const tokens = new Set(missingTokens);
  const blankIsMissing = [...tokens].some((t) => t.trim() === '');
  // Checking every cell against the token set costs as much as parsing it; only
  // tokens that parse as numbers (like "-999") need checking before the parse.
  const numericTokens = [...tokens].some((t) => t.trim() !== '' && Number.isFinite(Number(t)));
  return (raw) => {
    if (numericTokens && tokens.has(raw)) return NaN;
    const value = Number(raw);
    if (Number.isFinite(value)) {
      // Number('  ') is 0: a blank cell is missing (if blanks count as missing), never zero.
      if (value === 0 && raw.trim() === '') return blankIsMissing ? NaN : undefined;
      return value;
    }
    return tokens.has(raw) || tokens.has(raw.trim()) ? NaN : undefined;
  };
}

/** A categorical cell, trimmed; `undefined` means missing. */
export function categoricalCell(raw: string, missingTokens: ReadonlySet<string>): string | undefined {
  const value = raw.trim();
  return missingTokens.has(raw) || missingTokens.has(value) ? undefined : value;
}
