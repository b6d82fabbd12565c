"The plan type: segments and frames, per-frame views, the timeline features, step dicts."
import json
import numpy as np, pytest
from stickgen.schema import ActionType, StickgenError, action_id
from stickgen.plan import *

def _parsed(*steps, duration=None):
    segs = [Segment(a, seconds=s, **kw) for a, s, kw in steps]
    return Plan([ActorPlan(segs)], duration=duration if duration is not None else sum(s for _, s, _ in steps))

def test_segment_frames_parsed_round_on_the_running_total():
    p = _parsed(('walk', 1.02, {}), ('jump', 1.02, {}), ('wave', 1.02, {}))
    fr = p.segment_frames()
    assert fr[0][0] == 0 and fr[-1][1] == p.num_frames() == 76
    assert all(a[1] == b[0] for a, b in zip(fr, fr[1:]))                   # end to end, no gaps
    assert [b - a for a, b in fr] == [26, 25, 25]                          # rounded on the total, not per step

def test_segment_frames_timed_and_clipped():
    segs = [Segment('walk', 0, 60), Segment('wave', 60, 300)]
    p = Plan([ActorPlan(segs)], frames=250)
    assert p.segment_frames() == [(0, 60), (60, 250)]
    assert p.frame_actions().shape == (250,) and p.frame_actions()[-1] == int(ActionType.WAVE)

def test_num_frames_needs_frames_or_duration():
    with pytest.raises(StickgenError, match='neither frames nor duration'): Plan([ActorPlan([Segment('walk')])]).num_frames()
    assert Plan([ActorPlan([Segment('walk', seconds=1)])], duration=2.0, fps=50).num_frames() == 100

def test_frame_actions_and_speech():
    p = _parsed(('talk', 1.0, dict(speech='hi')), ('jump', 1.0, {}))
    fa, sp = p.frame_actions(), p.speech_mask()
    assert fa.dtype == np.int64 and fa[:25].tolist() == [int(ActionType.TALK)]*25 and fa[25:].tolist() == [int(ActionType.JUMP)]*25
    assert sp[:25].all() and not sp[25:].any()

def test_timeline_features():
    p = _parsed(('jump', 1.0, dict(direction=RIGHT, speed=1.5, count=2)), ('jump', 1.0, dict(count=2)),
                ('wave', 2.0, dict(side=LEFT_LIMB, mood='tired')), ('walk', 2.0, dict(turn=180.0, side=BOTH_LIMBS)),
                ('jog', 1.0, dict(in_place=True)))
    tl = p.timeline()
    assert set(tl) == {'action', 'phase', 'direction', 'speed', 'repetition', 'side', 'count', 'in_place', 'turn', 'mood'}
    assert all(len(v) == 175 for v in tl.values())
    assert tl['repetition'][[0, 25, 50]].tolist() == [0, 1, 0]
    assert tl['phase'][0] == 0 and tl['phase'][24] == pytest.approx(24/25) and tl['phase'][25] == 0
    assert np.all(np.diff(tl['phase'][50:100]) > 0)                        # rises through a segment
    assert tl['direction'][:25].tolist() == [RIGHT]*25 and tl['direction'][25:].tolist() == [0]*150
    assert tl['speed'][0] == pytest.approx(1.5) and tl['speed'][30] == 1.0
    assert tl['side'][60] == LEFT_LIMB and tl['side'][0] == 0 and tl['side'][110] == BOTH_LIMBS == 2
    assert tl['count'][[0, 30, 60]].tolist() == [2, 2, 1]                  # 'jumps twice': both jumps know it
    assert tl['in_place'][160] == 1 and tl['in_place'][:150].sum() == 0
    assert tl['turn'][110] == pytest.approx(0.5) and tl['turn'][60] == 0    # half a turn
    assert tl['mood'][60] == MOODS.index('tired') + 1 and tl['mood'][0] == 0
    assert {k: v.dtype for k, v in tl.items()} == dict(action=np.int64, phase=np.float32, direction=np.int8, speed=np.float32,
                                                        repetition=np.int64, side=np.int8, count=np.int64, in_place=np.int8,
                                                        turn=np.float32, mood=np.int8)

def test_to_steps_and_dict():
    p = _parsed(('walk', 3.0, dict(direction=LEFT, speed=0.6, turn=90.0)), ('wave', 2.0, dict(expression='happy', side=BOTH_LIMBS, mood='happy')))
    rest = dict(side=None, count=1, turn=None, in_place=None, mood=None)
    assert p.to_steps() == [dict(action='walk', seconds=3.0, direction='left', speed=0.6, expression=None) | rest | dict(turn=90.0),
                            dict(action='wave', seconds=2.0, direction=None, speed=1.0, expression='happy') | rest | dict(side='both', mood='happy')]
    d = p.to_dict(); json.dumps(d)
    assert d['actors'][0]['segments'][0]['action'] == 'walk'
    timed = Plan([ActorPlan([Segment('run', 0, 50, RIGHT, 1.2, in_place=True)])], frames=50)
    assert timed.to_steps() == [dict(action='run', seconds=2.0, direction='right', speed=1.2, expression=None) | rest | dict(in_place=True)]

def test_names_and_markdown():
    assert (direction_name(RIGHT), direction_name(LEFT), side_name(LEFT_LIMB), side_name(RIGHT_LIMB)) == ('right', 'left', 'left', 'right')
    assert (side_name(BOTH_LIMBS), side_name(0), side_name(None), direction_name(0)) == ('both', None, None, None)   # 0: a timeline's 'not said'
    md = _parsed(('kick', 1.0, dict(side=LEFT_LIMB, count=2)), ('walk', 2.0, dict(turn=360.0, in_place=False)))._repr_markdown_()
    assert '| kick | 1.00 |  | left | ×2 |' in md and 'turn 360°' in md
    assert '| walk |' in _parsed(('walk', 1.0, {}))._repr_markdown_()
    assert POSTURES[SIT] == 'sit' and CAMERAS[0] == 'static'
