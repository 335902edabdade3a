"""`conv-explorer serve | train | evaluate | predict`."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

DEFAULT_MODEL = Path(__file__).resolve().parent.parent / "models" / "simple_convnet.npz"
DEFAULT_DATA = Path("../shared/data/mnist")


def _limit_blas_threads() -> None:
    from threadpoolctl import threadpool_limits

    from app.engine.memory import reuse_freed_memory

    threadpool_limits(1)
    reuse_freed_memory()


def cmd_train(args) -> int:
    import numpy as np

    from app.model.evaluate import confusion_matrix, summarize
    from app.model.mnist import load_mnist
    from app.model.network import ConvNetConfig, SimpleConvNet
    from app.model.storage import save_model
    from app.model.train import TrainConfig, train

    _limit_blas_threads()
    data = load_mnist(args.data_dir)
    weight_init = "he" if args.init == "he" else float(args.init)
    config = ConvNetConfig(weight_init=weight_init)
    net = SimpleConvNet.initial(config, seed=args.seed)
    initial_W1, initial_b1 = net.params["W1"].copy(), net.params["b1"].copy()
    cfg = TrainConfig(
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        optimizer=args.optimizer,
        seed=args.seed,
        augment=not args.no_augment,
        lr_schedule=args.schedule,
        threads=args.threads,
    )
    try:
        history = train(
            net, data.train_images, data.train_labels, data.test_images, data.test_labels, cfg
        )
    except KeyboardInterrupt:
        print("\ninterrupted: nothing was saved", file=sys.stderr)
        return 130
    report = summarize(confusion_matrix(net, data.test_images, data.test_labels))
    metadata = {
        "architecture": "conv(30 5x5) - relu - maxpool 2x2 - affine 100 - relu - affine 10",
        "seed": args.seed,
        "train": vars(cfg),
        "data_sha256": data.sha256,
        "command": "conv-explorer " + " ".join(shlex.quote(a) for a in sys.argv[1:]),
        "history": history,
        "test_accuracy": report["accuracy"],
        "per_class_accuracy": report["per_class_accuracy"],
        "initial_W1": np.round(initial_W1.astype(float), 7).tolist(),
        "initial_b1": initial_b1.astype(float).tolist(),
    }
    save_model(net, args.out, metadata)
    print(f"saved {args.out}: test accuracy {report['accuracy']:.4f}")
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
    from app.explore import predict_digit, read_digit
    from app.imaging.decode import open_image
    from app.imaging.errors import ImageInputError
    from app.imaging.preprocess import PreprocessOptions
    from app.model.storage import load_model
    from app.settings import Settings

    _limit_blas_threads()
    net, _ = load_model(args.model)
    options = PreprocessOptions(invert=args.invert)
    status = 0
    for path in args.images:
        try:
            image = open_image(Path(path).read_bytes(), Settings().max_image_pixels)
            result = predict_digit(net, read_digit(image, None, options).digit)
        except (OSError, ImageInputError) as err:
            print(f"{path}: error: {getattr(err, 'detail', err)}", file=sys.stderr)
            status = 1
            continue
        top = ", ".join(f"{t['digit']}: {t['probability']:.3f}" for t in result["top"])
        print(f"{path}: {result['label']}  ({top})")
    return status


def build_parser() -> argparse.ArgumentParser:
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

    p = sub.add_parser("train", help="train SimpleConvNet on MNIST and save .npz + .json")
    p.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--batch-size", type=int, default=100)
    p.add_argument("--lr", type=float, default=0.001)
    p.add_argument("--optimizer", choices=["sgd", "momentum", "adagrad", "adam"], default="adam")
    p.add_argument("--schedule", choices=["cosine", "constant"], default="cosine")
    p.add_argument("--init", default="he", help='"he" or a weight std such as 0.01 (the book)')
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--no-augment", action="store_true", help="no random shifts/rotations/scalings")
    p.add_argument("--out", type=Path, default=DEFAULT_MODEL)
    p.set_defaults(func=cmd_train)

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
