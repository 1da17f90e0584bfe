"""The trainer service: fine-tuning runs that turn dataset versions into LoRA adapters."""
