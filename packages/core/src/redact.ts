/**
 * A run's captured environment (argv, git remote, launcher lines …) is shown to everyone
 * who can read the project, so credentials that happen to be in it are masked before it is
 * stored: userinfo in URLs, Heron keys, and the values of secret-named flags, variables and
 * fields. Pure and browser-safe; the server applies it to every environment it stores.
 */
export const REDACTED = "[redacted]";

/** names (flags, variables, fields) whose value is a credential */
export function isSecretName(name: string): boolean {
  const n = name.toLowerCase().replace(/[^a-z0-9]/g, "");
  return /token|secret|passw(or)?d|apikey|accesskey|privatekey|credential|authorization|^(key|auth|pw|pass)$/.test(n);
}

const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^/\s@]+@/gi;
const HERON_SECRET = /\b(h[krj]_)[A-Za-z0-9_-]{16,}/g;
/** `--flag=value` or `NAME=value` */
const ASSIGNMENT = /(^|[\s"'])(--?[A-Za-z][\w.-]*|[A-Za-z_][A-Za-z0-9_]*)=([^\s"']+)/g;
/** `--flag value` inside one string (a shell line) */
const FLAG_THEN_VALUE = /(^|\s)(--?[A-Za-z][\w.-]*)(\s+)([^\s-][^\s]*|-[^\s-][^\s]*)/g;

function redactString(s: string): string {
  return s
    .replace(URL_USERINFO, `$1${REDACTED}@`)
    .replace(HERON_SECRET, `$1${REDACTED}`)
    .replace(ASSIGNMENT, (all, lead: string, name: string) => (isSecretName(name.replace(/^-+/, "")) ? `${lead}${name}=${REDACTED}` : all))
    .replace(FLAG_THEN_VALUE, (all, lead: string, flag: string, gap: string) =>
      isSecretName(flag.replace(/^-+/, "")) ? `${lead}${flag}${gap}${REDACTED}` : all,
    );
}

/** a flag without `=value` whose next argument is its value */
const isSecretFlag = (arg: unknown): boolean => typeof arg === "string" && /^--?[A-Za-z][\w.-]*$/.test(arg) && isSecretName(arg.replace(/^-+/, ""));

const MAX_DEPTH = 32;

function redactValue(v: unknown, depth: number): unknown {
  if (typeof v === "string") return redactString(v);
  if (v === null || typeof v !== "object") return v;
  if (depth >= MAX_DEPTH) return "[too deep to show]";
  if (Array.isArray(v)) {
    // an argv: the element after a secret-named flag is its value
    return v.map((x, i) => (i > 0 && isSecretFlag(v[i - 1]) && typeof x === "string" && !x.startsWith("--") ? REDACTED : redactValue(x, depth + 1)));
  }
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = typeof x === "string" && isSecretName(k) ? REDACTED : redactValue(x, depth + 1);
  return out;
}

export function redactEnvironment(env: Record<string, unknown>): Record<string, unknown> {
  return redactValue(env, 0) as Record<string, unknown>;
}
