import type { AlertFormat, AlertLevel } from "./schemas";

/** What every format carries; `url` links to the run (or the runners page). */
export type AlertMessage = {
  event: string;
  title: string;
  text: string;
  level: AlertLevel;
  project: string;
  runId: string | null;
  url: string | null;
  ts: number;
};

const DISCORD_COLORS: Record<AlertLevel, number> = { info: 0x3b82f6, warn: 0xf59e0b, error: 0xef4444 };
const ICON: Record<AlertLevel, string> = { info: "ℹ️", warn: "⚠️", error: "🚨" };

/** The JSON body each webhook kind expects (Slack incoming webhooks, Discord webhooks, Feishu custom bots). */
export function alertPayload(format: AlertFormat, m: AlertMessage): Record<string, unknown> {
  const line = `${ICON[m.level]} [${m.project}] ${m.title}`;
  const body = m.url ? `${m.text}\n${m.url}` : m.text;
  switch (format) {
    case "slack":
      return { text: `${line}\n${body}`, blocks: [{ type: "section", text: { type: "mrkdwn", text: `*${line}*\n${body}` } }] };
    case "discord":
      return {
        content: line.slice(0, 2000),
        embeds: [{ title: m.title.slice(0, 256), description: body.slice(0, 4096), color: DISCORD_COLORS[m.level], url: m.url ?? undefined }],
      };
    case "feishu":
      return { msg_type: "text", content: { text: `${line}\n${body}` } };
    case "generic":
      return { ...m };
  }
}
