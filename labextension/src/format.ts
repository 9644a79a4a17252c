/** Pure formatting helpers (no DOM, no JupyterLab): numbers, durations, counts, HTML. */

import { ITrialCounts, IJobSummary } from './types';

/** A score with 4 decimals, or an em dash when there is none yet. */
export function formatScore(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) {
    return '\u2014';
  }
  return value.toFixed(4);
}

/** Seconds as `42s`, `3m 05s` or `2h 07m`; an em dash when unknown. */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) {
    return '\u2014';
  }
  const total = Math.max(0, Math.round(seconds));
  if (total < 60) {
    return `${total}s`;
  }
  const pad = (n: number) => String(n).padStart(2, '0');
  if (total < 3600) {
    return `${Math.floor(total / 60)}m ${pad(total % 60)}s`;
  }
  return `${Math.floor(total / 3600)}h ${pad(Math.floor((total % 3600) / 60))}m`;
}

/** `1 done · 1 running · 0 pruned · 2 failed` (queued and canceled only when there are some). */
export function formatCounts(counts: ITrialCounts): string {
  const parts = [
    `${counts.completed} done`,
    `${counts.running} running`,
    `${counts.pruned} pruned`,
    `${counts.failed} failed`
  ];
  if (counts.queued) {
    parts.push(`${counts.queued} queued`);
  }
  const canceled = (counts.canceled || 0) + (counts.timeout || 0);
  if (canceled) {
    parts.push(`${canceled} canceled`);
  }
  return parts.join(' \u00b7 ');
}

/** The number of running trials over all jobs (the status-bar item). */
export function runningTrials(jobs: IJobSummary[]): number {
  return jobs.reduce((sum, job) => sum + (job.counts?.running || 0), 0);
}

/** `{"learning_rate": 0.01, "model_name": "resnet18"}` as `learning_rate=0.01, model_name=resnet18`. */
export function formatParams(params: { [name: string]: unknown }): string {
  return Object.keys(params)
    .sort()
    .map(key => {
      const value = params[key];
      const text =
        typeof value === 'number' && !Number.isInteger(value)
          ? String(Number(value.toPrecision(4)))
          : typeof value === 'string'
            ? value
            : JSON.stringify(value);
      return `${key}=${text}`;
    })
    .join(', ');
}

const HTML_ESCAPES: { [c: string]: string } = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;'
};

/** Text made safe to put in HTML (element content or a quoted attribute). */
export function escapeHtml(text: unknown): string {
  return String(text ?? '').replace(/[&<>"']/g, c => HTML_ESCAPES[c]);
}
