import { execFile } from "node:child_process";
import os from "node:os";

import { readTfjs } from "./environment";

type Sample = Record<string, number>;

function nvidiaSmi(): Promise<string | null> {
  return new Promise((resolve) => {
    execFile(
      "nvidia-smi",
      ["--query-gpu=utilization.gpu,memory.used,memory.total,temperature.gpu,power.draw", "--format=csv,noheader,nounits"],
      { timeout: 5_000 },
      (err, stdout) => resolve(err ? null : stdout),
    );
  });
}

/** "87, 4000, 16000, 65, 120.5" per GPU → sys/<host>/gpu<i>/… (MiB → bytes) */
export function parseNvidiaSmi(csv: string, prefix: string): Sample {
  const out: Sample = {};
  csv
    .trim()
    .split("\n")
    .forEach((row, i) => {
      const [util, used, total, temp, power] = row.split(",").map((c) => Number(c.trim()));
      const put = (k: string, v: number | undefined) => v !== undefined && Number.isFinite(v) && (out[`${prefix}/gpu${i}/${k}`] = v);
      put("util_pct", util);
      put("mem_used_bytes", used !== undefined ? used * 1024 * 1024 : undefined);
      put("mem_total_bytes", total !== undefined ? total * 1024 * 1024 : undefined);
      put("temp_c", temp);
      put("power_w", power);
    });
  return out;
}

/**
 * System metrics as `sys/<host>/…` keys (per host, so several ranks on several hosts stay
 * apart). systeminformation is loaded lazily: a run that switches this off never pays for it.
 */
export class SystemMetrics {
  private gpu = true;
  private readonly prefix = `sys/${os.hostname()}`;

  async sample(): Promise<Sample> {
    const si = await import("systeminformation");
    const out: Sample = {};
    const [load, mem, fsStats, net] = await Promise.all([
      si.currentLoad().catch(() => null),
      si.mem().catch(() => null),
      si.fsStats().catch(() => null),
      si.networkStats().catch(() => null),
    ]);
    const p = this.prefix;
    if (load) out[`${p}/cpu_pct`] = load.currentLoad;
    if (mem) {
      out[`${p}/mem_used_bytes`] = mem.active;
      out[`${p}/mem_pct`] = (100 * mem.active) / mem.total;
    }
    if (fsStats && fsStats.rx_sec !== null && fsStats.rx_sec >= 0) {
      out[`${p}/disk_read_bytes_s`] = fsStats.rx_sec;
      out[`${p}/disk_write_bytes_s`] = fsStats.wx_sec ?? 0;
    }
    if (net?.length) {
      const rx = net.reduce((s, n) => s + (n.rx_sec ?? 0), 0);
      const tx = net.reduce((s, n) => s + (n.tx_sec ?? 0), 0);
      if (rx >= 0) out[`${p}/net_rx_bytes_s`] = rx;
      if (tx >= 0) out[`${p}/net_tx_bytes_s`] = tx;
    }
    out[`${p}/proc_rss_bytes`] = process.memoryUsage.rss();
    if (this.gpu) {
      const csv = await nvidiaSmi();
      if (csv === null)
        this.gpu = false; // no nvidia-smi here: don't spawn it every 10 s
      else Object.assign(out, parseNvidiaSmi(csv, p));
    }
    const tf = readTfjs();
    if (tf) {
      out[`${p}/tfjs_bytes`] = tf.numBytes;
      out[`${p}/tfjs_tensors`] = tf.numTensors;
    }
    return out;
  }
}
