/**
 * Static fallbacks for automl-nb widget outputs in a notebook reopened without its kernel.
 *
 * The dashboard and the data preview put a static copy (`text/html`, and for jobs the
 * `application/vnd.automl-nb.job+json` card) next to the widget view in their output. With
 * no kernel the widget manager can only say "Loading widget..." or "Error displaying widget:
 * model not found"; the wrapper below shows the static copy until a live view appears.
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

const WRAPPED = Symbol('automl-nb-wrapped');

/** A widget renderer whose node holds only text ("Loading widget...", "Error displaying
 * widget: model not found") has no live view. */
export function hasLiveView(node: { childElementCount: number }): boolean {
  return node.childElementCount > 0;
}

/**
 * Renders the widget view, and the static copy for as long as the view is not live: while
 * the widget manager waits for a kernel, and for good when the model is not found.
 */
class WidgetWithFallback extends Panel implements IRenderMime.IRenderer {
  private _observer: MutationObserver | null = null;
  private _fallback: IRenderMime.IRenderer | null = null;

  constructor(
    private inner: IRenderMime.IRenderer,
    private rendermime: IRenderMimeRegistry
  ) {
    super();
    this.addWidget(inner);
  }

  async renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    const mime = fallbackMime(model.data as { [key: string]: unknown });
    // Not awaited: without a kernel the manager may never answer.
    const rendered = this.inner.renderModel(model);
    if (mime === null) {
      return rendered;
    }
    const check = () => {
      const live = hasLiveView(this.inner.node);
      this.inner.setHidden(!live);
      this._fallback?.setHidden(live);
    };
    this._observer?.disconnect();
    this._observer = new MutationObserver(check);
    this._observer.observe(this.inner.node, { childList: true, characterData: true, subtree: true });
    if (!hasLiveView(this.inner.node)) {
      await this.showFallback(model, mime);
    }
    check();
  }

  private async showFallback(model: IRenderMime.IMimeModel, mime: string): Promise<void> {
    this._fallback?.dispose();
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
    this._fallback = renderer;
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
