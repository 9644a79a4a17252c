/**
 * Static fallbacks for automl-nb widget outputs in a notebook reopened without its kernel.
 *
 * The dashboard and the data preview put a static copy (`text/html`, and for jobs the
 * `application/vnd.automl-nb.job+json` card) next to the widget view in their output. With
 * no kernel the widget manager can only say "Error displaying widget: model not found"; the
 * wrapper below then renders the static copy instead. Live widgets are untouched.
 */

import type { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import type { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { Panel, Widget } from '@lumino/widgets';

import { JOB_MIME } from './types';

/** The MIME type of an ipywidgets view. */
export const WIDGET_MIME = 'application/vnd.jupyter.widget-view+json';
/** The MIME types of the static copies, best first. */
export const FALLBACK_MIMES = [JOB_MIME, 'text/html'];

/** The static copy's MIME type in a bundle, or null (outputs of other widgets). */
export function fallbackMime(data: { [key: string]: unknown }): string | null {
  return FALLBACK_MIMES.find(mime => mime in data) ?? null;
}

/** Whether a widget renderer's text says its model is gone. */
export function isMissingModel(text: string | null): boolean {
  return (text || '').startsWith('Error displaying widget');
}

const WRAPPED = Symbol('automl-nb-wrapped');

/** Renders the widget view; if its model cannot be found, the static copy. */
class WidgetWithFallback extends Panel implements IRenderMime.IRenderer {
  private _observer: MutationObserver | null = null;

  constructor(
    private inner: IRenderMime.IRenderer,
    private rendermime: IRenderMimeRegistry
  ) {
    super();
    this.addWidget(inner);
  }

  async renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    const mime = fallbackMime(model.data as { [key: string]: unknown });
    await this.inner.renderModel(model);
    if (mime === null) {
      return;
    }
    const check = () => {
      if (isMissingModel(this.inner.node.textContent)) {
        void this.showFallback(model, mime);
      }
    };
    check();
    // The manager may only decide later (after it tried to restore the kernel's widgets).
    this._observer?.disconnect();
    this._observer = new MutationObserver(check);
    this._observer.observe(this.inner.node, { childList: true, characterData: true, subtree: true });
  }

  private async showFallback(model: IRenderMime.IMimeModel, mime: string): Promise<void> {
    this._observer?.disconnect();
    const renderer = this.rendermime.createRenderer(mime);
    const data: { [key: string]: unknown } = { ...(model.data as object) };
    delete data[WIDGET_MIME];
    await renderer.renderModel({
      trusted: model.trusted,
      data: data as IRenderMime.IMimeModel['data'],
      metadata: model.metadata,
      setData: () => undefined
    });
    renderer.addClass('jp-AutoML-fallback');
    this.inner.hide();
    this.addWidget(renderer as Widget);
  }

  dispose(): void {
    this._observer?.disconnect();
    super.dispose();
  }
}

function wrapFactory(
  factory: IRenderMime.IRendererFactory,
  rendermime: IRenderMimeRegistry
): IRenderMime.IRendererFactory {
  if ((factory as unknown as { [WRAPPED]?: boolean })[WRAPPED]) {
    return factory;
  }
  const wrapped: IRenderMime.IRendererFactory = {
    safe: factory.safe,
    mimeTypes: factory.mimeTypes,
    defaultRank: factory.defaultRank,
    createRenderer: options => new WidgetWithFallback(factory.createRenderer(options), rendermime)
  };
  (wrapped as unknown as { [WRAPPED]: boolean })[WRAPPED] = true;
  return wrapped;
}

/**
 * Wrap the widget-view renderer of a notebook's rendermime, now and whenever the widget
 * manager (re)registers it.
 */
export function addWidgetFallback(rendermime: IRenderMimeRegistry): void {
  const add = rendermime.addFactory.bind(rendermime);
  rendermime.addFactory = (factory: IRenderMime.IRendererFactory, rank?: number) => {
    const own = factory.mimeTypes.length === 1 && factory.mimeTypes[0] === WIDGET_MIME;
    add(own ? wrapFactory(factory, rendermime) : factory, rank);
  };
  const current = rendermime.getFactory(WIDGET_MIME);
  if (current) {
    add(wrapFactory(current, rendermime), rendermime.getRank(WIDGET_MIME));
  }
}
