"""The catalogs of choices (tasks, losses, optimizers, schedulers): plain data, no torch."""
