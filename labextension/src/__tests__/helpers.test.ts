/** Unit tests of the pure helpers (node's test runner): formatting, curve scaling, cards. */

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { jobCardHtml, jobListItemHtml } from '../card';
import { bestSoFar, epochChartSvg, integerTicks, linearScale, niceTicks, trialSeries } from '../curves';
import { escapeHtml, formatCounts, formatDuration, formatParams, formatScore, runningTrials } from '../format';
import { IJobDetail, ITrial } from '../types';

const counts = { completed: 1, running: 2, queued: 0, pruned: 1, failed: 3, canceled: 0, timeout: 0 };

function trial(number: number, state: string, values: number[], extra: Partial<ITrial> = {}): ITrial {
  return {
    number,
    state,
    hyperparameters: { learning_rate: 0.0123456, model_name: 'resnet18' },
    metrics: values.map((v, i) => ({ epoch: i + 1, accuracy: v, train_loss: 1 - v })),
    epoch: values.length || null,
    best_score: values.length ? Math.max(...values) : null,
    error: null,
    traceback: null,
    stop_reason: null,
    started: 0,
    ended: 10,
    elapsed: 10,
    ...extra
  };
}

test('formatScore and formatDuration', () => {
  assert.equal(formatScore(0.123456), '0.1235');
  assert.equal(formatScore(null), '\u2014');
  assert.equal(formatScore(NaN), '\u2014');
  assert.equal(formatDuration(42.4), '42s');
  assert.equal(formatDuration(185), '3m 05s');
  assert.equal(formatDuration(7620), '2h 07m');
  assert.equal(formatDuration(undefined), '\u2014');
});

test('formatCounts, runningTrials, formatParams, escapeHtml', () => {
  assert.equal(formatCounts(counts), '1 done \u00b7 2 running \u00b7 1 pruned \u00b7 3 failed');
  assert.match(formatCounts({ ...counts, queued: 2, canceled: 1 }), /2 queued \u00b7 1 canceled$/);
  const job = { counts } as any;
  assert.equal(runningTrials([job, job]), 4);
  assert.equal(formatParams({ model_name: 'vit', learning_rate: 0.0123456 }), 'learning_rate=0.01235, model_name=vit');
  assert.equal(escapeHtml('<b a="x">&\''), '&lt;b a=&quot;x&quot;&gt;&amp;&#39;');
});

test('niceTicks cover the range with round steps', () => {
  const ticks = niceTicks(0.43, 0.97, 4);
  assert.ok(ticks[0] <= 0.43 && ticks[ticks.length - 1] >= 0.97);
  const step = ticks[1] - ticks[0];
  assert.ok([0.1, 0.2, 0.05].some(s => Math.abs(step - s) < 1e-9), `step ${step}`);
  // One value still gets a range around it.
  const flat = niceTicks(1, 1);
  assert.ok(flat[0] < 1 && flat[flat.length - 1] > 1);
});

test('integerTicks are integers, include the ends, and are few', () => {
  assert.deepEqual(integerTicks(1, 2), [1, 2]);
  assert.deepEqual(integerTicks(1, 1), [1]);
  const many = integerTicks(1, 100, 8);
  assert.ok(many.length <= 9 && many.every(Number.isInteger));
  assert.equal(many[0], 1);
});

test('linearScale maps ends and is flat-safe', () => {
  const s = linearScale(0, 10, 100, 0);
  assert.equal(s(0), 100);
  assert.equal(s(10), 0);
  assert.equal(s(5), 50);
  assert.equal(linearScale(3, 3, 0, 10)(3), 5);
});

test('trialSeries skips rows without a finite value; bestSoFar is a running max', () => {
  const t = trial(0, 'completed', [0.5, 0.7]);
  t.metrics.push({ epoch: 3, accuracy: null });
  const [series] = trialSeries([t], 'accuracy');
  assert.deepEqual(series.points, [[1, 0.5], [2, 0.7]]);
  const trials = [trial(2, 'completed', [0.6]), trial(0, 'completed', [0.8]), trial(1, 'failed', [])];
  assert.deepEqual(bestSoFar(trials), [[0, 0.8], [1, 0.8], [2, 0.8]]);
});

test('epochChartSvg draws one path per trial with integer x ticks and a legend', () => {
  const svg = epochChartSvg([trial(0, 'completed', [0.5, 0.7, 0.9]), trial(1, 'pruned', [0.4])], 'accuracy');
  assert.equal((svg.match(/<path /g) || []).length, 2);
  assert.match(svg, /trial 0 \(completed\)/);
  assert.match(svg, /stroke-dasharray/); // the pruned trial
  const xTicks = [...svg.matchAll(/text-anchor="middle">(\d+)<\/text>/g)].map(m => m[1]);
  assert.deepEqual(xTicks, ['1', '2', '3']);
  assert.match(epochChartSvg([], 'accuracy'), /no accuracy reported yet/);
});

test('the job card shows the whole failure reason, escaped, and the trial buttons only with actions', () => {
  const reason = 'ModelError: unknown model_name <x>; did you mean ' + 'resnet18, '.repeat(40) + 'END';
  const job: IJobDetail = {
    id: 'job-1',
    experiment: 'lab',
    status: 'running',
    task: 'image_classification',
    primary_metric: 'accuracy',
    max_trials: 3,
    total: 2,
    counts,
    best_score: 0.9,
    best_trial: 0,
    created: 0,
    started: 0,
    ended: null,
    elapsed: 12,
    error: null,
    folder: '/w/lab/job-1',
    notes: [],
    trials: [trial(0, 'running', [0.5, 0.9]), trial(1, 'failed', [], { error: reason })]
  };
  const card = jobCardHtml(job);
  assert.ok(card.includes(escapeHtml(reason)), 'reason in full');
  assert.ok(!card.includes('<x>'));
  assert.ok(!card.includes('data-action'));
  const panel = jobCardHtml(job, true);
  assert.match(panel, /data-action="cancel-trial" data-trial="0"/);
  assert.ok(!panel.includes('data-trial="1">Cancel'));
  assert.match(panel, /data-action="cancel-job"/);
  assert.match(jobListItemHtml(job), /1 done \u00b7 2 running/);
});

test('a running trial shows its progress in the card; a failed one its whole error', () => {
  const error = 'ModelError: could not be downloaded. To go on, either train from scratch with use_pretrained false';
  const job = {
    id: 'j', experiment: 'e', status: 'running', task: 'image_classification', primary_metric: 'accuracy',
    max_trials: 2, total: 2, counts, best_score: null, best_trial: null, created: 0, started: 0, ended: null,
    elapsed: 5, error: null, folder: 'f', notes: [],
    trials: [
      trial(0, 'running', [], { progress_text: 'epoch 1/40, batch 3/10, 35.2 images/s' }),
      trial(1, 'failed', [], { error })
    ]
  } as IJobDetail;
  const html = jobCardHtml(job, true);
  assert.match(html, /class="jp-AutoML-progress">epoch 1\/40, batch 3\/10, 35\.2 images\/s</);
  assert.ok(html.includes(escapeHtml(error)));
});

test('a job in the sidebar shows its running trials progress', () => {
  const job = {
    id: 'j', experiment: 'e', status: 'running', task: null, primary_metric: 'accuracy', max_trials: 1,
    total: 1, counts, best_score: null, best_trial: null, created: 0, started: 0, ended: null, elapsed: 3,
    error: null, progress: ['trial 0: epoch 1/40, batch 2/10']
  };
  assert.match(jobListItemHtml(job), /jp-AutoML-progress">trial 0: epoch 1\/40, batch 2\/10</);
});

test('an AutoMode job shows its plan folded under its headline; a manual sweep shows none', () => {
  const base = {
    id: 'j', experiment: 'e', status: 'running', task: 'image_classification', primary_metric: 'accuracy',
    max_trials: 3, total: 0, counts, best_score: null, best_trial: null, created: 0, started: 0, ended: null,
    elapsed: 5, error: null, folder: 'f', notes: [], trials: []
  } as IJobDetail;
  const plan = {
    headline: 'AutoMode plan: 3 trial(s) in ~4.5 min of a 5.0 min budget (from scratch)',
    text: 'AutoMode plan: 3 trial(s)\n  trial  model <resnet18>'
  };
  const html = jobCardHtml({ ...base, plan }, true);
  assert.match(html, /<details class="jp-AutoML-plan"><summary>AutoMode plan: 3 trial\(s\) in ~4\.5 min/);
  assert.ok(html.includes('model &lt;resnet18&gt;'), 'plan text escaped');
  assert.ok(!jobCardHtml({ ...base, plan: null }).includes('jp-AutoML-plan'));
  assert.ok(!jobCardHtml(base).includes('jp-AutoML-plan'));
});
