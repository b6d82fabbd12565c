"Language: the prompt grammar (parse), the describer (describe), and the describe -> parse round trip."
import json
import numpy as np, pytest
from hypothesis import given, settings, strategies as st_
from stickgen.schema import StickgenError, NAMED_ACTIONS
from stickgen.plan import LEFT, RIGHT
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

def test_round_trip_rate_does_not_regress():
    "Describe -> parse on single-actor scenes of the story engine: the exact rate of actions in order (issue #19 raises it)."
    trips = [round_trip(plan_scene(seed, actors=1)) for seed in range(300)]
    rate = sum(t['ok'] for t in trips)/len(trips)
    assert rate >= 0.40, f"round trip {rate:.1%}"
    assert all(t['want'] and t['got'] for t in trips)
