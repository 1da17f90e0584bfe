"""The community service: templates people write, publish, find, import, rate and report."""
