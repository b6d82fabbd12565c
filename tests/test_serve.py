"""`stickgen serve` (stickgen/serve.py, nbs/75_serve.ipynb): the JSON API through Starlette's TestClient, a real
uvicorn server on a free port (10 concurrent requests, the Host check, the non-loopback warning), and the page in
headless Chromium: type a prompt, press Generate, the canvas animates, the MP4 download is H.264, a bad prompt
shows the clear error, two tabs generate at once.

The browser tests need Debian's chromium + chromium-driver (`make browser`) and are skipped with a reason without."""
import json, os, re, shutil, subprocess, sys, tempfile, threading, time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
import pytest

starlette = pytest.importorskip('starlette', reason='stickgen serve needs starlette (pip install -e .)')
from starlette.testclient import TestClient
from stickgen.serve import Playground, PlaygroundServer, make_app, safe_path, RequestError, MAX_BODY_BYTES, is_loopback

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which('chromium') or shutil.which('chromium-browser')
CHROMEDRIVER = shutil.which('chromedriver')
RELEASE = (ROOT/'stickgen'/'release'/'model.safetensors').exists()
browser = pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER), reason='needs chromium + chromedriver (make browser)')


def wait_job(client, job_id, timeout=180):
    t0 = time.time()
    while time.time() - t0 < timeout:
        j = client.get(f'/api/jobs/{job_id}').json()
        if j['status'] in ('done', 'error'): return j
        time.sleep(0.02)
    raise AssertionError(f'job {job_id} did not finish in {timeout}s')


@pytest.fixture(scope='module')
def api(tmp_path_factory):
    out = tmp_path_factory.mktemp('serve')
    pg = Playground(out/'runs', checkpoint='procedural')
    with TestClient(make_app(pg), raise_server_exceptions=False) as c:
        yield c, pg, out


def test_generate_and_downloads(api):
    import av
    c, pg, out = api
    r = c.post('/api/generate', json=dict(prompt='a person walks to the right then jumps twice', seed=4, duration=4, model='procedural'))
    assert r.status_code == 202, r.text
    j = wait_job(c, r.json()['job'])
    assert j['status'] == 'done', j
    g = j['result']['generation']
    assert [s['action'] for s in g['plan']][:3] == ['walk', 'jump', 'jump']
    assert g['is_safe'] is True and g['safety']['rejection_reasons'] == [] and g['notes']
    assert g['num_frames'] == 100 and g['seed'] == 4
    files = j['result']['files']
    clip = c.get(files['motion']).json()
    assert clip['meta']['frames'] == 100 and len(clip['motion'][0]) == 100*20
    mp4 = c.get(files['mp4'])
    assert mp4.status_code == 200 and 'attachment' in mp4.headers['content-disposition']
    p = out/'dl.mp4'; p.write_bytes(mp4.content)
    with av.open(str(p)) as f: assert f.streams.video[0].codec_context.name == 'h264'
    gif = c.get(files['gif'])
    assert gif.status_code == 200 and gif.content[:6] in (b'GIF89a', b'GIF87a')
    assert (pg.output_dir/j['id']/'clip.mp4').exists()           # rendered once, then served from disk


def test_user_mistakes_are_one_line_json(api):
    c, _, _ = api
    cases = [(dict(json=dict(prompt='')), 400, 'empty prompt'),
             (dict(json=dict(prompt='walk '*500)), 400, 'prompt too long'),
             (dict(json=dict(prompt='walk', seed=-3)), 400, 'seed must be'),
             (dict(json=dict(prompt='walk', duration='long')), 400, 'duration must be'),
             (dict(json=dict(prompt='walk', actors=0)), 400, 'actors must be'),
             (dict(json=dict(prompt='walk', model='/etc/passwd')), 400, 'model must be one of'),
             (dict(content=b'walk please', headers={'content-type': 'application/json'}), 400, 'must be JSON'),
             (dict(content=b'{"prompt": "' + b'a'*(MAX_BODY_BYTES + 10) + b'"}'), 413, 'too large'),
             (dict(content=iter([b'{"prompt": "', b'a'*(MAX_BODY_BYTES + 10), b'"}']), headers={'content-type': 'application/json'}),
              413, 'too large'),                                       # chunked: no length to check first
             (dict(content=b'{"prompt": "walk"}', headers={'content-type': 'text/plain'}), 415, 'as JSON')]   # a cross-site form's POST
    for kw, status, says in cases:
        r = c.post('/api/generate', **kw)
        assert r.status_code == status, (kw.get('json'), r.status_code, r.text)
        msg = r.json()['error']
        assert says in msg and '\n' not in msg and 'Traceback' not in msg, msg
    assert c.get('/api/jobs/0123456789ab').status_code == 404
    assert c.get('/nothing/here').json() == {'error': 'Not Found'}
    assert c.get('/api/generate').status_code == 405
    # an unknown prompt is not an error: the clip comes with notes saying what was not understood
    j = wait_job(c, c.post('/api/generate', json=dict(prompt='zzz qqq', model='procedural')).json()['job'])
    assert j['status'] == 'done' and j['result']['generation']['notes']


def test_edit_controls_continue_and_keep_parts(api):
    import numpy as np
    from stickgen.model import part_slots
    c, pg, _ = api
    src = wait_job(c, c.post('/api/generate', json=dict(prompt='a person walks to the left', seed=1)).json()['job'])
    r = c.post('/api/continue', json=dict(prompt='a person jumps twice', source=src['id'], keep_seconds=3, seed=2))
    assert r.status_code == 202, r.text
    cont = wait_job(c, r.json()['job'])
    assert cont['status'] == 'done' and cont['kind'] == 'continue', cont
    a, b = (np.array(c.get(j['result']['files']['motion']).json()['motion'][0]).reshape(-1, 20) for j in (src, cont))
    np.testing.assert_allclose(b[:75], a[:75], atol=1e-4)           # the first 3 s are the source's (.motion keeps 4 decimals)
    assert 'jump' in [s['action'] for s in cont['result']['generation']['plan']]
    parts = wait_job(c, c.post('/api/parts', json=dict(prompt='a person waves both arms', source=cont['id'], keep='legs')).json()['job'])
    assert parts['status'] == 'done', parts
    p = np.array(c.get(parts['result']['files']['motion']).json()['motion'][0]).reshape(-1, 20)
    legs = part_slots('legs')
    np.testing.assert_allclose(p[:, legs], b[:, legs], atol=1e-4)
    assert any('kept' in n for n in parts['result']['generation']['notes'])
    for kind, body, says in [('continue', dict(prompt='jump', source='../' + src['id']), 'source must be'),
                             ('continue', dict(prompt='jump', source='0123456789ab'), 'no finished clip'),
                             ('continue', dict(prompt='jump', source=src['id'], keep_seconds=-1), 'keep_seconds must be'),
                             ('parts', dict(prompt='jump', source=src['id'], keep='tail'), 'keep must be one of')]:
        r = c.post(f'/api/{kind}', json=body)
        assert r.status_code in (400, 404) and says in r.json()['error'], (body, r.text)
    # an edit the engine refuses is a one-line error in the job
    bad = wait_job(c, c.post('/api/continue', json=dict(prompt='jump', source=src['id'], keep_seconds=12)).json()['job'])
    assert bad['status'] == 'error' and 'keep_seconds' in bad['error'] and '\n' not in bad['error']


def test_downloads_only_from_the_output_folder(api, tmp_path):
    c, pg, out = api
    secret = out/'secret.txt'; secret.write_text('not for the web')
    (pg.output_dir/'aaaaaaaaaaaa').mkdir(exist_ok=True)
    os.symlink(secret, pg.output_dir/'aaaaaaaaaaaa'/'clip.motion')
    os.symlink(out, pg.output_dir/'up')
    for url in ['/files/../secret.txt', '/files/%2e%2e/secret.txt', '/files/..%2fsecret.txt', '/files/aaaaaaaaaaaa/..%2f..%2fsecret.txt',
                f'/files/{secret}', f'/files/%2F{str(secret).lstrip("/")}', '/files/aaaaaaaaaaaa/clip.motion', '/files/up/secret.txt',
                '/files/..%5csecret.txt', '/files/aaaaaaaaaaaa/clip.mp4']:
        r = c.get(url)
        assert r.status_code in (403, 404), (url, r.status_code)
        assert 'not for the web' not in r.text, url
    for rel in ['../secret.txt', str(secret), 'aaaaaaaaaaaa/clip.motion', 'up/secret.txt', 'a/./b']:
        with pytest.raises(RequestError) as e: safe_path(pg.output_dir, rel)
        assert e.value.status == 403, rel


def test_server_concurrency_host_check_and_start(tmp_path):
    import httpx
    with PlaygroundServer(tmp_path/'runs', checkpoint='procedural') as srv:
        t0 = time.time()
        def one(k):
            with httpx.Client(base_url=srv.url, timeout=60) as h:
                r = h.post('/api/generate', json=dict(prompt=f'a person jumps {k % 3 + 1} times then waves', seed=k))
                assert r.status_code == 202, r.text
                return wait_job(h, r.json()['job'])
        with ThreadPoolExecutor(10) as ex: jobs = list(ex.map(one, range(10)))
        assert [j['status'] for j in jobs] == ['done']*10, [j['error'] for j in jobs]
        assert len({j['id'] for j in jobs}) == 10
        # a loopback server answers only to loopback names (DNS rebinding)
        assert httpx.get(srv.url + 'api/models', headers={'Host': 'evil.example'}).status_code == 400
        assert httpx.get(srv.url + 'api/models').json()['default'] == 'procedural'
    assert not srv.thread.is_alive()
    assert is_loopback('127.0.0.1') and is_loopback('::1') and is_loopback('localhost') and not is_loopback('0.0.0.0')


def test_cli_warns_when_not_loopback(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    p = subprocess.Popen([sys.executable, '-m', 'stickgen.cli', 'serve', '--host', '0.0.0.0', '--port', '0', '--checkpoint', 'procedural',
                          '--output-dir', str(tmp_path/'s')], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    try:
        t0 = time.time(); line = p.stdout.readline(); started = time.time() - t0
    finally:
        p.terminate(); _, err = p.communicate(timeout=10)
    assert 'http://0.0.0.0:' in line, (line, err)
    assert 'warning: listening on 0.0.0.0' in err
    assert started < 15, started      # up before any model is loaded (bench/serve.py measures it: about 2 s on a quiet 2-core machine)
    r = subprocess.run([sys.executable, '-m', 'stickgen.cli', 'serve', '--port', '-1'], capture_output=True, text=True, env=env)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and 'Traceback' not in r.stderr


# -- the page in headless Chromium ---------------------------------------------------------------------------------

@pytest.fixture(scope='module')
def live(tmp_path_factory):
    out = tmp_path_factory.mktemp('live')
    with PlaygroundServer(out/'runs', checkpoint='release' if RELEASE else 'procedural') as srv:
        yield srv, out


@pytest.fixture(scope='module')
def driver(tmp_path_factory):
    if not (CHROMIUM and CHROMEDRIVER): pytest.skip('needs chromium + chromedriver (make browser)')
    webdriver = pytest.importorskip('selenium.webdriver')
    from selenium.webdriver.chrome.service import Service
    profile, dl = tempfile.mkdtemp(prefix='stickgen-chromium-'), tmp_path_factory.mktemp('downloads')
    o = webdriver.ChromeOptions()
    o.binary_location = CHROMIUM
    for a in ('--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run',
              f'--user-data-dir={profile}', '--window-size=1200,900', '--force-device-scale-factor=1', '--disable-dev-shm-usage'):
        o.add_argument(a)
    o.add_experimental_option('prefs', {'download.default_directory': str(dl), 'download.prompt_for_download': False})
    drv = webdriver.Chrome(service=Service(CHROMEDRIVER), options=o)
    drv.set_page_load_timeout(60)
    drv.execute_cdp_cmd('Browser.setDownloadBehavior', {'behavior': 'allow', 'downloadPath': str(dl)})
    drv.download_dir = dl
    yield drv
    drv.quit(); shutil.rmtree(profile, ignore_errors=True)


def wait_for(drv, js, timeout=180):   # generous: the release model loads in the background and the machine may be shared
    t0 = time.time()
    while time.time() - t0 < timeout:
        v = drv.execute_script(js)
        if v: return v
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for: {js}; page error: {drv.execute_script('return window.playground && window.playground.error')}")


def open_page(drv, srv):
    drv.get(srv.url)
    wait_for(drv, "return window.playground && window.playground.models && document.getElementById('model').options.length > 0")


def press_generate(drv, prompt):
    from selenium.webdriver.common.by import By
    box = drv.find_element(By.ID, 'prompt'); box.clear(); box.send_keys(prompt)
    drv.find_element(By.ID, 'generate').click()


CANVAS_INK = "const c = document.getElementById('stage'), d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i] < 128) n++; return n;"

@browser
def test_page_generates_animates_and_downloads(live, driver):
    import av
    from selenium.webdriver.common.by import By
    srv, _ = live
    open_page(driver, srv)
    press_generate(driver, 'a person walks to the left and waves happily')
    wait_for(driver, "return window.playground.status === 'done' && window.viewer.ready && window.playground.t_shown > 0")
    a = driver.execute_script("return document.getElementById('stage').toDataURL()")
    f0 = driver.execute_script("return window.viewer.frame")
    t0 = time.time()
    while time.time() - t0 < 20 and driver.execute_script("return window.viewer.frame") == f0: time.sleep(0.1)
    time.sleep(0.2)
    b = driver.execute_script("return document.getElementById('stage').toDataURL()")
    assert driver.execute_script("return window.viewer.playing") and driver.execute_script("return window.viewer.frame") != f0
    assert a != b                                                   # the canvas animates
    assert driver.execute_script(CANVAS_INK) > 50                   # and shows a figure
    plan = driver.find_element(By.ID, 'plan').text
    assert 'walk' in plan and 'wave' in plan
    assert 'Safety verdict: safe' in driver.find_element(By.ID, 'verdict').text
    assert driver.find_elements(By.CSS_SELECTOR, '#notes li')
    driver.find_element(By.ID, 'dl-mp4').click()                    # a real browser download
    t0 = time.time()
    while time.time() - t0 < 90 and not [p for p in driver.download_dir.glob('*.mp4')]: time.sleep(0.1)
    mp4 = list(driver.download_dir.glob('*.mp4'))
    assert mp4, list(driver.download_dir.iterdir())
    with av.open(str(mp4[0])) as f: assert f.streams.video[0].codec_context.name == 'h264'


@browser
def test_page_edit_controls(live, driver):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select
    srv, _ = live
    open_page(driver, srv)
    press_generate(driver, 'a person walks to the right')
    wait_for(driver, "return window.playground.status === 'done' && window.viewer.ready")
    first = driver.execute_script("return window.playground.current.id")
    assert driver.find_element(By.ID, 'edit').is_enabled()
    box = driver.find_element(By.ID, 'prompt'); box.clear(); box.send_keys('a person jumps twice')
    driver.find_element(By.ID, 'continue').click()
    wait_for(driver, f"const c = window.playground.current; return c && c.id !== '{first}' && c.kind === 'continue' && window.viewer.ready")
    assert 'continued: the first 2 s' in driver.find_element(By.ID, 'notes').text
    second = driver.execute_script("return window.playground.current.id")
    Select(driver.find_element(By.ID, 'keep')).select_by_value('legs')
    box.clear(); box.send_keys('a person waves both arms')
    driver.find_element(By.ID, 'parts').click()
    wait_for(driver, f"const c = window.playground.current; return c && c.id !== '{second}' && c.kind === 'parts' && window.viewer.ready")
    assert "kept the source's legs" in driver.find_element(By.ID, 'notes').text
    assert driver.execute_script("return window.viewer.playing")


@browser
def test_page_shows_the_clear_error(live, driver):
    from selenium.webdriver.common.by import By
    srv, _ = live
    open_page(driver, srv)
    press_generate(driver, '   ')
    err = wait_for(driver, "return document.getElementById('error').textContent")
    assert err.startswith('Error: empty prompt') and 'Traceback' not in err, err
    seed = driver.find_element(By.ID, 'seed'); seed.clear(); seed.send_keys('-5')
    press_generate(driver, 'a person jumps')
    err = wait_for(driver, "const t = document.getElementById('error').textContent; return t.includes('seed') && t")
    assert 'seed must be an integer' in err, err


@browser
def test_two_tabs_generate_at_once(live, driver):
    srv, _ = live
    first = driver.current_window_handle
    open_page(driver, srv)
    driver.switch_to.new_window('tab'); second = driver.current_window_handle
    open_page(driver, srv)
    for h, prompt in ((first, 'two people dance happily'), (second, 'a person runs to the right then sits down')):
        driver.switch_to.window(h); press_generate(driver, prompt)
    ids = []
    for h in (first, second):
        driver.switch_to.window(h)
        wait_for(driver, "return window.playground.status === 'done' && window.viewer.ready")
        ids.append(driver.execute_script("return window.playground.current.id"))
        assert driver.execute_script("return window.viewer.frames") == 250
    assert ids[0] != ids[1]
    driver.switch_to.window(first)
    assert driver.execute_script("return window.viewer.frames") and 'dance' in driver.find_element('id', 'plan').text
    driver.switch_to.window(second); driver.close(); driver.switch_to.window(first)
