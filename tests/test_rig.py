"The rig: physics of every action model, the registry, animate's contract (resolved plans, batches)."
import numpy as np, pytest, torch
from stickgen.schema import NAMED_ACTIONS, FPS, GRAVITY, StickgenError, ActionType, get_joint, bone_lengths, validate_sample
from stickgen.plan import *
from stickgen.rig import *

def _check(m, tol=2e-4):
    bl = bone_lengths(m)
    assert (bl.max(0) - bl.min(0)).max() < tol, 'bone lengths drift'
    assert m[..., 1::2].min() > -1e-5, 'ground penetration'

def test_registry_has_every_action():
    assert sorted(ACTION_MOTIONS) == sorted(NAMED_ACTIONS)
    with pytest.raises(StickgenError, match='unknown action'): action('moonwalk')

@pytest.mark.parametrize('action_name', NAMED_ACTIONS)
def test_every_action_physical(action_name):
    for kw in (dict(), dict(direction=LEFT, speed=1.5, amplitude=1.3, side=LEFT_LIMB, variation=(0.9, 0.1, 0.7, 0.3))):
        _check(clip_motion((action_name, 2.5), **kw))

def test_standing_feet_on_ground():
    m = clip_motion(('idle', 2), ('wave', 2), ('clap', 2), ('talk', 2), ('point', 2))
    feet = np.stack([get_joint(m, 'left_foot')[:, 1], get_joint(m, 'right_foot')[:, 1]])
    assert np.abs(feet.min(0)).max() < 1e-4

def test_jump_follows_gravity():
    m = clip_motion(('jump', 2), variation=(0.8, 0.2, 0.5, 0.5)).astype(np.float64)
    pel = get_joint(m, 'pelvis')[:, 1]
    feet = np.minimum(get_joint(m, 'left_foot')[:, 1], get_joint(m, 'right_foot')[:, 1])
    air = np.nonzero(feet > 0.02)[0]
    assert len(air) > 5, 'the jump leaves the ground'
    acc = np.diff(pel[air[2]:air[-2]], 2)*FPS**2
    assert abs(np.median(acc) + GRAVITY) < 1.5, f'vertical acceleration in flight {np.median(acc):.2f} m/s^2'

def test_walk_has_no_foot_skating():
    m = clip_motion(('walk', 3))
    ly = get_joint(m, 'left_foot')[:, 1]
    planted = np.abs(np.diff(get_joint(m, 'left_foot')[:, 0]))[ly[1:] < 1e-6]
    assert len(planted) > 10 and np.median(planted) < 1e-3

def test_side_and_direction_are_honoured():
    wave_l = clip_motion(('wave', 2), side=LEFT_LIMB); wave_r = clip_motion(('wave', 2), side=RIGHT_LIMB)
    up = lambda m, h: (get_joint(m, h)[20:40, 1] > get_joint(m, 'head_top')[20:40, 1]).mean()
    assert up(wave_l, 'left_hand') == 1 and up(wave_l, 'right_hand') == 0
    assert up(wave_r, 'right_hand') == 1 and up(wave_r, 'left_hand') == 0
    assert clip_motion(('walk', 2), direction=LEFT)[-1, 6] < -1.5 < 1.5 < clip_motion(('walk', 2), direction=RIGHT)[-1, 6]

def _seg(a, s, e, d=RIGHT, **kw):
    return Segment(a, s, e, d, 1.0, 1.0, RIGHT_LIMB, (0.5,)*4, STAND, d, STAND, d, **kw)

def test_animate_contract():
    p = Plan([ActorPlan([_seg('walk', 0, 60), _seg('talk', 60, 100, expression='sad')]), ActorPlan([_seg('idle', 0, 100, LEFT)], start_x=2.0)],
             frames=100, mood='happy')
    s = animate(p)
    validate_sample(dict(s, description='two figures'))
    assert s['motion'].shape == (100, 2, 20) and s['actor_actions'].shape == (100, 2)
    assert s['speech'][70] and not s['speech'][10]
    assert int(s['expression'][80, 0]) == 2 and int(s['expression'][50, 1]) == 1     # sad talk; the idle one is happy (mood)
    assert float(s['motion'][0, 1, 6]) == pytest.approx(2.0)
    with pytest.raises(StickgenError, match=r"segment 0 \('walk'\) of actor 0 has no speed"):
        animate(Plan([ActorPlan([Segment('walk', 0, 50, RIGHT)])], frames=50))
    with pytest.raises(StickgenError, match='no frames'): animate(Plan([ActorPlan([_seg('walk', 0, 50)])]))

def test_batch_is_independent_of_its_neighbours():
    a = Plan([ActorPlan([_seg('jump', 0, 40), _seg('wave', 40, 90)])], frames=90)
    b = Plan([ActorPlan([_seg('run', 0, 250)])], frames=250, camera='pan')
    alone = animate(a)
    both = animate([b, a])
    for k in alone:                              # physics of a clip shorter than its batch: its own edge formula, float32-close
        if k == 'physics': assert torch.allclose(alone[k], both[1][k], atol=1e-5), k
        elif isinstance(alone[k], torch.Tensor): assert torch.equal(alone[k], both[1][k]), k

def test_segment_table_columns():
    p = Plan([ActorPlan([_seg('walk', 0, 30), _seg('jump', 30, 60)])], frames=60)
    table, rows, frames, layer = segment_table([p])
    assert table.shape == (2, len(SEGMENT_COLUMNS)) and rows.tolist() == [0, 0] and frames.tolist() == [60, 60] and layer.tolist() == [0, 1]
    assert table[1, SEGMENT_COLUMNS.index('action')] == NAMED_ACTIONS.index('jump')
