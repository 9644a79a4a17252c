"""Explanation latency through automl_nb.explain vs calling captum / saliency directly.

Per image and algorithm, the time of ``explain_image`` (preprocessing, the prediction, the
attribution) against the same work done by hand on the same model and tensor: one forward
pass to pick the class, then the captum call (for XRAI: captum IG over the black and white
baselines, then ``saliency.core.XRAI`` with ``base_attribution``). Prints the ratio (target
<= 1.1). Rendering the 2x2 PNG is timed separately: the direct path has nothing like it.

``--pointing-game`` trains a multi-label classifier on odFridgeObjects and reports, per
algorithm, the share of attribution mass inside the labelled boxes of each explained
(ground-truth) label against the boxes' share of the crop, on held-out images.

Run:  python benchmarks/bench_explain.py [--images 2] [--size 128] [--pointing-game]
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
DATA = REPO.parent / "shared" / "data"
LABELS = ["can", "carton", "milk_bottle", "water_bottle"]
ALGORITHMS = ["guided_backprop", "guided_gradcam", "integrated_gradients", "xrai"]
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)


def _direct(model, x, algorithm, n_steps, batch, layer):
    """The same attribution, straight from captum / saliency."""
    import torch
    from captum.attr import GuidedBackprop
    from captum.attr import GuidedGradCam
    from captum.attr import IntegratedGradients
    from saliency.core import XRAI
    from saliency.core import XRAIParameters

    with torch.no_grad():
        target = int(model(x).argmax())
    mean = torch.tensor(MEAN).view(1, 3, 1, 1)
    std = torch.tensor(STD).view(1, 3, 1, 1)
    black = ((0 - mean) / std).expand_as(x)
    if algorithm == "guided_backprop":
        return GuidedBackprop(model).attribute(x, target=target)
    if algorithm == "guided_gradcam":
        return GuidedGradCam(model, layer).attribute(x, target=target, interpolate_mode="bilinear")
    ig = IntegratedGradients(model)
    if algorithm == "integrated_gradients":
        return ig.attribute(x, black, target=target, n_steps=n_steps, internal_batch_size=batch)
    white = ((1 - mean) / std).expand_as(x)
    attr = ig.attribute(
        x.expand(2, -1, -1, -1),
        torch.cat([black, white]),
        target=target,
        n_steps=n_steps,
        internal_batch_size=batch,
    )
    image = (x[0] * std[0] + mean[0]).permute(1, 2, 0).numpy()
    base = attr.mean(0).permute(1, 2, 0).detach().numpy()
    return XRAI().GetMask(
        image,
        None,
        base_attribution=base,
        extra_parameters=XRAIParameters(steps=n_steps, algorithm="fast"),
    )


def latency(args: argparse.Namespace) -> None:
    import timm
    import torch
    from PIL import Image

    from automl_nb.explain import ExplainableModel
    from automl_nb.explain import explain_image
    from automl_nb.explain._inputs import crop_image
    from automl_nb.explain._inputs import normalise
    from automl_nb.explain._inputs import quiet_captum

    torch.manual_seed(0)
    model = timm.create_model(args.model, pretrained=False, num_classes=4).eval()
    wrapped = ExplainableModel(
        model, labels=LABELS, resize_size=round(args.size * 256 / 224), crop_size=args.size
    )
    layer = model.layer4 if hasattr(model, "layer4") else None
    paths = sorted((DATA / "fridgeObjects" / "thumbnails_150").glob("*/*.jpg"))[::30][
        : args.images
    ]
    print(
        f"{args.model} (random init) at {args.size} px, {len(paths)} image(s), "
        f"{torch.get_num_threads()} torch thread(s), n_steps={args.n_steps}"
    )
    print(f"{'algorithm':22} {'ours s':>8} {'direct s':>9} {'ratio':>6} {'+png s':>7}")
    for algorithm in args.algorithms:
        ours, direct, png = [], [], []
        rounds = [(paths[0], False)] + [(p, True) for p in paths for _ in range(args.repeats)]
        for path, timed in rounds:  # the first round warms up
            image = Image.open(path).convert("RGB")
            with quiet_captum():
                t0 = time.perf_counter()
                result = explain_image(
                    wrapped,
                    image,
                    algorithm=algorithm,
                    n_steps=args.n_steps,
                    internal_batch_size=args.batch,
                )
                t1 = time.perf_counter()
                x = normalise(
                    crop_image(image, resize_size=wrapped.resize_size, crop_size=args.size),
                    MEAN,
                    STD,
                )
                _direct(model, x, algorithm, args.n_steps, args.batch, layer)
                t2 = time.perf_counter()
            result.explanations[0].png  # noqa: B018 - render once, timed
            t3 = time.perf_counter()
            if timed:
                ours.append(t1 - t0)
                direct.append(t2 - t1)
                png.append(t3 - t2)
        o, d = statistics.median(ours), statistics.median(direct)
        print(f"{algorithm:22} {o:8.3f} {d:9.3f} {o / d:6.2f} {statistics.median(png):7.3f}")


def _voc_boxes(xml_path: Path) -> tuple[int, int, dict[str, list]]:
    root = ET.parse(xml_path).getroot()
    width = int(root.findtext("size/width"))
    height = int(root.findtext("size/height"))
    boxes: dict[str, list] = {}
    for obj in root.iter("object"):
        box = obj.find("bndbox")
        coords = [float(box.findtext(k)) for k in ("xmin", "ymin", "xmax", "ymax")]
        boxes.setdefault(obj.findtext("name"), []).append(
            (coords[0] / width, coords[1] / height, coords[2] / width, coords[3] / height)
        )
    return width, height, boxes


def pointing_game(args: argparse.Namespace) -> None:
    import timm
    import torch
    from PIL import Image

    from automl_nb.explain import ExplainableModel
    from automl_nb.explain import boxes_in_crop
    from automl_nb.explain import explain_image
    from automl_nb.explain import pointing_score
    from automl_nb.explain._inputs import crop_image
    from automl_nb.explain._inputs import normalise

    root = DATA / "odFridgeObjects"
    with open(root / "labels_multilabel_derived.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    rng = np.random.default_rng(0)
    order = rng.permutation(len(rows))
    held = [rows[i] for i in order[: args.held_out]]
    train = [rows[i] for i in order[args.held_out :]]
    size = args.pg_size
    resize = round(size * 256 / 224)

    def tensors(items, crop):
        out = []
        for row in items:
            with Image.open(root / "images" / row["filename"]) as image:
                out.append(
                    normalise(crop_image(image, resize_size=crop[0], crop_size=crop[1]), MEAN, STD)
                )
        return torch.cat(out)

    # Train on a slightly larger view with random crops (the usual recipe), validate centred.
    x_train = tensors(train, (resize, resize))
    y_train = torch.zeros(len(train), 4)
    for i, row in enumerate(train):
        for name in row["labels"].split():
            y_train[i, LABELS.index(name)] = 1
    torch.manual_seed(0)
    model = timm.create_model(args.pg_model, pretrained=False, num_classes=4)
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=0.05)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=2e-3, total_steps=args.pg_epochs * ((len(train) + 15) // 16)
    )
    t0 = time.perf_counter()
    for _ in range(args.pg_epochs):
        model.train()
        perm = torch.randperm(len(train))
        for start in range(0, len(train), 16):
            idx = perm[start : start + 16]
            ox, oy = rng.integers(0, resize - size + 1, size=2)
            batch = x_train[idx][:, :, oy : oy + size, ox : ox + size]
            if rng.random() < 0.5:
                batch = batch.flip(-1)
            opt.zero_grad()
            torch.nn.functional.binary_cross_entropy_with_logits(
                model(batch), y_train[idx]
            ).backward()
            opt.step()
            sched.step()
    model.eval()
    x_held = tensors(held, (resize, size))
    with torch.no_grad():
        probs = torch.sigmoid(model(x_held))
    y_held = torch.zeros(len(held), 4)
    for i, row in enumerate(held):
        for name in row["labels"].split():
            y_held[i, LABELS.index(name)] = 1
    acc = float(((probs >= 0.5) == (y_held > 0.5)).float().mean())
    print(
        f"\npointing game: {args.pg_model} trained from scratch, {size} px, "
        f"{len(train)} train / {len(held)} held-out odFridgeObjects images, "
        f"{args.pg_epochs} epochs ({time.perf_counter() - t0:.0f} s); "
        f"held-out label accuracy {acc:.3f}"
    )
    wrapped = ExplainableModel(
        model,
        labels=LABELS,
        task="image_classification_multilabel",
        resize_size=resize,
        crop_size=size,
    )
    print(
        f"{'algorithm':22} {'mass in boxes':>13} {'box area':>9} {'lift':>6} {'top30% in':>9} "
        f"{'hit':>6} {'n':>4} {'s/label':>8}"
    )
    for algorithm in args.algorithms:
        mass, area, hits, top, t = [], [], [], [], 0.0
        for row in held:
            width, height, boxes = _voc_boxes(
                root / "annotations" / row["filename"].replace(".jpg", ".xml")
            )
            present = [name for name in LABELS if name in boxes]
            t1 = time.perf_counter()
            result = explain_image(
                wrapped,
                root / "images" / row["filename"],
                algorithm=algorithm,
                labels_to_explain=present,
                n_steps=args.n_steps,
            )
            t += time.perf_counter() - t1
            for item in result.explanations:
                pixel_boxes = boxes_in_crop(
                    boxes[item.label],
                    width=width,
                    height=height,
                    resize_size=resize,
                    crop_size=size,
                )
                if not pixel_boxes:
                    continue
                score = pointing_score(item.attributions, pixel_boxes)
                mass.append(score.mass_share)
                area.append(score.area_share)
                hits.append(score.hit)
                top.append(score.top_share)
        m, a = float(np.mean(mass)), float(np.mean(area))
        print(
            f"{algorithm:22} {m:13.3f} {a:9.3f} {m / a:6.2f} {np.mean(top):9.3f} "
            f"{np.mean(hits):6.2f} "
            f"{len(mass):4d} {t / max(len(mass), 1):8.3f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="resnet18")
    parser.add_argument("--size", type=int, default=128, help="valid_crop_size")
    parser.add_argument("--images", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=1, help="timed rounds after a warm-up")
    parser.add_argument("--n-steps", type=int, default=50)
    parser.add_argument("--batch", type=int, default=10, help="internal_batch_size")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads (1: on a shared 2-core machine 2 threads make timings erratic)",
    )
    parser.add_argument("--algorithms", nargs="+", default=ALGORITHMS)
    parser.add_argument("--skip-latency", action="store_true")
    parser.add_argument("--pointing-game", action="store_true")
    parser.add_argument("--pg-model", default="resnet18")
    parser.add_argument("--pg-size", type=int, default=96)
    parser.add_argument("--pg-epochs", type=int, default=20)
    parser.add_argument("--held-out", type=int, default=28)
    args = parser.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    if not args.skip_latency:
        latency(args)
    if args.pointing_game:
        pointing_game(args)


if __name__ == "__main__":
    main()
