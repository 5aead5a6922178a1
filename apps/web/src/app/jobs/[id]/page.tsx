"use client";
import { use } from "react";

import { JobPanel } from "../../../components/job-panel";

/** One job: its status, attempts and events; a pipeline's stages with their runs. */
export default function JobPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = use(params);
  return (
    <>
      <p>
        <a href="/jobs">← Jobs</a>
      </p>
      <h1>
        Job <span className="mono">{id.slice(-8)}</span>
      </h1>
      <JobPanel jobId={id} />
    </>
  );
}
