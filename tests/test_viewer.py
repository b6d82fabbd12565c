"""The static web viewer (stickgen/viewer/) in real headless Chromium: load a known .motion, step to a frame,
take a screenshot and check that figure pixels are where the pose says (same camera transform as the renderer).

Needs Debian's chromium + chromium-driver (`make browser`); skipped with a reason when they are missing."""
import functools, http.server, shutil, tempfile, threading, time
from pathlib import Path
import numpy as np, pytest, cv2
from stickgen.schema import make_sample, standing_pose, get_joint, ActionType, static_camera
from stickgen.renderer import export_motion, world_to_screen, viewer_dir

CHROMIUM = shutil.which('chromium') or shutil.which('chromium-browser')
CHROMEDRIVER = shutil.which('chromedriver')
webdriver = pytest.importorskip('selenium.webdriver')
pytestmark = pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER), reason='needs chromium + chromedriver (make browser)')

T, W, H = 60, 640, 480
FIGURE = (0x19, 0x19, 0x19)     # actor 0 colour in the viewer (RGB)
ACTOR1 = (0xd6, 0x45, 0x41)

def known_sample():
    "Actor 0 walks right 2 cm per frame from x = 0; actor 1 stands at x = -1.2. Static camera at x = 0.2."
    a0 = np.stack([standing_pose(x=0.02*i) for i in range(T)])
    a1 = np.stack([standing_pose(x=-1.2)]*T)
    return make_sample(np.stack([a0, a1], 1), np.full(T, int(ActionType.WALK)), "viewer test clip",
                       camera=static_camera(T, x=0.2, y=0.9, zoom=1.0))

@pytest.fixture(scope='module')
def served():
    d = Path(tempfile.mkdtemp())
    for f in viewer_dir().iterdir():
        if f.is_file(): shutil.copy(f, d/f.name)
    s = known_sample()
    export_motion(s, d/'known.motion')
    handler = functools.partial(QuietHandler, directory=str(d))
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    th = threading.Thread(target=srv.serve_forever, daemon=True); th.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}", s
    srv.shutdown(); srv.server_close(); shutil.rmtree(d, ignore_errors=True)

class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a): pass

@pytest.fixture(scope='module')
def driver():
    from selenium.webdriver.chrome.service import Service
    profile = tempfile.mkdtemp(prefix='stickgen-chromium-')
    o = webdriver.ChromeOptions()
    o.binary_location = CHROMIUM
    for a in ('--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic',
              '--no-first-run', f'--user-data-dir={profile}', '--window-size=900,800', '--force-device-scale-factor=1',
              '--disable-dev-shm-usage'):
        o.add_argument(a)
    drv = webdriver.Chrome(service=Service(CHROMEDRIVER), options=o)
    drv.set_page_load_timeout(60)
    yield drv
    drv.quit(); shutil.rmtree(profile, ignore_errors=True)

def wait_for(drv, js, timeout=30):
    t0 = time.time()
    while time.time() - t0 < timeout:
        v = drv.execute_script(js)
        if v: return v
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for: {js}; viewer error: {drv.execute_script('return window.viewer && window.viewer.error')}")

def canvas_shot(drv):
    png = drv.find_element('id', 'stage').screenshot_as_png
    img = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)

def near(px, color, tol=40): return bool(np.abs(px.astype(int) - np.array(color)).max() <= tol)

def test_viewer_step_and_pixels(served, driver):
    base, s = served
    driver.get(f"{base}/index.html?src=known.motion")
    wait_for(driver, "return window.viewer && window.viewer.ready")
    assert driver.execute_script("return window.viewer.frames") == T
    f = 40
    assert driver.execute_script(f"return window.viewer.seek({f})") == f
    assert driver.execute_script("return window.viewer.frame") == f
    img = canvas_shot(driver)
    assert img.shape == (H, W, 3)
    cam = s['camera'][f].numpy()
    m = s['motion'][f].numpy()
    # the viewer's transform is the renderer's
    js = driver.execute_script("return window.viewer.worldToScreen(0.5, 1.0)")
    np.testing.assert_allclose(js, world_to_screen([0.5, 1.0], cam, W, H), atol=1e-3)
    # actor 0's torso (neck -> pelvis) at frame 40 is figure-coloured; where it stood at frame 0 is background
    for k in (0.25, 0.5, 0.75):
        x, y = world_to_screen((1-k)*get_joint(m[0], 'neck') + k*get_joint(m[0], 'pelvis'), cam, W, H).round().astype(int)
        assert near(img[y, x], FIGURE), (k, x, y, img[y, x])
    x0, y0 = world_to_screen((get_joint(s['motion'][0, 0].numpy(), 'neck') + get_joint(s['motion'][0, 0].numpy(), 'pelvis'))/2, cam, W, H).round().astype(int)
    assert near(img[y0, x0], (255, 255, 255), 10), img[y0, x0]
    # actor 1's torso in its own colour
    x1, y1 = world_to_screen((get_joint(m[1], 'neck') + get_joint(m[1], 'pelvis'))/2, cam, W, H).round().astype(int)
    assert near(img[y1, x1], ACTOR1), img[y1, x1]
    # the ground line at y = 0
    gy = int(world_to_screen([0, 0], cam, W, H)[1].round())
    assert img[gy-1:gy+2, 10].min() < 230
    # the feet end where the pose says (a dark pixel within 2 px of each foot)
    for j in ('left_foot', 'right_foot'):
        fx, fy = world_to_screen(get_joint(m[0], j), cam, W, H)
        patch = img[int(fy)-3:int(fy)+1, int(fx)-2:int(fx)+3]
        assert (patch.max(-1) < 120).any(), j

def test_viewer_plays_and_loops(served, driver):
    base, _ = served
    driver.get(f"{base}/index.html?src=known.motion")
    wait_for(driver, "return window.viewer && window.viewer.ready")
    driver.execute_script("window.viewer.setSpeed(2); window.viewer.seek(50); window.viewer.play();")
    time.sleep(0.5)                      # 2x speed: ~25 frames from frame 50 of 60, so it wrapped around
    assert driver.execute_script("return window.viewer.playing") is True
    driver.execute_script("window.viewer.pause()")
    f = driver.execute_script("return window.viewer.frame")
    assert 0 <= f < 50, f

def test_viewer_reports_a_bad_file(served, driver):
    base, _ = served
    driver.get(f"{base}/index.html?src=missing.motion")
    err = wait_for(driver, "return window.viewer && window.viewer.error")
    assert '404' in err
