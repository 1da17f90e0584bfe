"""What the registry does on its own, one module for each thing it reacts to.

- `adapter_trained`: every `AdapterTrained` (TRAINER) becomes a version (`Registering`).
- `version_changes`: every change to an expert's versions writes its plain files again, and
  a deletion removes the version's files (`Mirroring`).
"""
