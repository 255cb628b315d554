"""hydra/launcher=me5_gpus: one worker process per visible GPU, shards claimed dynamically.

The implementation lives in evaluation/launch.py; this module only gives it the name Hydra's plugin check wants
(a class defined under ``hydra_plugins``) and registers its config when Hydra scans the plugins.
"""

from hydra.core.config_store import ConfigStore

from evaluation import launch


class GpusLauncher(launch.GpusLauncher):
    pass


ConfigStore.instance().store(
    group="hydra/launcher", name=launch.GPUS_LAUNCHER, node=launch.GpusLauncherConf, provider="me5-eval"
)
