/**
 * The job card as an HTML string (pure): header, curves, trials with their reasons in full.
 * The MIME renderer shows it as is; the job panel adds action buttons (`actions: true`).
 */

import { bestChartSvg, epochChartSvg } from './curves';
import { escapeHtml, formatCounts, formatDuration, formatParams, formatScore } from './format';
import { FINAL_STATES, IJobDetail, IJobSummary, ITrial } from './types';

/** Trial states that can still be canceled. */
const LIVE_TRIAL_STATES = ['running', 'queued'];

/** A state as a coloured badge. */
export function stateBadge(state: string): string {
  const safe = escapeHtml(state);
  return `<span class="jp-AutoML-badge jp-AutoML-state-${safe}">${safe}</span>`;
}

/** The job's header lines: id, status, counts, best score, elapsed. */
export function jobHeaderHtml(job: IJobSummary): string {
  const best =
    job.best_score === null
      ? 'no completed trial yet'
      : `best ${escapeHtml(job.primary_metric)} ${formatScore(job.best_score)} (trial ${job.best_trial})`;
  return (
    `<div class="jp-AutoML-job-head">` +
    `<span class="jp-AutoML-job-id">${escapeHtml(job.id)}</span> ${stateBadge(job.status)}` +
    `<div class="jp-AutoML-job-meta">${escapeHtml(job.experiment)} \u00b7 ${escapeHtml(job.task || '')} \u00b7 ` +
    `${job.total}/${job.max_trials ?? '?'} trials: ${formatCounts(job.counts)}</div>` +
    `<div class="jp-AutoML-job-meta">${best} \u00b7 elapsed ${formatDuration(job.elapsed)}</div>` +
    (job.error ? `<pre class="jp-AutoML-error">${escapeHtml(job.error)}</pre>` : '') +
    `</div>`
  );
}

function trialReason(trial: ITrial): string {
  const parts: string[] = [];
  if (trial.progress_text) {
    parts.push(`<div class="jp-AutoML-progress">${escapeHtml(trial.progress_text)}</div>`);
  }
  if (trial.stop_reason) {
    parts.push(`<div class="jp-AutoML-stop">${escapeHtml(trial.stop_reason)}</div>`);
  }
  if (trial.error) {
    parts.push(`<pre class="jp-AutoML-error">${escapeHtml(trial.error)}</pre>`);
  }
  if (trial.traceback) {
    parts.push(
      `<details><summary>traceback</summary><pre class="jp-AutoML-traceback">${escapeHtml(trial.traceback)}</pre></details>`
    );
  }
  return parts.join('');
}

/** The trials table; with `actions`, a Cancel button on each running or queued trial. */
export function trialsTableHtml(job: IJobDetail, actions = false): string {
  if (job.trials.length === 0) {
    return '<p class="jp-AutoML-empty">no trials yet</p>';
  }
  const metric = job.primary_metric || 'score';
  const head = ['trial', 'state', 'hyperparameters', 'epoch', `best ${metric}`, 'elapsed', 'reason'];
  if (actions) {
    head.push('');
  }
  const rows = job.trials.map(t => {
    const cells = [
      String(t.number),
      stateBadge(t.state),
      escapeHtml(formatParams(t.hyperparameters)),
      t.epoch === null ? '' : String(t.epoch),
      formatScore(t.best_score),
      formatDuration(t.elapsed),
      trialReason(t)
    ];
    if (actions) {
      cells.push(
        LIVE_TRIAL_STATES.includes(t.state) && !FINAL_STATES.includes(job.status)
          ? `<button class="jp-Button jp-mod-styled jp-mod-warn" data-action="cancel-trial" data-trial="${t.number}">Cancel</button>`
          : ''
      );
    }
    return `<tr data-trial="${t.number}">${cells.map(c => `<td>${c}</td>`).join('')}</tr>`;
  });
  return (
    `<table class="jp-AutoML-trials"><thead><tr>${head.map(h => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead>` +
    `<tbody>${rows.join('')}</tbody></table>`
  );
}

/** Buttons of the job panel: Cancel job while it runs, Resume once it stopped. */
export function jobActionsHtml(job: IJobSummary): string {
  const buttons: string[] = [];
  if (!FINAL_STATES.includes(job.status)) {
    buttons.push(
      '<button class="jp-Button jp-mod-styled jp-mod-warn" data-action="cancel-job">Cancel job</button>'
    );
  }
  if (['stopped', 'canceled', 'failed'].includes(job.status)) {
    buttons.push(
      '<button class="jp-Button jp-mod-styled jp-mod-accept" data-action="resume">Resume</button>'
    );
  }
  buttons.push('<button class="jp-Button jp-mod-styled" data-action="refresh">Refresh</button>');
  return `<div class="jp-AutoML-actions">${buttons.join(' ')}</div>`;
}

/** AutoMode's plan, folded under its headline; empty for a manual sweep. */
export function planHtml(job: IJobDetail): string {
  if (!job.plan) {
    return '';
  }
  return (
    `<details class="jp-AutoML-plan"><summary>${escapeHtml(job.plan.headline)}</summary>` +
    `<pre>${escapeHtml(job.plan.text)}</pre></details>`
  );
}

/** The whole card: header, plan, charts, trials (and action buttons with `actions`). */
export function jobCardHtml(job: IJobDetail, actions = false): string {
  const metric = job.primary_metric || 'score';
  return (
    `<div class="jp-AutoML-card" data-job="${escapeHtml(job.id)}">` +
    jobHeaderHtml(job) +
    (actions ? jobActionsHtml(job) : '') +
    planHtml(job) +
    `<div class="jp-AutoML-charts">` +
    `<figure><figcaption>${escapeHtml(metric)} per epoch, per trial</figcaption>${epochChartSvg(job.trials, metric)}</figure>` +
    `<figure><figcaption>best ${escapeHtml(metric)} so far</figcaption>${bestChartSvg(job.trials, metric)}</figure>` +
    `</div>` +
    trialsTableHtml(job, actions) +
    (job.folder ? `<div class="jp-AutoML-folder">folder: ${escapeHtml(job.folder)}</div>` : '') +
    `</div>`
  );
}

/** One job's entry in the sidebar list. */
export function jobListItemHtml(job: IJobSummary): string {
  return (
    `<li class="jp-AutoML-jobitem" data-job="${escapeHtml(job.id)}" title="Open job ${escapeHtml(job.id)}">` +
    `<div><span class="jp-AutoML-job-id">${escapeHtml(job.id)}</span> ${stateBadge(job.status)}</div>` +
    `<div class="jp-AutoML-job-meta">${formatCounts(job.counts)}</div>` +
    `<div class="jp-AutoML-job-meta">best ${escapeHtml(job.primary_metric || '')} ${formatScore(job.best_score)}` +
    ` \u00b7 ${formatDuration(job.elapsed)}</div>` +
    (job.progress || [])
      .map(line => `<div class="jp-AutoML-job-meta jp-AutoML-progress">${escapeHtml(line)}</div>`)
      .join('') +
    `</li>`
  );
}
