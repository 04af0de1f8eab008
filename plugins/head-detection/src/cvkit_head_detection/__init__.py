"""Single-shot detection head for cvkit: YOLO v1 on any backbone."""
