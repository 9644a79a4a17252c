/**
 * Pure chart helpers: per-epoch curves per trial and the best-so-far curve, scaled into an
 * inline SVG string (no chart library, no DOM).
 */

import { escapeHtml } from './format';
import { ITrial } from './types';

/** One trial's curve: `[epoch, value]` points, in epoch order. */
export interface ISeries {
  trial: number;
  state: string;
  points: [number, number][];
}

/** Chart size and margins, in SVG pixels. The legend sits right of the plot area. */
export interface IChartBox {
  width: number;
  height: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

export const DEFAULT_BOX: IChartBox = {
  width: 700,
  height: 260,
  left: 56,
  right: 180,
  top: 16,
  bottom: 40
};

/** Colours for trials (colour-blind friendly, Okabe-Ito), cycled by trial number. */
export const PALETTE = [
  '#0072B2',
  '#E69F00',
  '#009E73',
  '#CC79A7',
  '#56B4E9',
  '#D55E00',
  '#F0E442',
  '#000000'
];

/** The `metric` curve of each trial (rows without a finite value are skipped). */
export function trialSeries(trials: ITrial[], metric: string): ISeries[] {
  return trials.map(trial => {
    const points: [number, number][] = [];
    for (const row of trial.metrics || []) {
      const epoch = row['epoch'];
      const value = row[metric];
      if (typeof epoch === 'number' && typeof value === 'number' && Number.isFinite(value)) {
        points.push([epoch, value]);
      }
    }
    points.sort((a, b) => a[0] - b[0]);
    return { trial: trial.number, state: trial.state, points };
  });
}

/** Best score so far against trial number, over the trials that have a score. */
export function bestSoFar(trials: ITrial[]): [number, number][] {
  const sorted = [...trials].sort((a, b) => a.number - b.number);
  const out: [number, number][] = [];
  let best = -Infinity;
  for (const trial of sorted) {
    const score = trial.best_score;
    if (typeof score === 'number' && Number.isFinite(score)) {
      best = Math.max(best, score);
    }
    if (Number.isFinite(best)) {
      out.push([trial.number, best]);
    }
  }
  return out;
}

/** About `count` round tick values covering [min, max] (steps of 1, 2 or 5 times 10^k). */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) {
    return [];
  }
  if (min === max) {
    const pad = Math.abs(min) > 0 ? Math.abs(min) * 0.1 : 1;
    min -= pad;
    max += pad;
  }
  const raw = (max - min) / Math.max(1, count);
  const magnitude = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map(m => m * magnitude).find(s => s >= raw) || raw;
  const ticks: number[] = [];
  for (let v = Math.floor(min / step) * step; v <= max + step * 1e-9; v += step) {
    ticks.push(Number(v.toPrecision(12)));
  }
  if (ticks[ticks.length - 1] < max) {
    ticks.push(Number((ticks[ticks.length - 1] + step).toPrecision(12)));
  }
  return ticks;
}

/** Integer ticks from `min` to `max` (epochs, trial numbers), at most about `count` of them. */
export function integerTicks(min: number, max: number, count = 8): number[] {
  const lo = Math.floor(min);
  const hi = Math.max(lo, Math.ceil(max));
  const step = Math.max(1, Math.ceil((hi - lo) / Math.max(1, count)));
  const ticks: number[] = [];
  for (let v = lo; v <= hi; v += step) {
    ticks.push(v);
  }
  return ticks;
}

/** A linear map from [d0, d1] to [r0, r1] (the middle of the range when d0 === d1). */
export function linearScale(d0: number, d1: number, r0: number, r1: number) {
  return (v: number): number =>
    d1 === d0 ? (r0 + r1) / 2 : r0 + ((v - d0) / (d1 - d0)) * (r1 - r0);
}

function fmtTick(v: number): string {
  return Math.abs(v) >= 1000 || Number.isInteger(v) ? String(v) : String(Number(v.toFixed(4)));
}

/** Options of {@link lineChartSvg}. */
export interface ILineChart {
  series: { label: string; colour: string; points: [number, number][]; dashed?: boolean }[];
  xLabel: string;
  yLabel: string;
  title?: string;
  box?: IChartBox;
}

/** An inline SVG line chart: integer x ticks, round y ticks, legend outside on the right. */
export function lineChartSvg(chart: ILineChart): string {
  const box = chart.box || DEFAULT_BOX;
  const all = chart.series.flatMap(s => s.points);
  const plotRight = box.width - box.right;
  const plotBottom = box.height - box.bottom;
  const head =
    `<svg class="jp-AutoML-chart" xmlns="http://www.w3.org/2000/svg" ` +
    `viewBox="0 0 ${box.width} ${box.height}" width="${box.width}" height="${box.height}" ` +
    `role="img" aria-label="${escapeHtml(chart.title || chart.yLabel)}">`;
  if (all.length === 0) {
    return (
      head +
      `<text x="${box.width / 2}" y="${box.height / 2}" text-anchor="middle" ` +
      `class="jp-AutoML-chart-empty">no ${escapeHtml(chart.yLabel)} reported yet</text></svg>`
    );
  }
  const xs = all.map(p => p[0]);
  const ys = all.map(p => p[1]);
  const xTicks = integerTicks(Math.min(...xs), Math.max(...xs));
  const yTicks = niceTicks(Math.min(...ys), Math.max(...ys), 4);
  const x = linearScale(xTicks[0], xTicks[xTicks.length - 1], box.left, plotRight);
  const y = linearScale(yTicks[0], yTicks[yTicks.length - 1], plotBottom, box.top);
  const parts: string[] = [head];
  for (const t of yTicks) {
    parts.push(
      `<line class="jp-AutoML-grid" x1="${box.left}" x2="${plotRight}" y1="${y(t)}" y2="${y(t)}"/>` +
        `<text class="jp-AutoML-tick" x="${box.left - 6}" y="${y(t) + 4}" text-anchor="end">${fmtTick(t)}</text>`
    );
  }
  for (const t of xTicks) {
    parts.push(
      `<text class="jp-AutoML-tick" x="${x(t)}" y="${plotBottom + 16}" text-anchor="middle">${t}</text>`
    );
  }
  parts.push(
    `<line class="jp-AutoML-axis" x1="${box.left}" x2="${plotRight}" y1="${plotBottom}" y2="${plotBottom}"/>`,
    `<line class="jp-AutoML-axis" x1="${box.left}" x2="${box.left}" y1="${box.top}" y2="${plotBottom}"/>`,
    `<text class="jp-AutoML-label" x="${(box.left + plotRight) / 2}" y="${box.height - 6}" text-anchor="middle">${escapeHtml(chart.xLabel)}</text>`,
    `<text class="jp-AutoML-label" transform="translate(14 ${(box.top + plotBottom) / 2}) rotate(-90)" text-anchor="middle">${escapeHtml(chart.yLabel)}</text>`
  );
  chart.series.forEach((s, i) => {
    if (s.points.length > 0) {
      const d = s.points.map((p, j) => `${j ? 'L' : 'M'}${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`);
      const dash = s.dashed ? ' stroke-dasharray="5 3"' : '';
      parts.push(
        `<path class="jp-AutoML-curve" data-label="${escapeHtml(s.label)}" d="${d.join(' ')}" ` +
          `stroke="${s.colour}" fill="none" stroke-width="2"${dash}/>`
      );
      for (const p of s.points) {
        parts.push(`<circle cx="${x(p[0]).toFixed(1)}" cy="${y(p[1]).toFixed(1)}" r="2.5" fill="${s.colour}"/>`);
      }
    }
    const ly = box.top + 8 + i * 18;
    parts.push(
      `<line x1="${plotRight + 12}" x2="${plotRight + 30}" y1="${ly}" y2="${ly}" stroke="${s.colour}" stroke-width="2"/>` +
        `<text class="jp-AutoML-legend" x="${plotRight + 36}" y="${ly + 4}">${escapeHtml(s.label)}</text>`
    );
  });
  parts.push('</svg>');
  return parts.join('');
}

/** The per-epoch chart of a job's primary metric, one curve per trial. */
export function epochChartSvg(trials: ITrial[], metric: string, box?: IChartBox): string {
  const series = trialSeries(trials, metric).map(s => ({
    label: `trial ${s.trial} (${s.state})`,
    colour: PALETTE[s.trial % PALETTE.length],
    points: s.points,
    dashed: s.state === 'pruned' || s.state === 'failed'
  }));
  return lineChartSvg({ series, xLabel: 'epoch', yLabel: metric, title: `${metric} per epoch`, box });
}

/** The best-so-far chart: best score against trial number. */
export function bestChartSvg(trials: ITrial[], metric: string, box?: IChartBox): string {
  const series = [{ label: 'best so far', colour: '#0072B2', points: bestSoFar(trials) }];
  return lineChartSvg({ series, xLabel: 'trial', yLabel: `best ${metric}`, title: 'best so far', box });
}
