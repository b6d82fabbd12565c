"""The docs site in a headless browser: build it, serve it on 127.0.0.1, open it in Chromium.

Checks: every notebook has a page and each page loads without console errors or broken images/videos, the
API reference for `validate_sample` is on the schema page and in the API index, the site search finds it,
the `.motion` viewer page animates (two screenshots at different times differ) served and opened from disk
(file://), and the Train and Eval pages show the runs recorded under runs/ (tables and curves). The home page
screenshot is kept in tests/outputs/docs_home.png (git-ignored).

Speed: the build executes only the notebooks matching DOCS_TEST_EXEC_RE (default: index and 00_schema, a
few seconds each); every other notebook comes from the executed-notebook cache that `make docs` fills
(keyed by notebook + package hash, so never stale) or, on a cache miss, is rendered from its source with
its API entries computed from the exported module. Executing every notebook is `make docs`'s job (minutes),
and nbdev-test already runs each notebook top to bottom in `make test`.
Needs chromium + chromedriver (`make browser`).
"""
import functools, http.server, json, os, re, shutil, subprocess, sys, threading, time
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT/'tests'/'outputs'
EXEC_RE = os.environ.get('DOCS_TEST_EXEC_RE', r'^(index|00_schema)$')

chromium = shutil.which('chromium') or shutil.which('chromium-browser') or shutil.which('google-chrome')
chromedriver = shutil.which('chromedriver')
pytestmark = pytest.mark.skipif(not (chromium and chromedriver), reason='needs chromium + chromedriver (make browser)')


@pytest.fixture(scope='module')
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('docs')
    out = tmp/'site'
    nbs = sorted(p.name for p in (ROOT/'nbs').glob('*.ipynb') if not p.name.startswith(('_', '.')))
    t = time.time()
    r = subprocess.run([sys.executable, 'scripts/build_docs.py', '--out', str(out), '--proc', str(tmp/'proc'),
                        '--exec-re', EXEC_RE, '--jobs', '2'], cwd=ROOT, capture_output=True, text=True, timeout=400)
    assert r.returncode == 0, f'docs build failed:\n{r.stdout}\n{r.stderr}'
    print(r.stdout, f'build: {time.time()-t:.0f}s')
    manifest = json.loads((out/'pages.json').read_text())
    manifest['notebooks_before_build'] = nbs
    return out, manifest


@pytest.fixture(scope='module')
def server(site):
    out, _ = site
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *a): pass
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), functools.partial(Quiet, directory=str(out)))
    th = threading.Thread(target=srv.serve_forever, daemon=True); th.start()
    yield f'http://127.0.0.1:{srv.server_address[1]}'
    srv.shutdown(); srv.server_close()


@pytest.fixture(scope='module')
def browser(tmp_path_factory):
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    opts = Options()
    opts.binary_location = chromium
    for a in ('--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic',
              '--no-first-run', '--window-size=1280,1000', f'--user-data-dir={tmp_path_factory.mktemp("chrome-profile")}'):
        opts.add_argument(a)
    opts.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
    d = webdriver.Chrome(service=Service(chromedriver), options=opts)
    d.set_page_load_timeout(60)
    yield d
    d.quit()


def open_page(browser, url):
    "Load `url`, wait until it is complete, return the console errors it logged."
    browser.get_log('browser')   # drop what earlier pages logged
    browser.get(url)
    for _ in range(100):
        if browser.execute_script('return document.readyState') == 'complete': break
        time.sleep(0.05)
    time.sleep(0.3)
    return [e for e in browser.get_log('browser') if e['level'] == 'SEVERE']


BROKEN_MEDIA_JS = """
const done = arguments[arguments.length - 1];
const bad = [...document.querySelectorAll('img')].filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src);
const srcs = [...document.querySelectorAll('video[src], video source[src], audio[src]')].map(v => v.src);
Promise.all(srcs.map(s => fetch(s, {method: 'HEAD'}).then(r => r.ok ? null : s + ' HTTP ' + r.status).catch(e => s + ' ' + e)))
  .then(r => done(bad.concat(r.filter(x => x))));
"""


def test_every_notebook_has_a_page_that_loads_cleanly(site, server, browser):
    out, manifest = site
    pages = {p['notebook']: p for p in manifest['pages']}
    missing = [n for n in manifest['notebooks_before_build'] if n not in pages]
    assert not missing, f'notebooks without a page: {missing}'
    assert not manifest['broken_links'], manifest['broken_links']
    problems = {}
    for p in manifest['pages'] + [{'page': 'api.html', 'title': 'API reference'}]:
        errs = open_page(browser, f"{server}/{p['page']}")
        h1 = browser.execute_script("const h = document.querySelector('article h1'); return h ? h.textContent : ''")
        browser.set_script_timeout(20)
        media = browser.execute_async_script(BROKEN_MEDIA_JS)
        if errs or media or not h1.strip():
            problems[p['page']] = dict(console=[e['message'] for e in errs], broken_media=media, h1=h1)
    assert not problems, json.dumps(problems, indent=1)


def test_api_reference_for_validate_sample(site, server, browser):
    out, manifest = site
    open_page(browser, f'{server}/schema.html#validate_sample')
    el = browser.find_element('id', 'validate_sample')
    assert el.tag_name in ('h2', 'h3', 'h4') and 'validate_sample' in el.text
    entry = browser.execute_script(
        "let e = document.getElementById('validate_sample'), t = ''; "
        "for (let n = e.nextElementSibling; n && !/^H[1-4]$/.test(n.tagName); n = n.nextElementSibling) t += n.textContent + '\\n'; return t")
    assert 'def validate_sample(' in entry and 'sample' in entry, entry
    # the API index links to it
    open_page(browser, f'{server}/api.html')
    links = [a.get_attribute('href') for a in browser.find_elements('css selector', 'article a')]
    assert any(l.endswith('schema.html#validate_sample') for l in links), links


def test_clips_and_plots_are_embedded_as_files(site, server, browser):
    "The executed quick start shows its clip as an MP4 next to the page; the schema notebook's plots are PNG files."
    out, manifest = site
    executed = {p['page'] for p in manifest['pages'] if p['executed']}
    if 'index.html' in executed:
        open_page(browser, f'{server}/index.html')
        vids = browser.execute_script("return [...document.querySelectorAll('article video')].map(v => [v.currentSrc || v.src, v.readyState])")
        assert vids and all('index_files/' in s and s.endswith('.mp4') for s, _ in vids), vids
        for _ in range(50):
            if browser.execute_script("return document.querySelector('article video').readyState") >= 1: break
            time.sleep(0.1)
        assert browser.execute_script("return document.querySelector('article video').duration") > 1
    if 'schema.html' in executed:
        open_page(browser, f'{server}/schema.html')
        imgs = browser.execute_script("return [...document.querySelectorAll('article img')].map(i => [i.src, i.naturalWidth])")
        assert any('schema_files/' in s and w > 100 for s, w in imgs), imgs


def test_search_finds_validate_sample(site, server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
    open_page(browser, f'{server}/index.html')
    box = WebDriverWait(browser, 10).until(lambda d: d.find_element(By.CSS_SELECTOR, 'input.md-search__input'))
    box.click()
    box.send_keys('validate_sample')
    def hits(d):
        # read the hrefs in one script call: the result list re-renders while results stream in, so holding
        # element references between find and read can go stale
        return d.execute_script("return Array.from(document.querySelectorAll('.md-search-result__item a')).map(a => a.href)") or False
    found = WebDriverWait(browser, 20).until(hits)
    assert any(re.search(r'/schema\.html(\?[^#]*)?#validate_sample$', h) for h in found), found


def _canvas_png(browser):
    "A screenshot of the viewer's canvas inside the iframe."
    from selenium.webdriver.common.by import By
    browser.switch_to.frame(browser.find_element(By.ID, 'stickgen-viewer'))
    try: return browser.find_element(By.ID, 'stage').screenshot_as_png
    finally: browser.switch_to.default_content()


def test_viewer_page_animates(site, server, browser):
    out, manifest = site
    if not manifest['viewer']:
        pytest.skip('stickgen/viewer or stickgen.renderer.export_motion is not in this checkout yet')
    errs = open_page(browser, f'{server}/viewer.html')
    assert not errs, errs
    frame_no = 'return document.getElementById("stickgen-viewer").contentWindow.viewer'
    for _ in range(100):
        v = browser.execute_script(frame_no + ' && ' + frame_no[7:] + '.playing')
        if v: break
        time.sleep(0.1)
    assert v, 'the viewer did not start playing its sample clip'
    a = _canvas_png(browser)
    f1 = browser.execute_script(frame_no + '.frame')
    time.sleep(0.8)
    b = _canvas_png(browser)
    f2 = browser.execute_script(frame_no + '.frame')
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT/'docs_viewer_1.png').write_bytes(a); (OUT/'docs_viewer_2.png').write_bytes(b)
    assert f1 != f2, (f1, f2)
    assert a != b, 'two screenshots of the viewer 0.8 s apart are identical'


def test_home_page_screenshot(site, server, browser):
    errs = open_page(browser, f'{server}/index.html')
    assert not errs, errs
    text = browser.find_element('css selector', 'article').text
    assert 'Two commands' in text and 'make demo' in text
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT/'docs_home.png'
    browser.save_screenshot(str(path))
    assert path.stat().st_size > 10_000


def test_train_and_eval_pages_show_the_recorded_runs(site):
    "Every run under runs/ with a metrics.jsonl is a row and a curve on the Train page; every bench.md a table on the Eval page."
    out, manifest = site
    runs = ROOT/'runs'
    skip = lambda f: {'demo', 'previous', 'checkpoints'} & set(f.relative_to(runs).parts[:-1])
    recorded = sorted(f.parent.relative_to(runs).as_posix() for f in runs.rglob('metrics.jsonl') if not skip(f))
    benches = sorted(f.parent.relative_to(runs).as_posix() for f in runs.rglob('bench.md') if not skip(f))
    train, ev = (out/'train.html').read_text(), (out/'eval.html').read_text()
    assert 'Recorded runs' in train and 'Recorded benchmarks' in ev
    for run in recorded:
        assert f'<td>{run}</td>' in train, run
        assert f'alt="loss curves of {run}"' in train, run
    for b in benches: assert f'StickGen-Bench of {b}' in ev or f'>{b}<' in ev, b
    if benches: assert 'Real (test' in ev                         # the tables themselves, not just their names
    imgs = re.findall(r'<img[^>]+src="(train_files/[^"]+\.png)"', train)
    assert len(imgs) >= len(recorded) and all((out/i).stat().st_size > 1000 for i in imgs)


def test_viewer_plays_from_disk(site, browser):
    "Opened as a file (file://, no server: fetch is refused there) the viewer page still plays its embedded sample."
    from selenium.webdriver.common.by import By
    out, manifest = site
    if not manifest['viewer']:
        pytest.skip('stickgen/viewer or stickgen.renderer.export_motion is not in this checkout yet')
    open_page(browser, (out/'viewer.html').resolve().as_uri())
    browser.switch_to.frame(browser.find_element(By.ID, 'stickgen-viewer'))
    try:
        for _ in range(100):
            if browser.execute_script('return window.viewer && window.viewer.playing'): break
            time.sleep(0.1)
        assert browser.execute_script('return window.viewer.playing'), browser.execute_script('return window.viewer.error')
        f1 = browser.execute_script('return window.viewer.frame'); time.sleep(0.6)
        assert browser.execute_script('return window.viewer.frame') != f1
        assert 'untitled' not in browser.find_element(By.ID, 'info').text
    finally: browser.switch_to.default_content()
