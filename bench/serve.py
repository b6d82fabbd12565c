"""Playground benchmark (issue 20): `stickgen serve` start-up, Generate-to-clip time, 10 concurrent requests.

Starts `python -m stickgen.cli serve` as a separate process (as a user would) on a free loopback port and measures:

  time-to-start    spawn -> the page answers (GET / is 200); the model loads in the background after that
  model ready      spawn -> /api/models reports the default model warm (weights + text encoder loaded)
  first press      headless Chromium presses Generate as soon as the page is up: press -> clip playing on the
                   canvas (includes waiting for the model still loading)
  press -> clip    the same once the model is warm, over --presses prompts: median and max (the page's own clock:
                   click handler -> viewer loaded the .motion and plays)
  10 concurrent    10 POST /api/generate at once from 10 threads, each polled to done: all must succeed

Target: press -> clip <= 2 s with the release tiny model on 2 cores; start-up <= 5 s.
Without chromium + chromedriver the press -> clip figures are measured over HTTP instead (submit, poll, fetch
the .motion), and say so.

    python bench/serve.py [--checkpoint release] [--presses 5] [--screenshot nbs/images/playground.png]
"""
import argparse, json, os, re, shutil, socket, statistics, subprocess, sys, tempfile, time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
import httpx

ROOT = Path(__file__).resolve().parent.parent
PROMPTS = ["a person walks to the left and waves happily", "two people dance", "a person runs to the right then jumps twice",
           "a person sits down, then stands up and cheers", "a person walks forward sadly then bows", "a person kicks and then punches"]


def free_port() -> int:
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]


def wait_job(h, job, timeout=120):
    t0 = time.time()
    while time.time() - t0 < timeout:
        j = h.get(f'/api/jobs/{job}').json()
        if j['status'] in ('done', 'error'): return j
        time.sleep(0.02)
    raise SystemExit(f'job {job} did not finish in {timeout}s')


def browser(download_dir):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    o = webdriver.ChromeOptions()
    o.binary_location = shutil.which('chromium') or shutil.which('chromium-browser')
    for a in ('--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run',
              f'--user-data-dir={tempfile.mkdtemp(prefix="stickgen-bench-")}', '--window-size=1180,940', '--force-device-scale-factor=1',
              '--disable-dev-shm-usage', '--hide-scrollbars'):
        o.add_argument(a)
    return webdriver.Chrome(service=Service(shutil.which('chromedriver')), options=o)


def press(drv, prompt, timeout=120):
    "Type `prompt`, press Generate; seconds from the click to the clip playing (the page's clock)."
    from selenium.webdriver.common.by import By
    box = drv.find_element(By.ID, 'prompt'); box.clear(); box.send_keys(prompt)
    old = drv.execute_script("return window.playground.current && window.playground.current.id")
    drv.find_element(By.ID, 'generate').click()
    t0 = time.time()
    while time.time() - t0 < timeout:
        st = drv.execute_script("const p = window.playground; return [p.status, p.current && p.current.id, p.t_shown - p.t_click, p.error]")
        if st[0] == 'error' or st[3]: raise SystemExit(f'generate failed in the page: {st[3]}')
        if st[0] == 'done' and st[1] != old and st[2] > 0 and drv.execute_script("return window.viewer.playing"): return st[2]/1000
        time.sleep(0.01)
    raise SystemExit('the clip did not appear')


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--checkpoint', default='release')
    ap.add_argument('--presses', type=int, default=5)
    ap.add_argument('--concurrent', type=int, default=10)
    ap.add_argument('--screenshot', default=None, help='save a PNG of the playground after the last press')
    a = ap.parse_args()
    out = Path(tempfile.mkdtemp(prefix='stickgen-serve-bench-'))
    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get('PYTHONPATH', ''))
    t_spawn = time.time()
    srv = subprocess.Popen([sys.executable, '-m', 'stickgen.cli', 'serve', '--port', str(port), '--checkpoint', a.checkpoint,
                            '--output-dir', str(out/'runs')], env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f'http://127.0.0.1:{port}'
    rows = {}
    try:
        h = httpx.Client(base_url=base, timeout=120)
        while True:
            try:
                if h.get('/').status_code == 200: break
            except httpx.TransportError: pass
            if srv.poll() is not None: raise SystemExit(f'the server exited: {srv.stderr.read()}')
            time.sleep(0.01)
        rows['time-to-start'] = time.time() - t_spawn
        have_browser = bool((shutil.which('chromium') or shutil.which('chromium-browser')) and shutil.which('chromedriver'))
        drv = None
        if have_browser:
            drv = browser(out)
            drv.get(base + '/')
            while not drv.execute_script("return window.playground && !!window.playground.models"): time.sleep(0.01)
            rows['first press (model still loading)'] = press(drv, PROMPTS[0])
        else:
            t0 = time.time(); j = wait_job(h, h.post('/api/generate', json=dict(prompt=PROMPTS[0])).json()['job'])
            h.get(j['result']['files']['motion']); rows['first request over HTTP (model still loading)'] = time.time() - t0
        while (m := h.get('/api/models').json())['warm'].get(a.checkpoint) != 'ready' and time.time() - t_spawn < 120: time.sleep(0.05)
        rows['model warm (server clock: start -> loaded)'] = m['warm_s'][a.checkpoint]
        times = []
        for k in range(a.presses):
            p = PROMPTS[(k + 1) % len(PROMPTS)]
            if drv is not None: times.append(press(drv, p))
            else:
                t0 = time.time(); j = wait_job(h, h.post('/api/generate', json=dict(prompt=p, seed=k)).json()['job'])
                h.get(j['result']['files']['motion']); times.append(time.time() - t0)
        how = 'press -> clip on screen' if drv is not None else 'request -> .motion over HTTP (no browser)'
        rows[f'{how}, median of {len(times)}'] = statistics.median(times)
        rows[f'{how}, max of {len(times)}'] = max(times)
        if drv is not None and a.screenshot:
            press(drv, "a person jumps twice then waves happily")
            drv.execute_script("window.viewer.pause(); window.viewer.seek(Math.floor(window.viewer.frames * 0.35))")
            shot = Path(a.screenshot); shot.parent.mkdir(parents=True, exist_ok=True)
            from PIL import Image
            import io
            im = Image.open(io.BytesIO(drv.get_screenshot_as_png())).convert('RGB')
            im.quantize(64, method=Image.Quantize.MEDIANCUT).save(shot, optimize=True)
            print(f'screenshot: {shot} ({shot.stat().st_size/1024:.0f} KiB)')
        t0 = time.time()
        def one(k):
            with httpx.Client(base_url=base, timeout=120) as c:
                r = c.post('/api/generate', json=dict(prompt=PROMPTS[k % len(PROMPTS)], seed=k))
                if r.status_code != 202: return dict(status='error', error=r.text)
                return wait_job(c, r.json()['job'])
        with ThreadPoolExecutor(a.concurrent) as ex: jobs = list(ex.map(one, range(a.concurrent)))
        ok = sum(j['status'] == 'done' for j in jobs)
        rows[f'{a.concurrent} concurrent requests: all done in'] = time.time() - t0
        if drv is not None: drv.quit()
    finally:
        srv.terminate(); srv.wait(10)
        shutil.rmtree(out, ignore_errors=True)
    print(f"stickgen serve benchmark: --checkpoint {a.checkpoint}, {os.cpu_count()} CPU core(s)")
    for k, v in rows.items(): print(f"  {k:<52} {v:6.2f} s")
    print(f"  {a.concurrent} concurrent requests: {ok}/{a.concurrent} done without error"
          + ('' if ok == a.concurrent else f"; errors: {[j.get('error') for j in jobs if j['status'] != 'done']}"))
    warm = [v for k, v in rows.items() if 'median' in k][0]
    print(f"  target press -> clip <= 2 s: {'met' if warm <= 2 else 'NOT met'}; start-up <= 5 s: {'met' if rows['time-to-start'] <= 5 else 'NOT met'}")
    return 0 if ok == a.concurrent else 1


if __name__ == '__main__':
    sys.exit(main())
