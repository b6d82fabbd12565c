"Safety critic: one check per degenerate motion, clean motion passes, JSON, config, adversarial eval (issue 9)."
import json, math
import numpy as np, pytest, torch
from stickgen.schema import StickgenError, standing_pose
from stickgen.datasets import synthesize_from_plan, generate_scene
from stickgen.rig import clip_motion
from stickgen.plan import Segment
from stickgen.safety import (SafetyCritic, SafetyCriticConfig, SafetyResult, reference_motion, degenerate_motion, DEGENERATE_KINDS,
                             load_prompt_suites, run_adversarial_eval, grade_metric, BASELINE_SUITE, frame_ranges)
from stickgen.cli import adversarial_eval_cli

EXPECTED = dict(frozen='frozen', loop='repetitive', jitter='jittery', teleport='velocity_exceeded', impact='acceleration_exceeded',
                sink='ground_penetration', nan='non_finite', stretch='limb_length')
critic = SafetyCritic()

@pytest.mark.parametrize('kind', DEGENERATE_KINDS)
def test_each_degenerate_motion_triggers_exactly_its_check(kind):
    r = critic.evaluate(degenerate_motion(kind))
    assert r.issue_types == [EXPECTED[kind]]
    i = r.issues[0]
    assert i.frames and all(0 <= a <= b < 250 for a, b in i.frames)
    assert r.is_safe == (i.severity < 0.7)

@pytest.mark.parametrize('kind', ['walk', 'dance', 'clap', 'jump_wave', 'idle'])
def test_clean_reference_motion_has_no_issue(kind):
    assert critic.evaluate(reference_motion(kind, seconds=10)).issues == []

def test_quality_below_threshold_only():
    assert critic.evaluate(reference_motion('walk'), quality_score=0.2).issue_types == ['low_quality']
    assert critic.evaluate(reference_motion('walk'), quality_score=0.8).issues == []

def test_default_severities_and_rejection():
    sev = {EXPECTED[k]: critic.evaluate(degenerate_motion(k)).issues[0].severity for k in DEGENERATE_KINDS}
    assert sev == dict(frozen=0.9, repetitive=0.7, jittery=0.6, velocity_exceeded=0.8, acceleration_exceeded=0.7,
                       ground_penetration=0.6, non_finite=1.0, limb_length=0.7)

def test_long_gaits_are_not_repetitive():
    "A clean 20 s walk and dance are cyclic but not degenerate loops."
    for k in ('walk', 'dance', 'clap'):
        assert 'repetitive' not in critic.evaluate(reference_motion(k, seconds=20)).issue_types

def test_reference_motions_are_engine_clips():
    "The critic is calibrated on the story engine's own motion: reference_motion is the rig's clip of a one-step plan."
    assert np.array_equal(reference_motion('walk', 4, x0=1.0), clip_motion(Segment('walk', seconds=4, speed=1.2/1.25), x0=1.0))
    assert np.array_equal(reference_motion('dance', 3), clip_motion(('dance', 3)))
    for k in ('walk', 'dance', 'clap', 'jump_wave', 'idle'): assert reference_motion(k, seconds=7).shape == (175, 20)
    with pytest.raises(StickgenError, match="unknown kind 'moonwalk'"): reference_motion('moonwalk')

def test_story_engine_walks_and_dances_are_safe():
    for plan in ([dict(action='walk', seconds=10)], [dict(action='dance', seconds=10)], [dict(action='walk', seconds=5, direction='left'), dict(action='dance', seconds=5)]):
        for seed in (0, 1, 2):
            r = critic.evaluate(synthesize_from_plan(plan, seed=seed)['motion'])
            assert r.is_safe and 'repetitive' not in r.issue_types and 'frozen' not in r.issue_types, (plan, seed, r.summary())

def test_story_engine_scenes_mostly_safe():
    res = [critic.evaluate_sample(generate_scene(s)) for s in range(20)]
    assert sum(r.is_safe for r in res) >= 0.8*len(res), [r.summary() for r in res if not r.is_safe]

def test_multi_actor_and_torch_input():
    two = torch.from_numpy(np.stack([reference_motion('walk'), degenerate_motion('sink')], 1))
    r = critic.evaluate(two)
    assert r.issue_types == ['ground_penetration'] and r.issues[0].actor == 1 and r.num_actors == 2
    # a bystander standing still while another actor moves is not "frozen"
    still = np.repeat(standing_pose(x=2.0)[None], 250, 0)
    assert 'frozen' not in critic.evaluate(np.stack([reference_motion('dance'), still], 1)).issue_types

def test_json_roundtrip():
    r = critic.evaluate(degenerate_motion('teleport'))
    d = json.loads(r.to_json())
    assert d['is_safe'] is False and d['rejection_reasons'] and d['issues'][0]['type'] == 'velocity_exceeded'
    assert SafetyResult.from_dict(d).to_dict() == r.to_dict()
    json.dumps(critic.evaluate(degenerate_motion('nan')).to_dict(), allow_nan=False)

def test_config_is_respected():
    assert SafetyCritic(SafetyCriticConfig(rejection_severity_threshold=0.5)).evaluate(degenerate_motion('sink')).is_safe is False
    assert SafetyCritic(dict(max_velocity=30.0)).evaluate(degenerate_motion('teleport')).issues == []
    assert SafetyCritic(dict(frozen_severity=0.3)).evaluate(degenerate_motion('frozen')).is_safe
    with pytest.raises(StickgenError, match='max_velocty'): SafetyCriticConfig.from_dict(dict(max_velocty=1))

def test_bad_input_is_a_clear_error():
    with pytest.raises(StickgenError, match=r'\[T, 20\]'): critic.evaluate(np.zeros((10, 19)))
    with pytest.raises(StickgenError, match='physics'): critic.evaluate(reference_motion('walk'), physics=np.zeros((3, 6)))
    assert critic.evaluate(np.repeat(standing_pose()[None], 1, 0)).num_frames == 1   # a single frame does not crash

def test_frame_ranges():
    assert frame_ranges([1, 1, 0, 1]) == [[0, 1], [3, 3]] and frame_ranges([0, 0]) == []

def test_grades():
    assert [grade_metric('adversarial_safe_ratio', v) for v in (0.71, 0.6, 0.49)] == ['Good', 'Acceptable', 'Poor']
    assert grade_metric('robustness_gap', 0.1) == 'Good' and grade_metric('baseline_safe_ratio', 0.5) == 'Poor'

def test_suites_file_has_all_suites():
    s = load_prompt_suites()
    need = {BASELINE_SUITE, 'adversarial_long_prompts', 'adversarial_contradictory', 'adversarial_extreme_actions', 'adversarial_ambiguous',
            'adversarial_repetition_inducing', 'adversarial_edge_cases', 'adversarial_injection'}
    assert need <= set(s) and all(len(s[k]) >= 10 for k in need)
    assert any(e['prompt'].strip() == '' for e in s['adversarial_ambiguous'])
    assert any(e.get('duration') == 0 for e in s['adversarial_edge_cases']) and any(e.get('actors', 1) > 4 for e in s['adversarial_edge_cases'])
    with pytest.raises(StickgenError, match='unknown suite'): load_prompt_suites(suites=['nope'])

def test_run_adversarial_eval_counts():
    def gen(prompt, seed=0, **kw):
        if not prompt: raise StickgenError('empty')
        if prompt == 'crash': raise RuntimeError('boom')
        return dict(motion=degenerate_motion('frozen') if prompt == 'freeze' else reference_motion('walk'))
    rep = run_adversarial_eval(gen, {BASELINE_SUITE: [dict(prompt='a')]*2, 'adv': [dict(prompt='freeze'), dict(prompt=''), dict(prompt='crash'), dict(prompt='x')]})
    o = rep['overall']
    assert (o['baseline_safe_ratio'], o['adversarial_safe_ratio']) == (1.0, 0.5) and math.isclose(o['robustness_gap'], 0.5)
    assert rep['suites']['adv']['status'] == dict(generated=2, rejected_input=1, error=1)
    assert rep['suites']['adv']['issue_histogram'] == dict(frozen=1, error=1)
    json.dumps(rep, allow_nan=False)

def test_adversarial_eval_cli_procedural(tmp_path, capsys):
    rc = adversarial_eval_cli(['--checkpoint', 'procedural', '--max_per_suite', '2', '--duration', '3', '--output_dir', str(tmp_path), '--quiet'])
    assert rc == 0
    rep = json.loads((tmp_path/'adversarial_report.json').read_text())
    assert rep['meta']['backend'].startswith('procedural') and rep['overall']['num_prompts'] == 2*len(rep['suites'])
    out = capsys.readouterr().out
    assert 'baseline_safe_ratio' in out and 'robustness_gap' in out and ('Good' in out or 'Acceptable' in out or 'Poor' in out)
    assert rep['overall']['baseline_adherence'] is not None and 'adherence' in rep['prompts'][0]
