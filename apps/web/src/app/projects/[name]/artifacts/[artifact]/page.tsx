"use client";
import "../../../../../components/lineage.css";

import { use, useEffect, useState } from "react";

import { ArtifactAliasForm } from "../../../../../components/artifact-alias-form";
import { LineageGraph } from "../../../../../components/lineage-graph";
import { KeyValueTable } from "../../../../../components/run-panels";
import { useQuery } from "../../../../../components/use-query";
import { api } from "../../../../../lib/api";
import { formatBytes, formatDate } from "../../../../../lib/format";

type Which = { version?: number; alias?: string };

/** `?version=v3` or `?alias=production` (default: latest), read after mount like the run page's view state */
function whichFromUrl(): Which {
  const q = new URLSearchParams(window.location.search);
  const v = /^v?(\d+)$/.exec(q.get("version") ?? "");
  if (v) return { version: Number(v[1]) };
  const alias = q.get("alias");
  return alias ? { alias } : {};
}

const fileUrl = (versionId: string, path: string) =>
  `/api/artifacts/${encodeURIComponent(versionId)}/files/${path.split("/").map(encodeURIComponent).join("/")}`;

// Long because it is the artifact page's layout in reading order (header, versions, files,
// metadata, aliases, uses, lineage); the alias form and the graph are their own components.
export default function ArtifactPage({ params }: { params: Promise<{ name: string; artifact: string }> }) {
  const { name, artifact: rawArtifact } = use(params);
  const project = decodeURIComponent(name);
  const artifact = decodeURIComponent(rawArtifact);
  const [which, setWhich] = useState<Which | null>(null);
  useEffect(() => setWhich(whichFromUrl()), []);
  const {
    data: v,
    error,
    reload,
  } = useQuery(
    () => (which ? api.artifact.get.query({ projectId: project, name: artifact, ...which }) : new Promise<never>(() => undefined)),
    // `which === null`: the URL is not read yet; {} (latest) must still trigger the first load
    [project, artifact, which === null, which?.version, which?.alias],
  );
  const info = useQuery(() => api.project.get.query({ project }), [project]);
  const choose = (version: number) => {
    window.history.replaceState(null, "", `?version=v${version}`);
    setWhich({ version });
  };
  const projectHref = `/projects/${encodeURIComponent(project)}`;
  const crumbs = (
    <p className="crumbs">
      <a href="/">Projects</a> / <a href={projectHref}>{project}</a> / <a href={`${projectHref}/artifacts`}>Artifacts</a> / {artifact}
    </p>
  );
  if (error && !v)
    return (
      <>
        {crumbs}
        <p className="error" role="alert">
          {error}
        </p>
      </>
    );
  if (!v)
    return (
      <>
        {crumbs}
        <p className="muted">Loading…</p>
      </>
    );
  return (
    <>
      {crumbs}
      <div className="artifact-head">
        <h1 data-testid="artifact-title">
          {v.name}:v{v.version}
        </h1>
        <span className="muted">{v.type}</span>
        <span data-testid="artifact-aliases">
          {v.aliases.map((a) => (
            <span key={a} className="alias-pill" data-alias={a}>
              {a}
            </span>
          ))}
        </span>
      </div>
      <p className="muted meta">
        {v.files.length} file{v.files.length === 1 ? "" : "s"}, {formatBytes(v.bytes)} · created {formatDate(v.createdAt)} · digest{" "}
        <span className="mono">{v.digest.slice(0, 16)}…</span>
        {v.producer ? (
          <>
            {" "}
            · produced by run <a href={`/runs/${v.producer.id}`}>{v.producer.name}</a>
          </>
        ) : null}
      </p>
      {v.description && <p>{v.description}</p>}

      <div className="card">
        <h2>Versions</h2>
        <div className="table-scroll">
          <table className="artifact-versions" data-testid="artifact-versions">
            <thead>
              <tr>
                <th>version</th>
                <th>aliases</th>
                <th className="num">files</th>
                <th className="num">size</th>
                <th>created</th>
              </tr>
            </thead>
            <tbody>
              {v.versions.map((x) => (
                <tr key={x.id} data-version={`v${x.version}`} aria-selected={x.id === v.id}>
                  <td>
                    {x.id === v.id ? (
                      <strong>v{x.version}</strong>
                    ) : (
                      <a
                        href={`?version=v${x.version}`}
                        onClick={(e) => {
                          e.preventDefault();
                          choose(x.version);
                        }}
                      >
                        v{x.version}
                      </a>
                    )}
                  </td>
                  <td>
                    {x.aliases.map((a) => (
                      <span key={a} className="alias-pill">
                        {a}
                      </span>
                    ))}
                  </td>
                  <td className="num">{x.fileCount}</td>
                  <td className="num">{formatBytes(x.bytes)}</td>
                  <td>{formatDate(x.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </div>

      <div className="card">
        <h2>Files of v{v.version}</h2>
        <div className="table-scroll">
          <table className="artifact-files" data-testid="artifact-files">
            <thead>
              <tr>
                <th>path</th>
                <th className="num">size</th>
                <th>SHA-256</th>
              </tr>
            </thead>
            <tbody>
              {v.files.map((f) => (
                <tr key={f.path}>
                  <td>
                    <a href={fileUrl(v.id, f.path)} download>
                      {f.path}
                    </a>
                  </td>
                  <td className="num">{formatBytes(f.bytes)}</td>
                  <td className="mono small">{f.digest}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </div>

      <div className="card">
        <h2>Metadata</h2>
        <KeyValueTable value={v.metadata} empty="No metadata." testId="artifact-metadata" />
      </div>

      <div className="card">
        <h2>Aliases</h2>
        <ArtifactAliasForm
          versionId={v.id}
          version={v.version}
          canSet={info.data?.myRole === "maintainer"}
          onSet={(alias) => {
            window.history.replaceState(null, "", `?alias=${encodeURIComponent(alias)}`);
            setWhich({ alias });
            reload();
          }}
        />
      </div>

      <div className="card">
        <h2>Used by</h2>
        {v.uses.length === 0 ? (
          <p className="muted">No run or job has used v{v.version} yet.</p>
        ) : (
          <table data-testid="artifact-uses">
            <thead>
              <tr>
                <th>run</th>
                <th>job</th>
                <th>by</th>
                <th>when</th>
              </tr>
            </thead>
            <tbody>
              {v.uses.map((u, i) => (
                <tr key={i}>
                  <td>{u.runId ? <a href={`/runs/${u.runId}`}>{u.runName ?? u.runId}</a> : "—"}</td>
                  <td className="mono small">{u.jobId ?? "—"}</td>
                  <td>{u.usedBy ?? "—"}</td>
                  <td>{formatDate(u.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>

      <div className="card">
        <h2>Lineage</h2>
        {/* keyed by the aliases: a moved alias shows on the graph's node too */}
        <LineageGraph key={v.aliases.join()} artifactId={v.id} />
      </div>
    </>
  );
}
