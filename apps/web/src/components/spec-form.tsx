"use client";
import { JobSpecSchema } from "@heron/core";
import { useMemo, useState } from "react";
import { z } from "zod";

import { SourceRunPicker } from "./source-run-picker";

type JsonSchema = {
  type?: string;
  items?: JsonSchema;
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  default?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
};
export type Field = { name: string; schema: JsonSchema; required: boolean; control: "select" | "number" | "text" | "checkbox" | "multi" | "json" };
type FormValues = Record<string, string | boolean | string[]>;

/** Which control a JSON-schema node gets: scalars get inputs, enum arrays checkboxes, anything nested a JSON box. */
function controlFor(schema: JsonSchema): Field["control"] {
  if (schema.enum) return "select";
  if (schema.type === "integer" || schema.type === "number") return "number";
  if (schema.type === "boolean") return "checkbox";
  if (schema.type === "string") return "text";
  if (schema.type === "array" && schema.items?.enum) return "multi";
  if (schema.anyOf && schema.anyOf.every((a) => a.type !== "object" && a.type !== "array")) return "text";
  return "json";
}

/** A short example of a nested value, from the schema's variants and their required keys. */
function jsonHint(s: JsonSchema): string {
  const variants = s.anyOf ?? s.oneOf ?? [s];
  return variants
    .map((v) =>
      v.type === "object"
        ? `{${(v.required ?? Object.keys(v.properties ?? {}).slice(0, 2)).map((k) => `"${k}": …`).join(", ")}}`
        : v.type === "array"
          ? "[…]"
          : (v.type ?? ""),
    )
    .join("  or  ");
}

/** Kinds and their fields, derived once from the job-spec schema: a new job kind in core gets a form for free. */
export function describeKinds(): Map<string, Field[]> {
  const root = z.toJSONSchema(JobSpecSchema, { io: "input", unrepresentable: "any" }) as JsonSchema;
  const variants = root.oneOf ?? root.anyOf ?? [root];
  const kinds = new Map<string, Field[]>();
  for (const v of variants) {
    const kind = v.properties?.kind?.const;
    if (typeof kind !== "string") continue;
    const fields = Object.entries(v.properties ?? {})
      .filter(([name]) => name !== "kind")
      .map(([name, schema]): Field => {
        return { name, schema, required: (v.required ?? []).includes(name), control: controlFor(schema) };
      });
    kinds.set(
      kind,
      fields.sort((a, b) => Number(b.required) - Number(a.required)),
    );
  }
  return kinds;
}

/** Starting values: presets for the common kinds, else each field's default or first choice. */
const PRESETS: Record<string, FormValues> = {
  train: { dataset: "mnist", model: "mlp-mnist", epochs: "1", batchSize: "64", lr: "0.001", maxTrainSamples: "10000" },
  // seed 003's recipe: every distillation method, 3 epochs; fine-tuning starts gentler
  distill: { epochs: "3", batchSize: "128", lr: "0.001", methods: ["ce", "kd", "cosine", "regressor"] },
  finetune: { epochs: "1", batchSize: "32", lr: "0.0005" },
};
function initialValues(kind: string, fields: Field[]): FormValues {
  const out: FormValues = {};
  for (const f of fields) {
    if (f.control === "checkbox") out[f.name] = f.schema.default === true;
    else if (f.control === "multi") out[f.name] = f.required && f.schema.items?.enum?.length ? [String(f.schema.items.enum[0])] : [];
    else if (f.required && f.control === "select") out[f.name] = optionText(f.schema.enum?.[0]);
    // the schema's default, shown in the field so the form says what will be used
    else if (f.schema.default !== undefined && f.control !== "json") out[f.name] = optionText(f.schema.default);
    else out[f.name] = "";
  }
  return { ...out, ...(PRESETS[kind] ?? {}) };
}

/** Form text → spec values: numbers for number fields, "auto"-style unions keep words, empty = omitted. */
export function buildSpec(kind: string, fields: Field[], values: FormValues): { spec: Record<string, unknown>; parseErrors: Record<string, string> } {
  const spec: Record<string, unknown> = { kind };
  const parseErrors: Record<string, string> = {};
  for (const f of fields) {
    const raw = values[f.name];
    if (f.control === "checkbox") {
      if (raw !== (f.schema.default === true)) spec[f.name] = raw;
      continue;
    }
    if (f.control === "multi") {
      if (Array.isArray(raw) && raw.length) spec[f.name] = raw;
      continue;
    }
    const text = String(raw ?? "").trim();
    if (text === "") continue;
    if (f.control === "number") spec[f.name] = Number(text);
    else if (f.control === "json") {
      try {
        spec[f.name] = JSON.parse(text);
      } catch {
        parseErrors[f.name] = `${f.name} must be valid JSON`;
      }
    } else if (f.schema.anyOf && text !== "" && Number.isFinite(Number(text))) spec[f.name] = Number(text);
    else spec[f.name] = text;
  }
  return { spec, parseErrors };
}

function hint(s: JsonSchema): string {
  const parts: string[] = [];
  if (s.default !== undefined) parts.push(`default ${JSON.stringify(s.default)}`);
  if (s.anyOf) parts.push(s.anyOf.map((a) => (a.const !== undefined ? JSON.stringify(a.const) : a.type)).join(" or "));
  return parts.join(" · ");
}

/**
 * The job submit form, generated from JobSpecSchema (zod → JSON schema): one control per field,
 * validated with the same zod schema the server uses; errors appear under their field.
 */
/** enum members and defaults of JobSpecSchema are strings, numbers or booleans */
function optionText(v: unknown): string {
  return typeof v === "string" || typeof v === "number" || typeof v === "boolean" ? String(v) : "";
}

export function SpecForm({
  onSubmit,
  disabledReason,
  project,
}: {
  onSubmit: (spec: Record<string, unknown>) => Promise<string | null>;
  disabledReason?: string | null;
  /** the project the job goes to: teacher and base pickers list its finished runs */
  project?: string;
}) {
  const kinds = useMemo(describeKinds, []);
  const kindNames = [...kinds.keys()];
  const [kind, setKind] = useState(kindNames[0] ?? "train");
  const fields = kinds.get(kind) ?? [];
  const [values, setValues] = useState<FormValues>(() => initialValues(kind, fields));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const switchKind = (k: string) => {
    setKind(k);
    setValues(initialValues(k, kinds.get(k) ?? []));
    setErrors({});
    setFormError(null);
  };

  const submit = async () => {
    const { spec, parseErrors } = buildSpec(kind, fields, values);
    const res = JobSpecSchema.safeParse(spec);
    const errs: Record<string, string> = { ...parseErrors };
    let general: string | null = null;
    if (!res.success) {
      for (const issue of res.error.issues) {
        const name = String(issue.path[0] ?? "");
        if (name && fields.some((f) => f.name === name)) errs[name] ??= issue.path.length > 1 ? `${issue.path.join(".")}: ${issue.message}` : issue.message;
        else general = issue.path.length ? `${issue.path.join(".")}: ${issue.message}` : issue.message;
      }
    }
    setErrors(errs);
    setFormError(general);
    if (Object.keys(errs).length || general) return;
    setBusy(true);
    const serverError = await onSubmit(spec);
    setBusy(false);
    setFormError(serverError);
  };

  return (
    <form
      className="spec-form"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <div className="field">
        <label htmlFor="spec-kind">kind</label>
        <select id="spec-kind" value={kind} onChange={(e) => switchKind(e.target.value)}>
          {kindNames.map((k) => (
            <option key={k} value={k}>
              {k}
            </option>
          ))}
        </select>
      </div>
      <div className="fields">
        {fields.map((f) => (
          <SpecField
            key={f.name}
            f={f}
            value={values[f.name]}
            err={errors[f.name]}
            onChange={(name, v) => setValues((prev) => ({ ...prev, [name]: v }))}
            picker={
              project && f.control === "json" && ((kind === "distill" && f.name === "teacher") || (kind === "finetune" && f.name === "base"))
                ? project
                : undefined
            }
          />
        ))}
      </div>
      <button className="primary" type="submit" disabled={busy || !!disabledReason} title={disabledReason ?? undefined}>
        {busy ? "Submitting…" : "Submit job"}
      </button>
      {disabledReason && (
        <p className="muted" data-testid="submit-disabled">
          {disabledReason}
        </p>
      )}
      {formError && (
        <p className="error" data-testid="submit-error" role="alert">
          {formError}
        </p>
      )}
    </form>
  );
}

/** One spec field's control (select, checkboxes, JSON, number or text) with its label and error. */
function SpecField({
  f,
  value,
  err,
  onChange,
  picker,
}: {
  f: Field;
  value: FormValues[string] | undefined;
  err: string | undefined;
  onChange: (name: string, v: string | boolean | string[]) => void;
  /** a project whose finished runs can fill this field (teacher / base) */
  picker?: string;
}) {
  const id = `spec-${f.name}`;
  const common = { id, "aria-invalid": err ? true : undefined, "aria-describedby": err ? `${id}-err` : undefined };
  const set = (v: string | boolean | string[]) => onChange(f.name, v);
  return (
    <div className={err ? "field invalid" : "field"}>
      <label htmlFor={id}>
        {f.name}
        {f.required && (
          <span className="req" aria-label="required">
            *
          </span>
        )}
      </label>
      {f.control === "select" ? (
        <select {...common} value={String(value ?? "")} onChange={(e) => set(e.target.value)}>
          {!f.required && <option value="">{f.schema.default !== undefined ? `default (${optionText(f.schema.default)})` : "—"}</option>}
          {(f.schema.enum ?? []).map((o) => (
            <option key={String(o)} value={String(o)}>
              {String(o)}
            </option>
          ))}
        </select>
      ) : f.control === "multi" ? (
        <div {...common} role="group" aria-label={f.name} className="multi">
          {(f.schema.items?.enum ?? []).map((o) => {
            const cur = Array.isArray(value) ? (value as string[]) : [];
            const on = cur.includes(String(o));
            return (
              <label key={String(o)}>
                <input type="checkbox" checked={on} onChange={() => set(on ? cur.filter((x) => x !== String(o)) : [...cur, String(o)])} /> {String(o)}
              </label>
            );
          })}
        </div>
      ) : f.control === "json" ? (
        <>
          {picker && <SourceRunPicker project={picker} what={f.name === "base" ? "base" : "teacher"} value={String(value ?? "")} onPick={set} />}
          <textarea {...common} rows={2} className="mono" placeholder={jsonHint(f.schema)} value={String(value ?? "")} onChange={(e) => set(e.target.value)} />
        </>
      ) : f.control === "checkbox" ? (
        <input {...common} type="checkbox" checked={value === true} onChange={(e) => set(e.target.checked)} />
      ) : (
        <input
          {...common}
          type="text"
          inputMode={f.control === "number" ? "decimal" : undefined}
          placeholder={hint(f.schema)}
          value={String(value ?? "")}
          onChange={(e) => set(e.target.value)}
        />
      )}
      {err && (
        <span id={`${id}-err`} className="field-error" role="alert">
          {err}
        </span>
      )}
    </div>
  );
}
