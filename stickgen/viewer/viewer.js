// stickgen web viewer: plays a .motion file (see stickgen.renderer.export_motion) on a canvas.
// Scriptable through window.viewer: load(urlOrObject) -> Promise, seek(frame), play(), pause(),
// frame, frames, ready, worldToScreen(x, y, frame).
(function () {
  'use strict';
  const VIEW_HEIGHT_M = 3.0;   // metres of world across the canvas height at zoom 1 (same as the renderer)
  const COLORS = ['#191919', '#d64541', '#2962ff', '#1e9650', '#963cb4', '#eb8c14'];
  // expression of each action id (schema.expression_for_action, 64 slots; tests/test_viewer.py keeps it in sync)
  const ACTION_EXPRESSION = [0, 0, 5, 0, 5, 1, 1, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 3, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 5, 5, 1,
                             0, 4, 4, 3, 0, 3, 4, 0, 0, 0, 0, 1, 1, 4, 0, 0, 2, 1, 3, 0, 0, 0, 5, 3, 3, 0, 0, 0, 0, 0, 0, 0];
  // per expression (neutral, happy, sad, surprised, angry, excited, tired): [mouth_curve, mouth_openness, eyebrow_angle, eyebrow_raise, eye_openness]
  const EXPRESSION_FACE = [[0, 0, 0, 0, 1], [0.8, 0.1, 0, 0.2, 0.8], [-0.7, 0, 20, 0.1, 0.6], [0, 0.6, 10, 1, 1],
                           [-0.5, 0.1, -25, 0, 0.7], [1, 0.7, 5, 0.7, 1], [-0.25, 0.2, 12, 0, 0.45]];
  const SPEECH_OPEN = [0.0, 0.5, 0.4, 0.8, 0.5, 0.15];   // openness of schema.SPEECH_CYCLE
  const TALK = 25;
  const canvas = document.getElementById('stage');
  const ctx = canvas.getContext('2d');
  const el = id => document.getElementById(id);

  const state = { clip: null, frame: 0, playing: false, speed: 1, loop: true, face: true, t0: 0, f0: 0, raf: 0 };

  function validate(d) {
    if (!d || typeof d !== 'object' || !d.meta) throw new Error("not a .motion file: missing 'meta'");
    const m = d.meta, T = m.frames, A = m.actors;
    if (!(T > 0) || !(A > 0)) throw new Error('meta.frames and meta.actors must be positive');
    if (!Array.isArray(d.motion) || d.motion.length !== A) throw new Error("'motion' must hold one list per actor");
    d.motion.forEach((a, i) => { if (a.length !== T * 20) throw new Error(`motion of actor ${i}: expected ${T * 20} numbers, found ${a.length}`); });
    if (d.camera && d.camera.length !== T * 3) throw new Error(`camera: expected ${T * 3} numbers`);
    return d;
  }

  function camera(f) {
    const c = state.clip.camera;
    if (c) return [c[3 * f], c[3 * f + 1], c[3 * f + 2]];
    return state.clip._static;
  }

  function worldToScreen(x, y, f) {
    const [cx, cy, z] = camera(f === undefined ? state.frame : f);
    const s = z * canvas.height / VIEW_HEIGHT_M;
    return [canvas.width / 2 + (x - cx) * s, canvas.height / 2 - (y - cy) * s];
  }

  function line(a, b) { ctx.beginPath(); ctx.moveTo(a[0], a[1]); ctx.lineTo(b[0], b[1]); ctx.stroke(); }

  function drawFace(c, R, up, expression, speaking, f) {
    const ux = up[0], uy = up[1], rx = -uy, ry = ux;
    const P = (a, b) => [c[0] + R * (a * rx + b * ux), c[1] + R * (a * ry + b * uy)];
    const [curve, open0, browAngle, browRaise, eyeOpen] = EXPRESSION_FACE[expression] || EXPRESSION_FACE[0];
    for (const s of [-1, 1]) {                       // eyes and eyebrows (positive angle raises the inner end)
      const e = P(0.36 * s, 0.14);
      ctx.beginPath(); ctx.ellipse(e[0], e[1], Math.max(1, 0.09 * R), Math.max(0.8, 0.09 * R * eyeOpen), Math.atan2(ry, rx), 0, 2 * Math.PI); ctx.fill();
      const b0 = 0.40 + 0.22 * browRaise, tilt = 0.30 * Math.sin(browAngle * Math.PI / 180);
      line(P(0.20 * s, b0 + tilt), P(0.52 * s, b0 - 0.3 * tilt));
    }
    const open = speaking ? SPEECH_OPEN[Math.floor(f / state.clip.meta.fps * 5 + 1e-9) % 6] : open0;
    const k = speaking ? 0.4 * curve : curve, w = 0.3;
    ctx.beginPath();
    for (let i = 0; i <= 8; i++) {                   // upper lip: smile (k > 0) lifts the corners
      const x = i / 4 - 1, p = P(w * x, -0.45 + 0.16 * k * (x * x - 0.5));
      i ? ctx.lineTo(p[0], p[1]) : ctx.moveTo(p[0], p[1]);
    }
    if (open > 0.06) {
      for (let i = 8; i >= 0; i--) {
        const x = i / 4 - 1, p = P(w * x, -0.45 + 0.16 * k * (x * x - 0.5) - 0.42 * open * Math.sqrt(Math.max(1 - x * x, 0)));
        ctx.lineTo(p[0], p[1]);
      }
      ctx.closePath(); ctx.fill();
    } else ctx.stroke();
  }

  function draw() {
    const W = canvas.width, H = canvas.height;
    ctx.fillStyle = '#ffffff'; ctx.fillRect(0, 0, W, H);
    const d = state.clip;
    if (!d) return;
    const f = state.frame;
    const [, gy] = worldToScreen(0, 0, f);
    const s = camera(f)[2] * H / VIEW_HEIGHT_M;
    ctx.strokeStyle = '#aaaaaa'; ctx.lineWidth = Math.max(1, s / 160);
    if (gy > -4 && gy < H + 4) line([0, gy], [W, gy]);
    const lw = Math.max(1, Math.round(3 * s / 160));
    ctx.lineCap = 'round'; ctx.lineJoin = 'round';
    for (let a = 0; a < d.meta.actors; a++) {
      const m = d.motion[a], o = 20 * f;
      const J = k => worldToScreen(m[o + 2 * k], m[o + 2 * k + 1], f);   // 10 endpoints of 5 segments
      const col = COLORS[a % COLORS.length];
      ctx.strokeStyle = col; ctx.fillStyle = col; ctx.lineWidth = lw;
      const neck = J(0), top = J(1), pelvis = J(3);
      line(J(2), J(3)); line(J(4), J(5)); line(J(6), J(7)); line(pelvis, J(8)); line(pelvis, J(9));
      const c = [(neck[0] + top[0]) / 2, (neck[1] + top[1]) / 2];
      const R = Math.hypot(top[0] - neck[0], top[1] - neck[1]) / 2;
      if (R >= 1) {
        ctx.beginPath(); ctx.arc(c[0], c[1], R, 0, 2 * Math.PI);
        ctx.fillStyle = '#ffffff'; ctx.fill(); ctx.stroke(); ctx.fillStyle = col;
        if (state.face && R >= 5) {
          const act = d.actions ? d.actions[a][f] : 0;
          const speaks = g => (d.actions ? d.actions[a][g] : 0) === TALK || !!(d.speech && d.speech[g] === 1);
          const speaking = speaks(f);
          let s0 = f;                                  // the mouth cycle restarts with each utterance
          while (speaking && s0 > 0 && speaks(s0 - 1)) s0--;
          const up = [(top[0] - neck[0]) / (2 * R), (top[1] - neck[1]) / (2 * R)];
          ctx.lineWidth = Math.max(1, Math.round(lw * 0.7));
          const expr = d.expression ? d.expression[a][f] : (ACTION_EXPRESSION[act] || 0);   // the clip's own face (a mood from the text), else the action's
          drawFace(c, R - lw / 2, up, expr, speaking, f - s0);
          ctx.lineWidth = lw;
        }
      }
    }
    el('frame').textContent = `${f} / ${d.meta.frames - 1}`;
    el('scrub').value = String(f);
  }

  function seek(f) {
    if (!state.clip) return 0;
    const T = state.clip.meta.frames;
    state.frame = Math.max(0, Math.min(T - 1, Math.round(f)));
    state.f0 = state.frame; state.t0 = performance.now();
    draw();
    return state.frame;
  }

  // playback runs on a timer (requestAnimationFrame is paused in hidden tabs and some headless browsers)
  function tick() {
    if (!state.playing) return;
    const now = performance.now();
    const d = state.clip, T = d.meta.frames;
    let f = state.f0 + Math.floor((now - state.t0) / 1000 * d.meta.fps * state.speed);
    if (f >= T) {
      if (state.loop) { f = f % T; state.f0 = f; state.t0 = now; }
      else { f = T - 1; pause(); }
    }
    if (f !== state.frame) { state.frame = f; draw(); }
  }

  function play() {
    if (!state.clip) return;
    if (state.frame >= state.clip.meta.frames - 1 && !state.loop) state.frame = 0;
    state.playing = true; state.f0 = state.frame; state.t0 = performance.now();
    el('play').textContent = 'Pause';
    clearInterval(state.raf);
    state.raf = setInterval(tick, 1000 / 60);
  }

  function pause() {
    state.playing = false; clearInterval(state.raf);
    el('play').textContent = 'Play';
  }

  function setClip(d) {
    validate(d);
    const T = d.meta.frames;
    let sx = 0, n = 0;   // static camera on the mean pelvis x when the file has no camera
    d.motion.forEach(m => { for (let f = 0; f < T; f++) { sx += m[20 * f + 6]; n++; } });
    d._static = [Math.round(sx / n * 1000) / 1000, 0.9, 1.0];
    pause();
    state.clip = d;
    el('scrub').max = String(T - 1);
    el('info').textContent = `${d.meta.description || 'untitled'} — ${T} frames at ${d.meta.fps} fps, ${d.meta.actors} actor(s)`;
    viewer.ready = true;
    seek(0);
    return d.meta;
  }

  async function load(src) {
    viewer.ready = false;
    try {
      if (typeof src === 'string') {
        const r = await fetch(src);
        if (!r.ok) throw new Error(`${src}: HTTP ${r.status}`);
        src = await r.json();
      }
      return setClip(src);
    } catch (e) {
      viewer.error = String(e.message || e);
      el('info').textContent = 'Error: ' + viewer.error;
      throw e;
    }
  }

  el('play').onclick = () => (state.playing ? pause() : play());
  el('scrub').oninput = e => { pause(); seek(+e.target.value); };
  el('speed').onchange = e => { state.speed = +e.target.value; state.f0 = state.frame; state.t0 = performance.now(); };
  el('loop').onchange = e => { state.loop = e.target.checked; };
  el('face').onchange = e => { state.face = e.target.checked; draw(); };
  const readFile = file => file.text().then(t => load(JSON.parse(t)));
  el('file').onchange = e => e.target.files[0] && readFile(e.target.files[0]);
  document.body.ondragover = e => e.preventDefault();
  document.body.ondrop = e => { e.preventDefault(); if (e.dataTransfer.files[0]) readFile(e.dataTransfer.files[0]); };

  const viewer = window.viewer = {
    ready: false, error: null, load, seek, play, pause, worldToScreen,
    get frame() { return state.frame; },
    get frames() { return state.clip ? state.clip.meta.frames : 0; },
    get playing() { return state.playing; },
    setSpeed(s) { state.speed = s; el('speed').value = String(s); },
    setLoop(b) { state.loop = !!b; el('loop').checked = !!b; },
  };
  const params = new URLSearchParams(location.search);
  if (params.get('w')) canvas.width = +params.get('w');
  if (params.get('h')) canvas.height = +params.get('h');
  draw();
  if (params.get('src')) load(params.get('src')).catch(() => {});
})();
