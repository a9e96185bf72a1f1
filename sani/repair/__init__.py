"""Repair: the objectives (`objectives`, each an object) and their loss maths (`losses`, pure functions), the
training windows and `train` (`training`), the one `Trainer` subclass (`trainer`), the calibrated targets
(`calibrate`) and their per-label level (`level`), the audit-driven stop (`target`), and which records serve
what (`parts`)."""
