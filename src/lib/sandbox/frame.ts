/**
 * The sandbox frame's only script, inlined into `srcdoc` and pinned by its hash in the frame's CSP.
 *
 * It runs in an opaque origin (`sandbox="allow-scripts"`, no `allow-same-origin`), so it has no
 * storage, cookies or service worker of the app's. It does one thing: start the worker from the
 * source text the host sends, hand the worker the host's port, and report the worker's fatal errors
 * on a second port. It never listens to the worker: the worker runs the expert's code, and nothing
 * it says may steer this frame (a frame that navigates itself could carry data out in the URL).
 */
type Init = { type: 'airlock:init'; workerSource: string; port: MessagePort; control: MessagePort };

function isInit(d: unknown): d is Init {
  const o = d as Partial<Init> | null;
  return (
    !!o &&
    o.type === 'airlock:init' &&
    typeof o.workerSource === 'string' &&
    o.port instanceof MessagePort &&
    o.control instanceof MessagePort
  );
}

function onInit(event: MessageEvent): void {
  if (event.source !== window.parent || !isInit(event.data)) return;
  window.removeEventListener('message', onInit);
  const { workerSource, port, control } = event.data;
  const url = URL.createObjectURL(new Blob([workerSource], { type: 'text/javascript' }));
  const worker = new Worker(url, { name: 'airlock-sandbox' });
  worker.addEventListener('error', (e: ErrorEvent) => {
    control.postMessage({
      type: 'worker-error',
      message: String(e.message || 'the sandbox worker failed').slice(0, 1000),
    });
  });
  worker.postMessage({ port }, [port]);
  control.postMessage({ type: 'worker-started' });
}

window.addEventListener('message', onInit);
