"""`conv-explorer serve | train | evaluate | predict`."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

DEFAULT_MODEL = Path(__file__).resolve().parent.parent / "models" / "simple.npz"
DEFAULT_DATA = Path("../shared/data/mnist")


def _limit_blas_threads() -> None:
    from threadpoolctl import threadpool_limits

    from app.engine.memory import reuse_freed_memory

    threadpool_limits(1)
    reuse_freed_memory()


def cmd_train(args) -> int:
    from dataclasses import asdict, replace

    from app.model.evaluate import confusion_matrix, summarize
    from app.model.filter_stats import filter_structure
    from app.model.mnist import load_mnist
    from app.model.network import Network
    from app.model.storage import save_model
    from app.model.train import train
    from app.model.zoo import ZOO

    _limit_blas_threads()
    entry = ZOO[args.arch]  # argparse offers only the trainable ids; book weights are imported
    arch = entry.arch
    if args.init is not None:
        arch = replace(arch, init="he" if args.init == "he" else float(args.init))
    overrides = {
        name: getattr(args, name)
        for name in ("epochs", "batch_size", "lr", "optimizer", "seed", "threads", "weight_decay")
        if getattr(args, name) is not None
    }
    if args.schedule is not None:
        overrides["lr_schedule"] = args.schedule
    if args.no_augment:
        overrides["augment"] = False
    cfg = replace(entry.train, **overrides)
    data = load_mnist(args.data_dir)
    x_train, t_train = data.train_images[: args.train_size], data.train_labels[: args.train_size]
    net = Network.initial(arch, seed=cfg.seed)
    initial = {k: v.copy() for k, v in net.params.items()}
    snapshots: list[dict] = []
    loss_log = open(args.loss_log, "w") if args.loss_log else None  # noqa: SIM115
    try:
        history = train(
            net, x_train, t_train, data.test_images, data.test_labels, cfg,
            total_steps=args.steps,
            snapshot_every=args.snapshot_every or 0,
            snapshots=snapshots,
            on_step=(lambda s: loss_log.write(f"{s.loss!r}\n")) if loss_log else None,
        )  # fmt: skip
    except KeyboardInterrupt:
        print("\ninterrupted: nothing was saved", file=sys.stderr)
        return 130
    finally:
        if loss_log:
            loss_log.close()
    report = summarize(confusion_matrix(net, data.test_images, data.test_labels))
    metadata = {
        "id": entry.id,
        "title": entry.title,
        "shows": entry.shows,
        "architecture": arch.summary(),
        "seed": cfg.seed,
        "train": asdict(cfg),
        "data_sha256": data.sha256,
        "command": "conv-explorer " + " ".join(shlex.quote(a) for a in sys.argv[1:]),
        "history": history,
        "test_accuracy": report["accuracy"],
        "per_class_accuracy": report["per_class_accuracy"],
        "initial": "regenerate from seed",
    }
    conv = net.conv_layers()
    if conv:
        k = net.arch.param_layers()[0][1]
        stats = filter_structure(net.params[f"W{k}"], initial[f"W{k}"])
        metadata["filter_structure"] = {
            "layer": net.arch.names()[conv[0]],
            "median_neighbour_correlation": round(stats["median_neighbour"], 4),
            "median_start_correlation": round(stats["median_start"], 4),
        }
    out = args.out or DEFAULT_MODEL.parent / f"{entry.id}.npz"
    if snapshots:
        metadata["snapshots"] = save_snapshots(out, snapshots, args.snapshot_every)
    save_model(net, out, metadata)
    print(f"saved {out}: test accuracy {report['accuracy']:.4f}")
    if args.out is None:
        write_units(net, entry.id, data)
    if "filter_structure" in metadata:
        print(f"first-layer filters: {metadata['filter_structure']}")
    return 0


def save_snapshots(out: Path, snapshots: list[dict], every: int) -> dict:
    """The first layer's weights every `every` steps, in snapshots/NAME.npz beside the model
    (W: (K, FN, C, FH, FW), step, test_acc); the metadata gets where and what."""
    import numpy as np

    from app.model.train import SNAPSHOT_TEST

    path = out.parent / "snapshots" / out.with_suffix(".npz").name
    path.parent.mkdir(exist_ok=True)
    steps = np.array([s["step"] for s in snapshots])
    acc = np.array([s["test_acc"] for s in snapshots])
    np.savez(path, W=np.stack([s["W"] for s in snapshots]), step=steps, test_acc=acc)
    return {
        "file": f"snapshots/{path.name}",
        "every": every,
        "test_digits": SNAPSHOT_TEST,
        "steps": steps.tolist(),
        "epochs": [round(s["epoch"], 4) for s in snapshots],
        "test_acc": acc.tolist(),
    }


def cmd_import_book(args) -> int:
    """Convert the book's published weights (../shared/data/book-weights) into zoo files."""
    import numpy as np

    from app.model.evaluate import confusion_matrix, summarize
    from app.model.mnist import load_mnist
    from app.model.network import Network
    from app.model.storage import file_sha256, save_model
    from app.model.zoo import BOOK_FILES, ZOO

    _limit_blas_threads()
    data = load_mnist(args.data_dir)
    for model_id, name in BOOK_FILES.items():
        entry, source = ZOO[model_id], args.weights_dir / name
        with np.load(source, allow_pickle=False) as npz:
            params = {k: npz[k] for k in npz.files}
        net = Network(entry.arch, params)
        report = summarize(confusion_matrix(net, data.test_images, data.test_labels))
        metadata = {
            "id": entry.id,
            "title": entry.title,
            "shows": entry.shows,
            "architecture": entry.arch.summary(),
            "source": {
                "file": name,
                "sha256": file_sha256(source),
                "from": "oreilly-japan/deep-learning-from-scratch (MIT), converted to .npz",
                "licence": "MIT, Copyright (c) 2016 Koki Saitoh",
            },
            "data_sha256": data.sha256,
            "command": "conv-explorer " + " ".join(shlex.quote(a) for a in sys.argv[1:]),
            "test_accuracy": report["accuracy"],
            "per_class_accuracy": report["per_class_accuracy"],
            "initial": None,
        }
        out = DEFAULT_MODEL.parent / f"{model_id}.npz"
        save_model(net, out, metadata)
        print(f"saved {out}: test accuracy {report['accuracy']:.4f}")
        write_units(net, model_id, data)
    return 0


def write_units(net, model_id: str, data) -> None:
    """Each conv unit's top test-set patches, beside the model in models/units/ID.npz."""
    from app.model.receptive import save_units, top_patches

    if not net.conv_layers():
        return
    out = DEFAULT_MODEL.parent / "units" / f"{model_id}.npz"
    out.parent.mkdir(exist_ok=True)
    save_units(out, top_patches(net, data.test_images), data.test_images, data.test_labels)
    print(f"saved {out}: top patches of every conv unit")


def cmd_units(args) -> int:
    from app.explorer.models import load_one
    from app.model.mnist import load_mnist

    _limit_blas_threads()
    data = load_mnist(args.data_dir)
    paths = [args.model] if args.model else sorted(DEFAULT_MODEL.parent.glob("*.npz"))
    for path in paths:
        model = load_one(path)
        write_units(model.net, model.id, data)
    return 0


def cmd_calibrate(args) -> int:
    """Fit each model's "does this look like a digit?" check on the training digits and store
    it in the model's .json under "novelty" (see app/novelty.py)."""
    from app.explorer.models import load_one
    from app.model.mnist import load_mnist
    from app.model.storage import update_metadata
    from app.novelty import calibrate

    _limit_blas_threads()
    data = load_mnist(args.data_dir)
    paths = [args.model] if args.model else sorted(DEFAULT_MODEL.parent.glob("*.npz"))
    for path in paths:
        model = load_one(path)
        calibration = calibrate(model.net, data.train_images, data.train_labels)
        update_metadata(path, novelty=calibration)
        print(f"calibrated {path}: threshold {calibration['threshold']:.4g}")
    return 0


def cmd_evaluate(args) -> int:
    from app.model.evaluate import confusion_matrix, format_report, summarize
    from app.model.mnist import load_mnist
    from app.model.storage import load_model

    _limit_blas_threads()
    net, _ = load_model(args.model)
    data = load_mnist(args.data_dir)
    report = summarize(confusion_matrix(net, data.test_images, data.test_labels))
    print(json.dumps(report) if args.json else format_report(report))
    return 0


def cmd_serve(args) -> int:
    import os

    import uvicorn

    # set before any worker imports NumPy: concurrent requests on 2 cores oversubscribe BLAS
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    if args.model:
        os.environ["CONV_EXPLORER_MODEL_PATH"] = str(args.model)
    uvicorn.run("app.main:app", host=args.host, port=args.port, workers=args.workers)
    return 0


def cmd_predict(args) -> int:
    from app.explorer.digits import DIGIT_WORK_SIDE, predict_digit, read_digit
    from app.explorer.models import load_one
    from app.imaging.decode import decode_to_array
    from app.imaging.errors import ImageInputError
    from app.imaging.preprocess import PreprocessOptions
    from app.settings import Settings

    _limit_blas_threads()
    model = load_one(args.model)
    options = PreprocessOptions(invert=args.invert)
    max_pixels = Settings().max_image_pixels
    status = 0
    for path in args.images:
        try:
            gray = decode_to_array(Path(path).read_bytes(), max_pixels, DIGIT_WORK_SIDE, "gray")
            result = predict_digit(model, read_digit(gray, None, options).digit)
        except (OSError, ImageInputError) as err:
            print(f"{path}: error: {getattr(err, 'detail', err)}", file=sys.stderr)
            status = 1
            continue
        top = ", ".join(f"{t.digit}: {t.probability:.3f}" for t in result["top"])
        print(f"{path}: {result['label']}  ({top})")
    return status


def build_parser() -> argparse.ArgumentParser:
    from app.model.zoo import ZOO

    trainable = [k for k, e in ZOO.items() if e.source != "book"]
    parser = argparse.ArgumentParser(prog="conv-explorer", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="run the explorer web server")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--model", type=Path, default=None, help="weights .npz (default: shipped)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("predict", help="classify image files, no server needed")
    p.add_argument("images", nargs="+")
    p.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    p.add_argument("--invert", choices=["auto", "yes", "no"], default="auto")
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("train", help="train a zoo model on MNIST and save .npz + .json")
    p.add_argument("--arch", choices=trainable, default="simple", help="zoo id (its recipe)")
    p.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    p.add_argument("--epochs", type=int, help="default: the zoo recipe's (as for all below)")
    p.add_argument("--batch-size", type=int)
    p.add_argument("--lr", type=float)
    p.add_argument("--optimizer", choices=["sgd", "momentum", "adagrad", "adam"])
    p.add_argument("--schedule", choices=["cosine", "constant"])
    p.add_argument("--init", help='"he" or a weight std such as 0.01 (the book)')
    p.add_argument("--weight-decay", type=float, help="L2 penalty on the weights")
    p.add_argument("--seed", type=int)
    p.add_argument("--threads", type=int)
    p.add_argument("--no-augment", action="store_true", help="no random shifts/rotations/scalings")
    p.add_argument("--out", type=Path, help="default: models/ID.npz")
    p.add_argument("--steps", type=int, help="stop after this many steps (default: every epoch)")
    p.add_argument("--train-size", type=int, help="use the first N training digits (default all)")
    p.add_argument("--loss-log", type=Path, help="write every step's loss to this file, one a line")
    p.add_argument("--snapshot-every", type=int, help="record the first layer every N steps")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("import-book", help="convert the book's published weights to zoo files")
    p.add_argument("--weights-dir", type=Path, default=DEFAULT_DATA.parent / "book-weights")
    p.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    p.set_defaults(func=cmd_import_book)

    p = sub.add_parser("units", help="find each conv unit's top test-set patches")
    p.add_argument("--model", type=Path, help="one model file (default: every file in models/)")
    p.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    p.set_defaults(func=cmd_units)

    p = sub.add_parser("calibrate", help="fit the not-a-digit warning on the training digits")
    p.add_argument("--model", type=Path, help="one model file (default: every file in models/)")
    p.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    p.set_defaults(func=cmd_calibrate)

    p = sub.add_parser("evaluate", help="test accuracy, per-class accuracy, confusion matrix")
    p.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    p.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_evaluate)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (FileNotFoundError, ValueError, RuntimeError) as err:
        print(f"conv-explorer: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
