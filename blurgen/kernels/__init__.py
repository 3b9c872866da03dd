"""Kernels: the random trajectory, its rasterisation into a kernel, the families beyond the Markov walk, named presets, and banks of kernels."""
