/** MIME renderer: a job output (`application/vnd.automl-nb.job+json`) as a static card. */

import { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { Widget } from '@lumino/widgets';

import { jobCardHtml } from './card';
import { IJobDetail, JOB_MIME } from './types';

/** Renders the saved job JSON; needs no kernel and no server. */
export class JobCardRenderer extends Widget implements IRenderMime.IRenderer {
  constructor(private mimeType: string) {
    super();
    this.addClass('jp-AutoML-mime');
  }

  renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    const data = model.data[this.mimeType] as unknown as IJobDetail;
    this.node.innerHTML = jobCardHtml(data, false);
    return Promise.resolve();
  }
}

const rendererFactory: IRenderMime.IRendererFactory = {
  safe: true,
  mimeTypes: [JOB_MIME],
  createRenderer: options => new JobCardRenderer(options.mimeType)
};

const extension: IRenderMime.IExtension = {
  id: 'automl-nb:job-renderer',
  description: 'Static cards for automl-nb job outputs in notebooks.',
  rendererFactory,
  rank: 10,
  dataType: 'json'
};

export default extension;
