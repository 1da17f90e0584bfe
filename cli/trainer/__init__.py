"""`simtune trainer`: fine-tuning runs and their settings (the trainer context)."""
