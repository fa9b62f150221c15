"""Loading a fine-tuned checkpoint (encoder + head) back for export and for evaluation.

Its own module because both ``training.export`` and ``training.evaluate`` load checkpoints while
export also uses evaluate's calibration: in either one it made the two import each other.
"""
from __future__ import annotations

from pathlib import Path


def load_trained(model_dir: Path, n_labels: int):
    import torch
    from transformers import AutoTokenizer

    from training.train import build_model

    model = build_model(n_labels, model_dir / "encoder")
    model.head.load_state_dict(torch.load(model_dir / "head.pt", map_location="cpu"))
    model.eval()
    tok = AutoTokenizer.from_pretrained(str(model_dir / "encoder"), local_files_only=True)
    return model, tok
