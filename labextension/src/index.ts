/** The automl-nb JupyterLab extension: AutoML jobs sidebar, job panels, status-bar item. */

import {
  ILabShell,
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette, MainAreaWidget, WidgetTracker } from '@jupyterlab/apputils';
import { IStatusBar } from '@jupyterlab/statusbar';
import type { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { LabIcon } from '@jupyterlab/ui-components';
import type { Widget } from '@lumino/widgets';

import { addWidgetFallback } from './fallback';
import { JobPanel, JobsPoller, JobsSidebar, RunningTrialsItem } from './widgets';

const OPEN_JOB = 'automl-nb:open-job';
const REFRESH = 'automl-nb:refresh-jobs';

const automlIcon = new LabIcon({
  name: 'automl-nb:jobs',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><g class="jp-icon3" fill="#616161">' +
    '<path d="M3 19h18v2H3zM5 10h3v7H5zM10.5 6h3v11h-3zM16 3h3v14h-3z"/></g></svg>'
});

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'automl-nb:plugin',
  description: 'AutoML jobs sidebar, job panels and running-trials status item.',
  autoStart: true,
  requires: [ILabShell],
  optional: [ILayoutRestorer, IStatusBar, ICommandPalette],
  activate: (
    app: JupyterFrontEnd,
    shell: ILabShell,
    restorer: ILayoutRestorer | null,
    statusBar: IStatusBar | null,
    palette: ICommandPalette | null
  ) => {
    const poller = new JobsPoller();
    const tracker = new WidgetTracker<MainAreaWidget<JobPanel>>({ namespace: 'automl-nb-job' });

    app.commands.addCommand(OPEN_JOB, {
      label: args => (args.id ? `Open AutoML job ${args.id}` : 'Open AutoML job'),
      execute: args => {
        const id = String(args.id);
        const open = tracker.find(w => w.content.jobId === id);
        if (open) {
          shell.activateById(open.id);
          void open.content.refresh();
          return open;
        }
        const widget = new MainAreaWidget({ content: new JobPanel(id) });
        widget.id = `automl-nb-job-area-${id}`;
        widget.title.label = `AutoML ${id}`;
        widget.title.icon = automlIcon;
        void tracker.add(widget);
        shell.add(widget, 'main');
        shell.activateById(widget.id);
        return widget;
      }
    });
    app.commands.addCommand(REFRESH, {
      label: 'Refresh AutoML jobs',
      execute: () => poller.refresh()
    });
    palette?.addItem({ command: REFRESH, category: 'AutoML' });

    const sidebar = new JobsSidebar(poller, id => void app.commands.execute(OPEN_JOB, { id }));
    sidebar.title.icon = automlIcon;
    shell.add(sidebar, 'left', { rank: 600 });
    if (restorer) {
      restorer.add(sidebar, 'automl-nb-jobs');
      void restorer.restore(tracker, {
        command: OPEN_JOB,
        args: w => ({ id: w.content.jobId }),
        name: w => w.content.jobId
      });
    }
    if (statusBar) {
      statusBar.registerStatusItem('automl-nb:running', {
        item: new RunningTrialsItem(poller),
        align: 'left',
        rank: 50
      });
    }
    // Saved dashboards and data previews show their static copy when no kernel holds them.
    app.docRegistry.addWidgetExtension('Notebook', {
      createNew: (panel: Widget) => {
        const rendermime = (panel as unknown as { content?: { rendermime?: IRenderMimeRegistry } })
          .content?.rendermime;
        if (rendermime) {
          addWidgetFallback(rendermime);
        }
      }
    });
    poller.start();
    console.log('automl-nb extension activated');
  }
};

export default plugin;
