import { describe, expect, it } from "vitest";

import { redactEnvironment } from "./redact";

const KEY = "hk_Q2xhc3NpZmllZFNlY3JldEtleTEyMzQ1Njc4";

describe("redactEnvironment", () => {
  it("drops credentials from git remote URLs, keeps the rest of the URL", () => {
    const env = redactEnvironment({ git: { remote: "https://alice:ghp_s3cr3t@github.com/lab/model.git", branch: "main" } });
    expect(env).toEqual({ git: { remote: "https://[redacted]@github.com/lab/model.git", branch: "main" } });
    expect(redactEnvironment({ git: { remote: "https://x-access-token:abc@github.com/a/b" } })).toEqual({
      git: { remote: "https://[redacted]@github.com/a/b" },
    });
    expect(redactEnvironment({ git: { remote: "git@github.com:lab/model.git" } })).toEqual({ git: { remote: "git@github.com:lab/model.git" } });
  });

  it("redacts secret-looking argv values in every form", () => {
    const argv = [
      "node",
      "train.js",
      "--token",
      "t0k",
      "--api-key=abc",
      "--password",
      "-pw",
      "--lr",
      "0.1",
      "--client-secret=zz",
      "DB_PASSWORD=hunter2",
      "AWS_SECRET_ACCESS_KEY=k",
      "--epochs=3",
      KEY,
      "--key",
      "x",
    ];
    expect(redactEnvironment({ argv })).toEqual({
      argv: [
        "node",
        "train.js",
        "--token",
        "[redacted]",
        "--api-key=[redacted]",
        "--password",
        "[redacted]",
        "--lr",
        "0.1",
        "--client-secret=[redacted]",
        "DB_PASSWORD=[redacted]",
        "AWS_SECRET_ACCESS_KEY=[redacted]",
        "--epochs=3",
        "hk_[redacted]",
        "--key",
        "[redacted]",
      ],
    });
  });

  it("redacts Heron keys and secret-named string fields anywhere, leaves numbers and ordinary fields", () => {
    const env = redactEnvironment({
      cwd: "/home/a",
      note: `uses ${KEY} and hr_${"a".repeat(32)}`,
      vars: { HF_TOKEN: "hf_x", maxTokens: 512, PATH: "/usr/bin" },
      cpus: 4,
    });
    expect(env).toEqual({
      cwd: "/home/a",
      note: "uses hk_[redacted] and hr_[redacted]",
      vars: { HF_TOKEN: "[redacted]", maxTokens: 512, PATH: "/usr/bin" },
      cpus: 4,
    });
  });

  it("is pure: the input is left as it was", () => {
    const input = { argv: ["--token", "x"] };
    redactEnvironment(input);
    expect(input).toEqual({ argv: ["--token", "x"] });
  });
});
