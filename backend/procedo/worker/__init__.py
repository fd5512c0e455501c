"""Workers (dramatiq actors) and the scheduler; embedded or as separate processes."""
