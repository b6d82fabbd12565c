"Fixture tests for stickgen.converters: each dataset in its native on-disk format, plus the real files in ../shared/realdata."
import json, numpy as np, pytest, torch
from pathlib import Path
from stickgen.schema import *
from stickgen.converters import *
from stickgen.cli import convert_cli

REAL = Path(__file__).resolve().parents[1].parent/'shared'/'realdata'

def smpl_rest(h=1.75):
    P = dict(pelvis=(0,.93,0), left_hip=(.09,.86,0), right_hip=(-.09,.86,0), spine1=(0,1.03,0), left_knee=(.1,.48,.02), right_knee=(-.1,.48,.02),
             spine2=(0,1.16,0), left_ankle=(.1,.08,-.02), right_ankle=(-.1,.08,-.02), spine3=(0,1.22,0), left_foot=(.11,.02,.1), right_foot=(-.11,.02,.1),
             neck=(0,1.45,0), left_collar=(.07,1.38,0), right_collar=(-.07,1.38,0), head=(0,1.58,.03), left_shoulder=(.18,1.40,0), right_shoulder=(-.18,1.40,0),
             left_elbow=(.22,1.13,0), right_elbow=(-.22,1.13,0), left_wrist=(.24,.88,0), right_wrist=(-.24,.88,0))
    return np.array([P[n] for n in SMPL22], np.float64)*h/1.75

def raise_left(T):
    j = np.repeat(smpl_rest()[None], T, 0)
    j[:, SMPL22.index('left_wrist')] += np.sin(np.linspace(0, np.pi, T))[:, None]*np.array([0.25, 0.9, 0])
    return j

def yup_to_zup(j): return j @ np.array([[1, 0, 0], [0, 0, -1], [0, 1, 0]]).T   # proper rotation: y -> z

def check_figure(s, fps_frames=None, left_raised=True):
    validate_sample(s)
    m = s['motion'].numpy()
    mm = as_multi_actor(m)
    bl = bone_lengths(mm)                                   # head, torso, arms, legs
    tor = bl[..., 1]
    assert np.percentile(np.abs(tor/np.median(tor) - 1), 90) < 0.15, "torso length nearly constant (projection foreshortens a bend)"
    assert 0.3 < bl[..., 1].mean() < 0.7 and 0.12 < bl[..., 0].mean() < 0.35
    feet = np.minimum(mm[..., 17], mm[..., 19])
    assert abs(np.percentile(feet.min(-1), 2)) < 0.02, "feet on the ground"
    assert (get_joint(mm, "head_top")[..., 1] > get_joint(mm, "pelvis")[..., 1]).mean() > 0.95, "upright"
    if left_raised:
        lh = get_joint(mm, 'left_hand')[:, 0]
        assert lh[:, 0].mean() > get_joint(mm, 'right_hand')[:, 0, 0].mean(), "left hand at +x (front view)"
        assert lh[:, 1].max() > get_joint(mm, 'head_top')[:, 0, 1].max() - 0.3
    if fps_frames is not None: assert m.shape[0] == fps_frames

def test_humanml3d_fixture(tmp_path):
    (tmp_path/'new_joints').mkdir(); (tmp_path/'texts').mkdir()
    T = 60
    np.save(tmp_path/'new_joints'/'000001.npy', raise_left(T).astype(np.float32))
    (tmp_path/'texts'/'000001.txt').write_text("a person raises the left hand.#a/DET#0.0#0.0\nthe hand goes up#x#1.0#2.5\nand waves#x#nan#nan\n")
    np.save(tmp_path/'new_joints'/'000002.npy', np.zeros((5, 10, 3), np.float32))
    (tmp_path/'new_joints'/'000003.npy').write_bytes(b'\x93NUMPY garbage')
    (tmp_path/'train.txt').write_text("000001\n")
    samples, rep = convert('humanml3d', tmp_path)
    assert len(samples) == 3 and rep.num_skipped == 2 and rep.files == 3
    check_figure(samples[0], int((T-1)*25/20)+1)
    assert samples[1]['motion'].shape[0] == int(29*25/20)+1
    assert samples[0]['description'] == 'a person raises the left hand.' and action_name(samples[0]['actions'][0]) == 'reach'
    assert action_name(samples[2]['actions'][0]) == 'wave'
    s2, _ = convert('humanml3d', tmp_path, split='train')
    assert len(s2) == 3
    out = tmp_path/'out.pt'
    assert convert_cli(['humanml3d', '--input', str(tmp_path), '--output', str(out), '--limit', '2', '-q']) == 0
    assert len(load_samples(out)) == 2

def test_kit_fixture(tmp_path):
    (tmp_path/'new_joints').mkdir(); (tmp_path/'texts').mkdir()
    j = raise_left(50)*1000   # millimetres
    k = np.zeros((50, 21, 3))
    pick = dict(root='pelvis', BP='spine1', BT='spine2', BLN='neck', BUN='head', LS='left_shoulder', LE='left_elbow', LW='left_wrist',
                RS='right_shoulder', RE='right_elbow', RW='right_wrist', LH='left_hip', LK='left_knee', LA='left_ankle', LMrot='left_foot',
                LF='left_foot', RH='right_hip', RK='right_knee', RA='right_ankle', RMrot='right_foot', RF='right_foot')
    for i, n in enumerate(KIT21): k[:, i] = j[:, SMPL22.index(pick[n])]
    np.save(tmp_path/'new_joints'/'00001.npy', k.astype(np.float32))
    (tmp_path/'texts'/'00001.txt').write_text("a person raises the left hand#x#0.0#0.0\n")
    samples, rep = convert('kit', tmp_path)
    assert len(samples) == 1 and samples[0]['source'] == 'kit_ml'
    check_figure(samples[0], int(49*25/12.5)+1)

def test_amass_fixture(tmp_path):
    T = 40
    np.savez(tmp_path/'walk_pos.npz', joints=yup_to_zup(raise_left(T)), mocap_framerate=50.0)
    np.savez(tmp_path/'yup_pos.npz', joints=raise_left(T), mocap_framerate=50.0)      # y-up positions: up detected
    # parameters + a tiny SMPL-H-like body model: rest joints as vertices, identity regressor
    rest = yup_to_zup(smpl_rest())
    parents = np.array([-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19])
    np.savez(tmp_path/'model.npz', v_template=rest, shapedirs=np.zeros((22, 3, 10)), J_regressor=np.eye(22), kintree_table=np.stack([parents, np.arange(22)]))
    poses = np.zeros((T, 156)); trans = np.zeros((T, 3)); trans[:, 0] = np.linspace(0, 1, T)
    np.savez(tmp_path/'params'/'x.npz' if False else tmp_path/'seq_poses.npz', poses=poses, trans=trans, betas=np.zeros(16), gender='neutral', mocap_framerate=100.0)
    with pytest.raises(StickgenError, match='body model'): convert('amass', tmp_path)
    samples, rep = convert('amass', tmp_path, body_model=tmp_path/'model.npz')
    assert rep.num_skipped == 1 and len(samples) == 3      # the model file itself is skipped (no joints, no poses)
    by = {s['meta']['file']: s for s in samples}
    check_figure(by['walk_pos.npz'], int(39*25/50)+1); check_figure(by['yup_pos.npz'], int(39*25/50)+1)
    assert by['walk_pos.npz']['meta']['up'] == 'z' and by['yup_pos.npz']['meta']['up'] == 'y'
    samples = [by['seq_poses.npz']]
    m = samples[0]['motion'].numpy()
    assert m.shape[0] == int(39*25/100)+1
    # FK: bending the left knee 90 degrees lifts the left foot
    sm = SMPLJoints(tmp_path/'model.npz')
    p = np.zeros((1, 156)); p[0, 3*SMPL22.index('left_knee')] = np.pi/2
    j = sm(p, np.zeros((1, 3)), np.zeros(10))[0]
    ankle, knee = j[SMPL22.index('left_ankle')], j[SMPL22.index('left_knee')]
    assert np.isclose(np.linalg.norm(ankle - knee), np.linalg.norm(rest[7] - rest[4]))
    assert ankle[2] > rest[7][2] + 0.3                    # z-up: the foot rises

def ntu_text(frames_bodies):
    lines = [str(len(frames_bodies))]
    for bodies in frames_bodies:
        lines.append(str(len(bodies)))
        for bid, J in bodies:
            lines.append(f"{bid} 0 1 1 1 1 0 0.1 0.2 2"); lines.append("25")
            for x, y, z in J: lines.append(f"{x:.5f} {y:.5f} {z:.5f} 250 200 900 500 1 0 0 0 2")
    return '\n'.join(lines) + '\n'

def ntu_body(T, dx=0.0):
    r = smpl_rest()
    S = {n: r[SMPL22.index(n)] for n in SMPL22}
    src = dict(SpineBase='pelvis', SpineMid='spine2', Neck='neck', Head='head', ShoulderLeft='left_shoulder', ElbowLeft='left_elbow',
               WristLeft='left_wrist', HandLeft='left_wrist', ShoulderRight='right_shoulder', ElbowRight='right_elbow', WristRight='right_wrist',
               HandRight='right_wrist', HipLeft='left_hip', KneeLeft='left_knee', AnkleLeft='left_ankle', FootLeft='left_foot', HipRight='right_hip',
               KneeRight='right_knee', AnkleRight='right_ankle', FootRight='right_foot', SpineShoulder='neck', HandTipLeft='left_wrist',
               ThumbLeft='left_wrist', HandTipRight='right_wrist', ThumbRight='right_wrist')
    out = []
    for t in range(T):
        J = np.array([S[src[n]] for n in NTU25]) + [dx, -0.8, 3.0]   # Kinect: y=0 at the sensor, 3 m away
        J[NTU25.index('WristLeft')] += np.sin(np.pi*t/(T-1))*np.array([0.25, 0.9, 0])
        out.append(J)
    return out

def test_ntu_fixture(tmp_path):
    T = 45
    b = ntu_body(T)
    (tmp_path/'S001C001P001R001A023.skeleton').write_text(ntu_text([[(72057594037931101, J)] for J in b]))
    b2 = ntu_body(T, dx=1.0)
    (tmp_path/'S001C001P001R001A058.skeleton').write_text(ntu_text([[(1, J), (2, K)] for J, K in zip(b, b2)]))
    (tmp_path/'S001C001P001R001A001.skeleton').write_text(ntu_text([[(1, J)] for J in b])[:500])   # truncated
    samples, rep = convert('ntu', tmp_path)
    assert rep.num_skipped == 1 and 'truncated' in ' '.join(rep.examples.values())
    one = next(s for s in samples if s['motion'].ndim == 2)
    assert one['description'] == 'a person waves a hand' and action_name(one['actions'][0]) == 'wave'
    check_figure(one, int(44*25/30)+1)
    two = next(s for s in samples if s['motion'].ndim == 3)
    assert two['motion'].shape[1] == 2 and action_name(two['actions'][0]) == 'handshake'

def test_babel_fixture(tmp_path):
    T = 100   # 2 s at 50 fps
    (tmp_path/'CMU'/'01').mkdir(parents=True)
    np.savez(tmp_path/'CMU'/'01'/'01_01_poses.npz', joints=yup_to_zup(raise_left(T)), mocap_framerate=50.0)
    ann = {'7': dict(babel_sid=7, feat_p='CMU/CMU/01/01_01_poses.npz', dur=2.0,
                     seq_ann=dict(labels=[dict(proc_label='stand', act_cat=['stand'])]),
                     frame_ann=dict(labels=[dict(proc_label='wave', act_cat=['wave'], start_t=0.0, end_t=1.0),
                                            dict(proc_label='walk', act_cat=['walk'], start_t=1.0, end_t=2.0)])),
           '8': dict(babel_sid=8, feat_p='CMU/CMU/02/missing.npz', dur=1.0, seq_ann=dict(labels=[]), frame_ann=None)}
    (tmp_path/'train.json').write_text(json.dumps(ann))
    samples, rep = convert('babel', tmp_path)
    assert len(samples) == 1 and rep.num_skipped == 1
    s = samples[0]
    acts = [action_name(a) for a in s['actions']]
    assert acts[0] == 'wave' and acts[-1] == 'walk' and acts[24] == 'wave' and acts[26] == 'walk'
    assert s['description'] == 'a person wave, then walk'
    check_figure(s, int(99*25/50)+1)

BVH_JOINTS = [('Hips', None, (0, 0, 0)), ('Spine', 'Hips', (0, 10, 0)), ('Neck', 'Spine', (0, 42, 0)), ('Head', 'Neck', (0, 12, 3)),
              ('LeftArm', 'Neck', (18, -5, 0)), ('LeftForeArm', 'LeftArm', (4, -27, 0)), ('LeftHand', 'LeftForeArm', (2, -25, 0)),
              ('RightArm', 'Neck', (-18, -5, 0)), ('RightForeArm', 'RightArm', (-4, -27, 0)), ('RightHand', 'RightForeArm', (-2, -25, 0)),
              ('LeftUpLeg', 'Hips', (9, -7, 0)), ('LeftLeg', 'LeftUpLeg', (1, -38, 2)), ('LeftFoot', 'LeftLeg', (0, -40, -4)), ('LeftToeBase', 'LeftFoot', (1, -6, 12)),
              ('RightUpLeg', 'Hips', (-9, -7, 0)), ('RightLeg', 'RightUpLeg', (-1, -38, 2)), ('RightFoot', 'RightLeg', (0, -40, -4)), ('RightToeBase', 'RightFoot', (-1, -6, 12))]

def write_bvh(path, frames=40, fps=30, raise_left=True, truncate=False):
    kids = {}
    for n, p, o in BVH_JOINTS: kids.setdefault(p, []).append((n, o))
    out = ["HIERARCHY"]
    def emit(n, o, depth, root=False):
        ind = '  '*depth
        out.append(f"{ind}{'ROOT' if root else 'JOINT'} {n}"); out.append(ind + '{')
        out.append(f"{ind}  OFFSET {o[0]} {o[1]} {o[2]}")
        out.append(f"{ind}  CHANNELS " + ("6 Xposition Yposition Zposition Zrotation Xrotation Yrotation" if root else "3 Zrotation Xrotation Yrotation"))
        for c, co in kids.get(n, []): emit(c, co, depth+1)
        if n not in kids: out.append(f"{ind}  End Site"); out.append(ind + '  {'); out.append(f"{ind}    OFFSET 0 5 0"); out.append(ind + '  }')
        out.append(ind + '}')
    emit('Hips', (0, 0, 0), 0, True)
    out += ["MOTION", f"Frames: {frames}", f"Frame Time: {1/fps:.6f}"]
    la = [n for n, _, _ in BVH_JOINTS].index('LeftArm')
    for t in range(frames):
        row = [0.0, 98.0, 0.0, 0, 0, 0] + [0.0]*3*(len(BVH_JOINTS)-1)
        if raise_left: row[6 + 3*(la-1)] = 150*np.sin(np.pi*t/(frames-1))   # Zrotation of LeftArm: the arm swings up to the side
        out.append(' '.join(f"{v:.4f}" for v in row))
    if truncate: out = out[:-5]
    Path(path).write_text('\n'.join(out) + '\n')

def test_bvh_fixture(tmp_path):
    write_bvh(tmp_path/'take_wave_left.bvh')
    (tmp_path/'take_wave_left.txt').write_text("a person raises the left arm\nsomeone lifts their left arm out to the side\n")
    write_bvh(tmp_path/'dataset-1_kick_normal_001.bvh', raise_left=False)
    write_bvh(tmp_path/'broken.bvh', truncate=True)
    samples, rep = convert('bvh', tmp_path)
    assert rep.num_skipped == 1 and 'truncated' in ' '.join(rep.examples.values())
    raised = [s for s in samples if s['meta']['file'] == 'take_wave_left.bvh']
    assert len(raised) == 2 and action_name(raised[0]['actions'][0]) == 'reach'
    check_figure(raised[0], int(39*25/30)+1)
    kick = next(s for s in samples if s['meta']['file'].startswith('dataset-1_kick'))
    assert kick['description'] == 'a person kicks' and action_name(kick['actions'][0]) == 'kick'
    assert abs(kick['meta']['height'] - 1.6) < 0.25          # centimetres detected

def test_100style_fixture(tmp_path):
    (tmp_path/'Aeroplane').mkdir()
    write_bvh(tmp_path/'Aeroplane'/'Aeroplane_FW.bvh', fps=60)
    samples, rep = convert('100style', tmp_path)
    assert samples[0]['description'] == 'a person walks forwards in a aeroplane style' and action_name(samples[0]['actions'][0]) == 'walk'
    check_figure(samples[0], int(39*25/60)+1)

def test_interhuman_fixture(tmp_path):
    for d in ('motions/person1', 'motions/person2', 'annots'): (tmp_path/d).mkdir(parents=True)
    T = 45
    a = yup_to_zup(raise_left(T)); b = yup_to_zup(raise_left(T) + [1.0, 0, 0])
    feat = lambda j: np.concatenate([j.reshape(T, 66), np.zeros((T, 492-66))], 1).astype(np.float32)
    np.save(tmp_path/'motions/person1/1.npy', feat(a)); np.save(tmp_path/'motions/person2/1.npy', feat(b))
    np.save(tmp_path/'motions/person1/2.npy', feat(a))   # no partner
    (tmp_path/'annots/1.txt').write_text("two people wave at each other\none person greets the other\n")
    samples, rep = convert('interhuman', tmp_path)
    assert len(samples) == 2 and rep.num_skipped == 1
    m = samples[0]['motion'].numpy()
    assert m.shape == (int(44*25/30)+1, 2, 20)
    check_figure(samples[0])

def test_beat_fixture(tmp_path):
    write_bvh(tmp_path/'1_wayne_0_1_1.bvh', frames=120, fps=120, raise_left=False)
    (tmp_path/'1_wayne_0_1_1.TextGrid').write_text('''File type = "ooTextFile"
Object class = "TextGrid"

xmin = 0
xmax = 1.0
tiers? <exists>
size = 1
item []:
    item [1]:
        class = "IntervalTier"
        name = "words"
        xmin = 0
        xmax = 1.0
        intervals: size = 3
        intervals [1]:
            xmin = 0
            xmax = 0.2
            text = ""
        intervals [2]:
            xmin = 0.2
            xmax = 0.6
            text = "hello"
        intervals [3]:
            xmin = 0.6
            xmax = 1.0
            text = ""
''')
    write_bvh(tmp_path/'2_no_words.bvh', frames=20, fps=120, raise_left=False)
    samples, rep = convert('beat', tmp_path)
    assert len(samples) == 1 and rep.num_skipped == 1
    s = samples[0]
    sp = s['speech'].numpy()
    assert sp.dtype == bool and sp[6:15].all() and not sp[:5].any() and not sp[16:].any()
    assert (np.asarray(s['actions'])[sp] == action_id('talk')).all() and '"hello"' in s['description']

def test_unknown_and_empty(tmp_path):
    with pytest.raises(StickgenError, match='unknown dataset'): convert('mocapx', tmp_path)
    with pytest.raises(StickgenError, match='new_joints'): convert('humanml3d', tmp_path)
    (tmp_path/'x.bvh').write_text('not a bvh')
    with pytest.raises(StickgenError, match='no samples'): convert_cli(['bvh', '--input', str(tmp_path), '--output', str(tmp_path/'o.pt'), '-q'])

real = pytest.mark.skipif(not REAL.is_dir(), reason='../shared/realdata not present')

@real
def test_real_humanml3d():
    samples, rep = convert('humanml3d', REAL/'humanml3d')
    assert len(samples) == 7 and rep.num_skipped == 0
    kick = samples[0]
    assert 'kick' in kick['description'] and action_name(kick['actions'][0]) == 'kick'
    check_figure(kick, left_raised=False)
    j = np.load(REAL/'humanml3d'/'new_joints'/'000000.npy')
    assert kick['motion'].shape[0] == int((len(j)-1)*25/20)+1
    m = kick['motion'].numpy()
    lf, rf = get_joint(m, 'left_foot'), get_joint(m, 'right_foot')
    assert lf[:, 1].max() > 0.6 and rf[:, 1].max() < 0.15       # the LEFT leg kicks, the right foot stays down
    assert 1.5 < kick['meta']['height'] < 1.9

@real
def test_real_bvh():
    samples, rep = convert('bvh', REAL/'bandai_namco_bvh')
    assert len(samples) == 26 and rep.num_skipped == 0
    by = {s['meta']['file'].split('_')[1]: s for s in samples}
    for s in samples:
        check_figure(s, left_raised=False)
        assert 1.1 < s["meta"]["height"] < 1.8
    # a right-hand wave: the front view, right hand above the head on the figure's right (-x)
    w = by['wave-right-hand']['motion'].numpy()
    rh, lh, top = get_joint(w, 'right_hand'), get_joint(w, 'left_hand'), get_joint(w, 'head_top')
    assert (rh[:, 1] > top[:, 1]).mean() > 0.3 and rh[:, 0].mean() < lh[:, 0].mean() and lh[:, 1].max() < 1.2
    wl = by['wave-left-hand']['motion'].numpy()
    assert get_joint(wl, 'left_hand')[:, 1].max() > get_joint(wl, 'head_top')[:, 1].max() - 0.1
    # a walk is seen from the side and travels
    walk = by['walk']['motion'].numpy()
    assert abs(walk[-1, 6] - walk[0, 6]) > 1.5
    kick = by['kick']['motion'].numpy()
    assert max(get_joint(kick, 'left_foot')[:, 1].max(), get_joint(kick, 'right_foot')[:, 1].max()) > 0.6
    assert action_name(by['kick']['actions'][0]) == 'kick' and action_name(by['wave-both-hands']['actions'][0]) == 'wave'

@pytest.mark.parametrize('names, expect', [
    # 100STYLE: the upper arm is called Shoulder, the thigh Hip, the ankle Ankle
    ('Hips Chest Chest2 Chest3 Chest4 Neck Head RightCollar RightShoulder RightElbow RightWrist LeftCollar LeftShoulder LeftElbow '
     'LeftWrist RightHip RightKnee RightAnkle RightToe LeftHip LeftKnee LeftAnkle LeftToe',
     dict(pelvis='Hips', left_shoulder='LeftShoulder', left_hand='LeftWrist', left_hip='LeftHip', left_foot='LeftAnkle+LeftToe')),
    # CMU / BEAT style (Mixamo-like, with LHipJoint and Neck1)
    ('Hips LHipJoint LeftUpLeg LeftLeg LeftFoot LeftToeBase RHipJoint RightUpLeg RightLeg RightFoot RightToeBase LowerBack Spine Spine1 '
     'Neck Neck1 Head LeftShoulder LeftArm LeftForeArm LeftHand LThumb RightShoulder RightArm RightForeArm RightHand RThumb',
     dict(neck='Neck', left_shoulder='LeftArm', left_hip='LeftUpLeg', right_hand='RightHand', right_foot='RightFoot+RightToeBase')),
    # 3ds Max biped
    ('Bip01_Pelvis Bip01_Spine Bip01_Neck Bip01_Head Bip01_L_UpperArm Bip01_L_Hand Bip01_R_UpperArm Bip01_R_Hand Bip01_L_Thigh '
     'Bip01_L_Foot Bip01_L_Toe0 Bip01_R_Thigh Bip01_R_Foot Bip01_R_Toe0',
     dict(pelvis='Bip01_Pelvis', left_hip='Bip01_L_Thigh', right_foot='Bip01_R_Foot+Bip01_R_Toe0')),
])
def test_bvh_name_matching(names, expect):
    names = names.split()
    m = match_bvh_joints(names)
    for k, v in expect.items(): assert '+'.join(names[i] for i in m[k]) == v, (k, [names[i] for i in m[k]])

def test_stickgen_command(tmp_path):
    from stickgen.cli import main
    write_bvh(tmp_path/'dataset-1_bow_normal_001.bvh', raise_left=False)
    assert main(['convert', 'bvh', '--input', str(tmp_path), '--output', str(tmp_path/'o.pt'), '-q']) == 0
    assert load_samples(tmp_path/'o.pt')[0]['description'] == 'a person bows'
    assert main(['convert', 'amass', '--input', str(tmp_path), '--output', str(tmp_path/'o2.pt')]) == 2   # no .npz: one-line error

@pytest.mark.parametrize('dataset, build', [('humanml3d', test_humanml3d_fixture), ('kit', test_kit_fixture), ('amass', test_amass_fixture),
                                            ('ntu', test_ntu_fixture), ('babel', test_babel_fixture), ('bvh', test_bvh_fixture),
                                            ('100style', test_100style_fixture), ('interhuman', test_interhuman_fixture), ('beat', test_beat_fixture)])
def test_zip_reads_like_the_folder(tmp_path, dataset, build):
    "Every reader takes the dataset as distributed: a zip (with one top-level folder) gives the samples of the unpacked folder."
    import zipfile
    d = tmp_path/'ds'; d.mkdir(); build(d)                     # the fixture test builds (and checks) its dataset folder
    z = tmp_path/'ds.zip'
    with zipfile.ZipFile(z, 'w', zipfile.ZIP_DEFLATED) as f:
        for p in sorted(d.rglob('*')):
            if p.is_file() and p.suffix != '.pt': f.write(p, 'top/' + p.relative_to(d).as_posix())
    opts = dict(body_model=d/'model.npz') if dataset == 'amass' else {}
    (a, ra), (b, rb) = convert(dataset, d, **opts), convert(dataset, z, **opts)
    assert len(a) == len(b) > 0 and ra.num_skipped == rb.num_skipped and ra.files == rb.files
    for x, y in zip(a, b):
        assert x['description'] == y['description'] and torch.equal(x['motion'], y['motion']) and torch.equal(x['actions'], y['actions'])
    assert all('licence' in s['meta'] and 'dataset' in s['meta'] for s in b)
