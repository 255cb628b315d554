"""Distributed execution: encode corpus shards in a Hydra launcher sweep (gpus, joblib, Slurm, Ray).

Imported only by the runner (``driver.encode_shards_with_launcher``) and by the worker command (``worker``). This
package's ``__init__`` imports nothing: the gpus launcher's spawned workers import ``gpus_launcher`` alone.
"""
