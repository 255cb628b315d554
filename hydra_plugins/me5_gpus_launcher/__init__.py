"""me5-eval's `gpus` launcher as a Hydra plugin (Hydra instantiates launchers only from `hydra_plugins`)."""
