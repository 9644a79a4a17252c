/** The Lab widgets: the jobs poller, the sidebar list, the job panel, the status-bar item. */

import { Dialog, showDialog, showErrorMessage } from '@jupyterlab/apputils';
import { ISignal, Signal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';

import { cancelJob, fetchJob, fetchJobs, resumeJob } from './api';
import { jobCardHtml, jobListItemHtml } from './card';
import { escapeHtml, runningTrials } from './format';
import { FINAL_STATES, IJobDetail, IJobList } from './types';

/** How often the jobs list and open job panels are read again, in ms. */
export const POLL_MS = 3000;

/** Polls `GET /automl-nb/jobs` and tells its listeners (sidebar, status bar). */
export class JobsPoller {
  private _changed = new Signal<this, IJobList | null>(this);
  private _timer: number | undefined;
  latest: IJobList | null = null;
  error: string | null = null;

  /** Emitted after each poll, with the list (or null when the poll failed). */
  get changed(): ISignal<this, IJobList | null> {
    return this._changed;
  }

  /** Start polling now and every {@link POLL_MS}. */
  start(): void {
    void this.refresh();
    this._timer = window.setInterval(() => void this.refresh(), POLL_MS);
  }

  /** Poll once. */
  async refresh(): Promise<void> {
    try {
      this.latest = await fetchJobs();
      this.error = null;
    } catch (error) {
      this.error = String((error as Error).message || error);
      this.latest = null;
    }
    this._changed.emit(this.latest);
  }

  /** Stop polling. */
  dispose(): void {
    window.clearInterval(this._timer);
    Signal.clearData(this);
  }
}

/** The left-sidebar "AutoML jobs" panel: every job of the workspace. */
export class JobsSidebar extends Widget {
  constructor(
    private poller: JobsPoller,
    private openJob: (id: string) => void
  ) {
    super();
    this.id = 'automl-nb-jobs';
    this.addClass('jp-AutoML-sidebar');
    this.title.caption = 'AutoML jobs';
    this.node.innerHTML = '<h2>AutoML jobs</h2><div class="jp-AutoML-list">loading\u2026</div>';
    this.node.addEventListener('click', event => {
      const item = (event.target as HTMLElement).closest('[data-job]');
      if (item) {
        this.openJob(item.getAttribute('data-job') as string);
      }
    });
    poller.changed.connect(this._render, this);
  }

  private _render(_: JobsPoller, list: IJobList | null): void {
    const target = this.node.querySelector('.jp-AutoML-list') as HTMLElement;
    if (list === null) {
      target.innerHTML = `<p class="jp-AutoML-error">cannot read the jobs: ${escapeHtml(this.poller.error)}</p>`;
      return;
    }
    target.innerHTML =
      list.jobs.length === 0
        ? `<p class="jp-AutoML-empty">no jobs yet in ${escapeHtml(list.workspace)}</p>`
        : `<ul>${list.jobs.map(jobListItemHtml).join('')}</ul>` +
          `<div class="jp-AutoML-folder">${escapeHtml(list.workspace)}</div>`;
  }
}

/** A job in the main area: curves, trials, reasons, Cancel and Resume. */
export class JobPanel extends Widget {
  private _timer: number | undefined;
  private _busy = false;
  detail: IJobDetail | null = null;

  constructor(readonly jobId: string) {
    super();
    this.id = `automl-nb-job-${jobId}`;
    this.addClass('jp-AutoML-jobpanel');
    this.title.label = `AutoML ${jobId}`;
    this.title.closable = true;
    this.node.innerHTML = '<p>loading\u2026</p>';
    this.node.addEventListener('click', event => void this._onClick(event));
    void this.refresh();
    this._timer = window.setInterval(() => {
      if (this.isVisible && !(this.detail && FINAL_STATES.includes(this.detail.status))) {
        void this.refresh();
      }
    }, POLL_MS);
  }

  /** Read the job again and redraw. */
  async refresh(): Promise<void> {
    try {
      this.detail = await fetchJob(this.jobId);
      this.node.innerHTML = jobCardHtml(this.detail, true);
    } catch (error) {
      this.node.innerHTML = `<pre class="jp-AutoML-error">${escapeHtml((error as Error).message)}</pre>`;
    }
  }

  private async _onClick(event: Event): Promise<void> {
    const button = (event.target as HTMLElement).closest('button[data-action]');
    if (!button || this._busy) {
      return;
    }
    const action = button.getAttribute('data-action');
    const trialAttr = button.getAttribute('data-trial');
    const trial = trialAttr === null ? undefined : Number(trialAttr);
    if (action === 'refresh') {
      return this.refresh();
    }
    const what = trial === undefined ? `job ${this.jobId}` : `trial ${trial} of job ${this.jobId}`;
    if (action === 'cancel-job' || action === 'cancel-trial') {
      const answer = await showDialog({
        title: `Cancel ${what}?`,
        body: 'Its kernel is stopped; finished trials are kept.',
        buttons: [Dialog.cancelButton({ label: 'Keep running' }), Dialog.warnButton({ label: 'Cancel it' })]
      });
      if (!answer.button.accept) {
        return;
      }
    }
    this._busy = true;
    try {
      if (action === 'resume') {
        await resumeJob(this.jobId);
      } else {
        await cancelJob(this.jobId, trial);
      }
    } catch (error) {
      await showErrorMessage(`Could not ${action === 'resume' ? 'resume' : 'cancel'} ${what}`, error as Error);
    } finally {
      this._busy = false;
    }
    await this.refresh();
  }

  dispose(): void {
    window.clearInterval(this._timer);
    super.dispose();
  }
}

/** The status-bar item: running trials over all jobs. */
export class RunningTrialsItem extends Widget {
  constructor(poller: JobsPoller) {
    super();
    this.addClass('jp-AutoML-status');
    this.node.title = 'Running AutoML trials';
    poller.changed.connect((_, list) => {
      const running = list ? runningTrials(list.jobs) : 0;
      this.node.textContent = `AutoML: ${running} running`;
      this.node.dataset.running = String(running);
    });
  }
}
