import { describe, expect, it } from "vitest";

import { tableViewFromParams, tableViewToParams } from "./table-view";

describe("runs table view in the URL", () => {
  it("round-trips filters, sort, columns, which runs, pins and the selection", () => {
    const s = {
      filters: { text: "lr=0.1", status: "finished", tag: "best", configKey: "opt.lr", configValue: "0.1" },
      sort: { col: "metric:train/loss:last", dir: 1 as const },
      columns: ["name", "config:opt.lr", "metric:a,b:last"],
      view: "archived" as const,
      pinned: ["r1"],
      selected: ["r1", "r2"],
    };
    const p = tableViewToParams(s, new URLSearchParams("by=tag"));
    expect(p.get("by")).toBe("tag");
    expect(tableViewFromParams(new URLSearchParams(p.toString()))).toEqual(s);
  });

  it("leaves the defaults out of the URL", () => {
    expect(
      tableViewToParams(
        { filters: { text: "" }, sort: { col: "created", dir: -1 }, columns: null, view: "active", pinned: [], selected: [] },
        new URLSearchParams(),
      ).toString(),
    ).toBe("");
    expect(tableViewFromParams(new URLSearchParams("which=bogus&sort=x"))).toEqual({});
  });
});
