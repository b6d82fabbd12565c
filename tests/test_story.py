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

# --- issue #19 -------------------------------------------------------------------------------------------------------

def test_resolve_plan_passes_every_attribute():
    p = resolve_plan([dict(action='wave', seconds=2, side='both'), dict(action='walk', seconds=3, turn=180, mood='tired'),
                      dict(action='jog', seconds=2, in_place=True), dict(action='kick', seconds=1, side='left', count=2),
                      dict(action='kick', seconds=1, side='left', count=2)], seed=2)
    wave, walk, jog, k1, k2 = p.segments
    assert (wave.side, walk.turn, walk.mood, jog.in_place, k1.side, k1.count, k2.count) == (BOTH_LIMBS, 180.0, 'tired', True, LEFT_LIMB, 2, 2)
    for bad, msg in (([dict(action='wave', side='up')], "side must be 'left', 'right', 'both' or None"),
                     ([dict(action='walk', mood='grumpy')], "unknown mood 'grumpy'"), ([dict(action='turn', turn=-90)], 'turn must be degrees')):
        with pytest.raises(StickgenError, match=msg): resolve_plan(bad)

def test_facing_follows_travel_and_turns():
    p = resolve_plan([dict(action='walk', seconds=2, direction='left'), dict(action='point', seconds=1.5), dict(action='turn', seconds=1.2),
                      dict(action='point', seconds=1.5), dict(action='walk', seconds=2)], seed=0)
    walk, point1, turn, point2, walk2 = p.segments
    assert point1.direction == LEFT and turn.direction == RIGHT and turn.turn == 180 and point2.direction == RIGHT and walk2.direction == RIGHT
    back = resolve_plan([dict(action='walk', seconds=2, direction='right'), dict(action='walk', seconds=3, turn=180)], seed=0)
    assert back.segments[1].direction == LEFT                    # a u-turn walk comes back
    m = animate(back)['motion'].numpy()
    assert m[-1, 6] < m[:, 6].max() - 0.5 and m[:, 6].argmax() > 50      # goes on, turns, and comes back

def test_counted_actions_repeat_and_runs_are_counted():
    runs = Counter()
    for seed in range(300):
        for a in plan_scene(seed, actors=1).actors:
            segs = a.segments
            for k, s in enumerate(segs):
                same = [x for x in segs if x.action == s.action]
                if k == 0 or segs[k-1].action != s.action or segs[k-1].direction != s.direction:
                    n = 1
                    while k + n < len(segs) and segs[k+n].action == s.action and segs[k+n].direction == s.direction: n += 1
                    assert all(x.count == n for x in segs[k:k+n]), (seed, s.action)
                    if s.action in COUNTED: runs[n] += 1
    assert runs[2] > 20 and runs[3] > 5                          # 'jumps twice', 'kicks three times' are drawn

def test_up_from_where_it_is():
    b = ActorBuilder(random.Random(0)).add('lie_down', 50).add('stand_up', 40).add('sit', 40).add('get_up', 40)
    assert [s.action for s in b.segments] == ['lie_down', 'get_up', 'sit', 'stand_up']

def test_engine_draws_the_new_attributes():
    segs = [s for seed in range(400) for a in plan_scene(seed).actors for s in a.segments]
    sides = Counter(s.side for s in segs if s.action in ('wave', 'raise_hand'))
    assert sides[BOTH_LIMBS] > 10 and sides[LEFT_LIMB] > 10 and sides[RIGHT_LIMB] > 10
    assert any(s.in_place for s in segs if s.action in ('walk', 'jog', 'march', 'stomp'))
    assert {s.turn for s in segs if s.action in ('walk', 'run', 'jog') and s.turn} == {90.0, 180.0, 360.0}
    assert {s.mood for s in segs} >= set(MOODS)
