"""Evaluation: restoring and measuring on pairs, the public benchmarks' protocols, detection on restored images, metrics, tiled inference, and the critic probe."""
