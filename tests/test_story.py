"The scene planner: determinism, posture logic, interactions, given steps, seeds and splits."
import random
from collections import Counter
import numpy as np, pytest
from stickgen.schema import NAMED_ACTIONS, StickgenError, get_joint, action_id
from stickgen.plan import *
from stickgen.story import *
from stickgen.rig import animate

def _covers(plan):
    for a in plan.actors:
        segs = a.segments
        assert segs[0].start == 0 and segs[-1].end == plan.frames
        assert all(x.end == y.start and x.end > x.start for x, y in zip(segs, segs[1:]))
        assert all(None not in (s.direction, s.speed, s.amplitude, s.side, s.variation, s.start_posture, s.end_posture) for s in segs)

@pytest.mark.parametrize('seed', range(30))
def test_random_scenes_are_resolved_and_deterministic(seed):
    p = plan_scene(seed)
    _covers(p)
    assert p == plan_scene(seed)
    assert p.kind in ('solo', 'group', 'interaction') and 1 <= p.num_actors <= 3
    for a in p.actors:                            # postures chain from one segment to the next
        assert all(x.end_posture == y.start_posture for x, y in zip(a.segments, a.segments[1:]))

def test_interactions():
    for inter in INTERACTIONS:
        p = plan_scene(5, interaction=inter, actors=2)
        _covers(p)
        assert p.kind == 'interaction' and p.num_actors == 2 and p.meet is not None
    p = plan_scene(7, interaction='handshake', actors=3)
    assert p.num_actors == 3 and p.bystander is not None
    talk = plan_scene(6, interaction='talk', actors=2)
    assert any(s.action == 'talk' for a in talk.actors for s in a.segments)

def test_handshake_hands_meet():
    s = animate(plan_scene(8, interaction='handshake', actors=2))
    m = s['motion'].numpy(); lab = s['actor_actions'].numpy()
    f = np.nonzero((lab == action_id('handshake')).all(1))[0]
    mid = f[len(f)//2]
    d = np.linalg.norm(get_joint(m[mid, 0], 'right_hand') - get_joint(m[mid, 1], 'right_hand'))
    assert d < 0.25, f'hands {d:.2f} m apart'

def test_posture_logic():
    b = ActorBuilder(random.Random(0)).add('get_up', 75).add('sit', 50).add('wave', 40).add('jump', 40)
    assert [s.action for s in b.segments] == ['lie_down', 'get_up', 'sit', 'wave', 'stand_up', 'jump']
    seated = ActorBuilder(random.Random(1)); seated.posture = SIT
    assert all(seated.random_action() in SEATED_OK for _ in range(200))

def test_given_actions_grow_the_clip():
    p = plan_scene(4, actions=['crawl', 'climb', 'crawl', 'dance'])
    assert [s.action for s in p.segments][:4] == ['crawl', 'climb', 'crawl', 'dance'] and p.frames > 250
    _covers(p)

def test_scene_mix():
    kinds = Counter(plan_scene(s).kind for s in range(1000))
    assert 0.5 < kinds['solo']/1000 < 0.7 and kinds['interaction'] > kinds['group'] > 0
    actions = Counter(s.action for seed in range(300) for a in plan_scene(seed).actors for s in a.segments)
    assert set(actions) == set(NAMED_ACTIONS)

def test_resolve_plan():
    p = resolve_plan([dict(action='walk', seconds=2, direction='right', speed=1.5), dict(action='jump', seconds=1.5),
                      dict(action='wave', seconds=2, expression='happy')], camera='pan', seed=3)
    _covers(p)
    assert [(s.action, s.start, s.end) for s in p.segments] == [('walk', 0, 50), ('jump', 50, 88), ('wave', 88, 138)]
    assert (p.segments[0].direction, p.segments[0].speed, p.segments[2].expression, p.camera, p.kind) == (RIGHT, 1.5, 'happy', 'pan', 'plan')
    assert resolve_plan([dict(action='wave')], seed=3) == resolve_plan([dict(action='wave')], seed=3)
    for bad, msg in (([], 'the plan is empty'), ([dict(action='walk', direction='up')], "direction must be 'left', 'right' or None"),
                     ([dict(action='walk', seconds=-1)], 'seconds must be > 0'), (['walk'], "must be a dict with an 'action' key"),
                     ([dict(action='wave', expression='smug')], "unknown expression 'smug'")):
        with pytest.raises(StickgenError, match=msg): resolve_plan(bad)
    with pytest.raises(StickgenError, match="synthesize_from_plan: unknown camera 'drone'"): resolve_plan([dict(action='walk')], camera='drone', who='synthesize_from_plan')

def test_resolve_plan_pair_meets():
    p = resolve_plan([dict(action='walk', seconds=2), dict(action='hug', seconds=2)], actors=2)
    assert p.interaction == 'hug' and p.meet == (75, 0.45)
    assert [s.direction for s in p.actors[0].segments] == [RIGHT, RIGHT] and [s.direction for s in p.actors[1].segments] == [LEFT, LEFT]

def test_seeds_and_splits():
    assert scene_seed(3, 7) == 3*2**32 + 7
    c = Counter(split_for_seed(scene_seed(0, i)) for i in range(20000))
    assert 0.03 < c['val']/20000 < 0.07 and 0.03 < c['test']/20000 < 0.07
