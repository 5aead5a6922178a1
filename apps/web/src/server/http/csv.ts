/**
 * CSV fields for exports that users open in spreadsheets. Text is always quoted (RFC 4180:
 * inner quotes doubled, so commas and line breaks stay inside the field), and text that a
 * spreadsheet would evaluate as a formula (= + - @, or a leading tab / CR) gets a leading
 * apostrophe: a metric key chosen by whoever logged the run must not run in a reader's sheet.
 */
const FORMULA_START = /^[=+\-@\t\r]/;

export function csvText(s: string): string {
  const safe = FORMULA_START.test(s) ? `'${s}` : s;
  return `"${safe.replace(/"/g, '""')}"`;
}

/** one metric point as a row of the metrics export (no line terminator) */
export function metricCsvRow(p: { key: string; step: number; value: number | null; ts: number }): string {
  return `${csvText(p.key)},${p.step},${p.value},${new Date(p.ts).toISOString()}`;
}
