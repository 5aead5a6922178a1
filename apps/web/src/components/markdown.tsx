import type { ReactNode } from "react";

/**
 * A small markdown subset for run notes — headings, paragraphs, lists, code blocks, `code`,
 * **bold**, *italic* and http(s)/mailto links — rendered as React elements only. Nothing is
 * ever parsed as HTML: `<script>` in a note is shown as text, and a link whose URL is not
 * http(s)/mailto (`javascript:` …) stays plain text.
 */
export function Markdown({ text, testId }: { text: string; testId?: string }) {
  return (
    <div className="markdown" data-testid={testId}>
      {blocks(text)}
    </div>
  );
}

const SAFE_URL = /^(https?:\/\/|mailto:)/i;
const INLINE = /(`[^`]+`)|(\*\*[^*]+\*\*)|(\*[^*]+\*|_[^_]+_)|(\[[^\]]+\]\([^)\s]+\))/;

/** inline spans of one line of text, left to right */
export function inline(text: string, keyPrefix = "i"): ReactNode[] {
  const out: ReactNode[] = [];
  let rest = text;
  let n = 0;
  while (rest) {
    const m = INLINE.exec(rest);
    if (!m) {
      out.push(rest);
      break;
    }
    if (m.index > 0) out.push(rest.slice(0, m.index));
    const tok = m[0];
    const key = `${keyPrefix}-${n++}`;
    if (m[1]) out.push(<code key={key}>{tok.slice(1, -1)}</code>);
    else if (m[2]) out.push(<strong key={key}>{inline(tok.slice(2, -2), key)}</strong>);
    else if (m[3]) out.push(<em key={key}>{inline(tok.slice(1, -1), key)}</em>);
    else {
      const [, label = "", url = ""] = /^\[([^\]]+)\]\(([^)\s]+)\)$/.exec(tok) ?? [];
      out.push(
        SAFE_URL.test(url) ? (
          <a key={key} href={url} rel="noopener noreferrer nofollow" target="_blank">
            {label}
          </a>
        ) : (
          tok
        ),
      );
    }
    rest = rest.slice(m.index + tok.length);
  }
  return out;
}

function blocks(text: string): ReactNode[] {
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  const out: ReactNode[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    const key = `b${i}`;
    if (line.startsWith("```")) {
      const body: string[] = [];
      i++;
      while (i < lines.length && !lines[i]!.startsWith("```")) body.push(lines[i++]!);
      i++; // the closing fence
      out.push(<pre key={key}>{body.join("\n")}</pre>);
      continue;
    }
    const heading = /^(#{1,4})\s+(.*)$/.exec(line);
    if (heading) {
      const level = Math.min(heading[1]!.length + 2, 6); // h3…h6: under the page's own headings
      const Tag = `h${level}` as "h3";
      out.push(<Tag key={key}>{inline(heading[2]!, key)}</Tag>);
      i++;
      continue;
    }
    const listItem = /^\s*([-*]|\d+\.)\s+/;
    if (listItem.test(line)) {
      const ordered = /^\s*\d+\./.test(line);
      const items: ReactNode[] = [];
      while (i < lines.length && listItem.test(lines[i]!)) {
        items.push(<li key={`li${i}`}>{inline(lines[i]!.replace(listItem, ""), `li${i}`)}</li>);
        i++;
      }
      out.push(ordered ? <ol key={key}>{items}</ol> : <ul key={key}>{items}</ul>);
      continue;
    }
    if (!line.trim()) {
      i++;
      continue;
    }
    const para: string[] = [];
    while (i < lines.length && lines[i]!.trim() && !/^(#{1,4}\s|```)/.test(lines[i]!) && !listItem.test(lines[i]!)) para.push(lines[i++]!);
    out.push(<p key={key}>{inline(para.join(" "), key)}</p>);
  }
  return out;
}
