"""Renderer checks beyond the notebook: the CLI through the `stickgen` dispatcher, MP4 probing, malformed
.motion files, multi-actor inputs and parallax determinism."""
import json, subprocess, sys
from pathlib import Path
import numpy as np, pytest, torch, av
from stickgen.schema import (make_sample, save_samples, standing_pose, get_joint, set_joint, ActionType, StickgenError,
                             SchemaError, static_camera, FacialExpression, face_for_expression, SPEECH_CYCLE)
from stickgen.renderer import (render_clip, render_sample, export_motion, load_motion, video_html, FramePainter, world_to_screen,
                               screen_to_world, face_track, render_parallax_views, quantize, output_format, TALK)
from stickgen.cli import main, render_cli

def clip(T=30, x0=0.0, dx=0.01):
    return np.stack([standing_pose(x=x0 + dx*i) for i in range(T)])

def probe(path):
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        n = sum(1 for p in c.demux(s) if p.size)
        return s.codec_context.name, s.codec_context.pix_fmt, s.codec_context.width, s.codec_context.height, n

@pytest.fixture
def sample_file(tmp_path):
    ss = [make_sample(clip(20), np.full(20, int(ActionType.WAVE)), "a person waves"),
          make_sample(np.stack([clip(20), clip(20, 1.0)], 1), np.full(20, int(ActionType.TALK)), "two people talk")]
    return save_samples(ss, tmp_path/'s.pt')

def test_mp4_is_h264(tmp_path):
    out = render_clip(clip(37), tmp_path/'a.mp4', width=320, height=240)
    assert probe(out) == ('h264', 'yuv420p', 320, 240, 37)

def test_wide_and_step(tmp_path):
    out = render_clip(clip(40), tmp_path/'w.mp4', width=960, height=480, step=2)
    assert probe(out)[2:] == (960, 480, 20)

def test_odd_size_is_a_user_error(tmp_path):
    with pytest.raises(StickgenError, match='even frame size'): render_clip(clip(5), tmp_path/'x.mp4', width=321, height=240)

def test_bad_motion_shape(tmp_path):
    with pytest.raises(StickgenError, match=r'motion: expected shape'): render_clip(np.zeros((5, 18), np.float32), tmp_path/'x.mp4')
    with pytest.raises(StickgenError, match=r'actions: expected shape'): render_clip(clip(5), tmp_path/'x.mp4', actions=np.zeros(4, np.int64))
    with pytest.raises(StickgenError, match=r'camera: expected shape'): render_clip(clip(5), tmp_path/'x.mp4', camera=np.zeros((4, 3)))
    with pytest.raises(StickgenError, match='unknown style option'): render_clip(clip(5), tmp_path/'x.mp4', colour='red')

def test_cli_through_dispatcher(sample_file, tmp_path, capsys):
    assert main(['render', str(sample_file), '--index', '1', '--output', str(tmp_path/'two.mp4'), '--width', '320', '--height', '240']) == 0
    assert probe(tmp_path/'two.mp4') == ('h264', 'yuv420p', 320, 240, 20)
    assert main(['render', str(sample_file), '--output', str(tmp_path/'one.gif'), '--no-face']) == 0
    assert main(['render', str(sample_file), '--output', str(tmp_path/'one.motion')]) == 0
    assert main(['render', str(tmp_path/'one.motion'), '--output', str(tmp_path/'pngs'), '--format', 'png']) == 0
    assert len(list((tmp_path/'pngs').glob('frame_*.png'))) == 20

@pytest.mark.parametrize('argv,msg', [
    (['nope.pt', '--output', 'x.mp4'], 'file not found'),
    (['{pt}', '--output', 'x.mp4', '--index', '5'], 'out of range'),
    (['{pt}', '--output', 'x.webm'], 'unknown suffix'),
    (['{bad}', '--output', 'x.mp4'], "not valid JSON"),
])
def test_cli_bad_input_one_line(sample_file, tmp_path, capsys, argv, msg):
    bad = tmp_path/'bad.motion'; bad.write_text('{oops')
    argv = [a.format(pt=sample_file, bad=bad) for a in argv]
    argv = [str(tmp_path/a) if a.startswith('x.') else a for a in argv]
    assert main(['render'] + argv) == 2
    err = capsys.readouterr().err.strip()
    assert msg in err and len(err.splitlines()) == 1

def test_console_script(sample_file, tmp_path):
    exe = Path(sys.executable).parent/'stickgen'
    if not exe.exists(): pytest.skip('stickgen console script not installed')
    r = subprocess.run([str(exe), 'render', str(sample_file), '--output', str(tmp_path/'c.gif')], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    r = subprocess.run([str(exe), 'render', str(tmp_path/'missing.pt'), '--output', str(tmp_path/'c.gif')], capture_output=True, text=True)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1

def _motion(tmp_path):
    s = make_sample(np.stack([clip(10), clip(10, 1.0)], 1), np.full(10, int(ActionType.WAVE)), "two", camera=static_camera(10, 0.5))
    s['speech'] = torch.zeros(10, dtype=torch.bool); s['speech'][3:6] = True
    return s, export_motion(s, tmp_path/'m.motion')

def test_motion_round_trip_multi_actor(tmp_path):
    s, p = _motion(tmp_path)
    b = load_motion(p)
    assert torch.equal(b['motion'], torch.from_numpy(quantize(s['motion']).astype(np.float32)))
    assert torch.equal(b['physics'], torch.from_numpy(quantize(s['physics']).astype(np.float32)))
    assert torch.equal(b['speech'], s['speech'])
    assert export_motion(b, tmp_path/'b.motion').read_bytes() == p.read_bytes()

def test_motion_keeps_the_face(tmp_path):
    "A clip's own per-frame expression (a mood from the text: exhausted -> tired) survives a .motion round trip."
    T = 30
    tired = np.full(T, int(FacialExpression.TIRED)); tired[:5] = int(FacialExpression.NEUTRAL)
    s = make_sample(torch.from_numpy(np.stack([standing_pose()]*T)).float(), torch.zeros(T, dtype=torch.long), 'a tired person')
    s['expression'] = torch.from_numpy(tired)
    b = load_motion(export_motion(s, tmp_path/'t.motion'))
    assert torch.equal(b['expression'], s['expression'])
    d = json.loads((tmp_path/'t.motion').read_text()); d['expression'][0][0] = 99
    (tmp_path/'bad.motion').write_text(json.dumps(d))
    with pytest.raises(SchemaError, match="field 'expression'"): load_motion(tmp_path/'bad.motion')
    s.pop('expression')
    assert 'expression' not in load_motion(export_motion(s, tmp_path/'n.motion'))   # no face track: the actions' faces

def _mutate(d, how):
    if how == 'no_meta': d.pop('meta')
    elif how == 'version': d['meta']['version'] = 99
    elif how == 'frames': d['meta']['frames'] = 'ten'
    elif how == 'actors': d['meta']['actors'] = 3
    elif how == 'short': d['motion'][0] = d['motion'][0][:-1]
    elif how == 'string': d['motion'][1][5] = 'x'
    elif how == 'action_range': d['actions'][0][0] = 99
    elif how == 'camera': d['camera'] = d['camera'][:-3]
    elif how == 'zoom': d['camera'][2] = 0.0
    elif how == 'skeleton': d['skeleton']['pose_dim'] = 48
    return d

@pytest.mark.parametrize('how,msg', [('no_meta', "'meta'"), ('version', 'meta.version'), ('frames', 'meta.frames'),
    ('actors', "one list per actor"), ('short', "field 'motion'"), ('string', "field 'motion'"), ('action_range', "field 'actions'"),
    ('camera', "field 'camera'"), ('zoom', 'zoom'), ('skeleton', 'skeleton')])
def test_malformed_motion(tmp_path, how, msg):
    _, p = _motion(tmp_path)
    d = _mutate(json.loads(p.read_text()), how)
    bad = tmp_path/'bad.motion'; bad.write_text(json.dumps(d))
    with pytest.raises(StickgenError) as e: load_motion(bad)
    assert msg in str(e.value) and str(bad) in str(e.value)

def test_multi_actor_per_actor_actions_and_colours(tmp_path):
    T = 5
    m = np.stack([clip(T), clip(T, 1.2)], 1)
    acts = np.stack([np.full(T, int(ActionType.CRY)), np.full(T, int(ActionType.CHEER))], 1)
    fp = FramePainter(m, acts, camera=[0.6, 0.9, 1.0])
    assert fp.faces[0][0] == face_for_expression(FacialExpression.SAD)
    assert fp.faces[0][1] == face_for_expression(FacialExpression.EXCITED)
    img = fp.paint(0)
    for a in range(2):
        x, y = world_to_screen((get_joint(m[0, a], 'neck') + get_joint(m[0, a], 'pelvis'))/2, fp.camera[0]).round().astype(int)
        assert tuple(img[y, x]) == fp.style.color(a)

def test_face_switch_and_speech_mask():
    T = 20
    fp = FramePainter(clip(T), np.zeros(T, np.int64), speech=np.ones(T, bool), face=False)
    assert fp.faces is None
    fp = FramePainter(clip(T), np.zeros(T, np.int64), speech=np.ones(T, bool))
    assert [fp.faces[t][0].mouth_shape for t in (0, 5, 10)] == list(SPEECH_CYCLE[:3])

def test_camera_transform_inverse():
    rng = np.random.default_rng(1)
    cam = np.stack([rng.normal(size=50), rng.uniform(0, 2, 50), rng.uniform(0.3, 3, 50)], 1)
    pts = rng.normal(size=(50, 2))
    np.testing.assert_allclose(screen_to_world(world_to_screen(pts, cam, 960, 480), cam, 960, 480), pts, atol=1e-4)

def test_parallax_deterministic(tmp_path):
    s = make_sample(np.stack([clip(12), clip(12, 1.0)], 1), np.zeros(12, np.int64), "two")
    a = render_parallax_views(s, tmp_path/'a', 3, num_cameras=2, frames=[0, 11], size=(128, 96), seed=5)
    b = render_parallax_views(s, tmp_path/'b', 3, num_cameras=2, frames=[0, 11], size=(128, 96), seed=5)
    assert a.name == 'sample_000003'
    fa = sorted(p.relative_to(a) for p in a.rglob('*.png'))
    assert fa == sorted(p.relative_to(b) for p in b.rglob('*.png')) and len(fa) == 8
    assert all((a/f).read_bytes() == (b/f).read_bytes() for f in fa)
    meta = json.loads((a/'metadata.json').read_text())
    v = meta['actors'][1]['views'][3]
    assert v['frame'] == 11 and v['file'] == 'actor_1/view_00003.png' and len(v['camera_params']['K']) == 3 and meta['fps'] == 25
    with pytest.raises(StickgenError): render_parallax_views(s, tmp_path/'c', frames=[12])

def test_video_html(tmp_path):
    out = render_clip(clip(5), tmp_path/'v.mp4', width=64, height=64)
    h = video_html(out).data
    assert h.startswith('<video') and 'data:video/mp4;base64,' in h
    with pytest.raises(StickgenError): video_html(tmp_path/'none.mp4')

def test_output_format():
    assert [output_format(p) for p in ('a.mp4', 'a.GIF', 'a.motion', 'a.json', 'frames')] == ['mp4', 'gif', 'motion', 'motion', 'png']
    with pytest.raises(StickgenError): output_format('a.mp4', 'avi')

def test_viewer_tables_match_schema():
    "The web viewer's hand-copied face tables agree with the schema."
    import re
    from stickgen.renderer import viewer_dir
    from stickgen.schema import expression_for_action, EXPRESSION_FEATURES, FacialExpression, SPEECH_OPENNESS, NUM_ACTIONS, ActionType
    js = (viewer_dir()/'viewer.js').read_text()
    arr = lambda name: json.loads(re.search(name + r' = (\[.*?\]);', js, re.S).group(1))
    assert arr('ACTION_EXPRESSION') == [int(expression_for_action(i)) for i in range(NUM_ACTIONS)]
    assert arr('EXPRESSION_FACE') == [[f.mouth_curve, f.mouth_openness, f.eyebrow_angle, f.eyebrow_raise, f.eye_openness]
                                      for f in (EXPRESSION_FEATURES[e] for e in FacialExpression)]
    assert arr('SPEECH_OPEN') == [SPEECH_OPENNESS[m] for m in SPEECH_CYCLE]
    assert f"const TALK = {int(ActionType.TALK)};" in js

def test_sample_expressions_override_action_faces():
    "A mood from the text (the sample's per-frame `expression`) drives the face, blending in over 0.3 s."
    import torch
    from stickgen.renderer import face_track, FramePainter, render_sample
    from stickgen.schema import FacialExpression, face_for_expression, ActionType, standing_pose, make_sample
    T = 25
    walk = np.full(T, int(ActionType.WALK))
    happy = np.full(T, int(FacialExpression.HAPPY))
    assert face_track(walk)[0] == face_for_expression(FacialExpression.NEUTRAL)
    assert face_track(walk, expressions=happy)[0] == face_for_expression(FacialExpression.HAPPY)
    mood = np.r_[np.full(10, int(FacialExpression.NEUTRAL)), np.full(T-10, int(FacialExpression.SAD))]
    track = face_track(walk, expressions=mood)
    assert track[10].mouth_curve == 0.0 and track[10+8].mouth_curve == face_for_expression(FacialExpression.SAD).mouth_curve
    s = make_sample(np.stack([standing_pose()]*T), walk, "a person walks sadly", expression=torch.from_numpy(np.full(T, int(FacialExpression.SAD))))
    fp = FramePainter(s['motion'], s['actions'], expressions=s['expression'])
    assert fp.faces[0][0] == face_for_expression(FacialExpression.SAD)
