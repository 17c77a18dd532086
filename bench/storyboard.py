"""Render speed and memory of the storyboard renderer against the ffmpeg command line.

Two storyboards: 15 s landscape with a reference image, 25 s portrait without. Each is
rendered by genjobs (clean + watermarked video + thumbnail, as the model does; and the
clean video alone) and by ffmpeg (zoompan + drawtext, libx264 with the renderer's own settings, one
video) in child processes, so peak memory is each child's own. ffmpeg zooms over a picture
like the one genjobs films: the reference image, or for the portrait storyboard a still of
the backdrop genjobs draws for its first shot (a flat colour would cost x264 next to
nothing to encode, and the comparison would not be of the same kind of video).

    .venv/bin/python bench/storyboard.py
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
from genjobs.models.storyboard.encode import X264_OPTIONS

REPEATS = 3
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
CASES = {
    "15 s landscape + image": {
        "size": (1280, 720),
        "total": 15,
        "image": True,
        "shots": [
            ("A fluffy orange kitten with orange headphones at a cozy table, warm light", 7.5),
            ("The same kitten licks its lips, satisfied, calm and content mood", 7.5),
        ],
    },
    "25 s portrait": {
        "size": (720, 1280),
        "total": 25,
        "image": False,
        "shots": [
            ("City at night, neon reflections in the rain", 8.0),
            ("A train crosses the bridge", 8.0),
            ("Dawn over the harbour", 9.0),
        ],
    },
}


def child(case: str, mode: str, out: Path) -> None:
    """Runs in a child process: render one case with genjobs."""
    from genjobs.models.storyboard.models import warm_up
    from genjobs.models.storyboard.renderer import RenderOutputs, RenderRequest, Shot, render
    from genjobs.models.storyboard.source import load_reference

    spec = CASES[case]
    width, height = spec["size"]  # type: ignore[misc]
    reference = load_reference(out / "ref.png", width, height) if spec["image"] else None
    shots = [Shot(scene, duration) for scene, duration in spec["shots"]]  # type: ignore[attr-defined]
    warm_up()  # what a worker process does once, at start
    started = time.perf_counter()
    render(
        RenderRequest(shots, float(spec["total"]), width, height),  # type: ignore[arg-type]
        reference,
        RenderOutputs(
            clean=out / "clean.mp4",
            watermarked=out / "marked.mp4" if mode == "both" else None,
            thumbnail=out / "thumb.jpg",
        ),
        lambda done, total: None,
    )
    print(time.perf_counter() - started)  # the render as a warm worker runs it


Run = tuple[float, float, float, float]


def measure(command: list[str]) -> Run:
    """(process wall s, render wall s, CPU s, peak RSS MB) of one child process. A
    genjobs child prints its warm render time; ffmpeg's render time is its whole run."""
    with tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors)
        assert process.stdout is not None
        output = process.stdout.read()
        _, status, usage = os.wait4(process.pid, 0)  # reaps it, with its own rusage
        wall = time.perf_counter() - started
        if status != 0:
            errors.seek(0)
            raise RuntimeError(f"{command[:3]} failed: {errors.read().decode()[-2000:]}")
    render = float(output) if output.strip() else wall
    return wall, render, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def source_size(spec: dict[str, object]) -> tuple[int, int]:
    """The size ffmpeg's graph scales its source picture to, room for the zoom."""
    width, height = spec["size"]  # type: ignore[misc]
    return int(width * 1.25), int(height * 1.25)


def source_picture(case: str, out: Path) -> Path:
    """What ffmpeg zooms over: the reference image, or a still of genjobs' backdrop."""
    return out / "ref.png" if CASES[case]["image"] else out / f"backdrop {case}.png"


def ffmpeg_command(case: str, out: Path) -> list[str]:
    spec = CASES[case]
    width, height = spec["size"]  # type: ignore[misc]
    total = int(spec["total"])  # type: ignore[call-overload]
    fps = 24
    big = "{}:{}".format(*source_size(spec))
    source = ["-loop", "1", "-framerate", str(fps), "-i", str(source_picture(case, out))]
    captions = []
    start = 0.0
    for scene, duration in spec["shots"]:  # type: ignore[attr-defined]
        end = start + duration
        text = scene.replace("'", "").replace(":", "").replace(",", "")
        captions.append(
            f"drawtext=fontfile={FONT}:text='{text}':fontcolor=white:fontsize={height // 24}"
            f":box=1:boxcolor=black@0.6:boxborderw=12:x=(w-text_w)/2:y=h-th-{height // 20}"
            f":enable='between(t,{start},{end})'"
        )
        start = end
    graph = (
        f"[0:v]scale={big},zoompan=z='min(zoom+0.0006,1.2)':x='iw/2-(iw/zoom/2)'"
        f":y='ih/2-(ih/zoom/2)':d={total * fps}:s={width}x{height}:fps={fps}," + ",".join(captions)
    )
    return [
        "ffmpeg",
        "-y",
        "-loglevel",
        "error",
        *source,
        "-filter_complex",
        graph,
        "-t",
        str(total),
        "-c:v",
        "libx264",
        "-preset",
        X264_OPTIONS["preset"],
        "-crf",
        X264_OPTIONS["crf"],
        "-pix_fmt",
        "yuv420p",
        "-movflags",
        "+faststart",
        str(out / "ffmpeg.mp4"),
    ]


def backdrop_still(spec: dict[str, object]) -> Image.Image:
    """genjobs' backdrop of the storyboard's first shot at its start, the whole of it, at
    ffmpeg's source size."""
    from genjobs.models.storyboard.backdrop import Backdrop
    from genjobs.models.storyboard.camera import Window

    width, height = spec["size"]  # type: ignore[misc]
    scene = spec["shots"][0][0]  # type: ignore[index]
    backdrop = Backdrop(scene, 0, width, height)
    whole = Window(0.0, 0.0, backdrop.world_w, backdrop.world_h)
    small = Image.fromarray(backdrop.picture(whole, 0.0))
    return small.resize(source_size(spec), Image.Resampling.BICUBIC)


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], Path(os.environ["STORYBOARD_OUT"]))
        return
    if not shutil.which("ffmpeg"):
        sys.exit("bench/storyboard.py needs the ffmpeg command line (Debian package ffmpeg)")
    out = Path(tempfile.mkdtemp(prefix="genjobs-storyboard-"))
    image = Image.new("RGB", (1600, 1000), (40, 70, 110))
    draw = ImageDraw.Draw(image)
    for i in range(30):
        draw.ellipse(
            (i * 53 % 1500, i * 37 % 900, i * 53 % 1500 + 140, i * 37 % 900 + 140),
            fill=(200, 80 + 5 * i, 60),
        )
    image.save(out / "ref.png")
    for case, spec in CASES.items():
        if not spec["image"]:
            backdrop_still(spec).save(source_picture(case, out))
    os.environ["STORYBOARD_OUT"] = str(out)
    rows = []
    try:
        for case, spec in CASES.items():
            seconds = float(spec["total"])  # type: ignore[arg-type]
            commands = {
                "genjobs clean+watermarked": [sys.executable, __file__, "--child", case, "both"],
                "genjobs clean only": [sys.executable, __file__, "--child", case, "clean"],
                "ffmpeg zoompan+drawtext": ffmpeg_command(case, out),
            }
            runs: dict[str, list[Run]] = {label: [] for label in commands}
            for _ in range(REPEATS):  # interleaved, so a busy moment hits every renderer
                for label, command in commands.items():
                    runs[label].append(measure(command))
            for label, measured in runs.items():
                wall, render, cpu = (
                    statistics.median(run[i] for run in measured) for i in range(3)
                )
                peak = max(run[3] for run in measured)
                rows.append((case, label, wall, render, cpu, seconds, peak))
    finally:
        shutil.rmtree(out, ignore_errors=True)
    x264 = f"libx264 {X264_OPTIONS['preset']} crf {X264_OPTIONS['crf']}"
    print(
        f"storyboard render benchmark ({os.cpu_count()} CPUs, 24 fps, {x264} for both; "
        f"median of {REPEATS} runs)"
    )
    print(
        f"{'storyboard':<24} {'renderer':<26} {'process s':>9} {'render s':>8} {'CPU s':>6} "
        f"{'frames/s':>9} {'video s/s':>9} {'peak MB':>8}"
    )
    renders = {}
    for case, label, wall, render, cpu, seconds, peak in rows:
        renders[case, label] = render
        print(
            f"{case:<24} {label:<26} {wall:>9.2f} {render:>8.2f} {cpu:>6.2f} "
            f"{seconds * 24 / render:>9.1f} {seconds / render:>9.2f} {peak:>8.0f}"
        )
    print(
        "render s: a genjobs worker is started once and renders many tasks, so its render "
        "time excludes\nPython's start (process s includes it); ffmpeg's is its whole run. "
        "frames/s and video s/s use render s."
    )
    for case in CASES:
        speedup = renders[case, "ffmpeg zoompan+drawtext"] / renders[case, "genjobs clean only"]
        print(f"{case}: genjobs renders the same single video {speedup:.2f}x as fast as ffmpeg")


if __name__ == "__main__":
    main()
