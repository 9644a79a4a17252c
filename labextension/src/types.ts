/**
 * The JSON the server extension (`/automl-nb/jobs...`) and the notebook's
 * `application/vnd.automl-nb.job+json` outputs carry (automl_nb/server/_payload.py).
 */

/** The MIME type of a job output in a notebook. */
export const JOB_MIME = 'application/vnd.automl-nb.job+json';

/** Trials of a job per state. */
export interface ITrialCounts {
  completed: number;
  running: number;
  queued: number;
  pruned: number;
  failed: number;
  canceled: number;
  timeout: number;
  other?: number;
}

/** One job's line in the jobs list. */
export interface IJobSummary {
  id: string;
  experiment: string;
  status: string;
  task: string | null;
  primary_metric: string | null;
  max_trials: number | null;
  total: number;
  counts: ITrialCounts;
  best_score: number | null;
  best_trial: number | null;
  created: number | null;
  started: number | null;
  ended: number | null;
  elapsed: number | null;
  error: string | null;
  /** Running trials' progress in words (`trial 0: epoch 1/40, batch 3/10, ...`). */
  progress?: string[];
}

/** One per-epoch metrics row of a trial. */
export type MetricsRow = { [name: string]: number | string | boolean | null };

/** One trial of a job, reasons in full. */
export interface ITrial {
  number: number;
  state: string;
  hyperparameters: { [name: string]: unknown };
  metrics: MetricsRow[];
  epoch: number | null;
  best_score: number | null;
  error: string | null;
  traceback: string | null;
  stop_reason: string | null;
  /** A running trial's progress in words (epoch, batch, images/s, time left). */
  progress_text?: string | null;
  started: number | null;
  ended: number | null;
  elapsed: number | null;
}

/** AutoMode's plan of a job: a one-line headline and the whole plan as text. */
export interface IJobPlan {
  headline: string;
  text: string;
}

/** A job with all its trials. */
export interface IJobDetail extends IJobSummary {
  folder: string;
  notes: string[];
  /** AutoMode's plan (`plan.json`); null for a manual sweep. */
  plan?: IJobPlan | null;
  trials: ITrial[];
}

/** The body of `GET /automl-nb/jobs`. */
export interface IJobList {
  workspace: string;
  jobs: IJobSummary[];
}

/** Job states after which nothing changes any more. */
export const FINAL_STATES = ['completed', 'failed', 'canceled', 'stopped'];
