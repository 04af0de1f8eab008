"""The names of what a run directory holds, in one place (no heavy imports)."""

MODEL_FILE = "model.keras"
METRICS_CSV = "metrics.csv"
CURVES_PNG = "curves.png"
RESULT_FILE = "metrics.json"
CHECKPOINT_DIR = "checkpoints"
STATE_FILE = "state.json"  # in CHECKPOINT_DIR: the last complete epoch and its checkpoint
KEEP_FILE = "keep.json"  # in CHECKPOINT_DIR: checkpoint names that pruning (--keep-checkpoints) must not delete
