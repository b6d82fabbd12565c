"""Renderer speed benchmark (issue 3).

Renders a 250-frame 640x480 clip with two actors, faces and a moving camera to H.264 and compares it with
encoding the same pre-drawn frames with the same encoder settings, in the same run:

  end-to-end   = render_clip(...) -> .mp4 (drawing + RGB->I420 + libx264, drawing overlapped with encoding)
  encode-only  = the same 250 frames drawn beforehand, then RGB->I420 + libx264 in one thread (same VideoWriter)

Goal: end-to-end >= 250 frames/s and >= 0.7 x encode-only. Each figure is the best of --repeats runs
(the machine may be shared; rerun on a quiet machine for the record).

    python bench/render.py [--repeats 3] [--preset ultrafast] [--frames 250] [--out /tmp/bench.mp4]
"""
import argparse, os, tempfile, time
from pathlib import Path
import numpy as np
from stickgen.schema import standing_pose, get_joint, set_joint, ActionType, FPS
from stickgen.renderer import render_clip, FramePainter, VideoWriter, DEFAULT_PRESET, DEFAULT_CRF

def bench_clip(T=250):
    "Two actors (one waves while swaying, one walks and talks) and a camera that pans and zooms."
    t = np.arange(T)/FPS
    a0 = np.stack([standing_pose(x=0.3*np.sin(0.4*np.pi*ti)) for ti in t])
    ang = np.deg2rad(120 + 30*np.sin(2*np.pi*1.5*t))
    set_joint(a0, 'right_hand', (get_joint(a0, 'right_shoulder') + 0.65*np.stack([np.cos(ang), np.sin(ang)], -1)).astype(np.float32))
    a1 = np.stack([standing_pose(x=0.8 + 0.008*i) for i in range(T)])     # walks right, stays in view
    sw = 0.25*np.sin(2*np.pi*t)
    set_joint(a1, 'left_foot', get_joint(a1, 'left_foot') + np.stack([sw, 0*sw], -1).astype(np.float32))
    set_joint(a1, 'right_foot', get_joint(a1, 'right_foot') - np.stack([sw, 0*sw], -1).astype(np.float32))
    motion = np.stack([a0, a1], 1)
    actions = np.stack([np.full(T, int(ActionType.WAVE)), np.where(t < 4, int(ActionType.WALK), int(ActionType.TALK))], 1)
    camera = np.stack([np.linspace(0.0, 1.2, T), np.full(T, 0.9), 1.0 - 0.25*np.sin(np.pi*t/t[-1])], 1).astype(np.float32)
    return motion, actions, camera

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--repeats', type=int, default=3)
    p.add_argument('--frames', type=int, default=250)
    p.add_argument('--preset', default=DEFAULT_PRESET)
    p.add_argument('--out', default=None)
    a = p.parse_args(argv)
    motion, actions, camera = bench_clip(a.frames)
    out = Path(a.out or tempfile.mkdtemp())/'bench.mp4' if not a.out else Path(a.out)
    T = len(motion)
    painter = FramePainter(motion, actions, camera, fps=FPS, width=640, height=480, face=True)
    frames = [painter.paint(t) for t in range(T)]          # pre-drawn frames for the encode-only baseline
    draw, e2e, enc = [], [], []
    for _ in range(a.repeats):
        t0 = time.perf_counter()
        vw = VideoWriter(out.with_name('encode_only.mp4'), 640, 480, FPS, a.preset, DEFAULT_CRF)
        for f in frames: vw.write(f)
        vw.close()
        enc.append(T/(time.perf_counter() - t0))
        t0 = time.perf_counter()
        render_clip(motion, out, actions=actions, camera=camera, preset=a.preset)   # includes face tracks + setup
        e2e.append(T/(time.perf_counter() - t0))
        buf = painter.new_buffer(); t0 = time.perf_counter()
        for t in range(T): painter.paint(t, buf)
        draw.append(T/(time.perf_counter() - t0))
    E, B, D = max(e2e), max(enc), max(draw)
    load = os.getloadavg()[0] if hasattr(os, 'getloadavg') else float('nan')
    print(f"clip: {T} frames 640x480, 2 actors, faces, moving camera; x264 preset={a.preset} crf={DEFAULT_CRF}; "
          f"{os.cpu_count()} CPUs, load average {load:.1f}; best of {a.repeats}")
    print(f"end-to-end render_clip -> H.264:       {E:7.1f} frames/s  ({T/E:.2f} s for {T/FPS:.0f} s of animation)")
    print(f"encode-only (pre-drawn frames):         {B:7.1f} frames/s")
    print(f"drawing alone (no encoding):            {D:7.1f} frames/s")
    print(f"end-to-end / encode-only:               {E/B:7.2f}   (goal >= 0.70)")
    print(f"goal end-to-end >= 250 frames/s:        {'met' if E >= 250 else 'NOT met'};  ratio goal: {'met' if E/B >= 0.7 else 'NOT met'}")
    print(f"output: {out} ({out.stat().st_size/1024:.0f} KiB)")
    return 0

if __name__ == '__main__': raise SystemExit(main())
