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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="conv-explorer", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

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
