/**
 * Text-sample rows as the run page shows them. Rows come from the database as JSON logged by
 * any client, so nothing is trusted: an image is shown only as a `data:image/png` URL built
 * from a base64 string that starts with the PNG signature (no other scheme, no markup — the
 * rest is rendered as React text), and the side-by-side columns are parsed linearly.
 */
export type SampleImage = { src: string; width: number; height: number };

/** what the server accepts (MAX_TEXT_IMAGE_BASE64 in core's protocol) */
const MAX_PNG_BASE64 = 256 * 1024;
const PNG_BASE64 = /^iVBORw0KGgo[A-Za-z0-9+/]*={0,2}$/;

/** a row's `image` as an <img> source, or null when it is anything but a small base64 PNG */
export function sampleImage(v: unknown): SampleImage | null {
  if (!v || typeof v !== "object") return null;
  const { width, height, png } = v as Record<string, unknown>;
  if (typeof png !== "string" || png.length > MAX_PNG_BASE64 || !PNG_BASE64.test(png)) return null;
  const dim = (n: unknown) => (typeof n === "number" && Number.isInteger(n) && n >= 1 && n <= 4096 ? n : null);
  const w = dim(width);
  const h = dim(height);
  return w && h ? { src: `data:image/png;base64,${png}`, width: w, height: h } : null;
}

export type SampleColumns = { image: SampleImage | null; question: string; answer: string; truth: string };

/**
 * question / model answer / ground truth of a row, from the two shapes jobs log:
 *   fine-tuning (seed 002): text "[Q] question\n[LLM] answer\n[GT] truth"
 *   VLM stages:             text = the question, caption "answer: … | truth: …", image
 * null for anything else (shown as a plain table).
 */
export function sampleColumns(row: unknown): SampleColumns | null {
  if (!row || typeof row !== "object") return null;
  const { text, caption, image } = row as Record<string, unknown>;
  if (typeof text !== "string") return null;
  const img = sampleImage(image);
  if (text.startsWith("[Q] ")) {
    const a = text.indexOf("\n[LLM] ");
    const t = text.lastIndexOf("\n[GT] ");
    if (a > 0 && t > a) return { image: img, question: text.slice(4, a), answer: text.slice(a + 7, t), truth: text.slice(t + 6) };
  }
  if (typeof caption === "string" && caption.startsWith("answer: ")) {
    const t = caption.lastIndexOf(" | truth: ");
    if (t >= 8) return { image: img, question: text, answer: caption.slice(8, t), truth: caption.slice(t + 10) };
  }
  return null;
}
