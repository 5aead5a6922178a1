import type { RunLogLine } from "@heron/core";

const MAX_LINE = 4_000;

type Stream = "stdout" | "stderr";

/**
 * Tees process.stdout/stderr into run log lines. A line ends at "\n"; a "\r" inside a line
 * (progress bars redrawing themselves) keeps only the text after it, so a bar is stored in
 * its last state. Lines are cut at MAX_LINE characters.
 */
export class ConsoleCapture {
  private partial: Record<Stream, string> = { stdout: "", stderr: "" };
  private originals: Partial<Record<Stream, typeof process.stdout.write>> = {};

  constructor(private readonly emit: (line: RunLogLine) => void) {}

  start(): void {
    for (const name of ["stdout", "stderr"] as const) {
      const stream = process[name];
      // the stream's own write, called with the stream as `this` below
      // eslint-disable-next-line @typescript-eslint/unbound-method -- restored as a method of the same stream in stop()
      const original = stream.write;
      this.originals[name] = original;
      const feed = (n: Stream, text: string) => this.feed(n, text);
      stream.write = function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]) {
        try {
          feed(
            name,
            typeof chunk === "string" ? chunk : Buffer.isBuffer(chunk) || chunk instanceof Uint8Array ? Buffer.from(chunk).toString("utf8") : String(chunk),
          );
        } catch {
          // capture must never break the user's output
        }
        return (original as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
      };
    }
  }

  /** restores the streams and emits unfinished lines */
  stop(): void {
    for (const name of ["stdout", "stderr"] as const) {
      const original = this.originals[name];
      if (original) process[name].write = original;
      const rest = collapse(this.partial[name]);
      if (rest) this.emit({ stream: name, line: rest.slice(0, MAX_LINE), ts: Date.now() });
      this.partial[name] = "";
    }
    this.originals = {};
  }

  private feed(stream: Stream, text: string) {
    const parts = (this.partial[stream] + text).split("\n");
    this.partial[stream] = parts.pop() ?? "";
    // a bar that never ends its line must not grow without bound
    if (this.partial[stream].length > 4 * MAX_LINE) this.partial[stream] = collapse(this.partial[stream]).slice(-MAX_LINE);
    const ts = Date.now();
    for (const raw of parts) this.emit({ stream, line: collapse(raw).slice(0, MAX_LINE), ts });
  }
}

/** "10%\r50%\r100%" → "100%"; a trailing "\r" (from "\r\n") is not a redraw */
export function collapse(line: string): string {
  const trimmed = line.endsWith("\r") ? line.slice(0, -1) : line;
  const i = trimmed.lastIndexOf("\r");
  return i >= 0 ? trimmed.slice(i + 1) : trimmed;
}
