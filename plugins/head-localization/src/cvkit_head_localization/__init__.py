"""Classification + localization head for cvkit: one box per image."""
