"""hydra/launcher=me5_gpus: one worker process per visible GPU, shards claimed dynamically.

The implementation lives in evaluation/sweep/gpus_launcher.py; this module only gives it the name Hydra's plugin
check wants (a class defined under ``hydra_plugins``) and registers its config when Hydra scans the plugins.
"""

from hydra.core.config_store import ConfigStore

from evaluation.sweep import gpus_launcher
from evaluation.sweep.command import GPUS_LAUNCHER


class GpusLauncher(gpus_launcher.GpusLauncher):
    pass


ConfigStore.instance().store(
    group="hydra/launcher", name=GPUS_LAUNCHER, node=gpus_launcher.GpusLauncherConf, provider="me5-eval"
)
