"The rig: physics of every action model, the registry, animate's contract (resolved plans, batches)."
import numpy as np, pytest, torch
from stickgen.schema import NAMED_ACTIONS, FPS, GRAVITY, StickgenError, ActionType, FacialExpression, get_joint, bone_lengths, validate_sample
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

# --- issue #19: limb sides, travel direction, in place, turns, counts, reactions, moods -------------------------------

def _up(m, hand, a=0, b=None):
    "Share of frames [a, b) where `hand` is above the head."
    return float((get_joint(m, hand)[a:b, 1] > get_joint(m, 'head_top')[a:b, 1]).mean())

def _spans(flag):
    "Number of separate runs of True in a boolean track."
    f = np.asarray(flag, bool)
    return int(f[0]) + int((f[1:] & ~f[:-1]).sum())

@pytest.mark.parametrize('action', ['raise_hand', 'wave'])
def test_both_and_single_arms(action):
    both, left, right = (clip_motion((action, 2.5), side=s) for s in (BOTH_LIMBS, LEFT_LIMB, RIGHT_LIMB))
    assert _up(both, 'left_hand', 20, 45) == 1 and _up(both, 'right_hand', 20, 45) == 1
    assert _up(left, 'left_hand', 20, 45) == 1 and _up(left, 'right_hand') == 0
    assert _up(right, 'right_hand', 20, 45) == 1 and _up(right, 'left_hand') == 0

@pytest.mark.parametrize('action', ['kick', 'raise_leg'])
def test_the_side_leg_acts(action):
    for side, leg, other in ((LEFT_LIMB, 'left_foot', 'right_foot'), (RIGHT_LIMB, 'right_foot', 'left_foot')):
        m = clip_motion((action, 1.5), side=side)
        assert get_joint(m, leg)[:, 1].max() > 0.3 and get_joint(m, other)[:, 1].max() < 0.03, (action, side)

def test_hop_on_the_side_leg():
    m = clip_motion(('hop', 2.0), side=LEFT_LIMB)               # hops on the left: the right foot is held up
    assert get_joint(m, 'right_foot')[15:35, 1].min() > get_joint(m, 'left_foot')[15:35, 1].min() + 0.05

def test_one_kick_punch_squat_jump_per_segment():
    "Counted actions: one occurrence per segment, so 'three times' (three segments) shows three."
    m = clip_motion(('kick', 1.2), ('kick', 1.2), ('kick', 1.2), side=LEFT_LIMB)
    assert _spans(get_joint(m, 'left_foot')[:, 1] > 0.25) == 3
    m = clip_motion(('jump', 1.2), ('jump', 1.2), ('jump', 1.2), variation=(0.8, 0.2, 0.5, 0.5))
    assert _spans(np.minimum(get_joint(m, 'left_foot')[:, 1], get_joint(m, 'right_foot')[:, 1]) > 0.05) == 3
    m = clip_motion(('squat', 1.8), ('squat', 1.8))
    assert _spans(get_joint(m, 'pelvis')[:, 1] < 0.75) == 2
    m = clip_motion(('punch', 1.0), ('punch', 1.0), side=RIGHT_LIMB)
    reach = get_joint(m, 'right_hand')[:, 0] - get_joint(m, 'pelvis')[:, 0]
    assert _spans(reach > 0.62) == 2

@pytest.mark.parametrize('action', ['walk_backward', 'dodge', 'get_pushed', 'get_hit', 'walk', 'run', 'cartwheel'])
def test_direction_is_where_it_goes(action):
    "`direction` is the travel direction for every travelling action (a backward walk faces the other way)."
    for d in (LEFT, RIGHT):
        m = clip_motion((action, 2.0), direction=d)
        dx = float(get_joint(m, 'pelvis')[-1, 0] - get_joint(m, 'pelvis')[0, 0])
        assert dx*d > 0.25, (action, d, dx)

def test_walk_backward_faces_away():
    m = clip_motion(('walk_backward', 2.0), direction=LEFT)     # travels left, leans (faces) right
    lean = get_joint(m, 'neck')[:, 0] - get_joint(m, 'pelvis')[:, 0]
    assert get_joint(m, 'pelvis')[-1, 0] < -1 and np.median(lean[20:]) < 0

@pytest.mark.parametrize('action', ['walk', 'jog', 'run', 'march', 'stomp'])
def test_in_place_stays_within_half_a_metre(action):
    m = clip_motion(Segment(action, seconds=3.0, in_place=True))
    pel = get_joint(m, 'pelvis')[:, 0]
    assert np.ptp(pel) < 0.5 and max(get_joint(m, 'left_foot')[:, 1].max(), get_joint(m, 'right_foot')[:, 1].max()) > 0.07
    if action != 'stomp': assert abs(clip_motion(Segment(action, seconds=3.0, in_place=False))[-1, 6]) > 2

def test_stomp_one_foot():
    m = clip_motion(Segment('stomp', seconds=2.5, side=RIGHT_LIMB, in_place=True))
    assert get_joint(m, 'right_foot')[:, 1].max() > 0.2 and get_joint(m, 'left_foot')[:, 1].max() < 0.02

def test_jump_in_place_or_forward():
    still = clip_motion(Segment('jump', seconds=2.0, in_place=True), variation=(0.5, 0.9, 0.5, 0.5))
    goes = clip_motion(Segment('jump', seconds=2.0, in_place=False), variation=(0.5, 0.1, 0.5, 0.5), direction=LEFT)
    assert abs(still[-1, 6] - still[0, 6]) < 0.01 and goes[-1, 6] - goes[0, 6] < -0.8

def test_turning_walks():
    "The 2-D figure shows a turn as its heading seen from the side: a quarter turn fades the travel in, a half turn comes back, a circle returns."
    quarter = clip_motion(Segment('walk', seconds=4.0, turn=90.0), direction=LEFT)
    vx = np.diff(get_joint(quarter, 'pelvis')[:, 0])*FPS
    assert abs(vx[10:20].mean()) < 0.4 and vx[-20:].mean() < -1.0         # from walking toward / away from the camera to walking left
    half = get_joint(clip_motion(Segment('walk', seconds=4.0, turn=180.0), direction=RIGHT), 'pelvis')[:, 0]
    assert half.min() < half[0] - 0.8 and abs(half[-1] - half[0]) < 0.4    # out to the left, back to the right
    circle = get_joint(clip_motion(Segment('walk', seconds=5.0, turn=360.0)), 'pelvis')[:, 0]
    assert np.ptp(circle) > 1.0 and abs(circle[-1] - circle[0]) < 0.4

def test_standing_turn_shows_the_profile():
    m = clip_motion(Segment('turn', seconds=1.5, turn=180.0))
    spread = np.abs(get_joint(m, 'left_foot')[:, 0] - get_joint(m, 'right_foot')[:, 0])
    assert spread[0] > 0.25 and spread[15:22].min() < 0.12 and spread[-1] > 0.25   # frontal, profile mid-turn, frontal again

def test_cartwheel_goes_over():
    m = clip_motion(('cartwheel', 2.2))
    head, pel = get_joint(m, 'head_top')[:, 1], get_joint(m, 'pelvis')[:, 1]
    assert (head < pel).any() and head[-1] > pel[-1] and m[-1, 6] - m[0, 6] > 1.0
    _check(m)

def test_reactions():
    pushed = clip_motion(('get_pushed', 2.0), direction=LEFT)
    hit = clip_motion(('get_hit', 1.6), direction=RIGHT)
    assert pushed[-1, 6] - pushed[0, 6] < -0.5
    head = get_joint(hit, 'head_top')[:, 0] - get_joint(hit, 'neck')[:, 0]
    assert head.max() > 0.12 and 0.1 < hit[-1, 6] - hit[0, 6] < 0.6      # the head snaps the way it is knocked, a short stagger

def test_moods_slump_and_show_on_the_face():
    calm = Plan([ActorPlan([_seg('idle', 0, 50)])], frames=50)
    tired = Plan([ActorPlan([_seg('idle', 0, 50, mood='tired')])], frames=50)
    a, b = animate([calm, tired])
    lean = lambda s: float((get_joint(s['motion'].numpy(), 'neck')[:, 0] - get_joint(s['motion'].numpy(), 'pelvis')[:, 0])[25])
    assert lean(b) > lean(a) + 0.05                              # slumped forward (it faces right)
    assert int(b['expression'][25]) == int(FacialExpression.TIRED) and int(a['expression'][25]) == 0

def test_tired_face_is_drawn_without_renderer_changes():
    "The renderer draws any FaceFeatures: the new TIRED expression looks different from neutral and from sad."
    from stickgen.schema import face_for_expression
    from stickgen.renderer import draw_face
    def face(e):
        img = np.zeros((64, 64, 3), np.uint8)
        return draw_face(img, (32, 32), 28, (0, -1), face_for_expression(e), (255, 255, 255))
    tired, neutral, sad = (face(e) for e in (FacialExpression.TIRED, FacialExpression.NEUTRAL, FacialExpression.SAD))
    assert tired.any() and (tired != neutral).any() and (tired != sad).any()
