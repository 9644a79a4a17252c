/** Calls to the server extension's REST API (`/automl-nb/...`), with Jupyter's auth. */

import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import { IJobDetail, IJobList } from './types';

/** The API's URL namespace. */
export const API_NAMESPACE = 'automl-nb';

/** Call `endPoint` under `/automl-nb/` and return its JSON body. */
export async function requestAPI<T>(endPoint = '', init: RequestInit = {}): Promise<T> {
  const settings = ServerConnection.makeSettings();
  const url = URLExt.join(settings.baseUrl, API_NAMESPACE, endPoint);
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, settings);
  } catch (error) {
    throw new ServerConnection.NetworkError(error as TypeError);
  }
  const text = await response.text();
  let data: any = text;
  try {
    data = text.length > 0 ? JSON.parse(text) : {};
  } catch {
    // not JSON: keep the text for the error message
  }
  if (!response.ok) {
    throw new ServerConnection.ResponseError(response, data?.message || String(data));
  }
  return data as T;
}

/** Every job of the server's workspace. */
export function fetchJobs(): Promise<IJobList> {
  return requestAPI<IJobList>('jobs');
}

/** One job with its trials. */
export function fetchJob(id: string): Promise<IJobDetail> {
  return requestAPI<IJobDetail>(`jobs/${encodeURIComponent(id)}`);
}

/** Cancel a job, or one of its trials. */
export function cancelJob(id: string, trial?: number): Promise<{ message: string }> {
  const body = trial === undefined ? {} : { trial };
  return requestAPI(`jobs/${encodeURIComponent(id)}/cancel`, {
    method: 'POST',
    body: JSON.stringify(body)
  });
}

/** Resume a stopped job. */
export function resumeJob(id: string): Promise<{ message: string }> {
  return requestAPI(`jobs/${encodeURIComponent(id)}/resume`, { method: 'POST', body: '{}' });
}
