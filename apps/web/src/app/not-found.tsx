/** Shown with HTTP 404 for unknown paths and for a missing run or project (see lib/server/exists.ts). */
export default function NotFound() {
  return (
    <>
      <h1>Not found</h1>
      <p className="muted" data-testid="not-found">
        Nothing here: the run or project may have been deleted, or the link is wrong. Go back to the <a href="/">projects</a>.
      </p>
    </>
  );
}
