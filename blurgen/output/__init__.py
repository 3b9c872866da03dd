"""Output: pairs written to shards on disk, where the shards run, evaluation sets, and pictures."""
