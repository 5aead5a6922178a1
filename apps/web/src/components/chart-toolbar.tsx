"use client";
import type { ChartSettings, XAxisMode } from "../lib/chart-data";

/** Smoothing, x-axis and scale controls shared by every chart of a page. */
export function ChartToolbar({ settings, onChange }: { settings: ChartSettings; onChange: (s: ChartSettings) => void }) {
  const set = (patch: Partial<ChartSettings>) => onChange({ ...settings, ...patch });
  return (
    <div className="toolbar" role="toolbar" aria-label="chart settings">
      <label title="exponential moving average (debiased); 0 = raw values">
        Smoothing
        <input
          type="range"
          min={0}
          max={0.99}
          step={0.01}
          value={settings.ema}
          aria-label="EMA smoothing"
          onChange={(e) => set({ ema: Number(e.target.value) })}
        />
        <output>{settings.ema.toFixed(2)}</output>
      </label>
      <label title="running average over the last N points; 1 = off">
        Running avg
        <input
          type="number"
          min={1}
          max={1000}
          value={settings.avgWindow}
          aria-label="running average window"
          style={{ width: 64 }}
          onChange={(e) => set({ avgWindow: Math.max(1, Math.min(1000, Math.floor(Number(e.target.value) || 1))) })}
        />
      </label>
      <label>
        X axis
        <select value={settings.xAxis} aria-label="x axis" onChange={(e) => set({ xAxis: e.target.value as XAxisMode })}>
          <option value="step">step</option>
          <option value="relative">relative time</option>
          <option value="wall">wall time</option>
        </select>
      </label>
      <label>
        <input type="checkbox" checked={settings.log} onChange={(e) => set({ log: e.target.checked })} /> Log scale
      </label>
      <span className="muted hint">Drag across a chart to zoom (finer data is fetched).</span>
    </div>
  );
}
