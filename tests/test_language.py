"Language: the prompt grammar (parse), the describer (describe), and the describe -> parse round trip."
import json
import numpy as np, pytest
from hypothesis import given, settings, strategies as st_
from collections import Counter
from pathlib import Path
from stickgen.schema import StickgenError, NAMED_ACTIONS
from stickgen.plan import LEFT, RIGHT, side_name, direction_name
from stickgen.story import plan_scene, resolve_plan
from stickgen.language import *
from stickgen.language import _plural

@pytest.mark.parametrize('prompt,actions', [
    ('a person jumps twice then waves', ['jump', 'jump', 'wave']),
    ('A person walking and waving happily', ['walk', 'wave']),
    ('she strolls, after that she sprints', ['walk', 'run']),
    ('he sits down and then stands up', ['sit', 'stand_up']),
    ('a person waves after jumping', ['jump', 'wave']),
    ('someone walks backwards', ['walk_backward']),
    ('the dancer twirls three times', ['spin', 'spin', 'spin']),
    ('a man picks up a box and carries it', ['pick_up', 'carry']),
    ('two friends shake hands', ['handshake']),
    ('a kid does not jump but claps', ['clap']),
    ('she says "good morning" and nods', ['talk', 'nod']),
    ('a person tiptoes to the left', ['sneak']),
    ('a boxer punches and kicks and dodges', ['punch', 'kick', 'dodge']),
    ('a person looks around, thinks, then shrugs', ['look_around', 'think', 'shrug']),
])
def test_parser_actions(prompt, actions):
    assert [a for a in parse(prompt).actions if a != 'idle'] == actions

def test_parser_modifiers():
    p = parse('a person walks slowly to the left for 3 seconds then runs quickly to the right', duration=8)
    s0, s1 = p.segments
    assert (s0.direction, s0.speed, s0.seconds, s1.direction, s1.speed) == (LEFT, 0.6, 3.0, RIGHT, 1.5)
    assert abs(sum(s.seconds for s in p.segments) - 8) < 1e-6
    assert [s.expression for s in parse('a person dances sadly then waves').segments] == ['sad', 'sad']
    assert [s.expression for s in parse('a person dances sadly then waves angrily').segments] == ['sad', 'angry']
    assert parse('the camera follows a person running').camera == 'pan'
    assert parse('close-up of a person laughing').camera == 'zoom_in'
    assert parse('a person walking while talking').segments[1].simultaneous

@pytest.mark.parametrize('prompt,n', [('a person walks', 1), ('two people dance', 2), ('3 dancers spin', 3), ('a man and a woman talk', 2),
                                      ('a couple of friends jog', 2), ('a crowd cheers', 4), ('a hundred people dance', MAX_ACTORS),
                                      ('two boxers fight', 2), ('a person hugs', 2)])
def test_parser_actors(prompt, n):
    p = parse(prompt)
    assert p.num_actors == n and all(a.segments == p.segments for a in p.actors)
    assert all(a.segments is not p.segments for a in p.actors[1:])          # each actor its own copy

def test_parser_frames_and_speech():
    p = parse('she says "hi" then jumps', duration=4)
    fa, sp = p.frame_actions(), p.speech_mask()
    assert fa.shape == (100,) and fa.dtype == np.int64 and sp.shape == (100,) and sp[:10].all() and not sp[-10:].any()
    assert p.segments[0].speech == 'hi'

def test_parser_adversarial():
    with pytest.raises(StickgenError, match='empty prompt'): parse(' \t\n ')
    with pytest.raises(StickgenError, match='must be text'): parse(None)
    p = parse('zxqv blorf')
    assert p.actions == ['look_around'] and p.confidence < 0.5 and any('low confidence' in n for n in p.notes)
    p = parse('jump ' * 1000)
    assert p.truncated and len(p.prompt.split()) == MAX_PROMPT_WORDS and len(p.segments) <= MAX_REPEATS*MAX_PROMPT_WORDS
    assert parse('wave forever').actions == ['wave']*MAX_REPEATS
    assert normalize_prompt('Ｗａｌｋ\x00\x07 NOW') == 'walk now'
    assert parse("__import__('os').system('echo hi') then wave").actions == ['wave']
    assert abs(sum(s.seconds for s in parse(', '.join(['jump']*60), duration=3).segments) - 3) < 1e-6

@settings(max_examples=300, deadline=None)
@given(st_.text(max_size=400), st_.floats(min_value=0.5, max_value=60))
def test_parser_never_crashes(text, duration):
    "Any text: a plan that fills the clip exactly, or a clear StickgenError for empty text."
    try: p = parse(text, duration=duration)
    except StickgenError as e:
        assert 'empty prompt' in str(e); return
    assert p.segments and 1 <= p.num_actors <= MAX_ACTORS and 0 <= p.confidence <= 1
    assert abs(sum(s.seconds for s in p.segments) - duration) < 1e-6 and all(s.seconds > 0 for s in p.segments)
    assert len(p.frame_actions()) == max(int(round(duration*25)), 1)
    json.dumps(p.to_dict())

@settings(max_examples=150, deadline=None)
@given(st_.lists(st_.sampled_from('a person two people walk walks jump jumps twice then and while after wave waves slowly fast left right '
                                  'happily sadly for 3 seconds "hi" not never forever times 5 sit down stand up dance camera pans , .'.split()), max_size=40))
def test_parser_word_salad(words):
    text = ' '.join(words)
    if not text.strip(): return
    p = parse(text)
    assert abs(sum(s.seconds for s in p.segments) - 10) < 1e-6 and all(s.seconds > 0 for s in p.segments)

def test_describe():
    assert _plural('they ^jumps, then ^catches and ^carries; ^does it') == 'they jump, then catch and carry; do it'
    p = plan_scene(11)
    d = describe(p)
    assert len(d) == len(set(d)) == 3 and d == describe(p) and d != describe(plan_scene(12))
    assert describe(p, n=1) == d[:1]                      # the first paraphrase does not depend on n
    two = describe(resolve_plan([dict(action='run', seconds=2), dict(action='jump', seconds=1.5), dict(action='sit', seconds=2)], actors=2))
    for t in two: assert '^' not in t and ' they jumps' not in t and '{' not in t
    left = describe(resolve_plan([dict(action='walk', seconds=3, direction='left')]), n=3)
    assert all('left' in t or 'west' in t for t in left) and not any('right' in t for t in left)

def test_every_action_is_described_and_parsed_back():
    "A plan of one given action: its description parses back to that action, for most actions."
    back = {a: round_trip(resolve_plan([dict(action=a, seconds=3)], seed=1))['ok'] for a in NAMED_ACTIONS}
    assert sum(back.values()) >= 0.6*len(back), [a for a, ok in back.items() if not ok]

def test_round_trip_on_engine_plans():
    "Describe -> parse on 1,000 single-actor scenes of the story engine: actions in order, counts, and every told side, direction, turn and place."
    trips = [round_trip(plan_scene(seed, actors=1)) for seed in range(1000)]
    rate = sum(t['ok'] for t in trips)/len(trips)
    assert rate >= 0.95, (f"round trip {rate:.1%}", [(t['text'], t['want'], t['got']) for t in trips if not t['ok']][:3])
    assert all(t['want'] and t['got'] for t in trips)
    told = Counter(k.split('=')[0] for t in trips for w in t['want'] for k in w.split()[1:])
    assert min(told[k] for k in ('side', 'direction', 'turn', 'in_place', '×2')) > 30, told   # the texts do say sides, turns, counts

def _random_steps(rng):
    acts = [a for a in NAMED_ACTIONS if a not in ('handshake', 'hug', 'fight')]
    out = []
    for _ in range(rng.randint(1, 4)):
        a = rng.choice(acts); d = dict(action=a, seconds=rng.uniform(1, 3))
        if rng.random() < 0.5: d['direction'] = rng.choice(['left', 'right'])
        if a in SIDED_ACTIONS and rng.random() < 0.6:
            d['side'] = rng.choice(['left', 'right', 'both'] if a in ('wave', 'raise_hand', 'reach', 'stomp') else ['left', 'right'])
        if a in TURNING_ACTIONS and rng.random() < 0.3: d['turn'] = rng.choice([90, 180, 360])
        if a == 'turn' and rng.random() < 0.5: d['turn'] = rng.choice([90, 180])
        if a in IN_PLACE_ACTIONS and rng.random() < 0.3: d['in_place'] = rng.random() < 0.5
        out.append(d)
    return out

def test_round_trip_on_given_steps():
    "Plans of given steps with random sides, directions, turns and places round-trip too."
    import random
    rng = random.Random(0)
    trips = [round_trip(resolve_plan(_random_steps(rng), seed=k), seed=k) for k in range(400)]
    assert sum(t['ok'] for t in trips)/len(trips) >= 0.95, [(t['text'], t['want'], t['got']) for t in trips if not t['ok']][:3]

def _labelled(name):
    path = Path(__file__).parent/'data'/name
    return [json.loads(l) for l in path.read_text().splitlines() if l.strip()]

@pytest.mark.parametrize('name', ['captions_real_style.jsonl', 'captions_real_style_holdout.jsonl'])
def test_real_style_captions(name):
    "Captions in the phrasing of HumanML3D / KIT-ML, labelled by hand: >= 90 % right actions, sides and directions, <= 2 % understood nothing."
    rows = _labelled(name)
    res = [label_agreement(r['text'], r['steps']) for r in rows]
    right, nothing = sum(r['ok'] for r in res)/len(res), sum(r['understood_nothing'] for r in res)/len(res)
    assert len(rows) >= 50 and right >= 0.9 and nothing <= 0.02, (right, nothing, [(r['text'], x['got']) for r, x in zip(rows, res) if not x['ok']][:5])
    assert len(_labelled('captions_real_style.jsonl')) >= 100

# the Bandai Namco dataset-2 labels (helper E captions them): content -> (phrases, expected action, side, turn, direction)
_CONTENTS = {'walk': (['walks', 'walks forward'], 'walk', None, None, None),
             'walk-turn-left': (['walks, turning to the left', 'walks while turning left', 'walks in a curve to the left'], 'walk', None, 90, 'left'),
             'walk-turn-right': (['walks, turning to the right', 'walks while turning right', 'walks in a curve to the right'], 'walk', None, 90, 'right'),
             'run': (['runs', 'runs forward'], 'run', None, None, None),
             'wave-both-hands': (['waves both hands', 'waves with both hands'], 'wave', 'both', None, None),
             'wave-left-hand': (['waves with the left hand', 'waves his left hand'], 'wave', 'left', None, None),
             'wave-right-hand': (['waves with the right hand', 'waves her right hand'], 'wave', 'right', None, None),
             'raise-up-both-hands': (['raises both hands', 'raises both arms up'], 'raise_hand', 'both', None, None),
             'raise-up-left-hand': (['raises the left hand', 'raises his left hand', 'lifts the left arm'], 'raise_hand', 'left', None, None),
             'raise-up-right-hand': (['raises the right hand', 'raises her right arm'], 'raise_hand', 'right', None, None)}
# style -> (subject, ending, expected mood, pace: -1 slower, 0 normal, 1 quicker)
_STYLES = {'active': [('someone', ', full of energy', 'excited', 1), ('an active person', '', 'excited', 1), ('a person', ' energetically', 'excited', 1)],
           'elderly': [('an elderly man', '', None, -1), ('an old woman', '', None, -1), ('an elderly person', ' slowly', None, -1)],
           'exhausted': [('an exhausted person', '', 'tired', -1), ('a tired man', '', 'tired', -1), ('someone', ', worn out', 'tired', -1)],
           'feminine': [('a person', ' in a feminine way', None, 0), ('a woman', ' femininely', None, 0)],
           'masculine': [('a person', ' in a masculine way', None, 0), ('a man', ' in a manly way', None, 0)],
           'normal': [('a person', '', None, 0), ('someone', ' normally', None, 0)],
           'youthful': [('a youthful person', '', 'excited', 1), ('someone', ' in a youthful way', 'excited', 1)]}

@pytest.mark.parametrize('content', list(_CONTENTS))
@pytest.mark.parametrize('style', list(_STYLES))
def test_bandai_captions(content, style):
    "Every content x style sentence pattern of the Bandai Namco labels reads back to its action, side, turn, mood and pace."
    phrases, action, side, turn, direction = _CONTENTS[content]
    for phrase in phrases:
        for subject, ending, mood, pace in _STYLES[style]:
            text = f"{subject} {phrase}{ending}"
            p = parse(text)
            s = [x for x in p.segments if x.clause != '(filler)']
            assert len(s) == 1, (text, [x.action for x in s])
            s = s[0]
            assert (s.action, side_name(s.side), s.turn, direction_name(s.direction), s.mood) == (action, side, turn, direction, mood), text
            assert (s.speed > 1.0 if pace > 0 else s.speed < 1.0 if pace < 0 else s.speed == 1.0), (text, s.speed)
            assert not any(n.startswith(('not understood', 'no action', 'low confidence')) for n in p.notes), (text, p.notes)

def _clip(text, seed=0):
    from stickgen.rig import animate
    p = resolve_plan(parse(text), seed=seed)
    return p, animate(p)['motion'].numpy()

def test_parsed_attributes_are_visible():
    "Every parsed attribute shows in the procedural clip (limb heights, root displacement, jump counts, the turn of a walk)."
    from stickgen.schema import get_joint
    up = lambda m, h, a, b: float((get_joint(m, h)[a:b, 1] > get_joint(m, 'head_top')[a:b, 1]).mean())
    _, m = _clip('a person waves with his left hand')
    assert up(m, 'left_hand', 30, 220) > 0.8 and up(m, 'right_hand', 0, 250) == 0
    _, m = _clip('someone raises both arms')
    assert min(up(m, 'left_hand', 30, 220), up(m, 'right_hand', 30, 220)) > 0.8
    p, m = _clip('a man kicks with his left leg')
    assert get_joint(m, 'left_foot')[:, 1].max() > 0.3 and get_joint(m, 'right_foot')[:, 1].max() < 0.05
    _, m = _clip('a person lifts his right leg')
    assert get_joint(m, 'right_foot')[:, 1].max() > 0.3 and get_joint(m, 'left_foot')[:, 1].max() < 0.05
    for text, sign in (('a person walks to the left', -1), ('a person walks to the right', 1), ('a person walks backwards to the left', -1),
                       ('a person is pushed to the left', -1), ('a person does a cartwheel to the right', 1)):
        _, m = _clip(text)
        assert sign*(m[-1, 6] - m[0, 6]) > 0.4, text
    _, m = _clip('a person stomps in place')
    assert np.ptp(m[:, 6]) < 0.5
    _, m = _clip('a person jogs in place for five seconds, then runs to the right')
    assert np.ptp(m[:125, 6]) < 0.5 and m[-1, 6] - m[125, 6] > 2
    p, m = _clip('a person jumps three times')
    feet = np.minimum(get_joint(m, 'left_foot')[:, 1], get_joint(m, 'right_foot')[:, 1]) > 0.05
    assert int(feet[0]) + int((feet[1:] & ~feet[:-1]).sum()) == 3
    p, m = _clip('a person walks in a circle')
    assert np.ptp(m[:, 6]) > 1.0 and abs(m[-1, 6] - m[0, 6]) < 0.4               # out and back: the circle seen from the side
    p, m = _clip('a person walks to the right, turns around and walks')
    walk1, turn, walk2 = p.segments[:3]
    assert turn.turn == 180 and m[walk2.end - 1, 6] < m[walk2.start, 6] - 0.5 < m[walk1.end - 1, 6]   # the second walk comes back
    p, m = _clip('a person waves for five seconds')
    assert [(s.action, s.start, s.end) for s in p.segments] == [('wave', 0, 125), ('idle', 125, 250)]
    p, m = _clip('a person takes 4 steps backwards')
    assert p.actions == ['walk_backward', 'idle'] and 1.2 < abs(m[p.segments[0].end - 1, 6] - m[0, 6]) < 3.0
    ref, tired = _clip('a person walks to the right'), _clip('an exhausted person walks to the right')
    assert tired[1][-1, 6] < 0.8*ref[1][-1, 6] and tired[0].segments[0].mood == 'tired'

def test_voice():
    "Passive and reactive phrasing animates the reaction, not the agent's action."
    for text, actions in (('a person is pushed to the left', ['get_pushed']), ('he gets hit and falls', ['get_hit', 'fall']),
                          ('a man is shoved', ['get_pushed']), ('a person gets kicked', ['get_hit']), ('she gets punched', ['get_hit']),
                          ('he falls after being pushed', ['get_pushed', 'fall']), ('a person is knocked down', ['get_pushed', 'fall']),
                          ('a person pushes to the left', ['push']), ('a man kicks', ['kick']), ('she takes a hit', ['get_hit'])):
        assert [a for a in parse(text).actions if a != 'idle'] == actions, text
    assert parse('a person is pushed to the left').segments[0].direction == LEFT

def test_unknown_words_are_named():
    p = parse('a person juggles three balls and then waves')
    assert p.actions[0] == 'wave' and any("not understood: 'juggles'" in n for n in p.notes)
    p = parse('a person does a backflip')
    assert p.actions[0] == 'jump' and any("'backflip' is shown as a jump" in n for n in p.notes)
    p = parse('zorbs and flimflams')
    assert p.actions == ['look_around'] and any('no action recognised' in n for n in p.notes) and any("'zorbs'" in n for n in p.notes)
    assert not any(n.startswith('not understood') for n in parse('a person walks to the left in a park').notes)

def test_describer_speaks_the_parsers_words():
    "Training text (every paraphrase of 200 scenes of every kind) uses no word the parser does not know."
    for seed in range(200):
        for t in describe(plan_scene(seed)):
            assert not any(n.startswith('not understood') for n in parse(t).notes), t

def test_sentences_helper_e_writes():
    "The caption examples of the Bandai Namco corpus (issue #15) parse to their plan."
    for text, want in (("an elderly man slowly raises his right hand", ('raise_hand', 'right', None, None, None)),
                       ("someone walks, turning to the left, full of energy", ('walk', None, 90, 'left', 'excited')),
                       ("an exhausted person waves with the left hand", ('wave', 'left', None, None, 'tired'))):
        s = parse(text).segments[0]
        assert (s.action, side_name(s.side), s.turn, direction_name(s.direction), s.mood) == want, text
        assert s.speed != 1.0

@settings(max_examples=120, deadline=None, derandomize=True)
@given(st_.integers(min_value=0, max_value=2**40))
def test_round_trip_property(seed):
    "Any single-actor scene the story engine draws is described and parsed back to the same steps."
    t = round_trip(plan_scene(seed, actors=1))
    assert t['ok'], (t['text'], t['want'], t['got'])
