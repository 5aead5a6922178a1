"use client";

/** A key's step chooser in the images and text-samples panels (they page through logged steps the same way). */
export function StepPicker({ label, steps, step, onPick }: { label: string; steps: number[]; step: number; onPick: (step: number) => void }) {
  return (
    <label>
      step
      <select aria-label={`${label} step`} value={step} onChange={(e) => onPick(Number(e.target.value))}>
        {steps.map((st) => (
          <option key={st} value={st}>
            {st}
          </option>
        ))}
      </select>
    </label>
  );
}
